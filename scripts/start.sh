#!/bin/sh
# npm start: build when needed, then run the service on its local defaults (no credentials needed).
set -e
if [ ! -f dist/apps/control-plane/src/main.js ] || [ -n "$(find apps libs -name '*.ts' -newer dist/apps/control-plane/src/main.js 2>/dev/null | head -1)" ]; then
  nest build
fi
# The control room page (/ui, docs/control-room.md): bundled after nest build (which empties dist/), or again when its
# sources changed. Skipped where there are no sources (the Docker image, which ships dist/ as built).
ui=dist/libs/control-room/web/main.js
if [ -f libs/control-room/build/bundle-web.ts ] &&
  { [ ! -f "$ui" ] || [ -n "$(find libs/control-room/web -newer "$ui" 2>/dev/null | head -1)" ]; }; then
  node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON libs/control-room/build/bundle-web.ts
fi
# A smaller young generation and an old-space cap: V8 otherwise lets the heap grow to about 4x the live set
# before collecting (RSS 0.4-0.5 GB under load here); capped, the peak stays under 300 MiB, at the price of more
# full collections (CPU per request +2-7 % at 10 connections, up to +25 % at 50; bench/RESULTS.md).
# A --max-old-space-size in NODE_OPTIONS wins over this default.
# --expose-gc: once a load is over and the loop idle, the service hands the heap pages V8 keeps back to the OS with
# one memory-reducing collection (MEMORY_RELEASE_IDLE_MS, docs/operations.md "Memory"); V8 offers no other way.
# --v8-pool-size=1 on a single core: V8's worker pool (concurrent marking and sweeping, parallel scavenges, background
# compilation) has 4 threads by default, and on one core they take it from the main thread: one thread cut p99 at 10
# connections from 66 to 36 ms at the same CPU per call, for about 40 MiB more peak RSS (bench/RESULTS.md). One core
# is what nproc reports for a pinned process; where a CPU quota gives one core but nproc reports more (docker
# --cpus=1), set NODE_OPTIONS=--v8-pool-size=1. A --v8-pool-size in NODE_OPTIONS wins.
pool=""
case "${NODE_OPTIONS:-}" in
  *v8-pool-size*) ;;
  *) if [ "$(nproc 2>/dev/null || echo 0)" = 1 ]; then pool="--v8-pool-size=1"; fi ;;
esac
case "${NODE_OPTIONS:-}" in
  *max-old-space-size*) exec node --expose-gc --max-semi-space-size=8 $pool dist/apps/control-plane/src/main.js ;;
  *) exec node --expose-gc --max-semi-space-size=8 --max-old-space-size=320 $pool dist/apps/control-plane/src/main.js ;;
esac
