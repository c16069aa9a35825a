import { type ArgumentsHost, Catch, type ExceptionFilter, Logger, Optional } from '@nestjs/common';
import {
  buildProblem,
  DomainError,
  type FieldProblem,
  type ProblemResponse,
  problemInstance,
  type RenderedError,
  RequestValidationError,
  TraceIdProvider,
} from '@app/common';
import { LlmCallFailedError } from '../llm.errors';
import type { OpenAiErrorDto } from './chat-completion.dto';
import { OpenAiParamError } from './openai-compat.errors';

/** An error as the OpenAI API answers it: status, headers (Retry-After...) and the `{error}` body. */
export interface OpenAiErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: OpenAiErrorDto;
}

/** OpenAI's error `type` and `code` for our codes; the rest by status. */
const BY_CODE: Record<string, { type: string; code: string | null }> = {
  VALIDATION_FAILED: { type: 'invalid_request_error', code: 'invalid_value' },
  MALFORMED_REQUEST: { type: 'invalid_request_error', code: 'invalid_json' }, // or invalid_url, invalid_request
  PAYLOAD_TOO_LARGE: { type: 'invalid_request_error', code: 'payload_too_large' },
  UNSUPPORTED_MEDIA_TYPE: { type: 'invalid_request_error', code: 'unsupported_media_type' },
  BUDGET_EXCEEDED: { type: 'insufficient_quota', code: 'insufficient_quota' },
  PROMPT_INJECTION_BLOCKED: { type: 'invalid_request_error', code: 'prompt_injection_detected' },
  NOT_FOUND: { type: 'invalid_request_error', code: 'unknown_url' },
  METHOD_NOT_ALLOWED: { type: 'invalid_request_error', code: 'method_not_allowed' },
  // API keys (libs/security): OpenAI's own codes, so the SDK's AuthenticationError / PermissionDeniedError apply.
  UNAUTHORIZED: { type: 'invalid_request_error', code: 'invalid_api_key' },
  FORBIDDEN: { type: 'invalid_request_error', code: 'insufficient_permissions' },
  RATE_LIMITED: { type: 'requests', code: 'rate_limit_exceeded' },
  // The provider refused the request itself: its own code (context_length_exceeded...) and param where it gave them.
  PROVIDER_REJECTED_REQUEST: { type: 'invalid_request_error', code: 'invalid_request' },
};

/**
 * A 400 `MALFORMED_REQUEST` is about the body (bad JSON, an empty or non-UTF-8 body: `invalid_json`), the path (a
 * percent-encoded sequence that is not UTF-8: `invalid_url`) or the request's framing (no Host, two Host lines:
 * `invalid_request`). Calling a bad URL `invalid_json` sent clients looking at a body they had got right.
 */
function malformedCode(error: unknown): string {
  const fastifyCode = (error as { code?: unknown } | null)?.code;
  if (fastifyCode === 'FST_ERR_BAD_URL') return 'invalid_url';
  if (fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return 'invalid_json';
  }
  const fields = error instanceof DomainError ? (error.extensions as { errors?: FieldProblem[] }).errors : undefined;
  return fields?.some((f) => f.field === 'body') ? 'invalid_json' : 'invalid_request';
}

function typeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** An unknown field, as the validation pipe names it: OpenAI's own wording for an argument it does not take. */
function unknownField(problem: FieldProblem): boolean {
  return problem.reason === `property ${problem.field} should not exist`;
}

/**
 * The OpenAI error of a failure, from the same problem the problem+json routes answer (`buildProblem`): the same
 * status (the injection block aside: a 400, mapped before) and headers (`Retry-After`, so the openai SDK's retries
 * wait as told), `x-control-plane-error-code` with our code, and `x-request-id` (the SDK's `requestID`): a failed call's
 * prompt id (also `x-control-plane-prompt-id`), as on its answer, tracing on or off; before any call, the trace id.
 * A budget refusal is OpenAI's `insufficient_quota` with `x-should-retry: false`: the SDK does not retry it (the
 * budget resets at the day's end, `Retry-After`).
 */
