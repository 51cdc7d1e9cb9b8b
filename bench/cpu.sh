#!/bin/bash
# The cost of CPU profiling at 999 Hz: a CPU-bound program (bench/cpu_work.c) run plain, under
# `vitals run --cpu --no-alloc`, and under `perf record` with the same period, interleaved so
# that all three see the same load:
#
#   bench/cpu.sh [BUILD] [RUNS] [AGENT_B]
#
# (default build, 11 runs of each; medians and minimums). With AGENT_B (the path of another
# libvitals-agent.so, say an older build's), a fourth kind of run uses it (VITALS_AGENT), for
# an A/B of two agents in the same conditions.
#
# The program times its own work: wall seconds, the CPU seconds of the whole process (the
# agent's writer thread included) and of its main thread. Each figure is compared with the same
# statistic (median, minimum) of the plain runs, and, since the host's speed drifts between
# runs (by up to a factor of two on the development VM), run by run with the plain run of the
# same round: the median of those ratios, with their quartiles. The writer's cost is also
# given apart: the
# process's CPU time less the main thread's, per second of wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build} RUNS=${2:-11} AGENT_B=${3:-} ROUNDS=${ROUNDS:-3000}
OUT=$(mktemp -d /tmp/vitals-cpu.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -fno-omit-frame-pointer bench/cpu_work.c -o "$OUT/work"
kinds="plain vitals${AGENT_B:+ vitals-B} perf"
one() {
    case $1 in
    plain) "$OUT/work" $ROUNDS ;;
    vitals) "$BUILD/vitals" run -q --cpu --no-alloc -o "$OUT/t.vtr" -- "$OUT/work" $ROUNDS ;;
    vitals-B) VITALS_AGENT=$AGENT_B "$BUILD/vitals" run -q --cpu --no-alloc -o "$OUT/b.vtr" -- \
        "$OUT/work" $ROUNDS ;;
    perf) perf record -q -e task-clock -c 1001001 -g -o "$OUT/perf.data" -- "$OUT/work" $ROUNDS \
        2>/dev/null ;;
    esac >>"$OUT/$1"
}
# Each round runs every kind once, the order rotated from round to round.
read -ra order <<<"$kinds"
for ((i = 0; i < RUNS; i++)); do
    for ((k = 0; k < ${#order[@]}; k++)); do
        one "${order[(i + k) % ${#order[@]}]}"
    done
done
med() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mn() { sort -g | head -1; }
col() { awk -v k="$2" '{print $k/1e9}' "$OUT/$1"; }
pct() { python3 -c "print(f'{100 * ($1 / $2 - 1):+.1f}%')"; }
for s in $kinds; do
    printf "%-8s wall s median %.3f (%s) min %.3f (%s); process CPU s median %.3f (%s) min %.3f (%s); main thread CPU s median %.3f (%s) min %.3f (%s)\n" \
        "$s" "$(col $s 1 | med)" "$(pct "$(col $s 1 | med)" "$(col plain 1 | med)")" \
        "$(col $s 1 | mn)" "$(pct "$(col $s 1 | mn)" "$(col plain 1 | mn)")" \
        "$(col $s 2 | med)" "$(pct "$(col $s 2 | med)" "$(col plain 2 | med)")" \
        "$(col $s 2 | mn)" "$(pct "$(col $s 2 | mn)" "$(col plain 2 | mn)")" \
        "$(col $s 3 | med)" "$(pct "$(col $s 3 | med)" "$(col plain 3 | med)")" \
        "$(col $s 3 | mn)" "$(pct "$(col $s 3 | mn)" "$(col plain 3 | mn)")"
done
for s in vitals${AGENT_B:+ vitals-B} perf; do
    python3 - "$OUT/plain" "$OUT/$s" "$s" <<'EOF'
import statistics, sys
plain, runs = ([[float(x) for x in l.split()] for l in open(f)] for f in sys.argv[1:3])
def q(col):
    r = sorted(100 * (b[col] / a[col] - 1) for a, b in zip(plain, runs))
    lo, mid, hi = statistics.quantiles(r, n=4) if len(r) > 1 else (r[0],) * 3
    return f"{mid:+.2f}% (quartiles {lo:+.2f}%, {hi:+.2f}%)"
print(f"{sys.argv[3]:<8} against the plain run of its round, median: wall {q(0)}; "
      f"main thread CPU {q(2)}")
EOF
done
for s in vitals${AGENT_B:+ vitals-B}; do
    printf "%-8s writer thread: CPU ms per s of wall, median %.2f (min %.2f, max %.2f)\n" "$s" \
        "$(awk '{print ($2 - $3) / $1 * 1000}' "$OUT/$s" | med)" \
        "$(awk '{print ($2 - $3) / $1 * 1000}' "$OUT/$s" | mn)" \
        "$(awk '{print ($2 - $3) / $1 * 1000}' "$OUT/$s" | sort -g | tail -1)"
done
samples=$("$BUILD/vitals" report "$OUT/t.vtr" --format json |
    python3 -c 'import json,sys; c=json.load(sys.stdin)["cpu"]; print(c["samples"], c["lost"])')
echo "vitals' last run: samples, lost: $samples"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
