import { markCutAtShutdown, markStreamFailed } from '@app/common';
import { finishServerSpan } from './dd-trace.init';

/** A server span as the hook sees it: tags set so far, read back through its context. */
function serverSpan(tags: Record<string, unknown> = {}) {
  const span = {
    tags: { ...tags },
    setTag(key: string, value: unknown) {
      span.tags[key] = value;
      return span;
    },
    context: () => ({ _tags: span.tags }),
  };
  return span;
}

type HookSpan = Parameters<typeof finishServerSpan>[0];

describe('finishServerSpan (the http server span as it ends)', () => {
  it('tags a response its client closed before it was complete 499, not an error', () => {
    const span = serverSpan({ 'http.route': '/qa', 'http.status_code': 200 });
    finishServerSpan(
      span as unknown as HookSpan,
      { method: 'POST', socket: {} },
      {
        statusCode: 200,
        writableFinished: false,
      },
    );
    expect(span.tags).toEqual({ 'http.route': '/qa', 'http.status_code': '499' });
  });

  it("tags one the server's shutdown cut 503, an error", () => {
    const socket = {};
    markCutAtShutdown([socket]);
    const span = serverSpan({ 'http.route': '/reason', 'http.status_code': 200 });
    finishServerSpan(
      span as unknown as HookSpan,
      { method: 'POST', socket },
      {
        statusCode: 200,
        writableFinished: false,
      },
    );
    expect(span.tags).toMatchObject({ 'http.status_code': '503', error: true });
  });

  it('flags a stream that failed after its 200 went out as an error, with its error event code; its status stays', () => {
    const req = { method: 'POST', socket: {} };
    markStreamFailed(req, 'UPSTREAM_ERROR');
    const span = serverSpan({ 'http.route': '/qa', 'http.status_code': 200 });
    finishServerSpan(span as unknown as HookSpan, req, { statusCode: 200, writableFinished: true });
    expect(span.tags).toMatchObject({ 'http.status_code': 200, error: true, 'error.type': 'UPSTREAM_ERROR' });
    // Another request on the same connection is not marked.
    const next = serverSpan({ 'http.route': '/qa', 'http.status_code': 200 });
    finishServerSpan(next as unknown as HookSpan, { method: 'POST', socket: req.socket }, { statusCode: 200 });
    expect(next.tags.error).toBeUndefined();
  });

  it('leaves a complete response its status, and names an unrouted one after it', () => {
    const routed = serverSpan({ 'http.route': '/qa', 'resource.name': 'POST /qa', 'http.status_code': 502 });
    finishServerSpan(routed as unknown as HookSpan, { method: 'POST' }, { statusCode: 502, writableFinished: true });
    expect(routed.tags).toEqual({ 'http.route': '/qa', 'resource.name': 'POST /qa', 'http.status_code': 502 });
    const unrouted = serverSpan({ 'http.status_code': 404 });
    finishServerSpan(unrouted as unknown as HookSpan, { method: 'GET' }, { statusCode: 404, writableFinished: true });
    expect(unrouted.tags['resource.name']).toBe('GET 404');
  });
});
