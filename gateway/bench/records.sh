#!/usr/bin/env bash
# Records API under wrk, beside the bare net/http handler running the same SQL
# (gateway/bench/bare) on the same table. Needs a gateway from `kfbench serve`
# over a catalogue prepared by `kfbench setup` (its JSON output is SETUP).
#   gateway/bench/records.sh DB_URL SETUP.json [GATEWAY_BASE] [SECONDS]
# Three runs, 64 connections each: anonymous open copy, keyed conditional copy
# (X-API-Key), bare handler. wrk and the servers share the machine.
# KEYED_GATEWAY sends the keyed run to another gateway (e.g. one whose rate
# store is Redis, while GATEWAY_BASE keeps the default memory store).
# ROUNDS (default 1) repeats the three runs in turn and prints each kind's
# median requests/s and the medians' ratios to the bare handler: on this
# shared VM the same run moves by ±20 % from one minute to the next.
set -euo pipefail
db="$1" setup="$2" gw="${3:-http://127.0.0.1:18080}" secs="${4:-20}"
kgw="${KEYED_GATEWAY:-$gw}"
here="$(cd "$(dirname "$0")" && pwd)"
j() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$setup" "$1"; }
fields='fields=code,name,mobile,amount,paid_on,district'
(cd "$here" && go build -o /tmp/kaifang-bare ./bare)
/tmp/kaifang-bare -db "$db" -table "$(j OpenTable)" -filter code -addr 127.0.0.1:18099 2>/dev/null & bare=$!
trap 'kill $bare' EXIT
sleep 1
kill -0 "$bare" || { echo "bare handler did not start (is 127.0.0.1:18099 taken?)" >&2; exit 1; }
calm() { # wait up to CALM_SECONDS (180) for the 1-minute load average to fall under 2
	for _ in $(seq $(( ${CALM_SECONDS:-180} / 5 ))); do awk '{exit !($1 < 2)}' /proc/loadavg && break; sleep 5; done
	echo "load before run: $(cut -d' ' -f1-3 /proc/loadavg)"
}
out=$(mktemp)
run() { # run KIND TITLE URL -- ARGS: one wrk run, appended to $out as "KIND RPS P99"
	calm; local kind="$1" o; echo "== $2"; shift 2
	o=$(wrk -t2 -c64 -d"${secs}s" --latency -s "$here/records.lua" "$@")
	echo "$o"
	echo "$o" | awk -v k="$kind" '/Requests\/sec/ {r = $2} /^ +99%/ {p = $2} END {print k, r, p}' >>"$out"
}
for round in $(seq "${ROUNDS:-1}"); do
	[ "${ROUNDS:-1}" = 1 ] || echo "#### round $round"
	run anonymous "gateway, anonymous, open copy" "$gw" -- "/api/v1/datasets/$(j Open)/records?limit=10&$fields&code="
	run keyed "gateway, API key, conditional copy (masked, audited)" "$kgw" -- "/api/v1/datasets/$(j Cond)/records?limit=10&$fields&code=" "$(j Key)"
	run bare "bare net/http, same SQL" http://127.0.0.1:18099 -- "/?limit=10&code="
done 2>&1
python3 - "$out" <<'PY'
import sys, statistics
def ms(t):  # wrk's latency: 850.00us, 11.93ms, 1.02s
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * f
    return float("nan")
runs, p99 = {}, {}
for line in open(sys.argv[1]):
    k, v, p = line.split()
    runs.setdefault(k, []).append(float(v))
    p99.setdefault(k, []).append(ms(p))
bare = statistics.median(runs["bare"])
for k in ("anonymous", "keyed", "bare"):
    m = statistics.median(runs[k])
    print(f"{k:9s} req/s {', '.join(f'{v:,.0f}' for v in runs[k])}; median {m:,.0f}; median / bare median {m / bare:.2f};"
          f" p99 median {statistics.median(p99[k]):.1f} ms")
PY
rm -f "$out"
