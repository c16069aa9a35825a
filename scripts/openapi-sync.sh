#!/bin/sh
# Regenerates openapi/control-plane.json from the built application, then lints it.
set -e
nest build
node dist/scripts/openapi-sync.js "$@"
redocly lint openapi/control-plane.json --config redocly.yaml
