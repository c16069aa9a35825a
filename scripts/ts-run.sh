#!/bin/sh
# Runs a TypeScript entry point of this repository (scripts/*.ts, bench/*.ts) without a full build:
# transpiles the tree without type-checking (`npm run typecheck` does that) into .cache/ts-run and
# resolves the @app/* paths there.   Usage: sh scripts/ts-run.sh bench/quality-scoring.ts [args]
set -e
entry="$1"
shift
# tsc still emits when some file of the tree does not parse (another work in progress): say so and go on.
tsc -p tsconfig.json --outDir .cache/ts-run --noCheck --sourceMap false --declaration false >&2 ||
  echo "ts-run: tsc reported the errors above; running the transpiled output anyway" >&2
TS_NODE_BASEURL=.cache/ts-run exec node -r tsconfig-paths/register ".cache/ts-run/${entry%.ts}.js" "$@"
