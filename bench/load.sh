#!/usr/bin/env bash
# Load test of `posture ingest` (issues 7 and 17): generates a big inbox in a work
# folder (removed after), ingests it with the release binary measuring peak
# memory and throughput, and meanwhile queries the lake again and again to
# show that a query sees the lake before the run or after it, never a mix.
#
# usage: bench/load.sh [DEVICES] [DAYS] [CHECKINS_PER_DAY]
#   defaults 10000 14 15: about 2.1 million reports, 11 GB of NDJSON.
#   10 million reports: BENCH_GZIP=1 bench/load.sh 10000 67 15 (gzip files
#   in the inbox: about 0.6 GB of disk per million reports instead of 5.3).
# needs: a release build (cargo build --release), GNU time, ~6 GB of disk per
#   million reports in BENCH_DIR (default /var/tmp/posture-load), or about
#   0.8 GB with BENCH_GZIP=1 (inbox and lake)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-10000}
days=${2:-14}
checkins=${3:-15}
gzip=() kind=NDJSON
if [ "${BENCH_GZIP:-0}" = 1 ]; then gzip=(--gzip) kind=NDJSON.gz; fi
target=${CARGO_TARGET_DIR:-target}
posture="$target/release/posture"
[ -x "$posture" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
work=${BENCH_DIR:-/var/tmp/posture-load}
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# BENCH_INBOX=DIR: an inbox generated before (kept), e.g. by
#   posture generate --out DIR --devices 10000 --days 67 --checkins-per-day 15 --seed 7 --gzip
inbox=${BENCH_INBOX:-$work/inbox}
if [ -z "${BENCH_INBOX:-}" ]; then
  echo "== generate: $devices devices x $days days x $checkins check-ins/day"
  /usr/bin/time -f "generate: %e s" "$posture" generate --out "$inbox" --devices "$devices" \
    --days "$days" --checkins-per-day "$checkins" --seed 7 "${gzip[@]}"
fi
bytes=$(du -sb "$inbox" | cut -f1)
if find "$inbox" -name '*.gz' | grep -q .; then kind=NDJSON.gz; fi
sync

# A lake that already holds one day, so that "before" is not empty: the
# first day's files, ingested first.
first_day=$(find "$inbox" -name '*.ndjson*' | sort | head -1)
"$posture" ingest --lake "$work/lake" "$first_day" 2> "$work/first.err"
q='SELECT (SELECT count(*) FROM reports) AS r, (SELECT count(*) FROM policy_states) AS p, (SELECT count(*) FROM setting_states) AS s'
before=$("$posture" sql --lake "$work/lake" --format csv "$q" | tail -1)
echo "before: reports,policy_states,setting_states = $before"

echo "== ingest (release, one process, under /usr/bin/time -v)"
/usr/bin/time -v -o "$work/time" "$posture" ingest --lake "$work/lake" "$inbox" 2> "$work/ingest.err" &
pid=$!
# Query while the ingest runs; each answer must be "before" or "after".
samples=0
: > "$work/seen"
while kill -0 "$pid" 2>/dev/null; do
  if seen=$("$posture" sql --lake "$work/lake" --format csv "$q" 2>/dev/null | tail -1); then
    echo "$seen" >> "$work/seen"
    samples=$((samples + 1))
  fi
  sleep 1
done
wait "$pid"
after=$("$posture" sql --lake "$work/lake" --format csv "$q" | tail -1)
echo "after:  reports,policy_states,setting_states = $after"
mixed=$(sort -u "$work/seen" | grep -v -x -F -e "$before" -e "$after" || true)
echo "queries during the ingest: $samples; distinct answers: $(sort -u "$work/seen" | tr '\n' ' ')"
if [ -n "$mixed" ]; then echo "FAIL: a query saw a mix: $mixed" >&2; exit 1; fi
echo "every answer was the lake before or after the run"

grep '^ingested:' "$work/ingest.err"
reports=$(grep '^ingested:' "$work/ingest.err" | sed 's/.*read=\([0-9]*\).*/\1/')
secs=$(grep 'Elapsed (wall clock)' "$work/time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
rss=$(grep 'Maximum resident set size' "$work/time" | awk '{print $NF}')
printf '| reports read | %s (MiB) | seconds | reports/s | MiB/s | peak RSS (MiB) |\n| --- | --- | --- | --- | --- | --- |\n' "$kind"
printf '| %s | %.0f | %.0f | %.0f | %.1f | %.0f |\n' "$reports" "$(echo "$bytes / 1048576" | bc -l)" "$secs" \
  "$(echo "$reports / $secs" | bc -l)" "$(echo "$bytes / 1048576 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
echo "lake: $(du -sh "$work/lake" | cut -f1) (dedup index $(du -sh "$work/lake/_index" | cut -f1))"
# A tenant of 1,000,000 devices checking in every 90 minutes sends 16
# million reports a day: the same ingest's time at that size, linearly.
printf 'projected for a day of 16,000,000 check-ins: %.0f s (%.1f min)\n' \
  "$(echo "16000000 * $secs / $reports" | bc -l)" "$(echo "16000000 * $secs / $reports / 60" | bc -l)"
