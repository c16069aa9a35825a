import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  type OnModuleInit,
  Optional,
  Param,
  Post,
  Req,
  Res,
  type StreamableFile,
  UseFilters,
} from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import {
  AcceptsAnyQuery,
  buildProblem,
  DomainError,
  ErrorRenderers,
  JsonBodyLimit,
  problemInstance,
  markStreamFailed,
  RequireScope,
  requestPrincipal,
  TraceIdProvider,
} from '@app/common';
import { RequestTelemetry } from '@app/telemetry';
import { clientAbortSignal, type RawRequestLike, shutdownAnswer } from '../client-abort';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import { LlmEndpointsService } from '../llm-endpoints.service';
import { shuttingDownError } from '../llm.errors';
import { LlmService } from '../llm.service';
import { LlmProvider } from '../ports/llm-provider.port';
import { SseResponses, type SseRequestLike } from '../sse-body';
import {
  ChatCompletionRequestDto,
  ChatCompletionResponseDto,
  ModelDto,
  ModelListDto,
  OpenAiErrorDto,
} from './chat-completion.dto';
import { ChatRequestMapper } from './chat-request.mapper';
import {
  chunkEvents,
  completionBody,
  METADATA_REQUEST_HEADER,
  RESULT_HEADER_DESCRIPTIONS,
  resultHeaders,
  streamHeaders,
} from './chat-response.encoder';
import { ModelCatalog } from './model-catalog';
import { modelNotFound, OPENAI_COMPAT_ERRORS, OpenAiParamError } from './openai-compat.errors';
import { OpenAiErrorFilter, renderOpenAiError, toOpenAiError } from './openai-error.filter';

/**
 * A conversation is wider than the API's flat bodies: an agent's turns with tool calls (about 8 keys each) and its
 * tools' JSON schemas. 1,000 keys, every other route's bound, refused about 110 tool round trips; these bounds take
 * thousands, and BODY_LIMIT_BYTES still bounds the whole.
 */
const CONVERSATION_BODY_LIMITS = { maxKeys: 50_000, maxArrayItems: 50_000 };

/** Who writes the log line of a request answered by an LLM call (RequestTelemetry.handOffLogLine). */
const CALL_LOG_LINE = 'LlmCallInstrumentation';

type ChatHttpRequest = RawRequestLike &
  SseRequestLike & { url: string; headers: Record<string, string | string[] | undefined> };

/** The reply, for the `x-control-plane-*` headers (passthrough: Nest still sends the returned value). */
interface HeaderReply {
  header(name: string, value: string): unknown;
}

const ERROR_RESPONSE = { content: { 'application/json': { schema: { $ref: getSchemaPath(OpenAiErrorDto) } } } };

/**
 * The OpenAI-compatible API (`/v1`): an app built on the official OpenAI SDK works by changing its base URL. Every
 * chat completion is an LLM call of the pipeline like `/qa` and `/reason` (endpoint `chat`): retries, fallback,
 * breakers, deadline, budget, prompt inspection, quality score, cost, ledger, metrics, spans and its log line. Errors
 * are OpenAI error bodies (`OpenAiErrorFilter`, this controller only). The SDK's `apiKey` arrives as
 * `Authorization: Bearer`: a key with the `invoke` scope (docs/security.md); it is never logged.
 */
