import { defineErrorCodes, DomainError, type ErrorCodeDef, headOf } from '@app/common';

/**
 * The error codes of the OpenAI-compatible API (`/v1`). On the wire they are OpenAI error bodies
 * (`OpenAiErrorFilter`); `param` names the request field.
 */
export const OPENAI_COMPAT_ERRORS = defineErrorCodes({
  /** `model` names neither a model of the chain nor an alias (LLM_MODEL_ALIASES). */
  MODEL_NOT_FOUND: { status: 404, title: 'Model not found' },
  /** A parameter or value the gateway (or the configured provider) cannot translate: refused, never dropped. */
  UNSUPPORTED_PARAMETER: { status: 400, title: 'Unsupported parameter' },
  /** PROMPT_INJECTION_POLICY=block refused the prompt (the problem+json routes answer 422 PROMPT_INJECTION). */
  PROMPT_INJECTION_BLOCKED: { status: 400, title: 'Prompt injection detected' },
});

/** A refusal that names the request field it is about (OpenAI's `param`) and OpenAI's `code` for it. */
export class OpenAiParamError extends DomainError {
  constructor(
    code: ErrorCodeDef,
    detail: string,
    readonly param: string,
    readonly openAiCode: string,
  ) {
    super(code, detail, { param });
  }
}

/** The model is unknown: OpenAI's 404 `model_not_found`. */
export function modelNotFound(model: string): OpenAiParamError {
  return new OpenAiParamError(
    OPENAI_COMPAT_ERRORS.MODEL_NOT_FOUND,
    `The model \`${headOf(model, 128)}\` does not exist: GET /v1/models lists the models and aliases served here.`,
    'model',
    'model_not_found',
  );
}

/** A parameter (or value) that cannot be honoured: 400 `unsupported_parameter` / `unsupported_value`. */
export function unsupported(param: string, detail: string, value = false): OpenAiParamError {
  return new OpenAiParamError(
    OPENAI_COMPAT_ERRORS.UNSUPPORTED_PARAMETER,
    detail,
    param,
    value ? 'unsupported_value' : 'unsupported_parameter',
  );
}
