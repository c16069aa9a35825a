import { Body, Controller, Header, HttpCode, Optional, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  ApiProblems,
  buildProblem,
  prefersEventStream,
  type Problem,
  problemInstance,
  markStreamFailed,
  RequireScope,
  requestPrincipal,
  TraceIdProvider,
} from '@app/common';
import { LEDGER_ERRORS } from '@app/ledger';
import { RequestTelemetry } from '@app/telemetry';
import { DrillQueryDto, QaRequestDto, ReasonRequestDto, StressRequestDto } from './dto/llm-request.dto';
import { LlmResponseDto } from './dto/llm-response.dto';
import { clientAbortSignal, type RawRequestLike, shutdownAnswer } from './client-abort';
import { LlmCallInstrumentation } from './instrumentation/llm-call.instrumentation';
import type { LlmCallInput } from './llm-call.types';
import { errorEvent, LlmEndpointsService } from './llm-endpoints.service';
import { SseResponses, type SseRequestLike } from './sse-body';
import { LLM_ERRORS, shuttingDownError } from './llm.errors';

const LLM_PROBLEMS = [
  'VALIDATION_FAILED',
  'MALFORMED_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  LLM_ERRORS.PROMPT_INJECTION,
  LEDGER_ERRORS.BUDGET_EXCEEDED,
  'UPSTREAM_ERROR',
  LLM_ERRORS.UPSTREAM_UNAVAILABLE,
  LLM_ERRORS.CIRCUIT_OPEN,
  LLM_ERRORS.NO_CAPACITY,
  'UPSTREAM_TIMEOUT',
] as const;

/** Who writes the log line of a request answered by an LLM call (RequestTelemetry.handOffLogLine). */
const CALL_LOG_LINE = 'LlmCallInstrumentation';

/** The request as the controller reads it: headers, path, and the socket (client abort). */
type LlmRequest = RawRequestLike & SseRequestLike & { url: string };

const STREAM_HEADER = {
  name: 'accept',
  required: false,
  description: '`text/event-stream` streams the answer as Server-Sent Events; anything else answers JSON.',
};
const STREAM_DESCRIPTION =
  'The answer and its metadata. As `text/event-stream`: `delta` events `{text}`, then one `done` event `{answer, metadata}` (or an `error` event with a problem).';

@ApiTags('llm')
@ApiExtraModels(LlmResponseDto)
@Controller()
export class LlmController {
  constructor(
    private readonly endpoints: LlmEndpointsService,
    private readonly requests: RequestTelemetry,
    private readonly callLog: LlmCallInstrumentation,
    private readonly sse: SseResponses,
    @Optional() private readonly traceIds?: TraceIdProvider,
  ) {}

  /**
   * Answers a question, grounded in `document` when one is given. With `Accept: text/event-stream` the
   * answer streams as Server-Sent Events (`delta` events, then `done` with the metadata).
   */
  @Post('qa')
  @RequireScope('invoke', { drills: 'admin' })
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Answer a question (optionally grounded in a document)' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader(STREAM_HEADER)
  @ApiOkResponse({ type: LlmResponseDto, description: STREAM_DESCRIPTION })
  @ApiProblems(...LLM_PROBLEMS)
  async qa(
    @Body() body: QaRequestDto,
    @Query() drills: DrillQueryDto,
    @Req() request: LlmRequest,
  ): Promise<LlmResponseDto | StreamableFile> {
    return this.run(request, (signal) => this.endpoints.qaInput(body, drills, signal));
  }

  /** Sends a reasoning prompt unchanged. Streams with `Accept: text/event-stream`. */
  @Post('reason')
  @RequireScope('invoke', { drills: 'admin' })
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Answer a free-form reasoning prompt' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader(STREAM_HEADER)
  @ApiOkResponse({ type: LlmResponseDto, description: STREAM_DESCRIPTION })
  @ApiProblems(...LLM_PROBLEMS)
  async reason(
    @Body() body: ReasonRequestDto,
    @Query() drills: DrillQueryDto,
    @Req() request: LlmRequest,
  ): Promise<LlmResponseDto | StreamableFile> {
    return this.run(request, (signal) => this.endpoints.reasonInput(body, drills, signal));
  }

  /** A load drill: the prompt repeated `repetitions` times in one call, long context on, within the size and cost caps. */
  @Post('stress')
  @RequireScope('admin')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Send one large repeated prompt (load drill, capped)' })
  @ApiOkResponse({ type: LlmResponseDto, description: 'The answer and its metadata.' })
  @ApiProblems(...LLM_PROBLEMS, LLM_ERRORS.INPUT_TOO_LARGE, LLM_ERRORS.COST_CAP_EXCEEDED)
  async stress(
    @Body() body: StressRequestDto,
    @Query() drills: DrillQueryDto,
    @Req() request: LlmRequest,
  ): Promise<LlmResponseDto> {
    const { signal, dispose } = clientAbortSignal(request, { answerAtShutdown: true });
    let promptId: string | undefined;
    try {
      const input = this.endpoints.stressInput(body, drills, signal);
      input.principal = requestPrincipal(request);
      input.onPromptId = (id) => (promptId = id);
      const response = await this.endpoints.answer(input);
      this.handOffLogLine(request, response.metadata.prompt_id);
      return response;
    } catch (error) {
      throw shutdownAnswer(signal, error, promptId);
    } finally {
      dispose();
    }
  }

  private async run(
    request: LlmRequest,
    build: (signal: AbortSignal) => LlmCallInput,
  ): Promise<LlmResponseDto | StreamableFile> {
    const accept = request.headers.accept;
    const streamed = prefersEventStream(accept);
    const { signal, dispose } = clientAbortSignal(request, { answerAtShutdown: !streamed });
    let promptId: string | undefined;
    try {
      const input = build(signal);
      input.principal = requestPrincipal(request);
      input.onPromptId = (id) => (promptId = id);
      if (!streamed) {
        const response = await this.endpoints.answer(input);
        this.handOffLogLine(request, response.metadata.prompt_id);
        return response;
      }
      // Read while the request's span is active: the events are written after the handler returned.
      const problemContext = { instance: problemInstance(request.url), traceId: this.traceIds?.currentTraceId() };
      // The call's line, written when the stream ends, is the request's line; a failure before the first event
      // is a 4xx/5xx response, which keeps the interceptor's own line.
      const http = this.requests.handOffLogLine(request, CALL_LOG_LINE);
      // A stream its client abandons after the headers went out gets the call's line too, with these fields (499).
      input.requestLine = http;
      // Each error event also marks the request: its server span is then an error, though its status is 200.
      const problem = (error: unknown): Problem => {
        const body = buildProblem(error, problemContext).body;
        markStreamFailed(request.raw, body.code);
        return body;
      };
      const started = this.endpoints.answerStream(input, {
        problem,
        answered: (result) => {
          if (http) this.callLog.answeredRequest(result.promptId, http);
        },
      });
      const file = await this.sse.open(request, started, {
        failure: (error) => errorEvent(problem(error)),
        shuttingDown: () => errorEvent(problem(shuttingDownError(promptId))),
      });
      file.getStream().once('close', dispose);
      return file;
    } catch (error) {
      dispose();
      throw shutdownAnswer(signal, error, promptId);
    } finally {
      if (!streamed) dispose();
    }
  }

  /** The answered call's log line is the request's only line on success, with the request's HTTP fields. */
  private handOffLogLine(request: LlmRequest, promptId: string): void {
    const http = this.requests.handOffLogLine(request, CALL_LOG_LINE);
    if (http) this.callLog.answeredRequest(promptId, http);
  }
}
