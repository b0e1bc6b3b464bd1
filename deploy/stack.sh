#!/usr/bin/env bash
# deploy/stack.sh - Monitor's local dependency stack on 127.0.0.1 (Debian 12, root; no systemd, no Docker):
# MariaDB, etcd, InfluxDB 1.6, nginx (HTTP + gRPC h2c front) and Kafka (librdkafka's in-memory MOCK cluster,
# or a real broker given in Kafka__BootstrapServers).
#
#   deploy/stack.sh up     [--no-kafka]   install missing packages, start what is not running, wait until ready,
#                                         write <state>/stack/endpoints.env
#   deploy/stack.sh down                  stop exactly the processes `up` started (by recorded PID)
#   deploy/stack.sh status [--no-kafka]   print each server's state; exit 1 if any is stopped
#
# State: ${MONITOR_STATE_DIR:-<repo>/.state}/stack (`down` keeps the data; `rm -rf` it for a clean slate).
# Every port and setting is an environment variable: see deploy/README.md.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$DEPLOY_DIR")
STATE_DIR=${MONITOR_STATE_DIR:-$REPO_DIR/.state}
READY_TIMEOUT=${MONITOR_STACK_READY_TIMEOUT:-60}               # seconds per server

MARIADB_PORT=${MONITOR_MARIADB_PORT:-3307}
MARIADB_USER=monitor
MARIADB_PASSWORD=${MONITOR_MARIADB_PASSWORD:-monitor-dev-pw}
MARIADB_DATABASES=(monitor_manage monitor_warning monitor_test)
ETCD_PORT=${MONITOR_ETCD_PORT:-2379}
ETCD_PEER_PORT=${MONITOR_ETCD_PEER_PORT:-2380}
INFLUX_PORT=${MONITOR_INFLUX_PORT:-8086}
INFLUX_RPC_PORT=${MONITOR_INFLUX_RPC_PORT:-8088}                 # influxd always binds it (backup/restore RPC)
INFLUX_DB=monitor
NGINX_HTTP_PORT=${MONITOR_NGINX_HTTP_PORT:-8080}
NGINX_GRPC_PORT=${MONITOR_NGINX_GRPC_PORT:-8443}
NGINX_WORKERS=${MONITOR_NGINX_WORKERS:-2}
REPORT_GRPC_PORTS=${MONITOR_REPORT_GRPC_PORTS:-8000 8001 8002}    # report-service instances behind nginx gRPC
ANALYZE_HTTP_PORT=${MONITOR_ANALYZE_HTTP_PORT:-8020}
WARNING_HTTP_PORT=${MONITOR_WARNING_HTTP_PORT:-8040}
MANAGE_HTTP_PORT=${MONITOR_MANAGE_HTTP_PORT:-8060}
MANAGE_GRPC_PORT=${MONITOR_MANAGE_GRPC_PORT:-8050}
CONSOLE_DIST=${MONITOR_CONSOLE_DIST:-$REPO_DIR/console/dist}
KAFKA_PORT=${MONITOR_KAFKA_PORT:-9092}                           # mock broker i listens on KAFKA_PORT+i-1
KAFKA_BROKERS=${MONITOR_KAFKA_BROKERS:-3}
KAFKA_CONTROL_PORT=${MONITOR_KAFKA_CONTROL_PORT:-9099}
KAFKA_PARTITIONS=${MONITOR_KAFKA_PARTITIONS:-32}
KAFKA_DLQ_PARTITIONS=${MONITOR_KAFKA_DLQ_PARTITIONS:-4}
EXTERNAL_KAFKA=${Kafka__BootstrapServers:-}                       # set: use this broker, start no mock

PACKAGES=(mariadb-server mariadb-client etcd-server etcd-client influxdb influxdb-client nginx curl kafkacat docker-compose chromium postgresql-15 redis-server redis-tools iputils-ping)  # docker-compose: offline validation of deploy/docker-compose.yml only; chromium: the console's browser tests; postgresql-15, redis-server/redis-tools, iputils-ping: real servers of the probe tests (started by the test fixtures, not by the stack)
APT_OPTS=(-o DPkg::Lock::Timeout=600 -q)
export DEBIAN_FRONTEND=noninteractive
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[stack %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

usage() {
  cat >&2 <<EOF
usage: $0 up|down|status [--no-kafka]
  state dir: \${MONITOR_STATE_DIR:-$REPO_DIR/.state}/stack ; settings: deploy/README.md
EOF
  exit 2
}

CMD=${1:-}
[ $# -gt 0 ] && shift
NO_KAFKA=0
for arg in "$@"; do
  case "$arg" in
    --no-kafka) NO_KAFKA=1 ;;
    *) log "unknown argument: $arg"; usage ;;
  esac
done
case "$CMD" in up|down|status) ;; *) usage ;; esac

