import { UpstreamResponseTooLargeError } from '@app/common';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * The `data` payloads of a Server-Sent Events body, one per event (multi-line data joined with "\n").
 * Comments, `event:`, `id:` and `retry:` lines are skipped. Decodes UTF-8 across chunk boundaries.
 *
 * `limitBytes` bounds the whole body, comments and framing included: past it the body is destroyed (the
 * connection closed) and the iteration throws `UpstreamResponseTooLargeError`, so an endless stream cannot grow
 * the heap without end.
 */
export async function* sseData(body: Readable, limitBytes = Infinity): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let size = 0;
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Leaving the loop destroys the body (for await's return), which closes the connection.
    if (size > limitBytes) throw new UpstreamResponseTooLargeError(limitBytes, true);
    buffer += decoder.write(chunk);
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
  buffer += decoder.end();
  if (buffer.startsWith('data:')) data.push(buffer.charCodeAt(5) === 32 ? buffer.slice(6) : buffer.slice(5));
  if (data.length > 0) yield data.join('\n');
}
