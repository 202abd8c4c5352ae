#!/usr/bin/env bash
# Throughput of one large download through the gateway versus straight from
# MinIO, and the gateway's peak RSS while it streams.
#   gateway/bench/download.sh GATEWAY_DOWNLOAD_URL DIRECT_OBJECT_URL GATEWAY_PID
# e.g. after `kaifang import` of a 1 GiB file on an s3:// blob store:
#   download.sh http://127.0.0.1:8080/api/v1/datasets/big/download \
#     "$(mc share download --json local/bucket/key | jq -r .share)" "$(pgrep -n kaifang)"
# (Make the file with: head -c 1G /dev/urandom > /tmp/big.bin)
set -euo pipefail
gw="$1" direct="$2" pid="$3"
speed() { curl -fsS -o /dev/null -w '%{speed_download}' "$1"; }
peak=0
( while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status"); echo "$rss"; sleep 0.2
  done ) > /tmp/kaifang-bench-rss.$$ &
watcher=$!
g=$(speed "$gw")
kill "$watcher" 2>/dev/null || true
d=$(speed "$direct")
peak=$(sort -n /tmp/kaifang-bench-rss.$$ | tail -1); rm -f /tmp/kaifang-bench-rss.$$
awk -v g="$g" -v d="$d" -v p="$peak" 'BEGIN {
	printf "gateway %.1f MB/s, direct %.1f MB/s, ratio %.2f, gateway peak RSS %.1f MiB\n", g/1e6, d/1e6, g/d, p/1024 }'