@ApiTags('openai-compatible')
@ApiExtraModels(OpenAiErrorDto, ChatCompletionResponseDto)
@ApiResponse({ status: 400, description: 'invalid_request_error (param names the field)', ...ERROR_RESPONSE })
@ApiResponse({ status: 429, description: 'insufficient_quota (daily budget, with Retry-After)', ...ERROR_RESPONSE })
@ApiResponse({
  status: 502,
  description: 'server_error: the provider failed after retries and fallbacks',
  ...ERROR_RESPONSE,
})
@ApiResponse({
  status: 503,
  description: 'server_error: rate limited upstream, circuits open or no capacity (Retry-After)',
  ...ERROR_RESPONSE,
})
@ApiResponse({ status: 504, description: 'server_error: the provider timed out', ...ERROR_RESPONSE })
@UseFilters(OpenAiErrorFilter)
@RequireScope('invoke')
// As OpenAI does, a query string is ignored here, not refused: clients written for Azure-style endpoints add
// `?api-version=...` to every call, and list calls may carry `limit` or `after`. Nothing under /v1 reads one.
@AcceptsAnyQuery()
@Controller('v1')
export class OpenAiCompatController implements OnModuleInit {
  /** `created` of the listed models: when this process started. */
  private readonly bootSeconds = Math.floor(Date.now() / 1000);

  constructor(
    private readonly mapper: ChatRequestMapper,
    private readonly llm: LlmService,
    private readonly endpoints: LlmEndpointsService,
    private readonly catalog: ModelCatalog,
    private readonly provider: LlmProvider,
    private readonly requests: RequestTelemetry,
    private readonly callLog: LlmCallInstrumentation,
    private readonly sse: SseResponses,
    @Optional() private readonly traceIds?: TraceIdProvider,
    @Optional() private readonly errorRenderers?: ErrorRenderers,
  ) {}

  /**
   * The errors no handler of this controller sees (a body that is not JSON, an unknown path under /v1, a method a
   * route does not take) are OpenAI error bodies too: the global filter renders /v1 with `renderOpenAiError`.
   */
  onModuleInit(): void {
    this.errorRenderers?.register('/v1/', renderOpenAiError);
  }

  /**
   * A chat completion (OpenAI Chat Completions API). `stream: true` streams `chat.completion.chunk` events ending with
   * `data: [DONE]`; `stream_options.include_usage` adds the usage chunk. Send `x-control-plane-metadata: true` to get
   * the call's metadata in a `control_plane` field (of the last chunk, for a stream).
   */
  @Post('chat/completions')
  @JsonBodyLimit(CONVERSATION_BODY_LIMITS)
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Create a chat completion (OpenAI-compatible)' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({ name: METADATA_REQUEST_HEADER, required: false, description: '`true`: add the `control_plane` field.' })
  @ApiOkResponse({
    type: ChatCompletionResponseDto,
    description: 'The completion; with `stream: true`, `chat.completion.chunk` Server-Sent Events then `[DONE]`.',
    headers: Object.fromEntries(
      Object.entries(RESULT_HEADER_DESCRIPTIONS).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    ),
  })
  @ApiResponse({ status: 404, description: 'model_not_found', ...ERROR_RESPONSE })
  async chatCompletions(
    @Body() body: ChatCompletionRequestDto,
    @Req() request: ChatHttpRequest,
    @Res({ passthrough: true }) reply: HeaderReply,
  ): Promise<ChatCompletionResponseDto | StreamableFile> {
    // A JSON answer still being prepared when the shutdown cuts its connection is answered 503 first.
    const { signal, dispose } = clientAbortSignal(request, { answerAtShutdown: body.stream !== true });
    let streaming = false;
    let promptId: string | undefined;
    try {
      const call = this.mapper.map(body, signal);
      call.input.onPromptId = (id) => (promptId = id);
      call.input.principal = requestPrincipal(request);
      const wantsMetadata = request.headers[METADATA_REQUEST_HEADER] === 'true';
      const created = Math.floor(Date.now() / 1000);
      if (!call.stream) {
        const result = await this.llm.complete(call.input);
        const http = this.requests.handOffLogLine(request, CALL_LOG_LINE);
        if (http) this.callLog.answeredRequest(result.promptId, http);
        for (const [name, value] of Object.entries(resultHeaders(result))) reply.header(name, value);
        return completionBody(result, created, wantsMetadata ? this.endpoints.metadata(result) : undefined);
      }
      // Read while the request's span is active: the events are written after the handler returned.
      const problemContext = { instance: problemInstance(request.url), traceId: this.traceIds?.currentTraceId() };
      const http = this.requests.handOffLogLine(request, CALL_LOG_LINE);
      call.input.requestLine = http;
      // Each error event also marks the request: its server span is then an error, though its status is 200.
      const failure = (error: unknown): OpenAiErrorDto => {
        const problem = buildProblem(error, problemContext);
        markStreamFailed(request.raw, problem.body.code);
        return toOpenAiError(error, problem).body;
      };
      // Headers go out with the first event, or, for a model slower than the keep-alive interval, before it: then
      // with the prompt id (the call has one once admitted) but without the model, not known yet (the chunks carry it).
      let late = false;
      const started = this.llm.stream(call.input).then((stream) => {
        if (!late) {
          const headers = streamHeaders(stream, this.provider.name, this.provider.simulated);
          for (const [name, value] of Object.entries(headers)) reply.header(name, value);
        }
        return chunkEvents(stream, {
          created,
          includeUsage: call.includeUsage,
          ...(wantsMetadata ? { controlPlane: (result) => this.endpoints.metadata(result) } : {}),
          error: failure,
          answered: (result) => {
            if (http) this.callLog.answeredRequest(result.promptId, http);
          },
        });
      });
      const file = await this.sse.open(request, started, {
        failure: (error) => `data: ${JSON.stringify(failure(openAiRefusal(error)))}\n\n`,
        shuttingDown: () => `data: ${JSON.stringify(failure(shuttingDownError(promptId)))}\n\n`,
        onLate: () => {
          late = true;
          // A call recorded in the ledger is named by its prompt id, even if it fails before its first token.
          if (promptId !== undefined) {
            reply.header('x-request-id', promptId);
            reply.header('x-control-plane-prompt-id', promptId);
          }
          reply.header('x-control-plane-provider', this.provider.name);
          reply.header('x-control-plane-simulated', String(this.provider.simulated));
        },
      });
      file.getStream().once('close', dispose);
      streaming = true;
      return file;
    } catch (error) {
      throw openAiRefusal(shutdownAnswer(signal, error, promptId));
    } finally {
      if (!streaming) dispose();
    }
  }

