// The LLM lib's public surface: its module, the provider port and its types, the DTOs, the call's types and
// errors. Adapters and the pipeline's parts stay inside (tests, scripts and benchmarks reach them by path).
export { LlmModule } from './llm.module';
export * from './ports/llm-provider.port';
export * from './dto/llm-request.dto';
export * from './dto/llm-response.dto';
export * from './llm-call.types';
export * from './llm.errors';