# ---------------------------------------------------------------- settings validation
valid_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
validate_settings() {
  local name v p
  for name in MARIADB_PORT ETCD_PORT ETCD_PEER_PORT INFLUX_PORT INFLUX_RPC_PORT NGINX_HTTP_PORT NGINX_GRPC_PORT \
              ANALYZE_HTTP_PORT WARNING_HTTP_PORT MANAGE_HTTP_PORT KAFKA_PORT KAFKA_CONTROL_PORT; do
    v=${!name}
    valid_port "$v" || die "MONITOR_$name='$v' is not a port number (1-65535)"
  done
  for p in $REPORT_GRPC_PORTS; do valid_port "$p" || die "MONITOR_REPORT_GRPC_PORTS: '$p' is not a port number"; done
  [ -n "${REPORT_GRPC_PORTS// /}" ] || die "MONITOR_REPORT_GRPC_PORTS is empty"
  [[ $KAFKA_BROKERS =~ ^[1-9]$ ]] || die "MONITOR_KAFKA_BROKERS='$KAFKA_BROKERS' must be 1-9"
  [[ $KAFKA_PARTITIONS =~ ^[1-9][0-9]{0,2}$ ]] || die "MONITOR_KAFKA_PARTITIONS='$KAFKA_PARTITIONS' must be 1-999"
  [[ $KAFKA_DLQ_PARTITIONS =~ ^[1-9][0-9]{0,2}$ ]] || die "MONITOR_KAFKA_DLQ_PARTITIONS='$KAFKA_DLQ_PARTITIONS' must be 1-999"
  [[ $NGINX_WORKERS =~ ^[1-9][0-9]?$ ]] || die "MONITOR_NGINX_WORKERS='$NGINX_WORKERS' must be 1-99"
  [[ $READY_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "MONITOR_STACK_READY_TIMEOUT='$READY_TIMEOUT' must be a positive integer"
  # The password goes into SQL, connection strings and a shell-sourced env file: keep it to a safe alphabet.
  [[ $MARIADB_PASSWORD =~ ^[A-Za-z0-9._~+@%^,:/-]{4,128}$ ]] \
    || die "MONITOR_MARIADB_PASSWORD must be 4-128 characters of [A-Za-z0-9._~+@%^,:/-]"
  # ... and so does a real broker's bootstrap list
  local bootstrap_re='^[]A-Za-z0-9._:,@/[-]+$'
  [ -z "$EXTERNAL_KAFKA" ] || [[ $EXTERNAL_KAFKA =~ $bootstrap_re ]] \
    || die "Kafka__BootstrapServers='$EXTERNAL_KAFKA' is not a host:port[,host:port...] list"
  # The same port twice would only show up as a confusing failure later.
  local servers=("mariadb:$MARIADB_PORT" "etcd:$ETCD_PORT" "etcd-peer:$ETCD_PEER_PORT" "influxdb:$INFLUX_PORT"
                 "influxdb-rpc:$INFLUX_RPC_PORT" "nginx-http:$NGINX_HTTP_PORT" "nginx-grpc:$NGINX_GRPC_PORT"
                 "analyze-service:$ANALYZE_HTTP_PORT" "warning-service:$WARNING_HTTP_PORT" "manage-service:$MANAGE_HTTP_PORT")
  for p in $REPORT_GRPC_PORTS; do servers+=("report-service:$p"); done
  if [ -z "$EXTERNAL_KAFKA" ] && [ "$NO_KAFKA" = 0 ]; then
    local i
    for ((i = 0; i < KAFKA_BROKERS; i++)); do servers+=("kafka-mock-broker-$((i + 1)):$((KAFKA_PORT + i))"); done
    servers+=("kafka-mock-control:$KAFKA_CONTROL_PORT")
  fi
  local -A owner=()
  for v in "${servers[@]}"; do
    p=${v##*:}
    [ -n "${owner[$p]:-}" ] && die "port $p is configured twice: for ${owner[$p]} and for ${v%:*}"
    owner[$p]=${v%:*}
  done
  return 0
}

# ---------------------------------------------------------------- paths
case "$STATE_DIR" in /*) ;; *) STATE_DIR=$PWD/$STATE_DIR ;; esac   # absolute: nginx -p and mariadbd need it
STACK_DIR=$STATE_DIR/stack
LOCK_FILE=$STACK_DIR/.lock
ENV_FILE=$STACK_DIR/endpoints.env
KAFKA_MODE_FILE=$STACK_DIR/kafka.mode                          # mock | external | none (as of the last `up`)

M_DIR=$STACK_DIR/mariadb
M_PF=$M_DIR/mariadbd.pid
M_LOG=$M_DIR/mariadbd.log
M_SOCK=$M_DIR/run/mysqld.sock
if [ ${#M_SOCK} -ge 100 ]; then                                 # unix socket paths are limited to ~107 bytes
  M_SOCK=/tmp/monitor-mariadb-$(printf '%s' "$STACK_DIR" | cksum | cut -d' ' -f1).sock
fi
E_DIR=$STACK_DIR/etcd
E_PF=$E_DIR/etcd.pid
E_LOG=$E_DIR/etcd.log
E_URL=http://127.0.0.1:$ETCD_PORT
I_DIR=$STACK_DIR/influxdb
I_PF=$I_DIR/influxd.pid
I_LOG=$I_DIR/influxd.log
I_URL=http://127.0.0.1:$INFLUX_PORT
N_DIR=$STACK_DIR/nginx
N_PF=$N_DIR/nginx.pid                                           # $! of the foreground master
N_LOG=$N_DIR/logs/error.log
K_DIR=$STACK_DIR/kafka-mock
K_PF=$K_DIR/kafka-mock.pid
K_LOG=$K_DIR/kafka-mock.log
K_BOOTSTRAP_FILE=$K_DIR/bootstrap                               # written by the mock once it is ready
K_SRC=$DEPLOY_DIR/Monitor.KafkaMock
K_BIN=$STATE_DIR/kafkamock-bin
K_DLL=$K_BIN/Monitor.KafkaMock.dll
K_CONTROL_URL=http://127.0.0.1:$KAFKA_CONTROL_PORT

# ---------------------------------------------------------------- packages
ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "packages: all present"; return 0; }
  log "packages: installing ${missing[*]}"
  local t0; t0=$(now)
  # Don't let maintainer scripts start system-wide services (nginx on :80, mariadb on :3306 ...).
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
  fi
  # apt-get update takes /var/lib/apt/lists/lock, which DPkg::Lock::Timeout does not cover -> retry.
  local deadline=$(( $(date +%s) + 600 )) out
  until out=$(apt-get "${APT_OPTS[@]}" update 2>&1 9>&-); do
    if grep -qi 'lock' <<<"$out" && [ "$(date +%s)" -lt "$deadline" ]; then
      log "apt-get update: lock busy, retrying"; sleep 5
    else
      [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
      printf '%s\n' "$out" >&2; die "apt-get update failed"
    fi
  done
  if ! apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null >"$STACK_DIR/apt-install.log" 2>&1 9>&-; then
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    tail -n 30 "$STACK_DIR/apt-install.log" >&2; die "apt-get install failed (log: $STACK_DIR/apt-install.log)"
  fi
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  log "packages: installed in $(since "$t0")s"
}

# ---------------------------------------------------------------- process helpers
exe_name() { local e; e=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1; e=${e% (deleted)}; basename "$e"; }

# pid_alive <pidfile> <expected exe basename | kafka-mock>: the recorded process still runs (guards against PID reuse)
pid_alive() {
  local pf=$1 exe=$2 pid name
  [ -s "$pf" ] || return 1
  pid=$(<"$pf")
  [[ $pid =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ] || return 1
  name=$(exe_name "$pid") || return 1
  if [ "$exe" = kafka-mock ]; then
    # `dotnet Monitor.KafkaMock.dll` (or the apphost): the exe alone would match any dotnet process
    [ "$name" = dotnet ] || [ "$name" = Monitor.KafkaMock ] || return 1
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *Monitor.KafkaMock* ]]
  else
    [ "$name" = "$exe" ]
  fi
}

# is_running <pid>: exists and is not a zombie (a killed server stays a zombie until init reaps it)
is_running() {
  local line
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  line=${line##*) }
  [ "${line%% *}" != Z ]
}

# Processes whose session id is <sid> (zombies excluded): everything a `setsid` server started (e.g. nginx workers).
session_pids() {
  local sid=$1 f line rest state sess
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    rest=${line##*) }                                 # fields after "pid (comm) ": state ppid pgrp session ...
    read -r state _ _ sess _ <<<"$rest"
    [ "$sess" = "$sid" ] && [ "$state" != Z ] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
  return 0
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_owner() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n1 || true; }

# check_ports_free <server> <port>...: collects errors into PORT_ERRORS
PORT_ERRORS=()
check_ports_free() {
  local name=$1 p owner; shift
  for p in "$@"; do
    if port_busy "$p"; then
      owner=$(port_owner "$p")
      PORT_ERRORS+=("$name: port 127.0.0.1:$p is already in use${owner:+ by $owner}")
    fi
  done
  return 0
}

# The ports a running server was started with; `up` refuses to silently keep a server on other ports.
check_same_ports() {
  local name=$1 file=$2 want=$3 have
  have=$(cat "$file" 2>/dev/null || true)
  [ -z "$have" ] || [ "$have" = "$want" ] \
    || die "$name is running with [$have] but the settings now say [$want]: run '$0 down' first"
}

# Server logs are appended across runs: on failure show only what this run wrote.
declare -A LOG_OFFSET=()
mark_log() { LOG_OFFSET[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0); }
log_tail() { tail -c +"$(( ${LOG_OFFSET[$1]:-0} + 1 ))" "$1" 2>/dev/null | tail -n "${2:-30}" >&2 || true; }

# spawn <name> <pidfile> <logfile> cmd...   (detached: own session, stdio never inherited from the caller)
spawn() {
  local name=$1 pf=$2 lf=$3; shift 3
  mark_log "$lf"
  (
    # Close every inherited descriptor but stdio: the state-dir lock (fd 9) and whatever pipes the caller's
    # caller left open (CI waits for EOF on those; a long-lived server holding one would hang it).
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid "$@"        # not a process-group leader here, so setsid does not fork: $! is the server
  ) </dev/null >>"$lf" 2>&1 &
  echo $! > "$pf"
  log "$name: started pid $(<"$pf")"
}

# wait_ready <name> <pidfile> <exe> <logfile> <check-function>; a server that never gets ready is stopped again
wait_ready() {
  local name=$1 pf=$2 exe=$3 lf=$4 check=$5 t0 deadline
  t0=$(now); deadline=$(( $(date +%s) + READY_TIMEOUT ))
  while :; do
    if "$check" >/dev/null 2>&1; then log "$name: ready after $(since "$t0")s"; return 0; fi
    if ! pid_alive "$pf" "$exe"; then
      log "ERROR: $name exited during startup. Last lines of $lf:"; log_tail "$lf"
      rm -f "$pf"; die "$name failed to start (log: $lf); '$0 down' stops the servers that did start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "ERROR: $name not ready within ${READY_TIMEOUT}s. Last lines of $lf:"; log_tail "$lf"
      stop_one "$name" "$pf" "$exe" TERM
      die "$name failed to start (log: $lf)"
    fi
    sleep 0.1
  done
}

# stop_one <name> <pidfile> <exe> [signal]: stop the recorded process, then anything left in its session
stop_one() {
  local name=$1 pf=$2 exe=$3 sig=${4:-TERM} pid i leftovers
  if ! pid_alive "$pf" "$exe"; then
    if [ -s "$pf" ]; then
      # main process gone: kill what is left of its session (only processes of the same program)
      pid=$(<"$pf"); leftovers=()
      if [[ $pid =~ ^[0-9]+$ ]]; then
        for i in $(session_pids "$pid"); do
          if [ "$exe" = kafka-mock ] || [ "$(exe_name "$i" || true)" = "$exe" ]; then leftovers+=("$i"); fi
        done
      fi
      if [ ${#leftovers[@]} -gt 0 ]; then
        log "$name: main process gone, killing leftovers: ${leftovers[*]}"; kill -KILL "${leftovers[@]}" 2>/dev/null || true
      fi
      log "$name: not running"
    fi
    rm -f "$pf"; return 0
  fi
  pid=$(<"$pf")
  kill -"$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do is_running "$pid" || break; sleep 0.1; done
  if is_running "$pid"; then log "$name: still alive after 30s, sending KILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  # e.g. nginx workers whose master was KILLed: they are in the session the server's setsid created
  for i in $(seq 1 50); do
    mapfile -t leftovers < <(session_pids "$pid")
    [ ${#leftovers[@]} -eq 0 ] && break
    if [ "$i" = 20 ]; then
      log "$name: leftover processes in its session: ${leftovers[*]}, sending KILL"; kill -KILL "${leftovers[@]}" 2>/dev/null || true
    fi
    sleep 0.1
  done
  # dead now; give init a moment to reap it, so `ps` right after `down` shows no <defunct> entry either
  for i in $(seq 1 30); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  rm -f "$pf"; log "$name: stopped (pid $pid)"
}

# ---------------------------------------------------------------- MariaDB
m_root() { mariadb --no-defaults --protocol=socket -S "$M_SOCK" -uroot "$@"; }
m_check_root() { m_root -N -e 'SELECT 1'; }
m_app() { MYSQL_PWD=$MARIADB_PASSWORD mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u"$MARIADB_USER" "$@"; }
preflight_mariadb() {
  if pid_alive "$M_PF" mariadbd; then check_same_ports mariadb "$M_DIR/ports" "$MARIADB_PORT"
  else check_ports_free mariadb "$MARIADB_PORT"; fi
}
up_mariadb() {
  mkdir -p "$M_DIR/data" "$M_DIR/run"
  if ! pid_alive "$M_PF" mariadbd; then
    if [ ! -e "$M_DIR/.initialized" ]; then
      rm -rf "$M_DIR/data"; mkdir -p "$M_DIR/data"
      local t0; t0=$(now)
      mariadb-install-db --no-defaults --user=root --datadir="$M_DIR/data" \
        --auth-root-authentication-method=socket --skip-test-db </dev/null >"$M_DIR/install-db.log" 2>&1 9>&- \
        || { tail -n 30 "$M_DIR/install-db.log" >&2; die "mariadb: mariadb-install-db failed (log: $M_DIR/install-db.log)"; }
      touch "$M_DIR/.initialized"
      log "mariadb: datadir initialised in $(since "$t0")s"
    fi
    rm -f "$M_SOCK"
    echo "$MARIADB_PORT" > "$M_DIR/ports"
    # utf8mb4 + UTC for the services; flush-at-commit=2 / no doublewrite: a dev/test database, speed over durability
    spawn mariadb "$M_PF" "$M_LOG" mariadbd --no-defaults --user=root --datadir="$M_DIR/data" \
      --bind-address=127.0.0.1 --port="$MARIADB_PORT" --socket="$M_SOCK" \
      --pid-file="$M_DIR/run/mariadbd.pid" --log-error="$M_LOG" --skip-name-resolve \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --default-time-zone=+00:00 \
      --max-connections=500 --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0
  else
    log "mariadb: already running (pid $(<"$M_PF"))"
  fi
  wait_ready mariadb "$M_PF" mariadbd "$M_LOG" m_check_root
  local sql="" db host
  for db in "${MARIADB_DATABASES[@]}"; do
    sql+="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"$'\n'
  done
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS '$MARIADB_USER'@'$host' IDENTIFIED BY '$MARIADB_PASSWORD';"$'\n'
    sql+="ALTER USER '$MARIADB_USER'@'$host' IDENTIFIED BY '$MARIADB_PASSWORD';"$'\n'
    # every monitor_* database, so tests can create their own monitor_test_xxx per fixture
    sql+="GRANT ALL PRIVILEGES ON \`monitor\\_%\`.* TO '$MARIADB_USER'@'$host';"$'\n'
  done
  m_root <<<"$sql" || die "mariadb: bootstrap SQL failed"
  m_app -N -e 'SELECT 1' monitor_test >/dev/null || die "mariadb: TCP login as $MARIADB_USER to monitor_test failed"
  m_app -N -e 'CREATE DATABASE IF NOT EXISTS monitor_test_stackcheck; DROP DATABASE monitor_test_stackcheck;' >/dev/null \
    || die "mariadb: $MARIADB_USER cannot create monitor_test_* databases"
}

# ---------------------------------------------------------------- etcd
e_ctl() { ETCDCTL_API=3 etcdctl --endpoints="$E_URL" --dial-timeout=1s --command-timeout=3s "$@"; }
e_check() { e_ctl endpoint health && e_ctl put /stack-check/ready "$(date +%s)" && e_ctl get /stack-check/ready; }
preflight_etcd() {
  if pid_alive "$E_PF" etcd; then check_same_ports etcd "$E_DIR/ports" "$ETCD_PORT $ETCD_PEER_PORT"
  else check_ports_free etcd "$ETCD_PORT" "$ETCD_PEER_PORT"; fi
}
up_etcd() {
  mkdir -p "$E_DIR"
  if ! pid_alive "$E_PF" etcd; then
    echo "$ETCD_PORT $ETCD_PEER_PORT" > "$E_DIR/ports"
    spawn etcd "$E_PF" "$E_LOG" etcd --name monitor --data-dir "$E_DIR/data" \
      --listen-client-urls "$E_URL" --advertise-client-urls "$E_URL" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "monitor=http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster-state new --initial-cluster-token monitor-stack --logger=zap
  else
    log "etcd: already running (pid $(<"$E_PF"))"
  fi
  wait_ready etcd "$E_PF" etcd "$E_LOG" e_check
}

# ---------------------------------------------------------------- InfluxDB 1.6
i_check() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$I_URL/ping")" = 204 ]; }
preflight_influxdb() {
  if pid_alive "$I_PF" influxd; then check_same_ports influxdb "$I_DIR/ports" "$INFLUX_PORT $INFLUX_RPC_PORT"
  else check_ports_free influxdb "$INFLUX_PORT" "$INFLUX_RPC_PORT"; fi
}
up_influxdb() {
  mkdir -p "$I_DIR"
  cat > "$I_DIR/influxdb.conf" <<EOF
# Written by deploy/stack.sh. Debian's build spells it reporting-enabled (upstream: reporting-disabled).
reporting-enabled = false
bind-address = "127.0.0.1:$INFLUX_RPC_PORT"

[meta]
  dir = "$I_DIR/meta"

[data]
  dir = "$I_DIR/data"
  wal-dir = "$I_DIR/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "info"
  suppress-logo = true
EOF
  if ! pid_alive "$I_PF" influxd; then
    echo "$INFLUX_PORT $INFLUX_RPC_PORT" > "$I_DIR/ports"
    spawn influxdb "$I_PF" "$I_LOG" influxd run -config "$I_DIR/influxdb.conf"
  else
    log "influxdb: already running (pid $(<"$I_PF"))"
  fi
  wait_ready influxdb "$I_PF" influxd "$I_LOG" i_check
  local out
  out=$(curl -s -m 10 -XPOST "$I_URL/query" --data-urlencode "q=CREATE DATABASE $INFLUX_DB")
  grep -q '"error"' <<<"$out" && die "influxdb: CREATE DATABASE $INFLUX_DB failed: $out"
  return 0
}

# ---------------------------------------------------------------- nginx
n_check() {
  # nginx's own locations only: a probe through grpc_pass that fails marks every backend down for fail_timeout
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$NGINX_HTTP_PORT/nginx-health")" = 200 ] &&
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' --http2-prior-knowledge "http://127.0.0.1:$NGINX_GRPC_PORT/nginx-health")" = 200 ]
}
preflight_nginx() {
  if pid_alive "$N_PF" nginx; then check_same_ports nginx "$N_DIR/ports" "$NGINX_HTTP_PORT $NGINX_GRPC_PORT"
  else check_ports_free nginx "$NGINX_HTTP_PORT" "$NGINX_GRPC_PORT"; fi
}
write_nginx_conf() {
  local report_servers="" p grpc_route
  for p in $REPORT_GRPC_PORTS; do report_servers+="        server 127.0.0.1:$p max_fails=1 fail_timeout=3s;"$'\n'; done
  grpc_route='            grpc_pass grpc://report_pool;
            grpc_next_upstream error timeout http_502 http_503 http_504;
            grpc_connect_timeout 2s;
            grpc_read_timeout 1h;
            grpc_send_timeout 1h;'
  if [ ! -s "$N_DIR/report_pool.conf" ]; then
    printf '# initial static list; rewritten by monitor-nginx-sync from etcd\nupstream report_pool {\n%s    keepalive 32;\n}\n' "$report_servers" > "$N_DIR/report_pool.conf"
  fi
  cat > "$N_DIR/nginx.conf" <<EOF
# Written by deploy/stack.sh (edits are overwritten). Run as: nginx -p $N_DIR/ -c nginx.conf
daemon off;                   # foreground: stack.sh backgrounds it and records the master PID
master_process on;
worker_processes $NGINX_WORKERS;
worker_shutdown_timeout 5s;   # graceful stop must not wait on hour-long gRPC streams
pid logs/nginx-master.pid;
error_log logs/error.log warn;

events { worker_connections 4096; }

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log logs/access.log;
    sendfile on;
    tcp_nodelay on;
    # compiled-in defaults are /var/lib/nginx/*: keep this instance private
    client_body_temp_path tmp/client_body;
    proxy_temp_path       tmp/proxy;
    fastcgi_temp_path     tmp/fastcgi;
    uwsgi_temp_path       tmp/uwsgi;
    scgi_temp_path        tmp/scgi;

    # report-service instances (gRPC, h2c): report_pool.conf starts as the static list below and is
    # rewritten from etcd by monitor-nginx-sync (run.sh starts it) as instances come and go.
    include report_pool.conf;
    upstream manage_grpc  { server 127.0.0.1:$MANAGE_GRPC_PORT; keepalive 8; }
    # public API paths: per-client rate limit
    limit_req_zone \$binary_remote_addr zone=api:10m rate=${NGINX_API_RATE:-200r/s};
    limit_req_status 429;
    upstream analyze_http { server 127.0.0.1:$ANALYZE_HTTP_PORT; keepalive 16; }
    upstream warning_http { server 127.0.0.1:$WARNING_HTTP_PORT; keepalive 16; }
    upstream manage_http  { server 127.0.0.1:$MANAGE_HTTP_PORT;  keepalive 16; }

    server {                                   # HTTP: REST APIs + console
        listen 127.0.0.1:$NGINX_HTTP_PORT;
        client_max_body_size 16m;
        root "$CONSOLE_DIST";

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$http_host;
        proxy_set_header X-Forwarded-Host \$http_host;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_read_timeout 300s;

        location = /nginx-health { access_log off; default_type text/plain; return 200 "ok\n"; }

        location /api/v1/analyze/ { limit_req zone=api burst=400 nodelay; proxy_pass http://analyze_http; }
        location /api/v1/warning/ { limit_req zone=api burst=400 nodelay; proxy_pass http://warning_http; }
        location /api/v1/manage/  { limit_req zone=api burst=400 nodelay; proxy_pass http://manage_http; }

        # legacy paths
        location /analysis/       { limit_req zone=api burst=400 nodelay; proxy_pass http://analyze_http/; }       # /analysis/x   -> analyze /x
        location = /setting/rule  { limit_req zone=api burst=400 nodelay; proxy_pass http://warning_http/rule; }   # /setting/rule -> warning /rule
        location /setting/rule/   { limit_req zone=api burst=400 nodelay; proxy_pass http://warning_http/rule/; }  # /setting/rule/1 -> warning /rule/1
        location /setting/        { limit_req zone=api burst=400 nodelay; proxy_pass http://manage_http/; }        # /setting/x    -> manage /x

        # console (single-page app); the directory may not exist yet
        location / { try_files \$uri /index.html =404; }
    }

    server {                                   # gRPC, HTTP/2 cleartext (prior knowledge)
        listen 127.0.0.1:$NGINX_GRPC_PORT http2;   # nginx 1.22: no "http2 on;" directive yet
        client_max_body_size 0;                # a client-streaming RPC is one request body: no size limit
        client_body_timeout 1h;                # ... and may be idle between messages
        keepalive_timeout 1h;
        keepalive_requests 1000000;

        # probe target that never touches the pool: a failed probe through grpc_pass would mark
        # every backend "temporarily disabled" -> 502 "no live upstreams"
        location = /nginx-health { access_log off; default_type text/plain; return 200 "ok\n"; }

        location /monitor.v1.ReportService/ {
$grpc_route
        }
        location /proto.Report/ {
$grpc_route
        }
        # configuration services for agents and probers
        location /monitor.v1.ManageService/ {
            grpc_pass grpc://manage_grpc;
            grpc_connect_timeout 2s;
        }
        # probers' target stream (WatchTargets stays open: long read/send timeouts) and target CRUD
        location /monitor.v1.ProbeConfigService/ {
            grpc_pass grpc://manage_grpc;
            grpc_connect_timeout 2s;
            grpc_read_timeout 1h;
            grpc_send_timeout 1h;
        }
        location / { return 404; }
    }
}
EOF
}
up_nginx() {
  mkdir -p "$N_DIR/logs" "$N_DIR/tmp"
  local previous=""
  [ -f "$N_DIR/nginx.conf" ] && previous=$(<"$N_DIR/nginx.conf")
  write_nginx_conf
  : > "$N_DIR/logs/config-test.log"
  nginx -t -q -e "$N_DIR/logs/config-test.log" -p "$N_DIR/" -c nginx.conf </dev/null >/dev/null 2>&1 9>&- \
    || { tail -n 10 "$N_DIR/logs/config-test.log" >&2; die "nginx: config test failed ($N_DIR/nginx.conf)"; }
  if ! pid_alive "$N_PF" nginx; then
    echo "$NGINX_HTTP_PORT $NGINX_GRPC_PORT" > "$N_DIR/ports"
    mark_log "$N_LOG"
    spawn nginx "$N_PF" "$N_DIR/logs/stdout.log" nginx -e "$N_LOG" -p "$N_DIR/" -c nginx.conf
  elif [ "$previous" = "$(<"$N_DIR/nginx.conf")" ]; then
    # A reload waits for the old workers, which long-lived gRPC streams keep up to worker_shutdown_timeout (5 s).
    log "nginx: already running (pid $(<"$N_PF")), configuration unchanged"
  else
    log "nginx: already running (pid $(<"$N_PF")), reloading config"
    mark_log "$N_LOG"
    local master old i
    master=$(<"$N_PF")
    old=$(ps -o pid= --ppid "$master" | tr -s ' \n' ' ')
    kill -HUP "$master"
    # the reload is done when the old workers (old config) are gone; bounded by worker_shutdown_timeout
    for i in $(seq 1 100); do
      local alive=0 w
      for w in $old; do [ -d "/proc/$w" ] && [ "$(awk '{print $4}' "/proc/$w/stat" 2>/dev/null)" = "$master" ] && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
  fi
  wait_ready nginx "$N_PF" nginx "$N_LOG" n_check
}

# ---------------------------------------------------------------- Kafka
kcat_bin() { command -v kcat || command -v kafkacat || die "kcat/kafkacat not found (Debian package kafkacat)"; }
mock_bootstrap() {
  local i list=""
  for ((i = 0; i < KAFKA_BROKERS; i++)); do list+="${list:+,}127.0.0.1:$((KAFKA_PORT + i))"; done
  echo "$list"
}

print_mock_notice() {
  cat >&2 <<EOF
################################################################################
##
##   KAFKA HERE IS NOT A REAL BROKER.
##
##   deploy/stack.sh runs librdkafka's in-memory MOCK cluster (Monitor.KafkaMock,
##   $KAFKA_BROKERS brokers at $(mock_bootstrap)): a TEST DOUBLE.
##   * All topics, messages and committed offsets are LOST when it stops.
##   * Each partition keeps only ~5 MiB / 100k message sets: a consumer that
##     falls far behind silently loses data.
##   * Topics: monitor.samples ($KAFKA_PARTITIONS partitions), monitor.samples.dlq ($KAFKA_DLQ_PARTITIONS);
##     more via POST $K_CONTROL_URL/topics?name=X&partitions=N
##
##   To use a real broker instead: export Kafka__BootstrapServers=host:port[,...]
##   before '$0 up'.
##
################################################################################
EOF
}

k_check() {
  [ "$(curl -s -m 2 "$K_CONTROL_URL/health")" = ok ] && [ -s "$K_BOOTSTRAP_FILE" ]
}

# mock_newer_than FILE: prints a source or repo build file of the mock newer than FILE (nothing when FILE is current).
mock_newer_than() {
  local newer f
  newer=$(find "$K_SRC" \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' \) -newer "$1" -print -quit)
  for f in Directory.Build.props Directory.Build.targets Directory.Packages.props global.json BannedSymbols.txt .editorconfig NuGet.config nuget.config; do
    [ -z "$newer" ] && [ -f "$REPO_DIR/$f" ] && [ "$REPO_DIR/$f" -nt "$1" ] && newer=$REPO_DIR/$f
  done
  echo "$newer"
}

# Build the mock once: when the binary is missing or older than any of its sources or the repo's build files. A
# current build of the solution (deploy/Monitor.KafkaMock/bin/<configuration>/net10.0, made by test.sh's and run.sh's
# builds) is copied instead of compiling the project a second time.
build_mock() {
  local newer="" f
  if [ -f "$K_DLL" ]; then
    newer=$(mock_newer_than "$K_DLL")
    [ -z "$newer" ] && return 0
    log "kafka-mock: $newer is newer than the binary, rebuilding"
  fi
  for f in "$K_SRC"/bin/Release/net10.0/Monitor.KafkaMock.dll "$K_SRC"/bin/Debug/net10.0/Monitor.KafkaMock.dll; do
    if [ -f "$f" ] && [ -z "$(mock_newer_than "$f")" ]; then
      rm -rf "$K_BIN" && mkdir -p "$K_BIN" && cp -a "$(dirname "$f")/." "$K_BIN/" && touch "$K_DLL"
      log "kafka-mock: using the current build in $(dirname "$f")"
      return 0
    fi
  done
  command -v dotnet >/dev/null || die "kafka-mock: the .NET SDK (dotnet) is needed to build the Kafka mock; or set Kafka__BootstrapServers to a real broker, or use --no-kafka"
  local t0; t0=$(now)
  log "kafka-mock: building $K_SRC -> $K_BIN"
  # no build servers / node reuse: nothing may outlive this script (CI waits on its output pipes)
  if ! DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1 \
       dotnet build "$K_SRC/Monitor.KafkaMock.csproj" -c Release -o "$K_BIN" --nologo \
         -nodeReuse:false -p:UseSharedCompilation=false -p:UseRazorBuildServer=false \
         </dev/null >"$K_DIR/build.log" 2>&1 9>&-; then
    grep -E 'error|warning' "$K_DIR/build.log" | tail -n 30 >&2 || tail -n 30 "$K_DIR/build.log" >&2
    die "kafka-mock: build failed (log: $K_DIR/build.log)"
  fi
  touch "$K_DLL"
  log "kafka-mock: built in $(since "$t0")s"
}

K_WANT="brokers=$KAFKA_BROKERS base=$KAFKA_PORT control=$KAFKA_CONTROL_PORT samples=$KAFKA_PARTITIONS dlq=$KAFKA_DLQ_PARTITIONS"
preflight_kafka() {
  [ "$KAFKA_MODE" = mock ] || return 0
  if pid_alive "$K_PF" kafka-mock; then check_same_ports kafka-mock "$K_DIR/ports" "$K_WANT"; return 0; fi
  local i ports=()
  for ((i = 0; i < KAFKA_BROKERS; i++)); do ports+=($((KAFKA_PORT + i))); done
  check_ports_free kafka-mock "${ports[@]}" "$KAFKA_CONTROL_PORT"
}

up_kafka_mock() {
  mkdir -p "$K_DIR"
  if ! pid_alive "$K_PF" kafka-mock; then
    build_mock
    rm -f "$K_BOOTSTRAP_FILE"
    echo "$K_WANT" > "$K_DIR/ports"
    spawn kafka-mock "$K_PF" "$K_LOG" dotnet "$K_DLL" \
      --brokers "$KAFKA_BROKERS" --base-port "$KAFKA_PORT" --control-port "$KAFKA_CONTROL_PORT" \
      --rebalance-delay-ms 0 --out "$K_BOOTSTRAP_FILE" \
      --topic "monitor.samples:$KAFKA_PARTITIONS" --topic "monitor.samples.dlq:$KAFKA_DLQ_PARTITIONS"
  else
    log "kafka-mock: already running (pid $(<"$K_PF"))"
  fi
  wait_ready kafka-mock "$K_PF" kafka-mock "$K_LOG" k_check
  KAFKA_BOOTSTRAP=$(<"$K_BOOTSTRAP_FILE")
  # end to end, as a client sees it: every broker advertised on its fixed port, the topic there
  local md
  md=$("$(kcat_bin)" -L -b "$KAFKA_BOOTSTRAP" -t monitor.samples -m 5 2>&1 9>&-) \
    || { printf '%s\n' "$md" >&2; die "kafka-mock: kcat -L -b $KAFKA_BOOTSTRAP failed (log: $K_LOG)"; }
  if ! grep -q " $KAFKA_BROKERS brokers:" <<<"$md" || ! grep -q "topic \"monitor.samples\" with $KAFKA_PARTITIONS partitions" <<<"$md"; then
    printf '%s\n' "$md" >&2; die "kafka-mock: metadata is not what was asked for (log: $K_LOG)"
  fi
  print_mock_notice
}

k_external_check() { "$(kcat_bin)" -L -b "$EXTERNAL_KAFKA" -m 5 2>&1 9>&-; }
up_kafka_external() {
  local md
  log "kafka: using the broker in Kafka__BootstrapServers=$EXTERNAL_KAFKA (no mock)"
  md=$(k_external_check) || { printf '%s\n' "$md" | tail -n 10 >&2; die "kafka: broker $EXTERNAL_KAFKA does not answer (kcat -L -m 5)"; }
  log "kafka: $(grep -m1 -oE '[0-9]+ brokers' <<<"$md" || echo 'broker') answering at $EXTERNAL_KAFKA"
  KAFKA_BOOTSTRAP=$EXTERNAL_KAFKA
  if pid_alive "$K_PF" kafka-mock; then
    log "kafka: note: a kafka-mock from an earlier 'up' is still running (pid $(<"$K_PF")); '$0 down' stops it"
  fi
}

# ---------------------------------------------------------------- endpoints
mariadb_cs() { echo "Server=127.0.0.1;Port=$MARIADB_PORT;User ID=$MARIADB_USER;Password=$MARIADB_PASSWORD;Database=$1"; }

write_endpoints() {
  local mock=0 control=""
  [ "$KAFKA_MODE" = mock ] && { mock=1; control=$K_CONTROL_URL; }
  local tmp=$ENV_FILE.tmp
  (
    umask 077
    {
      echo "# Written by deploy/stack.sh up ($(date -u +%Y-%m-%dT%H:%M:%SZ)). Source it: . $ENV_FILE"
      echo "# Contains the MariaDB password: keep it private (mode 600)."
      echo "export MONITOR_TEST_MARIADB=\"$(mariadb_cs monitor_test)\""
      echo "export MONITOR_TEST_ETCD=\"$E_URL\""
      echo "export MONITOR_TEST_INFLUX=\"$I_URL\""
      echo "export MONITOR_TEST_KAFKA=\"$KAFKA_BOOTSTRAP\""
      echo "export MONITOR_TEST_KAFKA_CONTROL=\"$control\""
      echo "export MONITOR_TEST_KAFKA_MOCK=\"$mock\""
      echo "export MONITOR_TEST_NGINX_HTTP=\"http://127.0.0.1:$NGINX_HTTP_PORT\""
      echo "export MONITOR_TEST_NGINX_GRPC=\"http://127.0.0.1:$NGINX_GRPC_PORT\""
      echo "# service configuration (ASP.NET Core environment-variable form)"
      if [ -n "$KAFKA_BOOTSTRAP" ]; then
        echo "export Kafka__BootstrapServers=\"$KAFKA_BOOTSTRAP\""
      else
        echo "# Kafka__BootstrapServers not set: up --no-kafka"
      fi
      echo "export Etcd__Endpoints__0=\"$E_URL\""
      echo "export Influx__Url=\"$I_URL\""
      echo "export Influx__Database=\"$INFLUX_DB\""
      echo "export ConnectionStrings__Manage=\"$(mariadb_cs monitor_manage)\""
      echo "export ConnectionStrings__Warning=\"$(mariadb_cs monitor_warning)\""
    } > "$tmp"
  )
  chmod 600 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

print_summary() {
  local elapsed=$1 kafka_line
  case "$KAFKA_MODE" in
    mock) kafka_line="$KAFKA_BOOTSTRAP  (librdkafka MOCK - test double, data lost on stop; control $K_CONTROL_URL)" ;;
    external) kafka_line="$KAFKA_BOOTSTRAP  (external broker from Kafka__BootstrapServers)" ;;
    *) kafka_line="(not managed: --no-kafka)" ;;
  esac
  cat <<EOF
== Monitor stack up in ${elapsed}s (state $STACK_DIR)
mariadb   127.0.0.1:$MARIADB_PORT  user $MARIADB_USER (password: see endpoints.env)  dbs ${MARIADB_DATABASES[*]} (+ any monitor_*)
etcd      $E_URL
influxdb  $I_URL  db $INFLUX_DB
nginx     http://127.0.0.1:$NGINX_HTTP_PORT  /api/v1/{analyze,warning,manage}/ -> :$ANALYZE_HTTP_PORT :$WARNING_HTTP_PORT :$MANAGE_HTTP_PORT, / -> $CONSOLE_DIST
          grpc h2c http://127.0.0.1:$NGINX_GRPC_PORT -> report_pool [$REPORT_GRPC_PORTS]
kafka     $kafka_line
env       . $ENV_FILE
EOF
}

# ---------------------------------------------------------------- commands
take_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || die "another deploy/stack.sh holds $LOCK_FILE"
}

cmd_up() {
  local t0; t0=$(now)
  if [ -n "$EXTERNAL_KAFKA" ] && { [ "$EXTERNAL_KAFKA" = "$(mock_bootstrap)" ] || [ "$EXTERNAL_KAFKA" = "$(cat "$K_BOOTSTRAP_FILE" 2>/dev/null)" ]; }; then
    # endpoints.env was sourced: Kafka__BootstrapServers is our own mock, not a real broker
    log "kafka: Kafka__BootstrapServers=$EXTERNAL_KAFKA is this stack's own mock (endpoints.env sourced?): keeping the mock"
    EXTERNAL_KAFKA=""
  fi
  if [ "$NO_KAFKA" = 1 ]; then KAFKA_MODE=none
  elif [ -n "$EXTERNAL_KAFKA" ]; then KAFKA_MODE=external
  else KAFKA_MODE=mock; fi
  validate_settings
  take_lock
  KAFKA_BOOTSTRAP=""
  ensure_packages
  # every port a server we are about to start needs, all checked before anything starts
  preflight_mariadb; preflight_etcd; preflight_influxdb; preflight_nginx; preflight_kafka
  if [ ${#PORT_ERRORS[@]} -gt 0 ]; then
    local e; for e in "${PORT_ERRORS[@]}"; do log "ERROR: $e"; done
    die "ports busy: stop what holds them or choose other ports (MONITOR_*_PORT, see deploy/README.md)"
  fi
  up_mariadb
  up_etcd
  up_influxdb
  up_nginx
  case "$KAFKA_MODE" in
    mock) up_kafka_mock ;;
    external) up_kafka_external ;;
    none) log "kafka: skipped (--no-kafka)" ;;
  esac
  echo "$KAFKA_MODE" > "$KAFKA_MODE_FILE"
  write_endpoints
  log "all servers ready in $(since "$t0")s"
  print_summary "$(since "$t0")"
}

cmd_down() {
  [ -d "$STACK_DIR" ] || { log "no state dir $STACK_DIR, nothing to stop"; return 0; }
  take_lock
  local t0 pids="" pf; t0=$(now)
  for pf in "$N_PF" "$K_PF" "$I_PF" "$E_PF" "$M_PF"; do [ -s "$pf" ] && pids+=" $(<"$pf")"; done
  stop_one nginx      "$N_PF" nginx QUIT &     # independent servers: stop them in parallel
  stop_one kafka-mock "$K_PF" kafka-mock &
  stop_one influxdb   "$I_PF" influxd &
  stop_one etcd       "$E_PF" etcd &
  stop_one mariadb    "$M_PF" mariadbd &
  wait
  rm -f "$K_BOOTSTRAP_FILE"
  # nothing we started may remain: every server ran in its own session, named by its PID
  local pid left=""
  for pid in $pids; do left+=$(session_pids "$pid"); done
  [ -z "$left" ] || die "processes of the stack are still running: $left"
  log "down in $(since "$t0")s"
}

cmd_status() {
  local rc=0 entry name pf exe probe pid mode
  mode=$(cat "$KAFKA_MODE_FILE" 2>/dev/null || echo mock)
  [ "$NO_KAFKA" = 1 ] && mode=none
  local entries=("mariadb:$M_PF:mariadbd:m_check_root:127.0.0.1:$MARIADB_PORT"
                 "etcd:$E_PF:etcd:e_check:$E_URL"
                 "influxdb:$I_PF:influxd:i_check:$I_URL"
                 "nginx:$N_PF:nginx:n_check:http://127.0.0.1:$NGINX_HTTP_PORT grpc http://127.0.0.1:$NGINX_GRPC_PORT")
  if [ "$mode" = mock ] || pid_alive "$K_PF" kafka-mock; then
    entries+=("kafka-mock:$K_PF:kafka-mock:k_check:$(cat "$K_BOOTSTRAP_FILE" 2>/dev/null || mock_bootstrap) control $K_CONTROL_URL")
  fi
  for entry in "${entries[@]}"; do
    IFS=: read -r name pf exe probe where <<<"$entry"
    if pid_alive "$pf" "$exe"; then
      pid=$(<"$pf")
      if "$probe" >/dev/null 2>&1; then
        echo "$name: running (pid $pid) $where"
      else
        echo "$name: running (pid $pid) but NOT answering at $where"; rc=1
      fi
    else
      echo "$name: stopped"; rc=1
    fi
  done
  case "$mode" in
    external)
      local bs; bs=$(grep -o '^export Kafka__BootstrapServers="[^"]*' "$ENV_FILE" 2>/dev/null | cut -d'"' -f2 || true)
      bs=${bs:-$EXTERNAL_KAFKA}
      if [ -n "$bs" ] && EXTERNAL_KAFKA=$bs k_external_check >/dev/null; then echo "kafka: external broker $bs answering"
      else echo "kafka: external broker ${bs:-(unknown)} NOT answering"; rc=1; fi ;;
    none) echo "kafka: not managed (--no-kafka)" ;;
  esac
  return $rc
}

case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
esac
