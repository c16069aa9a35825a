import { inspect } from 'node:util';

const REDACTED = '[redacted]';
/** Shorter values are not scrubbed from text (too likely to be ordinary words). */
const MIN_SCRUBBED = 8;
const values = new Set<string>();
let sorted: readonly string[] = [];

/**
 * Every secret value this process holds (the configuration's keys, the database URL, the webhook secret), longest
 * first: the text redactors scrub them from any text as such, whatever their shape, so that an upstream error quoting
 * a key (a self-hosted server's key matches no pattern) never reaches a log, a span or an answer.
 */
export function knownSecretValues(): readonly string[] {
  return sorted;
}

/**
 * A configuration value that must never reach a log, a span or a metric tag.
 * Printing, JSON-serialising or inspecting it yields "[redacted]"; only `reveal()` gives the value,
 * and only adapters that hand it to an SDK call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    if (value.length >= MIN_SCRUBBED && !values.has(value)) {
      values.add(value);
      sorted = [...values].sort((a, b) => b.length - a.length);
    }
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
