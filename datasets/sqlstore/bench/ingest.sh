#!/usr/bin/env bash
# Times the raw loaders (sqlite3 .import, psql \copy) on the same generated
# CSV that BenchmarkLoadRows loads, then runs the benchmark, so BENCHMARKS.md
# can compare rows/s. Usage (from anywhere in the module):
#   KAIFANG_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
#   datasets/sqlstore/bench/ingest.sh [rows]
set -euo pipefail
N=${1:-1000000}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"

rate() { awk -v n="$N" -v s="$1" -v e="$2" 'BEGIN { printf "%.0f rows/s (%.2f s)", n / (e - s), e - s }'; }

go run ./datasets/sqlstore/bench/gencsv -n "$N" > "$TMP/rows.csv"
echo "rows: $N, csv: $(du -h "$TMP/rows.csv" | cut -f1)"

# .import fills every column from the CSV, so the raw table has no _row column.
RAWCOLS='"編號" INTEGER, "站名" TEXT, "縣市" TEXT, "AQI" INTEGER, "PM2.5" REAL, "PM10" REAL, "進站人數" INTEGER, "是否開放" TEXT, "日期" TEXT, "發布時間" TEXT'
if command -v sqlite3 >/dev/null; then
  sqlite3 "$TMP/raw.db" "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t ($RAWCOLS);" >/dev/null
  s=$(date +%s.%N)
  sqlite3 "$TMP/raw.db" ".import --csv --skip 1 $TMP/rows.csv t"
  e=$(date +%s.%N)
  echo "sqlite3 .import:  $(rate "$s" "$e")"
else
  echo "sqlite3 missing: apt-get install -y sqlite3"
fi

if [ -n "${KAIFANG_TEST_POSTGRES:-}" ] && command -v psql >/dev/null; then
  psql -q "$KAIFANG_TEST_POSTGRES" -c 'DROP TABLE IF EXISTS kaifang_raw_ingest' \
    -c 'CREATE TABLE kaifang_raw_ingest ("編號" BIGINT, "站名" TEXT COLLATE "C", "縣市" TEXT COLLATE "C", "AQI" BIGINT, "PM2.5" DOUBLE PRECISION, "PM10" DOUBLE PRECISION, "進站人數" BIGINT, "是否開放" BOOLEAN, "日期" DATE, "發布時間" TIMESTAMPTZ)'
  s=$(date +%s.%N)
  psql -q "$KAIFANG_TEST_POSTGRES" -c "\\copy kaifang_raw_ingest FROM '$TMP/rows.csv' WITH (FORMAT csv, HEADER true)"
  e=$(date +%s.%N)
  echo "psql \\copy:       $(rate "$s" "$e")"
  psql -q "$KAIFANG_TEST_POSTGRES" -c 'DROP TABLE kaifang_raw_ingest'
else
  echo "psql \\copy skipped: set KAIFANG_TEST_POSTGRES"
fi

echo "sqlstore.LoadRows (BenchmarkLoadRows, same rows):"
KAIFANG_BENCH_ROWS=$N go test -run '^$' -bench 'LoadRows' -benchtime 1x ./datasets/sqlstore/ | grep -E '^Benchmark'
