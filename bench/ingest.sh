#!/usr/bin/env bash
# Ingest throughput of `posture ingest` against DuckDB doing the same
# normalisation, on one generated inbox, in one run. Prints a Markdown table
# for docs/benchmarks.md.
#
# usage: bench/ingest.sh [DEVICES] [CHECKINS_PER_DAY]   (defaults: 1000 15, ~210k reports, ~1.1 GB)
# needs: a release build (cargo build --release), python3 with duckdb, GNU time
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}
checkins=${2:-15}
target=${CARGO_TARGET_DIR:-target}
posture="$target/release/posture"
[ -x "$posture" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
work=${BENCH_DIR:-/var/tmp/posture-bench}
rm -rf "$work" && mkdir -p "$work"

"$posture" generate --out "$work/inbox" --devices "$devices" --days 14 --checkins-per-day "$checkins" --seed 42
bytes=$(du -sb "$work/inbox" | cut -f1)
lines=$(cat "$work"/inbox/*/*.ndjson | wc -l)
sync

# run NAME COMMAND...: elapsed seconds and peak RSS (KiB) of one command
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; exit 1; }
  read -r secs rss < "$work/$name.time"
  printf '| %s | %s | %.0f | %.1f | %.0f |\n' "$name" "$secs" "$(echo "$lines / $secs" | bc -l)" \
    "$(echo "$bytes / 1048576 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

echo "inbox: $lines reports, $(echo "$bytes / 1048576" | bc) MiB of NDJSON, $(nproc) cores"
echo
echo "| engine | seconds | reports/s | MiB/s | peak RSS (MiB) |"
echo "| --- | --- | --- | --- | --- |"
run "posture ingest" "$posture" ingest --lake "$work/lake" "$work/inbox"
run "duckdb, 1 thread" python3 bench/duckdb_ingest.py "$work/inbox" "$work/duckdb1" 1
run "duckdb, $(nproc) threads" python3 bench/duckdb_ingest.py "$work/inbox" "$work/duckdbN" "$(nproc)"
echo
grep '^ingested:' "$work/posture ingest.out"
grep '^duckdb rows' "$work/duckdb, 1 thread.out"
echo "lake sizes: posture $(du -sh "$work/lake" | cut -f1), duckdb $(du -sh "$work/duckdb1" | cut -f1)"
