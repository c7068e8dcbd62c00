#!/usr/bin/env bash
# Real-mode produce throughput on loopback: broker-basic's metadata store, 3 bookies and 2
# brokers as streamlab-node processes (real TCP, real files and fsyncs), one
# `streamlab produce` process sending 1 KB messages as fast as the pending queue allows.
# Prints each round's summary line; the cluster directory goes away afterwards.
#
#   benchmarks/real_produce.sh [BUILD_DIR (build/release)] [ROUNDS (3)] [COUNT (200000)]
#
# The data directory is under $TMPDIR (default /tmp): its file system decides what an
# fsync costs, so say which one when you report a figure.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
rounds=${2:-3}
count=${3:-200000}
bin=$build/bin/streamlab
[ -x "$bin" ] || { echo "real_produce: no $bin; build first (cmake --build --preset release)" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/streamlab-real-produce-XXXXXX")
trap '"$bin" cluster down "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$bin" cluster up workloads/scenarios/broker-basic.textproto --dir "$dir" >/dev/null
echo "cluster: broker-basic (1 metadata, 3 bookies, 2 brokers, E=Qw=3 Qa=2) in $dir ($(df -T "$dir" | awk 'NR==2 {print $2}'))"
for round in $(seq 1 "$rounds"); do
  # A fresh producer name per round: the checker and deduplication know messages by it.
  "$bin" produce "$dir" --topic events --count "$count" --rate 1000000/s --size 1KB \
      --producer "bench-$round" --history "$dir/round-$round.jsonl" 2>/dev/null | grep -E '^(throughput|publish)'
done
