#!/usr/bin/env bash
# console/scripts/ensure-deps.sh [--build | --bundle]
# Installs the console's npm packages (npm ci from the committed package-lock.json) when node_modules is
# missing or older than the lock file; with --build, also builds console/dist when it is missing or older
# than any source (npm run build: vue-tsc type check, vite build, size budget); --bundle does the same without
# the type check (npm run bundle), which run.sh uses because test.sh type-checks (npm run typecheck) anyway.
# --bundle needs only the packages that produce dist (package.json "dependencies": vue, uplot, vite and its Vue
# plugin), so it installs with --omit=dev (7 instead of 16 s of CPU) and marks node_modules as such; any other use
# installs everything when it finds that mark. Quick when nothing changed. Used by run.sh, test.sh and the browser
# tests' fixture.
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$DIR"
command -v npm >/dev/null || { echo "console: npm not found (Node.js 20.19+ is required)" >&2; exit 1; }
PROD_ONLY=node_modules/.monitor-prod-only
installed=none
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] && [ ! package.json -nt node_modules/.package-lock.json ]; then
  if [ -f "$PROD_ONLY" ]; then installed=prod; else installed=all; fi
fi
if [ "${1:-}" = --bundle ]; then
  if [ "$installed" = none ]; then
    echo "console: npm ci --omit=dev" >&2
    npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2
    touch "$PROD_ONLY"
  fi
elif [ "$installed" != all ]; then
  echo "console: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  rm -f "$PROD_ONLY"
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
