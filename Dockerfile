# The control plane's image (docs/deploy.md). Two stages on node:24-slim:
#   build:   every dependency, then `nest build` (tsc, no bundler: dd-trace must not be bundled) into dist/, and the
#            control room page bundled with esbuild into dist/libs/control-room/web (it runs in the browser);
#   runtime: production dependencies only, the build output and what the service reads from its working
#            directory at run time (package.json, models/, datadog/, runbooks/); no sources, no dev dependencies.
# test/deploy-dockerfile.spec.ts checks this file offline (stages, base image, user, health check, every COPY).

FROM node:24-slim AS build
WORKDIR /app
# --ignore-scripts: the optional @tensorflow/tfjs-node would download libtensorflow at install; the build needs
# none of the packages' install scripts.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# The one native module built here: unix-dgram, hot-shots' optional dependency for the agent's DogStatsD socket
# (DD_DOGSTATSD_URL=unix:///var/run/datadog/dsd.socket, what Datadog's admission controller injects in socket mode).
# Its compiled addon is copied into the runtime stage (same base image, same Node ABI); the compilers stay here.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/* && npm rebuild unix-dgram
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npx nest build && node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON libs/control-room/build/bundle-web.ts

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Production dependencies only. --ignore-scripts keeps the image reproducible: @tensorflow/tfjs-node stays without its
# native library, so the ML lib runs TensorFlow.js on the WebAssembly backend (@tensorflow/tfjs-backend-wasm ships its
# .wasm files in the package); dd-trace's native helpers are prebuilt and need no script; node:sqlite is built in.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules/unix-dgram/build ./node_modules/unix-dgram/build
COPY models ./models
COPY datadog ./datadog
COPY runbooks ./runbooks
COPY scripts/start.sh ./scripts/start.sh
# Everything above stays root-owned and read-only for the service. Writable: DATA_DIR (./var: the SQLite ledger,
# outbox and recommendations when DATABASE_URL is unset) and the cost forecaster's artifacts (FORECAST_RETRAIN_HOURS
# retrains into MODELS_DIR/cost-forecaster).
RUN mkdir -p var && chown -R node:node var models/cost-forecaster
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
# Liveness: node's own fetch (the slim image has no curl or wget).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same start as `npm start`: scripts/start.sh execs node (the main process, signals reach it) with the memory
# flags of docs/operations.md. dd-trace starts first because main.js's first import is ./instrument (no --import).
CMD ["sh", "scripts/start.sh"]
