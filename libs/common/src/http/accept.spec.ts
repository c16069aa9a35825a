import { prefersEventStream } from './accept';

describe('prefersEventStream: Server-Sent Events or JSON, from the Accept header', () => {
  it.each([
    ['text/event-stream', true],
    ['TEXT/EVENT-STREAM', true],
    ['Text/Event-Stream; charset=utf-8', true],
    ['text/event-stream, application/json', true],
    ['application/json, text/event-stream', true],
    ['text/event-stream, */*;q=0.8', true],
    ['application/json;q=0.5, text/event-stream', true],
  ])('%s: streams', (accept, expected) => {
    expect(prefersEventStream(accept)).toBe(expected);
  });

  it.each([
    [undefined],
    [''],
    ['*/*'],
    ['application/json'],
    ['text/event-stream;q=0'],
    ['text/event-stream; q=0.0, application/json'],
    ['text/event-stream;q=0.5, application/json'],
    ['text/event-stream;q=0.2, */*'],
    ['text/event-stream;q=abc'],
    ['application/json, x-text/event-stream'],
  ])('%s: answers JSON', (accept) => {
    expect(prefersEventStream(accept)).toBe(false);
  });
});
