#!/bin/sh
# npm start: build when needed, then run the service on its local defaults (no credentials needed).
set -e
if [ ! -f dist/apps/control-plane/src/main.js ] || [ -n "$(find apps libs -name '*.ts' -newer dist/apps/control-plane/src/main.js 2>/dev/null | head -1)" ]; then
  nest build
fi
exec node dist/apps/control-plane/src/main.js
