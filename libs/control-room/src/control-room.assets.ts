import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { assetNotFound, assetsNotBuilt } from './control-room.errors';

/** One built file of the page, held in memory (the whole bundle is a few hundred KiB). */
export interface ControlRoomAsset {
  readonly body: Buffer;
  readonly type: string;
}

/** The media types of the files the bundler writes. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** A file name the asset route serves: one path segment, no dot first (no `..`, no hidden files). */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/**
 * Where `npm run build` writes the page: `dist/libs/control-room/web`, beside this module's compiled code
 * (`dist/libs/control-room/src`). From the sources (ts-jest) that is `libs/control-room/web`, which holds the page's
 * sources but no bundle: tests that serve the page pass the folder they bundled into.
 */
export const DEFAULT_ASSETS_DIR = resolve(__dirname, '..', 'web');

/**
 * The page's built files (`index.html`, `main.js`, `main.css`, the lazily loaded chunks), read once at boot from
 * `folder`. Only files that are there at boot are served, by name: nothing else on the disk is reachable.
 */
export class ControlRoomAssets {
  private readonly files = new Map<string, ControlRoomAsset>();
  readonly built: boolean;

  constructor(readonly folder: string) {
    if (existsSync(folder) && statSync(folder).isDirectory()) {
      for (const name of readdirSync(folder)) {
        const type = MEDIA_TYPES[extname(name)];
        const path = join(folder, name);
        if (!type || !ASSET_NAME.test(name) || !statSync(path).isFile()) continue;
        this.files.set(name, { body: readFileSync(path), type });
      }
    }
    this.built = this.files.has('index.html') && this.files.has('main.js');
  }

  /** The page's HTML as built (the controller fills in its configuration). Throws 503 when nothing was built. */
  indexHtml(): string {
    const index = this.files.get('index.html');
    if (!this.built || !index) throw assetsNotBuilt();
    return index.body.toString('utf8');
  }

  /** A built file by name (`main.js`); 404 for any other name, 503 when nothing was built. */
  asset(name: string): ControlRoomAsset {
    if (!this.built) throw assetsNotBuilt();
    const file = name === 'index.html' || !ASSET_NAME.test(name) ? undefined : this.files.get(name);
    if (!file) throw assetNotFound(name);
    return file;
  }

  /** The names served under /ui/assets/. */
  names(): string[] {
    return [...this.files.keys()].filter((n) => n !== 'index.html').sort();
  }
}
