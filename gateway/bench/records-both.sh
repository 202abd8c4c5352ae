#!/usr/bin/env bash
# The records benchmark of BENCHMARKS.md in one command, for one database:
# starts two fresh `kfbench serve` gateways over a catalogue `kfbench setup`
# prepared — one with the default memory rate store (anonymous run), one with
# the Redis store (keyed run: per-grant limits must hold across processes) —
# then runs records.sh (anonymous, keyed, bare) and stops them.
#   gateway/bench/records-both.sh DB_URL BLOB_URL SETUP.json [SECONDS]
set -euo pipefail
db="$1" blob="$2" setup="$3" secs="${4:-20}"
here="$(cd "$(dirname "$0")" && pwd)"
(cd "$here" && go build -o /tmp/kfbench ./kfbench)
/tmp/kfbench serve -db "$db" -blob "$blob" -addr 127.0.0.1:18080 2>/dev/null & anon=$!
/tmp/kfbench serve -db "$db" -blob "$blob" -addr 127.0.0.1:18084 \
	-rate-store "redis://127.0.0.1:6379/0?prefix=kfbench$$" 2>/dev/null & keyed=$!
trap 'kill $anon $keyed 2>/dev/null' EXIT
sleep 2
KEYED_GATEWAY=http://127.0.0.1:18084 bash "$here/records.sh" "$db" "$setup" http://127.0.0.1:18080 "$secs"
