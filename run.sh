#!/usr/bin/env bash
# Brings the whole Monitor system up on this machine, or stops it.
#
#   ./run.sh [up]     stack (MariaDB, etcd, InfluxDB, nginx, Kafka or its mock) + 3 report services
#                     + 2 persistence services + analyze, warning, manage + one agent; prints where to look
#   ./run.sh down     stops every process this script started, then the stack
#   ./run.sh status   what is running
#
# State, logs and PID files live under ${MONITOR_STATE_DIR:-<repo>/.state}. Ports are those of
# docs/ARCHITECTURE.md; override the stack's with the MONITOR_*_PORT variables of deploy/stack.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${MONITOR_STATE_DIR:-$ROOT/.state}
RUN="$STATE/run"
CONFIGURATION=${CONFIGURATION:-Release}
AGENT_INTERVAL=${MONITOR_AGENT_INTERVAL:-00:00:10}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# For the processes run.sh starts (not the build): the runtime begins counting calls for tier-1 re-JIT only once no new
# method has been JIT-compiled for 5 s, instead of 100 ms. Eight services starting side by side on 2 cores otherwise
# spend CPU re-compiling start-up-only code that happened to run 30 times. Services became ready 3-4 s sooner (warm
# ./run.sh, 6 pairs: 15.5-18.7 s vs 19.4-23.7 s, docs/benchmarks.md); steady-state code is the same tier-1 code.
JIT_ENV=(DOTNET_TC_CallCountingDelayMs=5000)

