import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { LedgerModule } from '@app/ledger';
import { MlModule } from '@app/ml';
import { OpenAiCompatibleLlmAdapter } from './adapters/openai-compatible-llm.adapter';
import { SimulatedLlmAdapter } from './adapters/simulated-llm.adapter';
import { LlmController } from './llm.controller';
import { LlmEndpointsService } from './llm-endpoints.service';
import { DEFAULT_LLM_DRILLS, LlmDrillsOptions } from './pipeline/llm-drills';
import { LLM_PIPELINE_PROVIDERS } from './pipeline/llm-pipeline.providers';
import { RouterController } from './routing/router.controller';
import { FaultDrillController } from './drills/fault-drill.controller';
import { ProviderFaultDrill } from './drills/provider-fault-drill';
import { ChatRequestMapper } from './openai-compat/chat-request.mapper';
import { ModelCatalog } from './openai-compat/model-catalog';
import { OpenAiCompatController } from './openai-compat/openai-compat.controller';
import { LlmProvider } from './ports/llm-provider.port';
import { PriceTable, readPriceTable, shippedPriceTable } from './pricing/price-table';
import { TokenEstimator } from './tokens/token-estimator';
import { SseResponses } from './sse-body';

type GoogleAdapterModule = typeof import('./adapters/google-genai-llm.adapter');

/** Picks the provider adapter from LLM_PROVIDER. */
export function createLlmProvider(
  config: AppConfig,
  tokens: TokenEstimator,
  drills: LlmDrillsOptions,
  faults?: ProviderFaultDrill,
): LlmProvider {
  switch (config.llm.provider) {
    case 'simulated':
      return new SimulatedLlmAdapter(config.llm.simulated, tokens, drills.badPrompt, faults);
    case 'vertex':
    case 'gemini': {
      // Loaded only for the Google providers: @google/genai adds about 75 ms to every start otherwise.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { GoogleGenAiLlmAdapter } = require('./adapters/google-genai-llm.adapter') as GoogleAdapterModule;
      return new GoogleGenAiLlmAdapter(config, config.llm.provider);
    }
    case 'openai':
      return new OpenAiCompatibleLlmAdapter(config);
  }
}

/** The price table (PRICE_TABLE_PATH, else the shipped one); warns about the models of the chain it has no price for. */
function createPriceTable(config: AppConfig): PriceTable {
  const table = config.llm.priceTablePath ? readPriceTable(config.llm.priceTablePath) : shippedPriceTable();
  const prices = new PriceTable(table);
  const models = new Set([config.llm.model, ...config.llm.fallbackModels, ...Object.values(config.llm.modelAliases)]);
  const unpriced = [...models].filter((m) => !prices.resolve(m));
  if (unpriced.length > 0) {
    new Logger('PriceTable').warn(
      `No price for ${unpriced.join(', ')} in the price table of ${table.as_of}: their cost_usd will be null`,
    );
  }
  return prices;
}

/**
 * `/qa`, `/reason`, `/stress` and the OpenAI-compatible `/v1/chat/completions` and `/v1/models`, and the LLM call
 * pipeline behind them (see `LlmService`).
 */
@Module({
  imports: [MlModule, LedgerModule],
  controllers: [LlmController, OpenAiCompatController, RouterController, FaultDrillController],
  providers: [
    TokenEstimator,
    { provide: PriceTable, inject: [AppConfig], useFactory: createPriceTable },
    { provide: LlmDrillsOptions, useValue: DEFAULT_LLM_DRILLS },
    { provide: ProviderFaultDrill, useFactory: () => new ProviderFaultDrill() },
    {
      provide: LlmProvider,
      inject: [AppConfig, TokenEstimator, LlmDrillsOptions, ProviderFaultDrill],
      useFactory: createLlmProvider,
    },
    ...LLM_PIPELINE_PROVIDERS,
    LlmEndpointsService,
    ModelCatalog,
    ChatRequestMapper,
    SseResponses,
  ],
})
export class LlmModule implements OnApplicationShutdown {
  constructor(private readonly provider: LlmProvider) {}

  async onApplicationShutdown(): Promise<void> {
    await this.provider.close();
  }
}
