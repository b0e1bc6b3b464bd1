#!/usr/bin/env bash
# Runs Monitor's tests.   ./test.sh [unit|integration|all]   (default: all)
#
#   unit         no I/O beyond the process: *.UnitTests and *.FunctionalTests projects
#   integration  real servers: starts the local stack (deploy/stack.sh up) first and
#                stops it afterwards if this script started it
#   all          both (what CI runs)
#
# Ends with the line "N passed, N failed" computed from the xUnit result files, and exits
# non-zero when a test failed, errored or a test project could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
TIER=${1:-all}
case "$TIER" in unit|integration|all) ;; *) echo "usage: $0 [unit|integration|all]" >&2; exit 2 ;; esac
CONFIGURATION=${CONFIGURATION:-Debug}
RESULTS="$ROOT/.state/test-results"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
T0=$(date +%s)

log() { printf '[test %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

log "building Monitor.sln ($CONFIGURATION)"
# One warm compiler server for all projects (this machine's environment sets UseSharedCompilation=false, which starts a
# cold csc per project); it is shut down right after the build so that nothing of ours outlives the command. Without
# tiered PGO for the build's short-lived processes (MSBuild nodes, compiler server): see run.sh and docs/benchmarks.md.
build_rc=0
DOTNET_TieredPGO=0 dotnet build Monitor.sln -c "$CONFIGURATION" -nologo -clp:ErrorsOnly -v:q -p:UseSharedCompilation=true || build_rc=$?
dotnet build-server shutdown --vbcscompiler >/dev/null 2>&1 || true
[ "$build_rc" = 0 ] || { log "ERROR: the build failed"; exit "$build_rc"; }

projects=()
if [ "$TIER" = unit ] || [ "$TIER" = all ]; then
  while IFS= read -r p; do projects+=("$p"); done < <(ls -d tests/*.UnitTests tests/*.FunctionalTests 2>/dev/null | sort)
fi
STARTED_STACK=0
if [ "$TIER" = integration ] || [ "$TIER" = all ]; then
  while IFS= read -r p; do projects+=("$p"); done < <(ls -d tests/*.IntegrationTests 2>/dev/null | sort)
  if ! deploy/stack.sh status >/dev/null 2>&1; then STARTED_STACK=1; fi
  log "starting the local stack (deploy/stack.sh up)"
  deploy/stack.sh up
  # shellcheck disable=SC1091
  set -a; source "$ROOT/.state/stack/endpoints.env"; set +a
  # Under this command a missing server is a failure, never a skip.
  export MONITOR_TEST_REQUIRE_STACK=1
fi

cleanup() {
  if [ "$STARTED_STACK" = 1 ] && [ "${MONITOR_KEEP_STACK:-0}" != 1 ]; then
    log "stopping the stack this run started"
    deploy/stack.sh down || true
  fi
}
trap cleanup EXIT

rc=0
if [ "$TIER" = unit ] || [ "$TIER" = all ]; then
  # The console's unit tests (Vitest); its JUnit file is counted below with the xUnit results.
  log "running console unit tests (Vitest)"
  if ! { console/scripts/ensure-deps.sh && (cd console && VITEST_JUNIT_FILE="$RESULTS/console-vitest.junit.xml" npm run -s test:junit); }; then rc=1; fi
  # The type check (vue-tsc) is not part of the bundle the browser tests and run.sh use: it runs here.
  log "type-checking the console (vue-tsc)"
  (cd console && npm run -s typecheck) || { log "ERROR: the console does not type-check"; rc=1; }
  [ -s "$RESULTS/console-vitest.junit.xml" ] || { log "ERROR: console unit tests wrote no results"; rc=1; }
fi
if [ "$TIER" = integration ] || [ "$TIER" = all ]; then
  # The browser tests (tests/Monitor.Console.IntegrationTests) drive the built console.
  console/scripts/ensure-deps.sh --bundle || rc=1
fi
for dir in "${projects[@]}"; do
  name=$(basename "$dir")
  exe="$dir/bin/$CONFIGURATION/net10.0/$name"
  if [ ! -x "$exe" ]; then log "ERROR: $exe was not built"; rc=1; continue; fi
  log "running $name"
  if ! "$exe" -noColor -noAutoReporters -result-xml "$RESULTS/$name.xml"; then rc=1; fi
  [ -s "$RESULTS/$name.xml" ] || { log "ERROR: $name wrote no results"; rc=1; }
done

passed=0; failed=0; skipped=0
for f in "$RESULTS"/*.xml; do
  [ -e "$f" ] || continue
  while read -r line; do
    attr() { grep -oE " $1=\"[0-9]+\"" <<<"$line" | grep -oE '[0-9]+' || echo 0; }
    passed=$((passed + $(attr passed)))
    failed=$((failed + $(attr failed) + $(attr errors)))
    skipped=$((skipped + $(attr skipped)))
  done < <(grep -oE '<assembly [^>]*>' "$f")
  # JUnit files (the console's Vitest run): <testsuite tests= failures= errors= skipped=>
  while read -r line; do
    attr() { grep -oE " $1=\"[0-9]+\"" <<<"$line" | grep -oE '[0-9]+' || echo 0; }
    passed=$((passed + $(attr tests) - $(attr failures) - $(attr errors) - $(attr skipped)))
    failed=$((failed + $(attr failures) + $(attr errors)))
    skipped=$((skipped + $(attr skipped)))
  done < <(grep -oE '<testsuite [^>]*>' "$f")
done
[ "$failed" -gt 0 ] && rc=1
# Name the failed xUnit tests again here, where a truncated log still shows them.
for f in "$RESULTS"/*.xml; do
  [ -e "$f" ] || continue
  grep -oE '<test [^>]*result="Fail"[^>]*>' "$f" | grep -oE ' name="[^"]*"' | sed -E 's/^ name="(.*)"$/FAILED: \1/' || true
done
log "tier '$TIER' finished in $(( $(date +%s) - T0 )) s; results in $RESULTS"
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
