/**
 * A conversation's previous exchange: the user turn before the last one, and the assistant's text between them (its
 * reply). Undefined when the last user turn is the first. What a follow-up ("Tell me more", "Why?") refers to.
 */
export function previousTurnOf(
  messages: readonly { role: string; content: string }[],
): { question: string; answer: string } | undefined {
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.role === 'user') {
      last = i;
      break;
    }
  let before = -1;
  for (let i = last - 1; i >= 0; i--)
    if (messages[i]!.role === 'user') {
      before = i;
      break;
    }
  if (before < 0) return undefined;
  const replies = messages.slice(before + 1, last).filter((m) => m.role === 'assistant' && m.content !== '');
  return { question: messages[before]!.content, answer: replies.map((m) => m.content).join('\n') };
}
