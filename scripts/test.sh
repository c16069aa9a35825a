#!/bin/sh
# npm test: build (the e2e suite runs the built service as a child process), type-check what the build does not
# compile (specs, test support, bench, scripts, clients: Jest strips their types without checking them), then every
# Jest project.
set -e
nest build
tsc -p tsconfig.json --noEmit
exec node --experimental-vm-modules node_modules/jest/bin/jest.js --ci "$@"
