#!/usr/bin/env bash
# Report time, peak memory and bundle size for fleets of 10,000, 100,000
# and 1,000,000 devices (7 days, 1 check-in a day each), in one run. Prints
# a Markdown table for docs/benchmarks.md.
#
# usage: bench/report.sh [DEVICES...]   (default: 10000 100000 1000000)
# needs: a release build (cargo build --release), GNU time
#
# BENCH_DIR (default /var/tmp/posture-bench/report) holds each size's lake
# (the inbox is removed once ingested). With BENCH_REUSE=1 a size whose lake
# is there is reported again without generating or ingesting it; with
# POSTURE=/path/to/posture another build reports (e.g. one from before a
# change, on the same lakes).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
posture=${POSTURE:-$target/release/posture}
[ -x "$posture" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
work=${BENCH_DIR:-/var/tmp/posture-bench/report}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

echo "| devices | reports | ingest (s) | report (s) | report peak RSS (MiB) | bundle files | bundle (MiB) | of it evidence (MiB) | largest page (KiB) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for n in "${sizes[@]}"; do
  dir="$work/$n"
  if [ "${BENCH_REUSE:-0}" != 1 ] || [ ! -d "$dir/lake" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    "$posture" generate --out "$dir/inbox" --devices "$n" --days 7 --checkins-per-day 1 --seed 9 --gzip 2> /dev/null
    /usr/bin/time -f "%e" -o "$dir/ingest.time" "$posture" ingest --lake "$dir/lake" "$dir/inbox" 2> "$dir/ingest.log"
    grep -o 'new=[0-9]*' "$dir/ingest.log" | cut -d= -f2 > "$dir/reports"
    rm -rf "$dir/inbox"
  fi
  rm -rf "$dir/out"
  SOURCE_DATE_EPOCH=1764000000 /usr/bin/time -f "%e %M" -o "$dir/report.time" \
    "$posture" report --lake "$dir/lake" --out "$dir/out" 2> "$dir/report.log"
  read -r secs rss < "$dir/report.time"
  files=$(find "$dir/out" -type f | wc -l)
  bytes=$(du -sb "$dir/out" | cut -f1)
  evidence=$( (find "$dir/out/data" "$dir/out/csv" -type f -printf '%s\n' 2> /dev/null || true) | awk '{ s += $1 } END { print s + 0 }')
  largest=$(find "$dir/out" -name '*.html' -printf '%s\n' | sort -n | tail -1)
  printf '| %s | %s | %s | %s | %.0f | %s | %s | %s | %.0f |\n' "$n" "$(cat "$dir/reports")" "$(cat "$dir/ingest.time")" "$secs" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$files" "$(mib "$bytes")" "$(mib "$evidence")" \
    "$(awk -v b="$largest" 'BEGIN { print b / 1024 }')"
done
