#!/usr/bin/env bash
# Browser tests: builds kaifang, serves the demo catalogue on a free port
# from a temporary data directory, runs the node tests in Debian's Chromium,
# stops the server. Exits non-zero when any test fails.
# Usage: bash web/e2e/run.sh   (KAIFANG_E2E_GOFLAGS: extra go build flags)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Pages are Chinese: without a CJK font the screenshots show empty boxes.
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 || echo "warning: no CJK font for the screenshots"
fi

# shellcheck disable=SC2086
go build ${KAIFANG_E2E_GOFLAGS:-} -o "$work/kaifang" ./cmd/kaifang
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
KAIFANG_DATA="$work/data" KAIFANG_ADDR="127.0.0.1:$port" KAIFANG_LOG_LEVEL=warn \
  "$work/kaifang" demo > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  if curl -sf -o /dev/null "$url/readyz"; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "kaifang demo exited:"; cat "$work/server.log"; exit 1; fi
  sleep 0.5
done
curl -sf -o /dev/null "$url/readyz" || { echo "kaifang demo not ready at $url"; tail -50 "$work/server.log"; exit 1; }
# Read the page whole first: grep -q stops early and, under pipefail, the
# SIGPIPE it leaves curl would fail the check at random.
home=$(curl -s "$url/")
if ! grep -q '<html lang=' <<<"$home"; then
  echo "GET / is not the web portal: web.Register is not wired into cmd/kaifang"; exit 1
fi

mkdir -p test-output/screenshots
set +e
KAIFANG_E2E_URL="$url" timeout 300 node --test --test-concurrency=1 web/e2e/*.test.mjs
rc=$?
set -e
if [ "$rc" -ne 0 ]; then echo "server log (last 40 lines):"; tail -40 "$work/server.log"; fi
exit "$rc"
