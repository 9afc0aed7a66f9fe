#!/usr/bin/env bash
# Report time and bundle size for fleets of 1,000, 10,000 and 100,000
# devices (7 days, 1 check-in a day each), in one run. Prints a Markdown
# table for docs/benchmarks.md.
#
# usage: bench/report.sh [DEVICES...]   (default: 1000 10000 100000)
# needs: a release build (cargo build --release), GNU time
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
posture="$target/release/posture"
[ -x "$posture" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
work=${BENCH_DIR:-/var/tmp/posture-bench/report}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)

echo "| devices | reports | ingest (s) | report (s) | report peak RSS (MiB) | bundle files | bundle size (MiB) | largest page (KiB) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for n in "${sizes[@]}"; do
  dir="$work/$n"
  rm -rf "$dir" && mkdir -p "$dir"
  "$posture" generate --out "$dir/inbox" --devices "$n" --days 7 --checkins-per-day 1 --seed 9 --gzip 2> /dev/null
  /usr/bin/time -f "%e" -o "$dir/ingest.time" "$posture" ingest --lake "$dir/lake" "$dir/inbox" 2> "$dir/ingest.log"
  reports=$(grep -o 'new=[0-9]*' "$dir/ingest.log" | cut -d= -f2)
  SOURCE_DATE_EPOCH=1764000000 /usr/bin/time -f "%e %M" -o "$dir/report.time" \
    "$posture" report --lake "$dir/lake" --out "$dir/out" 2> "$dir/report.log"
  read -r secs rss < "$dir/report.time"
  files=$(find "$dir/out" -type f | wc -l)
  bytes=$(du -sb "$dir/out" | cut -f1)
  largest=$(find "$dir/out" -name '*.html' -printf '%s\n' | sort -n | tail -1)
  printf '| %s | %s | %s | %s | %.0f | %s | %.1f | %.0f |\n' "$n" "$reports" "$(cat "$dir/ingest.time")" "$secs" \
    "$(echo "$rss / 1024" | bc -l)" "$files" "$(echo "$bytes / 1048576" | bc -l)" "$(echo "$largest / 1024" | bc -l)"
done
