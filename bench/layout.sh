#!/usr/bin/env bash
# What the physical layout of the lake's files buys (issue 8): the same
# rows of one generated lake, rewritten sorted or shuffled and in row groups
# of different sizes (bench/layout_variants.py, pyarrow), then the same
# queries on each: a snapshot query, the 30-day trend, and an analyst's
# look-up of one device over the whole history. Best of RUNS wall-clock
# seconds per `posture` process; checks that every variant gives the same
# CSV. Prints a Markdown table. Needs python3 with pyarrow.
#
#   cargo build --release --bin posture
#   bench/layout.sh                        # 2,000 devices, 30 days, 16 check-ins a day
#   DEVICES=50 DAYS=5 CHECKINS=4 RUNS=1 POSTURE=target/debug/posture bench/layout.sh
#
# WORK=DIR keeps the inbox and lakes there (default: a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
target="${CARGO_TARGET_DIR:-target}"
posture="${POSTURE:-$target/release/posture}"
devices="${DEVICES:-2000}"
days="${DAYS:-30}"
checkins="${CHECKINS:-16}"
runs="${RUNS:-3}"
if [ -n "${WORK:-}" ]; then
  work="$WORK"; mkdir -p "$work"
else
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fi

inbox="$work/inbox"
base="$work/lake"
rm -rf "$inbox" "$base"
"$posture" generate --out "$inbox" --devices "$devices" --days "$days" \
  --checkins-per-day "$checkins" --seed 8 >&2
"$posture" ingest --lake "$base" "$inbox" >&2
# A device in the middle of the sort order, so that neither end of a file
# flatters the row-group statistics.
device=$("$posture" sql --lake "$base" --format csv \
  "SELECT device_id FROM (SELECT DISTINCT device_id FROM reports) ORDER BY device_id LIMIT 1 OFFSET $((devices / 2))" | tail -1)
lookup="SELECT count(*) AS setting_rows, max(observed_at) AS last FROM setting_states WHERE device_id = '$device'"

# bytes and row groups of the three raw tables
size() {
  du -cb "$1"/reports "$1"/policy_states "$1"/setting_states | tail -1 |
    awk '{ printf "%.1f", $1 / 1048576 }'
}
row_groups() {
  python3 -c '
import pathlib, sys
import pyarrow.parquet as pq
lake = pathlib.Path(sys.argv[1])
print(sum(pq.ParquetFile(f).num_row_groups
          for t in ("reports", "policy_states", "setting_states")
          for f in (lake / t).rglob("*.parquet")))' "$1"
}


echo "| layout | raw tables (MiB) | row groups | \`compliance_by_policy\` (s) | \`compliance_trend --days $days\` (s) | one device, all history (s) | same CSV |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
first=1
while read -r name order rows; do
  lake="$work/$name"
  rm -rf "$lake"
  cp -r "$base" "$lake"
  if [ "$order" != "posture" ]; then
    python3 bench/layout_variants.py "$lake" "$order" "$rows" >&2
  fi
  p=$(best_of "$runs" "$work/policy.csv" "$posture" query --lake "$lake" --format csv compliance_by_policy)
  t=$(best_of "$runs" "$work/trend.csv" "$posture" query --lake "$lake" --format csv compliance_trend --days "$days")
  l=$(best_of "$runs" "$work/lookup.csv" "$posture" sql --lake "$lake" --format csv "$lookup")
  if [ "$first" = 1 ]; then
    for q in policy trend lookup; do cp "$work/$q.csv" "$work/$q.expected"; done
    first=0
  fi
  same=yes
  for q in policy trend lookup; do cmp -s "$work/$q.csv" "$work/$q.expected" || same=NO; done
  label="${name//_/ }"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(size "$lake")" "$(row_groups "$lake")" "$p" "$t" "$l" "$same"
  rm -rf "$lake"
done <<'EOF'
as_posture_writes_it posture 0
sorted,_1M-row_groups kept 1048576
sorted,_64k-row_groups kept 65536
sorted,_8k-row_groups kept 8192
shuffled,_1M-row_groups shuffled 1048576
shuffled,_64k-row_groups shuffled 65536
EOF
