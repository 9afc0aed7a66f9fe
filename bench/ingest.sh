#!/usr/bin/env bash
# Ingest throughput of `posture ingest` against DuckDB doing the same
# normalisation, on one generated inbox, in one run. Prints a Markdown table
# for docs/benchmarks.md: posture on every core and on one, DuckDB on one
# thread and on every core, and posture again on the same lake (every report
# a duplicate), each with its peak memory.
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
cores=$(nproc)

"$posture" generate --out "$work/inbox" --devices "$devices" --days 14 --checkins-per-day "$checkins" --seed 42
bytes=$(du -sb "$work/inbox" | cut -f1)
lines=$(cat "$work"/inbox/*/*.ndjson | wc -l)
sync

# run NAME COMMAND...: one timed run; prints its table row and keeps its
# seconds in $work/NAME.secs
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" > "$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; exit 1; }
  read -r secs rss < "$work/$name.time"
  echo "$secs" > "$work/$name.secs"
  printf '| %s | %s | %.0f | %.1f | %.0f |\n' "$name" "$secs" "$(echo "$lines / $secs" | bc -l)" \
    "$(echo "$bytes / 1048576 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

echo "inbox: $lines reports, $(echo "$bytes / 1048576" | bc) MiB of NDJSON, $cores cores"
echo
echo "| engine | seconds | reports/s | MiB/s | peak RSS (MiB) |"
echo "| --- | --- | --- | --- | --- |"
run "posture ingest, $cores threads" "$posture" ingest --lake "$work/lake" "$work/inbox"
run "duckdb, $cores threads" python3 bench/duckdb_ingest.py "$work/inbox" "$work/duckdbN" "$cores"
run "posture ingest, 1 thread" "$posture" ingest --threads 1 --lake "$work/lake1" "$work/inbox"
run "duckdb, 1 thread" python3 bench/duckdb_ingest.py "$work/inbox" "$work/duckdb1" 1
run "posture ingest again (all duplicates), $cores threads" "$posture" ingest --lake "$work/lake" "$work/inbox"
echo
ratio=$(echo "$(cat "$work/posture ingest, $cores threads.secs") / $(cat "$work/duckdb, $cores threads.secs")" | bc -l)
printf 'posture / duckdb on %s threads: %.2f\n' "$cores" "$ratio"
grep '^ingested:' "$work/posture ingest, $cores threads.out"
grep '^ingested:' "$work/posture ingest, 1 thread.out"
grep '^ingested:' "$work/posture ingest again (all duplicates), $cores threads.out"
grep '^duckdb rows' "$work/duckdb, 1 thread.out"
echo "lake sizes: posture $(du -sh "$work/lake" | cut -f1) (index $(du -sh "$work/lake/_index" | cut -f1)), duckdb $(du -sh "$work/duckdb1" | cut -f1)"
