#!/usr/bin/env bash
# The named queries on the local engine and on a Ballista cluster of two
# executors on this machine (examples/cluster.rs), same lake, best of 3;
# checks that both give the same rows. Prints a Markdown table.
#
#   cargo build --release --features ballista --bin posture --example cluster
#   bench/cluster.sh /var/tmp/q/lake      # the 30-day lake of docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
target="${CARGO_TARGET_DIR:-target}"
posture="${POSTURE:-$target/release/posture}"
cluster="${CLUSTER:-$target/release/examples/cluster}"
lake="${1:?usage: bench/cluster.sh LAKE [RUNS]}"
runs="${2:-3}"
lake="$(cd "$lake" && pwd)"
work="$(mktemp -d)"
trap 'kill "$cluster_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$cluster" 2 1 >"$work/url" 2>"$work/cluster.log" &
cluster_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
engine="$(cat "$work/url")"
echo "cluster: $engine (2 executors, 1 task each)" >&2


echo "| query | local (s) | Ballista, 2 executors (s) | cluster / local | same rows |"
echo "| --- | --- | --- | --- | --- |"
for q in compliance_by_policy compliance_by_platform setting_failures stale_devices compliance_trend; do
  l=$(best_of "$runs" "$work/local.csv" "$posture" query --lake "$lake" --engine local --format csv "$q")
  c=$(best_of "$runs" "$work/cluster.csv" "$posture" query --lake "$lake" --engine "$engine" --format csv "$q")
  same=$(cmp -s "$work/local.csv" "$work/cluster.csv" && echo yes || echo NO)
  printf '| %s | %s | %s | %.1f | %s |\n' "$q" "$l" "$c" "$(awk -v c="$c" -v l="$l" 'BEGIN { print c / l }')" "$same"
done
