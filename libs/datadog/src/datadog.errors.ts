/**
 * A call to the Datadog API failed: not configured, refused or unreadable. Thrown to callers of
 * `DatadogApiPort` (command-line imports, background jobs); the message names the operation and never a key.
 */
export class DatadogApiError extends Error {
  constructor(
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Datadog ${operation}: ${message}`, options);
    this.name = 'DatadogApiError';
  }
}
