#!/bin/sh
# Runs a TypeScript entry point of this repository (scripts/*.ts, bench/*.ts) without a full build:
# transpiles the tree without type-checking (`npm run typecheck` does that) into .cache/ts-run and
# resolves the @app/* paths there.   Usage: sh scripts/ts-run.sh bench/quality-scoring.ts [args]
set -e
entry="$1"
shift
tsc -p tsconfig.json --outDir .cache/ts-run --noCheck --sourceMap false --declaration false
TS_NODE_BASEURL=.cache/ts-run exec node -r tsconfig-paths/register ".cache/ts-run/${entry%.ts}.js" "$@"
