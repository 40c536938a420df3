#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller in one JVM).
#
#   kafka.sh start|stop|restart|status|reset
#   kafka.sh run-class CLASS [ARGS...]   run a Kafka CLI class on the cached jars
#
# The broker jars come from Maven Central via kafka/pom.xml (no Docker, no
# tarball mirror) and are cached in $CITY_CACHE_DIR, shared by every clone.
# Runtime state lives in $CITY_STATE_DIR/kafka. See README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

KAFKA_DIR="$CITY_STATE_DIR/kafka"
DATA_DIR="$KAFKA_DIR/data"
LOG_DIR="$KAFKA_DIR/logs"
PID_FILE="$KAFKA_DIR/kafka.pid"
CONF_FILE="$KAFKA_DIR/server.properties"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
KAFKA_HOME="$CITY_CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
# Written only after Maven finished and the jars were moved into place, so an
# interrupted download is retried instead of leaving a half-filled classpath.
LIBS_MARKER="$KAFKA_HOME/.complete"
NODE_ID=1
READY_TIMEOUT="${CITY_KAFKA_READY_TIMEOUT:-90}"
STOP_TIMEOUT="${CITY_KAFKA_STOP_TIMEOUT:-30}"
# Same JVM flags as the official kafka-server-start.sh.
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
# Put on the broker's command line so pid_alive can tell *our* broker apart
# from an unrelated process that inherited a stale pid.
PROC_TAG="-Dcity.kafka.dir=$KAFKA_DIR"

