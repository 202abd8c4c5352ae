#!/usr/bin/env bash
# Throughput of one large download through the gateway versus the same bytes
# from a baseline server (MinIO directly, or http.ServeFile over the local
# blob directory), alternating RUNS times, and the gateway's peak RSS
# (VmHWM, a high-water mark: start the gateway fresh before measuring).
#   gateway/bench/download.sh GATEWAY_URL BASELINE_URL GATEWAY_PID [RUNS]
# e.g. after `kfbench setup -big big.bin` and `kfbench serve`:
#   download.sh http://127.0.0.1:18080/api/v1/datasets/bench-big-file/download \
#     "$(kfbench presign -blob s3://… -key KEY)" "$gateway_pid"
set -euo pipefail
gw="$1" base="$2" pid="$3" runs="${4:-3}"
speed() { curl -fsS -o /dev/null -w '%{speed_download} %{size_download}\n' "$1"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }
# One untimed fetch from the baseline first: whichever path read the object
# first would otherwise also pay for reading it from disk into the page
# cache (the gateway, which runs first: 306 and 323 MB/s against 1,000+ in
# two sets of session four). It does not warm the gateway.
curl -fsS -o /dev/null "$base"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); gateway VmHWM before: $(( $(hwm) / 1024 )) MiB"
gs=() bs=()
for i in $(seq "$runs"); do
	read -r g gsize < <(speed "$gw")
	read -r b bsize < <(speed "$base")
	[ "$gsize" = "$bsize" ] || { echo "size differs: gateway $gsize, baseline $bsize" >&2; exit 1; }
	printf 'run %d: gateway %.1f MB/s, baseline %.1f MB/s (%s bytes)\n' "$i" "$(echo "$g/1000000" | bc -l)" "$(echo "$b/1000000" | bc -l)" "$gsize"
	gs+=("$g") bs+=("$b")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); gateway VmHWM after: $(( $(hwm) / 1024 )) MiB"
printf '%s\n' "${gs[@]}" | sort -n | awk '{a[NR]=$1} END {printf "gateway median %.1f MB/s\n", a[int((NR+1)/2)]/1e6}'
printf '%s\n' "${bs[@]}" | sort -n | awk '{a[NR]=$1} END {printf "baseline median %.1f MB/s\n", a[int((NR+1)/2)]/1e6}'
