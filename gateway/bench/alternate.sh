#!/usr/bin/env bash
# Keyed records requests of several builds, alternated with the bare handler
# in rounds: on a shared 2-core VM the same build moves by ±20 % from one
# minute to the next, so two builds are compared only inside the same rounds.
#   gateway/bench/alternate.sh DB_URL BLOB_URL SETUP.json ROUNDS SECONDS NAME=KFBENCH_BINARY...
# e.g. after `git worktree add /tmp/old HEAD~1` and building kfbench in both:
#   alternate.sh "$DB" file:///tmp/blob setup.json 6 10 old=/tmp/kfbench-old new=/tmp/kfbench-new
# Each build serves on its own port with the Redis rate store (as in
# records-both.sh). They share the database, so their audit writers take
# turns at the chain: the first batch after each switch misses the
# one-round-trip bet, once.
set -euo pipefail
db="$1" blob="$2" setup="$3" rounds="$4" secs="$5"
shift 5
here="$(cd "$(dirname "$0")" && pwd)"
j() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$setup" "$1"; }
fields='fields=code,name,mobile,amount,paid_on,district'
path="/api/v1/datasets/$(j Cond)/records?limit=10&$fields&code="
key="$(j Key)"
(cd "$here" && go build -o /tmp/kaifang-bare ./bare)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
/tmp/kaifang-bare -db "$db" -table "$(j OpenTable)" -filter code -addr 127.0.0.1:18099 2>/dev/null &
pids+=($!)
names=() urls=()
port=18110
for nb in "$@"; do
	name="${nb%%=*}" bin="${nb#*=}"
	"$bin" serve -db "$db" -blob "$blob" -addr "127.0.0.1:$port" \
		-rate-store "redis://127.0.0.1:6379/0?prefix=kfalt$$$name" 2>/dev/null &
	pids+=($!)
	names+=("$name") urls+=("http://127.0.0.1:$port")
	port=$((port + 1))
done
sleep 2
out=$(mktemp)
rps() { awk '/Requests\/sec/ {print $2}'; }
for round in $(seq "$rounds"); do
	for i in "${!names[@]}"; do
		# One request first, so that no build is timed while it warms up.
		curl -fsS -o /dev/null -H "X-API-Key: $key" "${urls[$i]}${path}C00001"
		v=$(wrk -t2 -c64 -d"${secs}s" -s "$here/records.lua" "${urls[$i]}" -- "$path" "$key" | rps)
		echo "round $round ${names[$i]} $v"
		echo "${names[$i]} $v" >>"$out"
	done
	v=$(wrk -t2 -c64 -d"${secs}s" -s "$here/records.lua" http://127.0.0.1:18099 -- "/?limit=10&code=" | rps)
	echo "round $round bare $v"
	echo "bare $v" >>"$out"
done
python3 - "$out" <<'PY'
import sys, statistics
runs = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    runs.setdefault(k, []).append(float(v))
bare = statistics.median(runs["bare"])
for k, v in runs.items():
    m = statistics.median(v)
    print(f"{k:8s} median {m:8,.0f} req/s; / bare {m / bare:.3f}; rounds {', '.join(f'{x:,.0f}' for x in v)}")
PY
rm -f "$out"
