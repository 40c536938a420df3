# shellcheck shell=bash
# Shared settings for the local dev stack (postgres.sh, kafka.sh, stack.sh).
#
# Sourced, never executed. Every value is a default that an environment
# variable of the same name overrides, so two clones (or CI jobs) on one
# machine can run side by side by exporting different ports/state dirs.

# Repo root from this file's location, so the scripts work from any cwd.
CITY_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$CITY_LOCAL_DIR/../.." && pwd)"

# All runtime state (pg data, kafka data, logs, pid files) lives here; the
# directory is gitignored and `stack.sh reset` wipes what is inside it.
CITY_STATE_DIR="${CITY_STATE_DIR:-$REPO/.local}"

# Downloaded Kafka jars are not per-clone state: keep them in the user cache
# so every clone (and a `reset`) reuses one ~100 MB download.
CITY_CACHE_DIR="${CITY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/yongchuan}"

# PostgreSQL 15 + PostGIS 3. Non-default port so a system postgres on 5432
# never collides with the throwaway cluster.
CITY_PG_HOST="${CITY_PG_HOST:-127.0.0.1}"
CITY_PG_PORT="${CITY_PG_PORT:-15432}"
CITY_PG_USER="${CITY_PG_USER:-city}"
CITY_PG_PASSWORD="${CITY_PG_PASSWORD:-city}"
CITY_PG_BIN="${CITY_PG_BIN:-/usr/lib/postgresql/15/bin}"
# One database per service plus one for tests; each gets PostGIS.
CITY_DATABASES="${CITY_DATABASES:-traffic_signal video_ingest fire_detect air_water health_record enterprise_hub grid_events gateway city_test}"

# Kafka (single KRaft node acting as broker + controller).
KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
CITY_KAFKA_HOST="${CITY_KAFKA_HOST:-127.0.0.1}"
CITY_KAFKA_PORT="${CITY_KAFKA_PORT:-19092}"
CITY_KAFKA_CONTROLLER_PORT="${CITY_KAFKA_CONTROLLER_PORT:-19093}"
CITY_KAFKA_BOOTSTRAP="$CITY_KAFKA_HOST:$CITY_KAFKA_PORT"
# Small heap: this is a laptop/CI broker, not a production one.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

export REPO CITY_LOCAL_DIR CITY_STATE_DIR CITY_CACHE_DIR \
  CITY_PG_HOST CITY_PG_PORT CITY_PG_USER CITY_PG_PASSWORD CITY_PG_BIN CITY_DATABASES \
  KAFKA_VERSION CITY_KAFKA_HOST CITY_KAFKA_PORT CITY_KAFKA_CONTROLLER_PORT \
  CITY_KAFKA_BOOTSTRAP KAFKA_HEAP_OPTS

# --- small helpers shared by the scripts -----------------------------------

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
# bash's /dev/tcp avoids depending on nc/ss being installed.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# pid_alive PIDFILE NEEDLE: true when the pid in PIDFILE is running and its
# command line contains NEEDLE. The needle guards against pid reuse after a
# reboot or crash leaving a stale pid file behind.
pid_alive() {
  local pidfile=$1 needle=$2 pid
  [[ -s $pidfile ]] || return 1
  pid="$(<"$pidfile")"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$needle"
}

# with_lock NAME: serialise concurrent start/stop calls of one component
# (e.g. two terminals running `stack.sh up`) on an fd-held flock.
with_lock() {
  mkdir -p "$CITY_STATE_DIR"
  exec 9>"$CITY_STATE_DIR/.$1.lock"
  flock -w 300 9 || die "timed out waiting for $CITY_STATE_DIR/.$1.lock"
}
