#!/bin/sh
# npm test: build (the e2e suite runs the built service as a child process) with the control room page, type-check what the build does not
# compile (specs, test support, bench, scripts, clients: Jest strips their types without checking them), then every
# Jest project.
set -e
nest build
# The control room page's bundle, as `npm run build` makes it: nest build empties dist/, and a service started by an
# e2e suite without it warns that /ui is not built (which suites counting warnings would see, depending on order).
node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON libs/control-room/build/bundle-web.ts
tsc -p tsconfig.json --noEmit
exec node --experimental-vm-modules node_modules/jest/bin/jest.js --ci "$@"
