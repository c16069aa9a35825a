/**
 * The first `max` UTF-16 code units of `text`, one fewer where the cut would split a surrogate pair: half an emoji
 * is a lone surrogate, which a JSON body or log line carries as `\ud83d` and strict decoders refuse (Rust's
 * serde_json) or turn into U+FFFD.
 */
export function headOf(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Cuts `text` to `max` characters, saying how much was cut. Never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = headOf(text, max);
  return `${head}…[+${text.length - head.length} chars]`;
}