export function toOpenAiError(error: unknown, problem: ProblemResponse): OpenAiErrorResponse {
  const { code, detail, traceId } = problem.body;
  const known = BY_CODE[code] ?? { type: typeForStatus(problem.status), code: code.toLowerCase() };
  let param: string | null = null;
  let openAiCode = code === 'MALFORMED_REQUEST' ? malformedCode(error) : known.code;
  let message = detail;
  if (error instanceof OpenAiParamError) {
    param = error.param;
    openAiCode = error.openAiCode;
  } else if (error instanceof LlmCallFailedError && error.rejected) {
    param = error.context.param ?? null;
    openAiCode = error.context.providerCode?.toLowerCase() ?? openAiCode;
  } else if (error instanceof RequestValidationError && error.errors.length > 0) {
    const first = error.errors[0]!;
    param = first.field;
    if (unknownField(first)) {
      openAiCode = 'unsupported_parameter';
      message = `Unrecognized request argument supplied: ${first.field}`;
    } else message = error.errors.map((e) => e.reason).join('; ');
  }
  const headers: Record<string, string> = { ...problem.headers, 'x-control-plane-error-code': code };
  // A recorded call is named by its prompt id, as its answer would have been; an error before any call by the trace id.
  // (A call the shutdown cut names it in its problem's `promptId`.)
  const promptId =
    error instanceof LlmCallFailedError
      ? error.context.promptId
      : typeof problem.body.promptId === 'string'
        ? problem.body.promptId
        : undefined;
  if (promptId !== undefined) {
    headers['x-request-id'] = promptId;
    headers['x-control-plane-prompt-id'] = promptId;
  } else if (traceId !== undefined) headers['x-request-id'] = traceId;
  if (code === 'BUDGET_EXCEEDED') headers['x-should-retry'] = 'false';
  // Our credentials or our account's quota: no retry helps until the configuration is fixed.
  const kind = error instanceof LlmCallFailedError ? error.context.lastErrorKind : null;
  if (kind === 'auth' || kind === 'quota_exhausted') headers['x-should-retry'] = 'false';
  return { status: problem.status, headers, body: { error: { message, type: known.type, param, code: openAiCode } } };
}

/** The content type of an OpenAI error body. */
const OPENAI_ERROR_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `toOpenAiError` as the global filter's renderer of /v1 (`ErrorRenderers`): the same body as this filter's. */
export function renderOpenAiError(thrown: unknown, problem: ProblemResponse): RenderedError {
  const response = toOpenAiError(thrown, problem);
  return {
    status: response.status,
    contentType: OPENAI_ERROR_CONTENT_TYPE,
    headers: response.headers,
    body: JSON.stringify(response.body),
  };
}

interface MinimalRequest {
  url: string;
}

interface MinimalReply {
  sent?: boolean;
  raw?: { headersSent?: boolean; writableEnded?: boolean; end?: () => void };
  status(code: number): MinimalReply;
  header(name: string, value: string): MinimalReply;
  send(payload: string): unknown;
}

/**
 * The exception filter of the `/v1` controller only: every failure there leaves as an OpenAI error body (see
 * `toOpenAiError`); everywhere else the global filter answers problem+json. Unknown errors are a generic 500 and their
 * stack is logged, as the global filter does.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('OpenAiErrorFilter');

  constructor(@Optional() private readonly traceIds?: TraceIdProvider) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw thrown;
    const http = host.switchToHttp();
    const request = http.getRequest<MinimalRequest>();
    const reply = http.getResponse<MinimalReply>();
    const problem = buildProblem(thrown, {
      instance: problemInstance(request.url),
      traceId: this.traceIds?.currentTraceId(),
    });
    if (problem.status >= 500 && !(thrown instanceof DomainError)) {
      const err =
        thrown instanceof Error ? { name: thrown.name, message: thrown.message, stack: thrown.stack } : thrown;
      this.logger.error({ err }, 'unhandled error');
    }
    if (reply.sent || reply.raw?.headersSent) {
      if (!reply.raw?.writableEnded) reply.raw?.end?.();
      return;
    }
    const response = renderOpenAiError(thrown, problem);
    reply.status(response.status).header('content-type', response.contentType);
    for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
    reply.send(response.body);
  }
}
