#!/usr/bin/env bash
# Starts a throwaway MinIO for tests on 127.0.0.1 only.
#   deploy/scripts/minio.sh start   # idempotent; waits until healthy
#   deploy/scripts/minio.sh stop    # kills it and removes its data
#   deploy/scripts/minio.sh env     # prints the KAIFANG_TEST_S3 export line
# Ports: API 9100, console 9101 (override with MINIO_PORT / MINIO_CONSOLE_PORT).
set -euo pipefail

PORT="${MINIO_PORT:-9100}"
CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9101}"
# Never listen beyond this machine: the credentials are public. (MinIO also
# binds [::1] for its console; that is loopback too.)
HOST=127.0.0.1
USER_KEY=minioadmin
SECRET_KEY=minioadmin
STATE="${KAIFANG_MINIO_STATE:-${TMPDIR:-/tmp}/kaifang-minio-$PORT}"
PIDFILE="$STATE/minio.pid"
DATAFILE="$STATE/datadir"
LOG="$STATE/minio.log"
MINIO_MODULE=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
WAIT_SECONDS="${MINIO_WAIT_SECONDS:-60}"

gobin() {
	local bin
	bin="$(go env GOBIN)"
	[ -n "$bin" ] || bin="$(go env GOPATH)/bin"
	echo "$bin"
}

healthy() {
	local url="http://$HOST:$PORT/minio/health/live"
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
	else
		wget -q -O /dev/null -T 2 "$url" 2>/dev/null
	fi
}

running_pid() {
	[ -f "$PIDFILE" ] || return 1
	local pid
	pid="$(cat "$PIDFILE")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ensure_binary() {
	local bin
	bin="$(gobin)/minio"
	if [ -x "$bin" ]; then
		echo "$bin"
		return
	fi
	# A build may already be running on this machine (it takes minutes on 2
	# cores); wait for it rather than starting a second one.
	if pgrep -f "go install $MINIO_MODULE" >/dev/null 2>&1 || pgrep -f "go install github.com/minio/minio@" >/dev/null 2>&1; then
		echo "minio.sh: waiting for the MinIO build already in progress…" >&2
		local waited=0
		while [ ! -x "$bin" ] && [ "$waited" -lt 1800 ]; do
			if ! pgrep -f "go install github.com/minio/minio@" >/dev/null 2>&1; then
				break
			fi
			sleep 5
			waited=$((waited + 5))
		done
	fi
	if [ ! -x "$bin" ]; then
		echo "minio.sh: building MinIO ($MINIO_MODULE), this takes a while…" >&2
		go install "$MINIO_MODULE" >&2
	fi
	[ -x "$bin" ] || { echo "minio.sh: no MinIO binary at $bin" >&2; exit 1; }
	echo "$bin"
}

start() {
	if pid="$(running_pid)"; then
		if healthy; then
			echo "minio.sh: already running (pid $pid) on $HOST:$PORT" >&2
			return 0
		fi
	elif healthy; then
		echo "minio.sh: a MinIO not started by this script already answers on $HOST:$PORT; using it" >&2
		return 0
	fi
	local bin data pid
	bin="$(ensure_binary)"
	mkdir -p "$STATE"
	if [ -f "$DATAFILE" ]; then rm -rf "$(cat "$DATAFILE")"; fi
	data="$(mktemp -d "${TMPDIR:-/tmp}/kaifang-minio-data.XXXXXX")"
	echo "$data" >"$DATAFILE"
	MINIO_ROOT_USER="$USER_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" \
		MINIO_UPDATE=off MINIO_BROWSER="${MINIO_BROWSER:-on}" \
		nohup "$bin" server --quiet --address "$HOST:$PORT" --console-address "$HOST:$CONSOLE_PORT" "$data" \
		>"$LOG" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	local waited=0
	until healthy; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "minio.sh: MinIO exited; last log lines:" >&2
			tail -n 20 "$LOG" >&2 || true
			rm -f "$PIDFILE"
			exit 1
		fi
		if [ "$waited" -ge $((WAIT_SECONDS * 4)) ]; then
			echo "minio.sh: MinIO not healthy after ${WAIT_SECONDS}s (log: $LOG)" >&2
			exit 1
		fi
		sleep 0.25
		waited=$((waited + 1))
	done
	echo "minio.sh: MinIO running (pid $pid) on http://$HOST:$PORT, data in $data" >&2
}

stop() {
	if pid="$(running_pid)"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 40); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "$pid" 2>/dev/null || true
		echo "minio.sh: stopped pid $pid" >&2
	fi
	rm -f "$PIDFILE"
	if [ -f "$DATAFILE" ]; then
		rm -rf "$(cat "$DATAFILE")"
		rm -f "$DATAFILE"
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) echo "export KAIFANG_TEST_S3=s3://$USER_KEY:$SECRET_KEY@$HOST:$PORT/kaifang-test?secure=false" ;;
*)
	echo "usage: $0 start|stop|env" >&2
	exit 2
	;;
esac