fetch_jars() {
  [[ -f $LIBS_MARKER ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found; it is needed once to fetch the Kafka jars"
  mkdir -p "$KAFKA_HOME"
  # The cache is shared between clones: let only one of them download.
  exec 8>"$KAFKA_HOME/.fetch.lock"
  flock -w 900 8 || die "timed out waiting for another Kafka jar download"
  if [[ -f $LIBS_MARKER ]]; then exec 8>&-; return 0; fi

  log "fetching Kafka $KAFKA_VERSION jars via Maven into $LIBS (one time only)"
  local tmp="$KAFKA_HOME/libs.partial"
  rm -rf "$tmp"
  # Output goes to a log (mvn -q still prints ANSI resets); shown on failure.
  mvn -q -B -Dstyle.color=never -f "$CITY_LOCAL_DIR/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
    >"$KAFKA_HOME/fetch.log" 2>&1 \
    || { tail -n 40 "$KAFKA_HOME/fetch.log" >&2; die "maven could not fetch the Kafka jars (log: $KAFKA_HOME/fetch.log)"; }
  [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar && -f $tmp/kafka-tools-$KAFKA_VERSION.jar ]] \
    || die "maven finished but kafka jars are missing in $tmp"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  printf 'kafka %s jars fetched %s\n' "$KAFKA_VERSION" "$(date -u +%FT%TZ)" >"$LIBS_MARKER"
  exec 8>&-
}

# Short-lived JVM for CLI tools: C1-only JIT and serial GC start noticeably
# faster, which is all a one-shot tool needs.
run_class() {
  fetch_jars
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$CITY_LOCAL_DIR/kafka/tools-log4j.properties" \
    -cp "$LIBS/*" "$@"
}

render_config() {
  local tpl
  tpl="$(<"$CITY_LOCAL_DIR/kafka/server.properties.template")"
  # Quoted replacements: bash 5.2's patsub_replacement would otherwise treat
  # an '&' in a path as "the matched text".
  tpl="${tpl//@HOST@/"$CITY_KAFKA_HOST"}"
  tpl="${tpl//@PORT@/"$CITY_KAFKA_PORT"}"
  tpl="${tpl//@CONTROLLER_PORT@/"$CITY_KAFKA_CONTROLLER_PORT"}"
  tpl="${tpl//@DATA_DIR@/"$DATA_DIR"}"
  printf '%s\n' "$tpl" >"$CONF_FILE"
}

# KRaft log dirs must be formatted with a cluster id before the first start.
# The id is stored next to the data so a re-format after a partial reset keeps
# the same identity.
format_storage() {
  [[ -f $DATA_DIR/meta.properties ]] && return 0
  local cluster_id
  if [[ -s $CLUSTER_ID_FILE ]]; then
    cluster_id="$(<"$CLUSTER_ID_FILE")"
  else
    cluster_id="$(run_class kafka.tools.StorageTool random-uuid)"
    printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  log "formatting KRaft storage in $DATA_DIR (cluster id $cluster_id)"
  run_class kafka.tools.StorageTool format --ignore-formatted \
    -t "$cluster_id" -c "$CONF_FILE" >>"$LOG_DIR/format.log" 2>&1 \
    || { tail -n 30 "$LOG_DIR/format.log" >&2; die "kafka storage format failed"; }
}

running() { pid_alive "$PID_FILE" "$PROC_TAG"; }

# Readiness = the broker answers a Metadata request listing itself as an
# unfenced broker (probe.py), not merely "port open". Falls back to a real
# admin round-trip through TopicCommand when python3 is unavailable.
probe() {
  if python3 -c '' >/dev/null 2>&1; then
    python3 "$CITY_LOCAL_DIR/kafka/probe.py" "$CITY_KAFKA_HOST" "$CITY_KAFKA_PORT" "$NODE_ID"
  else
    run_class org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$CITY_KAFKA_BOOTSTRAP" --list >/dev/null
  fi
}

show_logs() {
  local f
  for f in "$LOG_DIR/kafka.out" "$LOG_DIR/server.log"; do
    [[ -s $f ]] || continue
    log "----- tail of $f -----"
    tail -n 40 "$f" >&2
  done
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) reason pid
  pid="$(<"$PID_FILE")"
  while :; do
    # Plain kill -0 here, not running(): right after launch the pid still
    # belongs to the wrapper for a moment, before it execs java.
    if ! kill -0 "$pid" 2>/dev/null; then
      log "kafka exited during startup"
      show_logs
      rm -f "$PID_FILE"
      return 1
    fi
    if reason="$(probe 2>&1)"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "kafka not ready after ${READY_TIMEOUT}s: $reason"
      show_logs
      log "the broker (pid $pid) was left running for inspection; '$0 stop' ends it"
      return 1
    fi
    sleep 0.5
  done
}

cmd_start() {
  if running; then
    if probe >/dev/null 2>&1; then
      echo "kafka already running (pid $(<"$PID_FILE")) at $CITY_KAFKA_BOOTSTRAP"
      return 0
    fi
    # Alive but not answering yet: another `start` is mid-way, or it is slow.
    log "kafka (pid $(<"$PID_FILE")) is running but not ready yet; waiting"
    wait_ready || return 1
    echo "kafka ready at $CITY_KAFKA_BOOTSTRAP"
    return 0
  fi
  rm -f "$PID_FILE"

  local p
  for p in "$CITY_KAFKA_PORT" "$CITY_KAFKA_CONTROLLER_PORT"; do
    ! port_open "$CITY_KAFKA_HOST" "$p" \
      || die "$CITY_KAFKA_HOST:$p is already in use by another process (not this stack's kafka); set CITY_KAFKA_PORT/CITY_KAFKA_CONTROLLER_PORT"
  done
  command -v java >/dev/null 2>&1 || die "java (17+) not found on PATH"

  fetch_jars
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  render_config
  format_storage

  local heap jvm extra
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  read -r -a jvm <<<"$KAFKA_JVM_PERFORMANCE_OPTS"
  read -r -a extra <<<"$KAFKA_OPTS"
  printf '\n===== %s starting kafka %s =====\n' "$(date -u +%FT%TZ)" "$KAFKA_VERSION" >>"$LOG_DIR/kafka.out"
  # setsid + nohup: the broker gets its own session, so neither closing the
  # terminal nor Ctrl-C on a later command in it takes the broker down.
  # The tiny bash wrapper writes its own pid and then execs java, so the pid
  # file holds the JVM's pid even if setsid had to fork.
  # 9>&- : don't let the long-lived JVM inherit (and so hold forever) the
  # start/stop lock taken by with_lock.
  rm -f "$PID_FILE"
  # shellcheck disable=SC2016  # $$/$1/$@ are meant for the inner bash
  nohup setsid bash -c 'echo "$$" >"$1" && shift && exec "$@"' kafka-launch "$PID_FILE" \
    java "${heap[@]}" "${jvm[@]}" "${extra[@]}" "$PROC_TAG" \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j.configuration="file:$CITY_LOCAL_DIR/kafka/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$CONF_FILE" \
    >>"$LOG_DIR/kafka.out" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $PID_FILE ]] && break
    sleep 0.1
  done
  [[ -s $PID_FILE ]] || { show_logs; die "kafka launcher did not write $PID_FILE"; }

  wait_ready || return 1
  echo "kafka ready at $CITY_KAFKA_BOOTSTRAP"
}

cmd_stop() {
  if ! running; then
    rm -f "$PID_FILE"
    echo "kafka not running"
    return 0
  fi
  local pid
  pid="$(<"$PID_FILE")"
  # SIGTERM triggers Kafka's controlled shutdown (flushes logs, closes the
  # metadata log cleanly) so the next start needs no recovery.
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "kafka (pid $pid) still up after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  echo "kafka stopped"
}

cmd_status() {
  if ! running; then
    echo "kafka not running"
    return 3
  fi
  local reason
  if reason="$(probe 2>&1)"; then
    echo "kafka running (pid $(<"$PID_FILE")) at $CITY_KAFKA_BOOTSTRAP"
    return 0
  fi
  echo "kafka process $(<"$PID_FILE") is up but not ready: $reason"
  return 1
}

cmd_reset() {
  cmd_stop
  rm -rf "$KAFKA_DIR"
  echo "kafka state removed ($KAFKA_DIR); jar cache kept in $KAFKA_HOME"
}

usage() {
  echo "usage: $0 {start|stop|restart|status|reset|run-class CLASS [ARGS...]}" >&2
  exit 2
}

main() {
  (($# >= 1)) || usage
  local cmd=$1
  shift
  case $cmd in
    start) with_lock kafka; cmd_start ;;
    stop) with_lock kafka; cmd_stop ;;
    restart) with_lock kafka; cmd_stop; cmd_start ;;
    reset) with_lock kafka; cmd_reset ;;
    status) cmd_status ;;
    run-class) (($# >= 1)) || usage; run_class "$@" ;;
    *) usage ;;
  esac
}

main "$@"
