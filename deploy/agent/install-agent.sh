#!/usr/bin/env bash
# Installs the Monitor agent as a systemd service.
#
#   deploy/agent/install-agent.sh [options]
#     --binary PATH      the monitor-agent executable to install (default: publish it from this
#                        checkout: dotnet publish agent -r linux-x64 -c Release, NativeAOT)
#     --report URL       a report-service gRPC address (repeatable; e.g. nginx's http://monitor:8443)
#     --etcd URL         an etcd endpoint for discovery of the report services (repeatable)
#     --host-id ID       host identity (default: the host name)
#     --label KEY=VALUE  a static label on every sample (repeatable, e.g. location=dc1)
#     --interval HH:MM:SS  sampling interval (default 00:01:00)
#     --root DIR         install under DIR instead of / (packaging, tests); implies --no-start
#     --no-start         install only; do not enable or start the unit
#     --uninstall        stop, disable and remove the unit, binary and settings (keeps the spool)
#
# Layout: /opt/monitor-agent/{monitor-agent,appsettings.json}, /etc/monitor-agent/agent.env
# (environment-variable settings, kept if present), /etc/systemd/system/monitor-agent.service,
# spool in /var/lib/monitor-agent/spool, system user monitor-agent.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOTDIR=""; BINARY=""; START=1; UNINSTALL=0; HOST_ID=""; INTERVAL=""
REPORTS=(); ETCDS=(); LABELS=()
die() { echo "install-agent: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY=$2; shift 2 ;;
    --report) REPORTS+=("$2"); shift 2 ;;
    --etcd) ETCDS+=("$2"); shift 2 ;;
    --host-id) HOST_ID=$2; shift 2 ;;
    --label) [[ $2 == *=* ]] || die "--label wants KEY=VALUE"; LABELS+=("$2"); shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --root) ROOTDIR=$(mkdir -p "$2" && cd "$2" && pwd); START=0; shift 2 ;;
    --no-start) START=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

OPT="$ROOTDIR/opt/monitor-agent"
ETC="$ROOTDIR/etc/monitor-agent"
UNIT="$ROOTDIR/etc/systemd/system/monitor-agent.service"
STATE="$ROOTDIR/var/lib/monitor-agent"
have_systemd() { [ -z "$ROOTDIR" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }

if [ $UNINSTALL = 1 ]; then
  if have_systemd; then systemctl disable --now monitor-agent.service 2>/dev/null || true; fi
  rm -f "$UNIT" "$OPT/monitor-agent" "$OPT/appsettings.json"
  rmdir "$OPT" 2>/dev/null || true
  rm -f "$ETC/agent.env"; rmdir "$ETC" 2>/dev/null || true
  if have_systemd; then systemctl daemon-reload; fi
  echo "install-agent: removed (the spool in $STATE is kept)"
  exit 0
fi

[ -n "$ROOTDIR" ] || [ "$(id -u)" = 0 ] || die "run as root (or use --root DIR)"

if [ -z "$BINARY" ]; then
  command -v dotnet >/dev/null || die "no --binary given and no .NET SDK to publish one"
  OUTDIR=$(mktemp -d)
  trap 'rm -rf "$OUTDIR"' EXIT
  echo "install-agent: publishing the NativeAOT agent (dotnet publish agent -r linux-x64 -c Release)"
  dotnet publish "$REPO/agent" -r linux-x64 -c Release -o "$OUTDIR" -nologo -clp:ErrorsOnly -v:q >/dev/null
  BINARY="$OUTDIR/monitor-agent"
fi
[ -x "$BINARY" ] || die "$BINARY is not an executable"

install -d -m 0755 "$OPT" "$ETC" "$(dirname "$UNIT")"
install -m 0755 "$BINARY" "$OPT/monitor-agent"
SETTINGS="$(dirname "$BINARY")/appsettings.json"
[ -f "$SETTINGS" ] || SETTINGS="$REPO/agent/appsettings.json"
install -m 0644 "$SETTINGS" "$OPT/appsettings.json"
install -m 0644 "$HERE/monitor-agent.service" "$UNIT"

if [ ! -f "$ETC/agent.env" ] || [ ${#REPORTS[@]} -gt 0 ] || [ ${#ETCDS[@]} -gt 0 ] || [ -n "$HOST_ID" ] || [ ${#LABELS[@]} -gt 0 ] || [ -n "$INTERVAL" ]; then
  {
    echo "# Monitor agent settings (environment variables; see agent/Options/AgentOptions.cs)."
    echo "# Written by install-agent.sh on $(date -u +%FT%TZ)."
    [ -n "$HOST_ID" ] && echo "Agent__HostId=$HOST_ID"
    [ -n "$INTERVAL" ] && echo "Agent__Interval=$INTERVAL"
    i=0; for r in "${REPORTS[@]}"; do echo "Agent__ReportAddresses__$i=$r"; i=$((i + 1)); done
    i=0; for e in "${ETCDS[@]}"; do echo "Agent__Discovery__EtcdEndpoints__$i=$e"; i=$((i + 1)); done
    for l in "${LABELS[@]}"; do echo "Agent__Labels__${l%%=*}=${l#*=}"; done
    [ -n "$ROOTDIR" ] && echo "Agent__SpoolDirectory=$STATE/spool"
    true
  } >"$ETC/agent.env"
  chmod 0640 "$ETC/agent.env"
fi

install -d -m 0750 "$STATE"
if [ -z "$ROOTDIR" ]; then
  if ! id monitor-agent >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /var/lib/monitor-agent --shell /usr/sbin/nologin monitor-agent
  fi
  chown monitor-agent:monitor-agent "$STATE"
  chgrp monitor-agent "$ETC/agent.env"
fi

# Validate the settings exactly as the unit will (it runs the same check in ExecStartPre).
( set -a; . "$ETC/agent.env"; set +a; "$OPT/monitor-agent" --check-config ) || die "the settings in $ETC/agent.env are invalid (see above)"

if [ $START = 1 ] && have_systemd; then
  systemctl daemon-reload
  systemctl enable --now monitor-agent.service
  systemctl --no-pager --lines=5 status monitor-agent.service || true
elif [ $START = 1 ]; then
  echo "install-agent: systemd is not running here; start it with: systemctl enable --now monitor-agent (or run $OPT/monitor-agent)"
fi
echo "install-agent: installed $OPT/monitor-agent, $UNIT, settings $ETC/agent.env"