log() { printf '[run %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# name|folder|assembly|grpc port|http port
SERVICES=(
  "report-0|report-service|Monitor.ReportService|8000|8100"
  "report-1|report-service|Monitor.ReportService|8001|8101"
  "report-2|report-service|Monitor.ReportService|8002|8102"
  "persistent-0|persistent-service|Monitor.PersistentService||8110"
  "persistent-1|persistent-service|Monitor.PersistentService||8111"
  "analyze|analyze-service|Monitor.AnalyzeService|8010|8020"
  "warning|warning-service|Monitor.WarningService|8030|8040"
  "manage|manage-service|Monitor.ManageService|8050|8060"
)

alive() { local pf="$RUN/$1.pid"; [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null && grep -q "$2" "/proc/$(cat "$pf")/cmdline" 2>/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_one NAME DLL [ENV=VALUE ...] [-- ARGS ...]
start_one() {
  local name=$1 dll=$2 envs=() args=(); shift 2
  while [ $# -gt 0 ]; do if [ "$1" = -- ]; then shift; args=("$@"); break; fi; envs+=("$1"); shift; done
  if alive "$name" "$(basename "$dll")"; then log "$name: already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  # exec all the way down so that $! is the service's own PID; close inherited fds so CI's pipes are not held
  (cd "$(dirname "$dll")" && exec env "${JIT_ENV[@]}" "${envs[@]}" setsid dotnet "$dll" "${args[@]}" </dev/null >>"$RUN/logs/$name.log" 2>&1 9>&- 250>&- 255>&-) &
  echo $! >"$RUN/$name.pid"
  log "$name: started pid $(cat "$RUN/$name.pid"), log $RUN/logs/$name.log"
}

wait_healthy() {
  local name=$1 url=$2 i
  for i in $(seq 1 300); do
    curl -fs -m 2 -o /dev/null "$url" && { log "$name: healthy ($url)"; return 0; }
    alive "$name" dotnet || { tail -n 30 "$RUN/logs/$name.log" >&2; die "$name exited during start-up (log above: $RUN/logs/$name.log)"; }
    sleep 0.2
  done
  tail -n 30 "$RUN/logs/$name.log" >&2; die "$name not healthy within 60 s"
}

# Access control for the local stack: a random admin password (created once, mode 0600), a viewer service token for
# analyze/warning -> manage calls and an agent token, created through the manage service's CLI against its database.
prepare_access() {
  local manage_dll="$ROOT/manage-service/bin/$CONFIGURATION/net10.0/Monitor.ManageService.dll"
  umask 077
  [ -s "$RUN/admin-password" ] || { head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$RUN/admin-password"; log "access: new admin password in $RUN/admin-password"; }
  # The admin ports' diagnostics (docs/observability.md) take their own token.
  [ -s "$RUN/diagnostics-token" ] || { head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$RUN/diagnostics-token"; log "diagnostics: token in $RUN/diagnostics-token"; }
  # Both tokens from one start of the manage CLI (commands chained with --then: one token per line, in order).
  local kind args=() kinds=() lines
  for kind in service agent; do
    # Fresh tokens on every start (the database may have been reset); kept while the services that use them run.
    [ -s "$RUN/$kind-token" ] && alive manage Monitor.ManageService.dll && continue
    [ ${#args[@]} -gt 0 ] && args+=(--then)
    if [ "$kind" = service ]; then args+=(create-token --name "local-services-$(date +%s)" --role viewer); else args+=(create-agent-token --name "local-agent-$(date +%s)"); fi
    kinds+=("$kind")
  done
  [ ${#kinds[@]} -gt 0 ] || { umask 022; return 0; }
  lines=$(cd "$(dirname "$manage_dll")" && env "${JIT_ENV[@]}" Logging__LogLevel__Default=Warning Auth__Enabled=true \
    Auth__BootstrapAdmin__Name=admin "Auth__BootstrapAdmin__Password=$(cat "$RUN/admin-password")" \
    dotnet "$manage_dll" "${args[@]}" 2>>"$RUN/logs/access-cli.log") || die "access: creating the tokens failed (log $RUN/logs/access-cli.log)"
  local i=0 line
  while IFS= read -r line; do
    [ $i -lt ${#kinds[@]} ] || break
    grep -Eq '^mona?_[A-Za-z0-9_-]{43}$' <<<"$line" || continue
    printf '%s\n' "$line" >"$RUN/${kinds[$i]}-token"
    log "access: ${kinds[$i]} token in $RUN/${kinds[$i]}-token"
    i=$((i + 1))
  done <<<"$lines"
  [ $i -eq ${#kinds[@]} ] || die "access: the manage CLI printed $i token(s) instead of ${#kinds[@]} (log $RUN/logs/access-cli.log)"
  umask 022
}

cmd_up() {
  mkdir -p "$RUN/logs"
  # The servers, the .NET build and the console build do not depend on each other: run them side by side.
  local t0=$SECONDS stack_pid console_pid build_rc=0 stack_rc=0
  # Kafka's mock is started after the build, which compiles it with everything else (deploy/stack.sh then copies it).
  "$ROOT/deploy/stack.sh" up --no-kafka >/dev/null & stack_pid=$!
  # vite build without the vue-tsc type check (17 s of CPU on 2 cores that the .NET build needs; test.sh type-checks),
  # niced so that the .NET build, the longer path, gets the cores first.
  log "console: npm ci + vite build when console/dist is missing or older than its sources (in the background)"
  nice -n 10 "$ROOT/console/scripts/ensure-deps.sh" --bundle & console_pid=$!
  log "building Monitor ($CONFIGURATION)"
  # Only what runs (Monitor.Run.slnf: services, agent, nginx-sync, Kafka mock; not the prober, which run.sh does not start): tests
  # and benchmarks are test.sh's business. Analyzers are skipped here (about a third of the compile CPU); test.sh's
  # build runs them and fails on their warnings. One warm compiler server serves all projects instead of a cold csc
  # process per project (this machine's environment sets UseSharedCompilation=false): 32-44 s instead of 62 s for a
  # fresh clone. It is shut down right after the build so that nothing of ours outlives the command. The build's own
  # processes (MSBuild nodes, the compiler server) run without tiered PGO: they live for half a minute, too short to
  # repay the instrumented JIT tier; a fresh build took 43-58 instead of 69-93 core-seconds (docs/benchmarks.md).
  DOTNET_TieredPGO=0 dotnet build "$ROOT/Monitor.Run.slnf" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly -v:q -p:RunAnalyzers=false \
    -p:UseSharedCompilation=true || build_rc=$?
  dotnet build-server shutdown --vbcscompiler >/dev/null 2>&1 || true
  wait "$stack_pid" || stack_rc=$?
  if [ "$build_rc" != 0 ]; then
    wait "$console_pid" || true
    die "the build failed"
  fi
  log "build done in $((SECONDS - t0)) s"
  [ "$stack_rc" = 0 ] || die "the stack did not come up (deploy/stack.sh up; logs in $STATE/stack/)"
  set -a; source "$STATE/stack/endpoints.env"; set +a
  # Kafka (the mock from the build just made, or a configured broker) comes up while the tokens are created in MariaDB.
  "$ROOT/deploy/stack.sh" up & stack_pid=$!
  prepare_access
  wait "$stack_pid" || die "the stack did not come up (deploy/stack.sh up; logs in $STATE/stack/)"
  set -a; source "$STATE/stack/endpoints.env"; set +a
  local spec name folder asm grpc http dll env
  for spec in "${SERVICES[@]}"; do
    IFS='|' read -r name folder asm grpc http <<<"$spec"
    dll="$ROOT/$folder/bin/$CONFIGURATION/net10.0/$asm.dll"
    if ! alive "$name" "$asm.dll"; then
      for p in $grpc $http $((http + 1000)); do port_busy "$p" && die "$name: port 127.0.0.1:$p is already in use by another process"; done
    fi
    env=("Service__InstanceId=$name" "Service__HttpUrl=http://127.0.0.1:$http" "Service__AdminUrl=http://127.0.0.1:$((http + 1000))")
    # Admin-port diagnostics, and the self-metrics feed (pseudo-host monitor.<kind>.<instance>) with the fleet agent token.
    env+=("Diagnostics__Token=$(cat "$RUN/diagnostics-token")" "SelfMetrics__Token=$(cat "$RUN/agent-token")")
    [ -n "$grpc" ] && env+=("Service__GrpcUrl=http://127.0.0.1:$grpc")
    # Access control on (docs/access.md); the original system's endpoints stay open for legacy agents and scripts.
    env+=("Auth__Enabled=true" "Auth__AllowAnonymousLegacy=true" "Auth__ManageUrl=http://127.0.0.1:8060")
    [[ $name == manage ]] && env+=("Auth__BootstrapAdmin__Name=admin" "Auth__BootstrapAdmin__Password=$(cat "$RUN/admin-password")")
    [[ $name == analyze || $name == warning ]] && env+=("Auth__ServiceToken=$(cat "$RUN/service-token")")
    # Reassign a crashed consumer's partitions after 10 s instead of librdkafka's 45 s.
    [[ $name == persistent-* ]] && env+=("Kafka__Consumer__session.timeout.ms=10000" "Kafka__Consumer__heartbeat.interval.ms=3000")
    start_one "$name" "$dll" "${env[@]}"
  done
  for spec in "${SERVICES[@]}"; do
    IFS='|' read -r name folder asm grpc http <<<"$spec"
    wait_healthy "$name" "http://127.0.0.1:$http/health/ready"
  done
  local ndir="$STATE/stack/nginx"
  start_one nginx-sync "$ROOT/deploy/Monitor.NginxSync/bin/$CONFIGURATION/net10.0/monitor-nginx-sync.dll" -- \
    --etcd "$MONITOR_TEST_ETCD" --prefix /monitor/services/report/ --upstream report_pool --out "$ndir/report_pool.conf" \
    --reload "nginx -t -q -p $ndir/ -c nginx.conf && kill -HUP \$(cat $ndir/nginx.pid)"
  start_one agent "$ROOT/agent/bin/$CONFIGURATION/net10.0/monitor-agent.dll" \
    "Agent__Interval=$AGENT_INTERVAL" "Agent__ReportAddresses__0=$MONITOR_TEST_NGINX_GRPC" "Agent__SpoolDirectory=$RUN/agent-spool" \
    "Agent__TokenFile=$RUN/agent-token"
  # nginx serves console/dist as static files: the services did not need to wait for it.
  wait "$console_pid" || die "the console build failed (console/scripts/ensure-deps.sh --bundle)"
  local host; host=$(hostname)
  cat <<INFO

Monitor is up.
  web console                 : $MONITOR_TEST_NGINX_HTTP/   (served by nginx from console/dist)
  HTTP APIs (nginx)           : $MONITOR_TEST_NGINX_HTTP/api/v1/{analyze,manage,warning}/
  agent gRPC entry (nginx)    : $MONITOR_TEST_NGINX_GRPC  (-> report services registered in etcd; pool file $ndir/report_pool.conf)
  health                      : http://127.0.0.1:8100/health/ready  (each service: its HTTP port + /health/ready, /metrics)
  pipeline health             : $MONITOR_TEST_NGINX_HTTP/api/v1/manage/pipeline/health   request statistics: /api/v1/manage/stats/requests
  diagnostics (admin ports)   : http://127.0.0.1:9100/diagnostics/gc etc. (HTTP port + 1000, 127.0.0.1 only; Bearer token in $RUN/diagnostics-token)
  InfluxDB                    : $MONITOR_TEST_INFLUX   e.g.
      curl -s '$MONITOR_TEST_INFLUX/query?db=monitor' --data-urlencode "q=SELECT * FROM cpu_rate WHERE host_id='$host' ORDER BY time DESC LIMIT 5"
  etcd registry               : ETCDCTL_API=3 etcdctl --endpoints=$MONITOR_TEST_ETCD get --prefix /monitor/services/ --keys-only
  logs                        : $RUN/logs/   (stack servers: $STATE/stack/)
  the agent samples every $AGENT_INTERVAL as host '$host' (agent token: $RUN/agent-token)
  access control              : ON; console/API user 'admin', password in $RUN/admin-password (mode 0600);
                                legacy endpoints (/host, /rule, /data, proto.Report) accept anonymous callers (Auth:AllowAnonymousLegacy=true)
  stop everything             : ./run.sh down
INFO
}

stop_one() {
  local name=$1 pf="$RUN/$1.pid" pid i
  [ -s "$pf" ] || return 0
  pid=$(cat "$pf")
  if kill -0 "$pid" 2>/dev/null && grep -q dotnet "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid"
    for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "$name: still alive after 30 s, killing"; kill -KILL "$pid"; }
    log "$name: stopped (pid $pid)"
  fi
  rm -f "$pf"
}

cmd_down() {
  stop_one agent
  stop_one nginx-sync
  local spec name pids=()
  for spec in "${SERVICES[@]}"; do
    IFS='|' read -r name _ <<<"$spec"
    stop_one "$name" & pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null || true
  "$ROOT/deploy/stack.sh" down
}

cmd_status() {
  local spec name rc=0
  "$ROOT/deploy/stack.sh" status || rc=1
  for spec in agent nginx-sync "${SERVICES[@]}"; do
    IFS='|' read -r name _ <<<"$spec"
    if alive "$name" dotnet; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; rc=1; fi
  done
  return $rc
}

case "${1:-up}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 [up|down|status]" >&2; exit 2 ;;
esac
