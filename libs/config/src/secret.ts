import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A configuration value that must never reach a log, a span or a metric tag.
 * Printing, JSON-serialising or inspecting it yields "[redacted]"; only `reveal()` gives the value,
 * and only adapters that hand it to an SDK call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
