/**
 * TensorFlow.js runtime for the ML lib:
 * - `loadTfjs()` picks the backend once per process (tfjs-node when installed, else wasm, else cpu) and logs it;
 * - `fileSaveHandler(dir)` / `fileLoadHandler(dir)` save and load layers models as `model.json` + `weights.bin`
 *   without tfjs-node;
 * - `compileDenseStack(model)` + `DenseStack` run a dense model as plain JS on the request path.
 */
export * from './tfjs-runtime';
export * from './file-io-handler';
export * from './dense-stack';
