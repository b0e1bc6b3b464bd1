#!/usr/bin/env bash
# Agent vs collectd: CPU seconds and anonymous RSS, side by side, at a 1 s interval.
#
#   benchmarks/agent-vs-collectd/run.sh [SECONDS]      (default 120; results: .state/bench/agent-vs-collectd/)
#   AGENT_BINARY=path/to/monitor-agent run.sh ...      (skip the publish step and use that binary)
#
# - installs Debian's collectd when missing (policy-rc.d keeps apt from starting the system service);
# - collectd runs in the foreground with a private config: plugins cpu, memory, interface and network,
#   the network plugin sending to a local UDP sink on 127.0.0.1;
# - the agent runs as the published NativeAOT binary (dotnet publish agent -r linux-x64 -c Release),
#   sampling every second and streaming to a local no-op report sink (AckSink/: acks every batch) with
#   its spool in the results directory, twice side by side: with every collector ("full") and with
#   only the collectors collectd runs here (cpu, memory, network: "like collectd");
# - after a 5 s warm-up both are measured for SECONDS: CPU = utime+stime from /proc/PID/stat,
#   RssAnon from /proc/PID/status (sampled every second; the table shows the end value and the max).
# Everything it starts is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/benchmarks/agent-vs-collectd"
DURATION=${1:-120}
OUT="$ROOT/.state/bench/agent-vs-collectd"
WARMUP=5
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }

rm -rf "$OUT"; mkdir -p "$OUT"

# ---------------------------------------------------------------- collectd (Debian package)
if ! command -v collectd >/dev/null 2>&1 && [ ! -x /usr/sbin/collectd ]; then
  log "installing collectd (apt)"
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
  fi
  rc=0
  { apt-get -o DPkg::Lock::Timeout=300 update && \
    apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends collectd-core; } </dev/null >"$OUT/apt.log" 2>&1 || rc=$?
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail -n 20 "$OUT/apt.log" >&2; die "apt-get install collectd-core failed (log: $OUT/apt.log)"; }
fi
COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)
PLUGIN_DIR=/usr/lib/collectd
TYPES_DB=/usr/share/collectd/types.db
[ -f "$TYPES_DB" ] || die "$TYPES_DB is missing"

# ---------------------------------------------------------------- the agent (NativeAOT) and its sink
if [ -n "${AGENT_BINARY:-}" ]; then
  AGENT=$AGENT_BINARY
else
  AGENT_DIR="$OUT/agent"
  log "publishing the agent (NativeAOT, linux-x64, Release)"
  dotnet publish "$ROOT/agent" -r linux-x64 -c Release -o "$AGENT_DIR" -nologo -clp:ErrorsOnly -v:q >"$OUT/publish.log" 2>&1 \
    || { tail -n 30 "$OUT/publish.log" >&2; die "dotnet publish agent failed"; }
  AGENT="$AGENT_DIR/monitor-agent"
fi
[ -x "$AGENT" ] || die "$AGENT was not produced"
log "building the ack sink"
dotnet build "$HERE/AckSink" -c Release -nologo -clp:ErrorsOnly -v:q >"$OUT/sink-build.log" 2>&1 \
  || { tail -n 30 "$OUT/sink-build.log" >&2; die "building the ack sink failed"; }
SINK_DLL="$HERE/AckSink/bin/Release/net10.0/Monitor.AgentBench.AckSink.dll"

SINK_PORT=$(free_port)
setsid dotnet "$SINK_DLL" "$SINK_PORT" </dev/null >"$OUT/sink.log" 2>&1 &
PIDS+=($!)
UDP_PORT=$(free_port)
setsid python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $UDP_PORT))
while True:
    s.recv(65535)
" </dev/null >"$OUT/udp-sink.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null && break; sleep 0.1; done

# ---------------------------------------------------------------- start both
mkdir -p "$OUT/collectd"
cat >"$OUT/collectd.conf" <<CONF
Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "$OUT/collectd"
PIDFile "$OUT/collectd/collectd.pid"
PluginDir "$PLUGIN_DIR"
TypesDB "$TYPES_DB"
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File "$OUT/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin memory
LoadPlugin interface
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "$UDP_PORT"
</Plugin>
CONF
setsid "$COLLECTD" -f -C "$OUT/collectd.conf" </dev/null >"$OUT/collectd.out" 2>&1 &
COLLECTD_PID=$!; PIDS+=($COLLECTD_PID)

