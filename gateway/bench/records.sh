#!/usr/bin/env bash
# Records API with 10-row pages and one indexed filter, under wrk
# (apt-get install -y wrk): 64 connections for 20 s on 127.0.0.1, beside a
# bare net/http handler running the same SQL (gateway/bench/bare).
#   gateway/bench/records.sh http://127.0.0.1:8080 SLUG 'FIELD=VALUE' DB_URL TABLE
set -euo pipefail
base="$1" slug="$2" filter="$3" db="$4" table="$5"
here="$(cd "$(dirname "$0")" && pwd)"
echo "== gateway"
wrk -t2 -c64 -d20s "$base/api/v1/datasets/$slug/records?limit=10&$filter"
go build -o /tmp/kaifang-bare "$here/bare"
/tmp/kaifang-bare -db "$db" -table "$table" -addr 127.0.0.1:18099 & bare=$!
trap 'kill $bare' EXIT
sleep 1
echo "== bare net/http, same SQL"
wrk -t2 -c64 -d20s "http://127.0.0.1:18099/?limit=10&$filter"
