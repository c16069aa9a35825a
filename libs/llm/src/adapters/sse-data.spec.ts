import { Readable } from 'node:stream';
import { UpstreamResponseTooLargeError } from '@app/common';
import { sseData } from './sse-data';

async function events(...chunks: (string | Buffer)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const data of sseData(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))))
    out.push(data);
  return out;
}

describe('sseData', () => {
  it('yields one payload per event, across chunk boundaries, with LF or CRLF line ends', async () => {
    expect(await events('data: {"a":1}\n\nda', 'ta: {"b":2}\r\n\r\n', 'data: [DONE]\n\n')).toEqual([
      '{"a":1}',
      '{"b":2}',
      '[DONE]',
    ]);
  });

  it('joins multi-line data, skips comments and other fields, and keeps a final event without a blank line', async () => {
    expect(await events(': keep-alive\n\nevent: message\nid: 7\ndata: line one\ndata:line two\n\ndata: tail')).toEqual([
      'line one\nline two',
      'tail',
    ]);
  });

  it('throws UpstreamResponseTooLargeError once the body passes its byte limit, framing and comments included', async () => {
    const chunk = Buffer.from(': keep-alive\n\ndata: {"a":1}\n\n'); // 27 bytes
    const out: string[] = [];
    const reading = (async () => {
      for await (const data of sseData(Readable.from([chunk, chunk, chunk]), 60)) out.push(data);
    })();
    await expect(reading).rejects.toBeInstanceOf(UpstreamResponseTooLargeError);
    await expect(reading).rejects.toThrow('the upstream stream exceeded 60 bytes');
    expect(out).toEqual(['{"a":1}', '{"a":1}']);
  });

  it('reads a body of exactly its limit', async () => {
    const chunk = Buffer.from('data: {"a":1}\n\n');
    const out: string[] = [];
    for await (const data of sseData(Readable.from([chunk, chunk]), 2 * chunk.length)) out.push(data);
    expect(out).toHaveLength(2);
  });

  it('decodes a multi-byte character split between two chunks', async () => {
    const bytes = Buffer.from('data: héllo ✓\n\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte check mark
    expect(await events(bytes.subarray(0, cut), bytes.subarray(cut))).toEqual(['héllo ✓']);
  });
});
