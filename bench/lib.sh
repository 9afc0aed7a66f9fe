# Shared by the bench scripts (sourced, not run).

# best_of RUNS OUT COMMAND...: runs COMMAND RUNS times, its stdout into OUT
# and its stderr dropped, and prints the best wall-clock seconds (2 decimals).
best_of() {
  local runs="$1" out="$2" best="" start end t
  shift 2
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$@" >"$out" 2>/dev/null
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  printf '%.2f' "$best"
}
