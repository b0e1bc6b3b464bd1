#!/usr/bin/env bash
# Builds Release, makes sure the local stack runs, and runs the load generator against it.
# Usage: benchmarks/run-ingest.sh [Monitor.LoadGen options]   (default: --mode all, every figure from one run)
#        benchmarks/run-ingest.sh --mode max --hosts 50 --duration 30s
#        benchmarks/run-ingest.sh --mode rate --hosts 1000 --hz 1 --duration 60s
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
deploy/stack.sh up >/dev/null
# shellcheck disable=SC1091
. .state/stack/endpoints.env
dotnet build Monitor.sln -c Release -clp:ErrorsOnly -v:q -nologo >/dev/null
exec dotnet benchmarks/Monitor.LoadGen/bin/Release/net10.0/Monitor.LoadGen.dll "$@"
