#!/usr/bin/env bash
# What `posture compact` buys (docs/compaction.md): a lake of DAYS days fed
# by many small ingests (one per collector and day, so each day holds a few
# small files per table), queried as ingested, after compaction without the
# daily and as-of snapshots (their folders moved aside), and after compaction with them.
# Best of RUNS wall-clock seconds per `posture query` process; checks that
# every state gives the same CSV. Prints a Markdown table.
#
#   cargo build --release --bin posture
#   bench/compact.sh                       # 2,000 devices, 30 days, 16 check-ins a day
#   DEVICES=50 DAYS=30 CHECKINS=4 RUNS=1 POSTURE=target/debug/posture bench/compact.sh
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
[ "$days" -ge 30 ] || echo "note: the trend below spans 30 days; DAYS=$days is fewer" >&2

inbox="$work/inbox"
lake="$work/lake"
rm -rf "$inbox" "$lake"
"$posture" generate --out "$inbox" --devices "$devices" --days "$days" \
  --checkins-per-day "$checkins" --seed 8 >&2
echo "ingesting one collector-day at a time..." >&2
for f in $(find "$inbox" -type f | sort -t/ -k2); do
  "$posture" ingest --lake "$lake" "$f" 2>/dev/null >/dev/null
done

files() { find "$lake" -name '*.parquet' -not -path '*/daily_*' -not -path '*/asof_*' | wc -l; }
snapshot_files() { find "$lake" \( -path '*/daily_*' -o -path '*/asof_*' \) -name '*.parquet' | wc -l; }
snapshots=(daily_reports daily_policy_states daily_setting_states asof_reports asof_policy_states asof_setting_states)
size() { du -sb --exclude=_staging "$lake" | cut -f1 | awk '{ printf "%.1f MiB", $1 / 1048576 }'; }


queries=(compliance_by_policy compliance_by_platform stale_devices "compliance_trend --days 30")
declare -A t
measure() {
  local state="$1"
  t[$state,files]="$(files)"
  t[$state,snapshot]="$(snapshot_files)"
  t[$state,size]="$(size)"
  for q in "${queries[@]}"; do
    # shellcheck disable=SC2086
    t[$state,$q]="$(best_of "$runs" "$work/${q%% *}-$state.csv" "$posture" query --lake "$lake" --format csv $q)"
  done
}

measure raw
start=$(date +%s.%N)
"$posture" compact --lake "$lake" 2>"$work/compact.log"
compact_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
tail -1 "$work/compact.log" >&2
mkdir -p "$work/aside"
for d in "${snapshots[@]}"; do
  [ -d "$lake/$d" ] && mv "$lake/$d" "$work/aside/"
done
measure merged
for d in "${snapshots[@]}"; do
  [ -d "$work/aside/$d" ] && mv "$work/aside/$d" "$lake/"
done
measure snapshot

same=yes
for q in "${queries[@]}"; do
  n="${q%% *}"
  cmp -s "$work/$n-raw.csv" "$work/$n-merged.csv" && cmp -s "$work/$n-raw.csv" "$work/$n-snapshot.csv" || same=NO
done

echo "$devices devices, $days days, $checkins check-ins a day; compact took $compact_s s; same CSV in every state: $same"
echo
echo "| | as ingested | compacted, no snapshot | compacted, with snapshot |"
echo "| --- | --- | --- | --- |"
echo "| Parquet files (tables) | ${t[raw,files]} | ${t[merged,files]} | ${t[snapshot,files]} |"
echo "| snapshot files | ${t[raw,snapshot]} | 0 | ${t[snapshot,snapshot]} |"
echo "| lake size | ${t[raw,size]} | ${t[merged,size]} | ${t[snapshot,size]} |"
for q in "${queries[@]}"; do
  echo "| \`$q\` (s) | ${t[raw,$q]} | ${t[merged,$q]} | ${t[snapshot,$q]} |"
done
