#!/bin/sh
# Regenerates openapi/control-plane.json from the built application, lints it, then regenerates the TypeScript
# client of clients/typescript from it (scripts/client-generate.ts).
set -e
nest build
node dist/scripts/openapi-sync.js "$@"
redocly lint openapi/control-plane.json --config redocly.yaml
node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON scripts/client-generate.ts
