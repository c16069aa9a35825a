import { Logger } from '@nestjs/common';
import * as tfjs from '@tensorflow/tfjs';

/** The TensorFlow.js namespace (`@tensorflow/tfjs`, or `@tensorflow/tfjs-node`, which re-exports it). */
export type Tf = typeof tfjs;

/** Which backend runs the math: native libtensorflow (tfjs-node), WebAssembly, or plain JavaScript. */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfjsRuntime {
  readonly tf: Tf;
  readonly backend: TfjsBackendName;
}

export interface LoadTfjsOptions {
  /**
   * Backends to try, in order; the first that initialises wins. Default: tensorflow (tfjs-node, an
   * optionalDependency that cannot install without internet access to Google storage), then wasm, then cpu.
   */
  prefer?: readonly TfjsBackendName[];
}

const DEFAULT_ORDER: readonly TfjsBackendName[] = ['tensorflow', 'wasm', 'cpu'];
// Package names kept in variables so TypeScript does not try to resolve the optional native package.
const NATIVE_PACKAGE = '@tensorflow/tfjs-node';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

const logger = new Logger('Tfjs');
let current: Promise<TfjsRuntime> | undefined;
let currentKey = '';

async function tryBackend(name: TfjsBackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') await import(NATIVE_PACKAGE);
    if (name === 'wasm') await import(WASM_PACKAGE);
    if (!(await tfjs.setBackend(name))) return false;
    await tfjs.ready();
    return tfjs.getBackend() === name;
  } catch {
    return false;
  }
}

async function initialise(order: readonly TfjsBackendName[]): Promise<TfjsRuntime> {
  const tried: string[] = [];
  for (const name of order) {
    if (await tryBackend(name)) {
      const note = tried.length > 0 ? ` (unavailable: ${tried.join(', ')})` : '';
      logger.log(`TensorFlow.js ${tfjs.version.tfjs} backend: ${name}${note}`);
      return { tf: tfjs, backend: name };
    }
    tried.push(name);
  }
  throw new Error(`No TensorFlow.js backend could be initialised (tried ${tried.join(', ')})`);
}

/**
 * Initialises TensorFlow.js once per process and says which backend is active (logged once).
 * The backend is process-global state in tfjs; calling again with the same preference returns the same
 * runtime, a different preference switches the backend (benchmarks and tests only).
 */
export function loadTfjs(options: LoadTfjsOptions = {}): Promise<TfjsRuntime> {
  const order = options.prefer ?? DEFAULT_ORDER;
  const key = order.join(',');
  if (!current || key !== currentKey) {
    currentKey = key;
    current = initialise(order);
    current.catch(() => {
      current = undefined;
    });
  }
  return current;
}
