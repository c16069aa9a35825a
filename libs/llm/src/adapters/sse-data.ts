import type { Readable } from 'node:stream';

/**
 * The `data` payloads of a Server-Sent Events body, one per event (multi-line data joined with "\n").
 * Comments, `event:`, `id:` and `retry:` lines are skipped. Decodes UTF-8 across chunk boundaries.
 */
export async function* sseData(body: Readable): AsyncGenerator<string> {
  body.setEncoding('utf8');
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of body as AsyncIterable<string>) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.charCodeAt(newline - 1) === 13 ? buffer.slice(0, newline - 1) : buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
    }
  }
  if (buffer.startsWith('data:')) data.push(buffer.charCodeAt(5) === 32 ? buffer.slice(6) : buffer.slice(5));
  if (data.length > 0) yield data.join('\n');
}
