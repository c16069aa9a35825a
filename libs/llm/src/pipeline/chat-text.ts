import type { ChatMessage, ToolCall } from '../ports/llm-provider.port';

/** Tool calls as text (`name({...})`, one a line): what scoring, spans and logs see of an answer that calls tools. */
export function toolCallsText(calls: readonly ToolCall[] | undefined): string {
  return (calls ?? []).map((call) => `${call.name}(${call.arguments})`).join('\n');
}

/** An answer's text, or its tool calls when it has no text. */
export function answerText(text: string, calls: readonly ToolCall[] | undefined): string {
  return text !== '' || calls === undefined || calls.length === 0 ? text : toolCallsText(calls);
}

/** One message as text: its content, or the tool calls of an assistant message without any. */
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
