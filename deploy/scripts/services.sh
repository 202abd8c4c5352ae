#!/usr/bin/env bash
# Starts (installing where absent) the PostgreSQL and Redis servers the test
# suite talks to, on 127.0.0.1 only. Idempotent: running servers are left alone.
# Usage: services.sh start   (prints nothing but progress; exits non-zero if a
#        server cannot be brought up)
set -euo pipefail

log() { echo "services: $*" >&2; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

start_postgres() {
  if command -v pg_isready >/dev/null && pg_up; then log "postgresql already running"; return; fi
  if [ ! -d /etc/postgresql ] || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "installing postgresql"
    apt_install postgresql postgresql-client
  fi
  local ver; ver=$(ls /etc/postgresql | sort -V | tail -n1)
  local hba=/etc/postgresql/$ver/main/pg_hba.conf
  # Tests connect as postgres over TCP without a password, as on the CI image.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$hba"
  fi
  log "starting postgresql $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  pg_up || { log "postgresql did not come up"; exit 1; }
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

start_redis() {
  if command -v redis-cli >/dev/null && redis_up; then log "redis already running"; return; fi
  command -v redis-server >/dev/null || { log "installing redis"; apt_install redis-server; }
  log "starting redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
  for _ in $(seq 1 40); do redis_up && break; sleep 0.25; done
  redis_up || { log "redis did not come up"; exit 1; }
}

case "${1:-start}" in
  start) start_postgres; start_redis ;;
  *) echo "usage: $0 start" >&2; exit 2 ;;
esac
