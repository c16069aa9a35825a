import { Body, Controller, Header, HttpCode, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '@app/common';
import { OwnCallLogLine } from '@app/telemetry';
import { DrillQueryDto, QaRequestDto, ReasonRequestDto, StressRequestDto } from './dto/llm-request.dto';
import { LlmResponseDto } from './dto/llm-response.dto';
import { clientAbortSignal, type RawRequestLike } from './client-abort';
import type { LlmCallInput } from './llm-call.types';
import { LlmEndpointsService } from './llm-endpoints.service';

const LLM_PROBLEMS = [
  'VALIDATION_FAILED',
  'MALFORMED_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'PROMPT_INJECTION',
  'BUDGET_EXCEEDED',
  'UPSTREAM_ERROR',
  'UPSTREAM_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'NO_CAPACITY',
  'UPSTREAM_TIMEOUT',
] as const;

const STREAM_HEADER = {
  name: 'accept',
  required: false,
  description: '`text/event-stream` streams the answer as Server-Sent Events; anything else answers JSON.',
};
const STREAM_DESCRIPTION =
  'The answer and its metadata. As `text/event-stream`: `delta` events `{text}`, then one `done` event `{answer, metadata}` (or an `error` event with a problem).';

function wantsStream(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/event-stream');
}

@ApiTags('llm')
@ApiExtraModels(LlmResponseDto)
@OwnCallLogLine()
@Controller()
export class LlmController {
  constructor(private readonly endpoints: LlmEndpointsService) {}

  /**
   * Answers a question, grounded in `document` when one is given. With `Accept: text/event-stream` the
   * answer streams as Server-Sent Events (`delta` events, then `done` with the metadata).
   */
  @Post('qa')
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
    @Req() request: RawRequestLike,
  ): Promise<LlmResponseDto | StreamableFile> {
    return this.run(request, (signal) => this.endpoints.qaInput(body, drills, signal));
  }

  /** Sends a reasoning prompt unchanged. Streams with `Accept: text/event-stream`. */
  @Post('reason')
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
    @Req() request: RawRequestLike,
  ): Promise<LlmResponseDto | StreamableFile> {
    return this.run(request, (signal) => this.endpoints.reasonInput(body, drills, signal));
  }

  /** A load drill: the prompt repeated `repetitions` times in one call, long context on, within the size and cost caps. */
  @Post('stress')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Send one large repeated prompt (load drill, capped)' })
  @ApiOkResponse({ type: LlmResponseDto, description: 'The answer and its metadata.' })
  @ApiProblems(...LLM_PROBLEMS, 'INPUT_TOO_LARGE', 'COST_CAP_EXCEEDED')
  async stress(
    @Body() body: StressRequestDto,
    @Query() drills: DrillQueryDto,
    @Req() request: RawRequestLike,
  ): Promise<LlmResponseDto> {
    const { signal, dispose } = clientAbortSignal(request);
    try {
      return await this.endpoints.answer(this.endpoints.stressInput(body, drills, signal));
    } finally {
      dispose();
    }
  }

  private async run(
    request: RawRequestLike,
    build: (signal: AbortSignal) => LlmCallInput,
  ): Promise<LlmResponseDto | StreamableFile> {
    const accept = request.headers.accept;
    const { signal, dispose } = clientAbortSignal(request);
    try {
      const input = build(signal);
      if (!wantsStream(accept)) return await this.endpoints.answer(input);
      const file = await this.endpoints.answerStream(input);
      file.getStream().once('close', dispose);
      return file;
    } catch (error) {
      dispose();
      throw error;
    } finally {
      if (!wantsStream(accept)) dispose();
    }
  }
}
