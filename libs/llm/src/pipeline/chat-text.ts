import type { ChatCallOptions } from '../llm-call.types';
import type { ChatMessage, ToolCall } from '../ports/llm-provider.port';

/** Tool calls as text (`name({...})`, one a line): what scoring, spans and logs see of an answer that calls tools. */
export function toolCallsText(calls: readonly ToolCall[] | undefined): string {
  return (calls ?? []).map((call) => `${call.name}(${call.arguments})`).join('\n');
}

/**
 * An answer's text and its tool calls, one a line after it (the calls alone when it has no text). Before, an answer
 * with text was only its text: its calls' arguments escaped the PII inspection and redaction, the quality score and
 * the spans (Gemini often says "Let me check." before its function calls).
 */
export function answerText(text: string, calls: readonly ToolCall[] | undefined): string {
  const called = toolCallsText(calls);
  if (called === '') return text;
  return text === '' ? called : `${text}\n${called}`;
}

/**
 * Tool call arguments (the JSON text of an object) with `redact` applied: to the whole text when the result is still
 * the JSON text of an object, else to each string value in it (never a quote or a key is replaced), so that what
 * the provider is sent stays arguments it can read (Gemini takes them as an object).
 */
export function redactArguments(args: string, redact: (text: string) => string): string {
  const whole = redact(args);
  if (whole === args) return args;
  try {
    const parsed: unknown = JSON.parse(whole);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return whole;
  } catch {
    // The replacement broke the JSON: redact its strings one by one.
  }
  try {
    return JSON.stringify(
      JSON.parse(args, (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value)),
    );
  } catch {
    return whole;
  }
}

/** One message as text: its content and the tool calls of an assistant message. */
export function messageText(message: ChatMessage): string {
  return answerText(message.content, message.toolCalls);
}

/**
 * A conversation as one text (its messages' texts, a blank line apart; one message is its text alone, as a `/reason`
 * prompt): what a chat call counts, inspects, logs (redacted and truncated) and hashes for the ledger.
 */
export function conversationText(messages: readonly ChatMessage[]): string {
  return messages.map(messageText).join('\n\n');
}

/**
 * What a chat call declares besides its messages, as text: its tools' declarations and a `json_schema` response
 * format (none without them). The provider is sent them and bills them as input: the budget's reservation and the
 * token-abuse check count them with the prompt.
 */
export function declarationTexts(chat: Pick<ChatCallOptions, 'tools' | 'responseFormat'> | undefined): string[] {
  if (chat === undefined) return [];
  const texts: string[] = [];
  if (chat.tools !== undefined && chat.tools.length > 0) texts.push(JSON.stringify(chat.tools));
  if (chat.responseFormat?.type === 'json_schema') texts.push(JSON.stringify(chat.responseFormat));
  return texts;
}

/** A tool declaration's words meant for the model: at most this many characters of them are inspected. */
const DECLARATION_WORDS_MAX_CHARS = 20_000;

/** The `description` strings of a JSON Schema, depth first, up to `budget` characters in all. */
function schemaDescriptions(schema: unknown, budget: number): string[] {
  const found: string[] = [];
  const stack: unknown[] = [schema];
  let left = budget;
  while (stack.length > 0 && left > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'description' && typeof value === 'string') {
        found.push(value.slice(0, left));
        left -= value.length;
      } else if (typeof value === 'object' && value !== null) stack.push(value);
    }
  }
  return found;
}

/**
 * What a chat call's declarations say to the model, one entry a tool (and one for a `json_schema` response format):
 * the description and the descriptions of its parameters. The prompt-injection inspection reads them for poisoned
 * tools (instructions hidden where the user never looks).
 */
export function toolDescriptions(
  chat: Pick<ChatCallOptions, 'tools' | 'responseFormat'> | undefined,
): { name: string; text: string }[] {
  if (chat === undefined) return [];
  const declared = (name: string, description: string | undefined, schema: unknown): { name: string; text: string } => {
    const head = (description ?? '').slice(0, DECLARATION_WORDS_MAX_CHARS);
    const rest = schemaDescriptions(schema, DECLARATION_WORDS_MAX_CHARS - head.length);
    return { name, text: [head, ...rest].join('\n') };
  };
  const described = (chat.tools ?? []).map((tool) => declared(tool.name, tool.description, tool.parameters));
  const format = chat.responseFormat;
  if (format?.type === 'json_schema') described.push(declared(format.name, format.description, format.schema));
  return described.filter((entry) => entry.text.trim() !== '');
}
