#!/bin/sh
# npm test: build (the e2e suite runs the built service as a child process), then every Jest project.
set -e
nest build
exec node --experimental-vm-modules node_modules/jest/bin/jest.js --ci "$@"
