#!/usr/bin/env bash
# console/scripts/ensure-deps.sh [--build | --bundle]
# Installs the console's npm packages (npm ci from the committed package-lock.json) when node_modules is
# missing or older than the lock file; with --build, also builds console/dist when it is missing or older
# than any source (npm run build: vue-tsc type check, vite build, size budget); --bundle does the same without
# the type check (npm run bundle), which run.sh uses because test.sh type-checks (npm run typecheck) anyway.
# Quick when nothing changed. Used by run.sh, test.sh and the browser tests' fixture.
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$DIR"
command -v npm >/dev/null || { echo "console: npm not found (Node.js 20.19+ is required)" >&2; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "console: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
if [ "${1:-}" = --build ] || [ "${1:-}" = --bundle ]; then
  stale=0
  if [ ! -f dist/index.html ]; then
    stale=1
  elif [ -n "$(find src index.html package.json package-lock.json vite.config.ts tsconfig.json -newer dist/index.html -print -quit)" ]; then
    stale=1
  fi
  if [ "$stale" = 1 ]; then
    script=build; [ "$1" = --bundle ] && script=bundle
    echo "console: npm run $script" >&2
    npm run -s "$script" >&2
  fi
fi
