# Writing measurements (sourced by every stage, also by those that bring their own process handling, such as
# latency.sh, which uses the end-to-end tests' lib.sh). Needs PERF_WORK and STAGE_NAME.
#   results.tsv: stage <TAB> series <TAB> size <TAB> metric <TAB> run <TAB> value   (one value per line)
#   notes.tsv:   stage <TAB> text                                                  (shown under the stage)
# result SERIES SIZE METRIC RUN VALUE
result() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$STAGE_NAME" "$1" "$2" "$3" "$4" "$5" >>"$PERF_WORK/results.tsv"; }
# note TEXT: a line for the stage's notes in the results file.
note() { printf '%s\t%s\n' "$STAGE_NAME" "$*" >>"$PERF_WORK/notes.tsv"; }

# Floating-point arithmetic: calc 'EXPR' (awk syntax), 6 significant digits.
calc() { awk "BEGIN { x = $1; printf \"%.6g\n\", x }"; }

# percentiles FILE: p50 and p99 (nearest rank) of the numbers in FILE, one per line: "P50 P99".
percentiles() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan"; exit }
    i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
    printf "%s %s\n", v[i50 < 1 ? 1 : i50], v[i99 < 1 ? 1 : i99] }'
}