start_agent() { # name, extra env...
  local name=$1; shift
  env Agent__HostId="bench-$name" Agent__Interval=00:00:01 Agent__SpoolDirectory="$OUT/spool-$name" \
    Agent__ReportAddresses__0="http://127.0.0.1:$SINK_PORT" "$@" \
    setsid "$AGENT" </dev/null >"$OUT/agent-$name.log" 2>&1 &
  PIDS+=($!)
}
start_agent full
AGENT_PID=$!
start_agent lite Agent__DisabledCollectors__0=system Agent__DisabledCollectors__1=disk_usage \
  Agent__DisabledCollectors__2=disk_io Agent__DisabledCollectors__3=tcp Agent__DisabledCollectors__4=agent
LITE_PID=$!

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_anon() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }
alive() { kill -0 "$1" 2>/dev/null || die "$2 exited early (see $OUT)"; }

sleep "$WARMUP"
alive $COLLECTD_PID collectd; alive $AGENT_PID agent; alive $LITE_PID agent-lite
TCK=$(getconf CLK_TCK)
c0=$(cpu_ticks $COLLECTD_PID); a0=$(cpu_ticks $AGENT_PID); l0=$(cpu_ticks $LITE_PID)
cmax=0; amax=0; lmax=0
log "measuring for $DURATION s (collectd PID $COLLECTD_PID, agent PIDs $AGENT_PID full, $LITE_PID like collectd)"
for _ in $(seq "$DURATION"); do
  sleep 1
  alive $COLLECTD_PID collectd; alive $AGENT_PID agent; alive $LITE_PID agent-lite
  r=$(rss_anon $COLLECTD_PID); [ "$r" -gt "$cmax" ] && cmax=$r
  r=$(rss_anon $AGENT_PID); [ "$r" -gt "$amax" ] && amax=$r
  r=$(rss_anon $LITE_PID); [ "$r" -gt "$lmax" ] && lmax=$r
done
c1=$(cpu_ticks $COLLECTD_PID); a1=$(cpu_ticks $AGENT_PID); l1=$(cpu_ticks $LITE_PID)
cend=$(rss_anon $COLLECTD_PID); aend=$(rss_anon $AGENT_PID); lend=$(rss_anon $LITE_PID)

python3 - "$DURATION" "$TCK" "$c0" "$c1" "$a0" "$a1" "$l0" "$l1" "$cend" "$cmax" "$aend" "$amax" "$lend" "$lmax" <<'PY' | tee "$OUT/results.md"
import sys
d, tck, c0, c1, a0, a1, l0, l1, cend, cmax, aend, amax, lend, lmax = map(float, sys.argv[1:])
c = (c1 - c0) / tck; a = (a1 - a0) / tck; l = (l1 - l0) / tck
def row(n, cpu, end, mx): return f"| {n} | {cpu:.2f} | {100*cpu/d:.3f} % | {end/1024:.1f} | {mx/1024:.1f} |"
def ratio(x): return f"{x / c:.1f}x" if c > 0 else "n/a"
print(f"{int(d)} s at a 1 s interval, side by side")
print()
print("| process | CPU s (utime+stime) | of one core | RssAnon MiB (end) | RssAnon MiB (max) |")
print("| --- | ---: | ---: | ---: | ---: |")
print(row("collectd 5.12 (cpu, memory, interface; network plugin to a local UDP sink)", c, cend, cmax))
print(row("monitor-agent full (all collectors, ~80 samples/s, fsync'd spool, gRPC)", a, aend, amax))
print(row("monitor-agent like collectd (cpu, memory, network only)", l, lend, lmax))
print()
print(f"CPU ratio to collectd: full {ratio(a)}, like collectd {ratio(l)} (target <= 2x); "
      f"RssAnon: full {aend/1024:.1f} MiB, like collectd {lend/1024:.1f} MiB (target <= 10 MiB)")
PY
log "agent spools after the run: $(ls "$OUT"/spool-*/*.batch 2>/dev/null | wc -l) unacknowledged batch(es) (expect 0-2); logs in $OUT"
