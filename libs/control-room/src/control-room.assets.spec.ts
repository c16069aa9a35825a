import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '@app/common';
import { ControlRoomAssets } from './control-room.assets';

describe('control room assets', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'control-room-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const statusOf = (fn: () => unknown): number | undefined => {
    try {
      fn();
    } catch (error) {
      return error instanceof DomainError ? error.status : -1;
    }
    return undefined;
  };

  it('serves only the built files of its folder, by name, with their media types', () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(join(dir, 'main.js'), 'export {}');
    writeFileSync(join(dir, 'main.css'), 'body{}');
    writeFileSync(join(dir, '.hidden.js'), 'secret');
    writeFileSync(join(dir, 'notes.txt'), 'not an asset type');
    mkdirSync(join(dir, 'sub.js'));
    const assets = new ControlRoomAssets(dir);
    expect(assets.built).toBe(true);
    expect(assets.names()).toEqual(['main.css', 'main.js']);
    expect(assets.asset('main.js').type).toBe('text/javascript; charset=utf-8');
    expect(assets.asset('main.css').body.toString()).toBe('body{}');
    expect(assets.indexHtml()).toBe('<!doctype html>');
    for (const name of ['index.html', '.hidden.js', 'notes.txt', '../main.js', 'sub.js', 'missing.js']) {
      expect(statusOf(() => assets.asset(name))).toBe(404);
    }
  });

  it('answers 503 with what to run while the bundle is missing, naming no folder of the server', () => {
    const folder = join(dir, 'nothing-here');
    const assets = new ControlRoomAssets(folder);
    expect(assets.built).toBe(false);
    expect(statusOf(() => assets.indexHtml())).toBe(503);
    expect(statusOf(() => assets.asset('main.js'))).toBe(503);
    expect(() => assets.indexHtml()).toThrow(/npm run build/);
    // `/ui` is open to anyone: the detail says what to run, the boot log says where (ControlRoomPage).
    for (const fn of [() => assets.indexHtml(), () => assets.asset('main.js')]) {
      let detail = '';
      try {
        fn();
      } catch (error) {
        detail = (error as DomainError).detail;
      }
      expect(detail).not.toContain(dir);
      expect(detail).not.toMatch(/\/(tmp|work|home|app|usr|var)\b|dist\/|[A-Za-z]:\\/);
    }
  });

  it("never lets the browser put the API key in a URL: the login form's key field has no name", () => {
    // Before main.js handles the form (still loading, or failed), Enter submits it natively: a GET of /ui with
    // every named field in the query string.
    const html = readFileSync(join(__dirname, '..', 'web', 'index.html'), 'utf8');
    const form = /<form id="login"[\s\S]*?<\/form>/.exec(html)?.[0];
    expect(form).toContain('id="api-key"');
    const fields = form!.match(/<(?:input|textarea|select)\b[^>]*>/g) ?? [];
    expect(fields.filter((field) => /\sname=/.test(field))).toEqual([]);
  });
});