  /** The models served: the chain (LLM_MODEL, LLM_FALLBACK_MODELS) and the aliases (LLM_MODEL_ALIASES). */
  @Get('models')
  @ApiOperation({ summary: 'List the models (OpenAI-compatible)' })
  @ApiOkResponse({ type: ModelListDto })
  models(): ModelListDto {
    return { object: 'list', data: this.catalog.entries.map((entry) => this.model(entry.id)) };
  }

  /** One model of the list. */
  @Get('models/:id')
  @ApiOperation({ summary: 'Retrieve a model (OpenAI-compatible)' })
  @ApiOkResponse({ type: ModelDto, description: 'The model.' })
  @ApiResponse({ status: 404, description: 'model_not_found', ...ERROR_RESPONSE })
  retrieveModel(@Param('id') id: string): ModelDto {
    if (this.catalog.resolve(id) === undefined) throw modelNotFound(id);
    return this.model(id);
  }

  private model(id: string): ModelDto {
    return { id, object: 'model', created: this.bootSeconds, owned_by: this.provider.name };
  }
}

/**
 * The injection block is a 400 with a clear code on this API (422 PROMPT_INJECTION on the problem+json routes); its
 * `param` is `tools` when a poisoned tool declaration was the reason, else `messages`.
 */
function openAiRefusal(error: unknown): unknown {
  if (!(error instanceof DomainError) || error.code !== 'PROMPT_INJECTION') return error;
  const poisonedTools = Array.isArray(error.extensions['tools']);
  return new OpenAiParamError(
    OPENAI_COMPAT_ERRORS.PROMPT_INJECTION_BLOCKED,
    error.detail,
    poisonedTools ? 'tools' : 'messages',
    'prompt_injection_detected',
  );
}
