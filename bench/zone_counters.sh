#!/bin/bash
# What --zone-counters adds to a zone (docs/BENCHMARKS.md, "Zone counters"): a VT_ZONE_BEGIN +
# vt_zone_end pair recorded without and with counters at its boundaries, under `vitals run` and
# under VITALS_TRACE, measured A/B in the same run (alternating), on one thread.
#
#   bench/zone_counters.sh [RUNS]      (default 5 runs of each; medians are reported)
#   BASE_AGENT=/path/to/libvitals-agent.so bench/zone_counters.sh
#                                      also times the pair under VITALS_TRACE with that agent
#                                      (one built without zone counters: the cost with them off)
#
# Builds bench/zones_bench.c with gcc -O2 against the shared libvitals of the build tree BUILD
# (default build) and prints a Markdown table. With counters each boundary makes a read(2) of
# each counter group (one group where the machine has no PMU, two where it has one) and the
# outermost zone of a thread one ioctl(2) more: the figures are system-call figures.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BUILD=${BUILD:-build}
N=${N:-200000}
B=$(cd "$BUILD" && pwd)
[ -f "$B/libvitals.so" ] && [ -x "$B/vitals" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/vitals-zcbench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -pthread -Iinclude bench/zones_bench.c -L"$B" -lvitals -Wl,-rpath,"$B" -o "$OUT/zb"
gcc -O2 -g bench/zc_syscalls.c -o "$OUT/sc"
export VITALS_AGENT="$B/libvitals-agent.so"
unset VITALS_TRACE LD_PRELOAD VITALS_ZONE_COUNTERS

# "median (least)": on a machine shared with other work the least is the better estimate of
# the intrinsic cost, the median says how much the sharing adds.
median() { sort -g | awk '{a[NR]=$1} END {printf "%.1f (%.1f)", a[int((NR+1)/2)], a[1]}'; }

one() {
    case $1 in
    run) "$B/vitals" run -q -o "$OUT/r.vtr" -- "$OUT/zb" pair "$N" 1 ;;
    run-zc) "$B/vitals" run -q --zone-counters -o "$OUT/r.vtr" -- "$OUT/zb" pair "$N" 1 ;;
    trace) VITALS_TRACE="$OUT/t.vtr" "$OUT/zb" pair "$N" 1 ;;
    trace-zc) VITALS_ZONE_COUNTERS=1 VITALS_TRACE="$OUT/t.vtr" "$OUT/zb" pair "$N" 1 ;;
    trace-base) VITALS_AGENT="$BASE_AGENT" VITALS_TRACE="$OUT/t.vtr" "$OUT/zb" pair "$N" 1 ;;
    esac
    rm -f "$OUT/r.vtr" "$OUT/t.vtr"
}

MODES="run run-zc trace trace-zc${BASE_AGENT:+ trace-base}"
for m in $MODES; do : >"$OUT/$m"; done
for ((i = 0; i < RUNS; i++)); do
    for m in $MODES; do one $m >>"$OUT/$m"; done
done
echo "| what | ns of thread CPU time per begin+end pair: median (least) of $RUNS, $N pairs each |"
echo "| --- | --- |"
echo "| vitals run | $(median <"$OUT/run") |"
echo "| vitals run --zone-counters | $(median <"$OUT/run-zc") |"
echo "| VITALS_TRACE (zones only) | $(median <"$OUT/trace") |"
echo "| VITALS_TRACE, VITALS_ZONE_COUNTERS=1 | $(median <"$OUT/trace-zc") |"
[ -z "${BASE_AGENT:-}" ] || echo "| VITALS_TRACE, agent $BASE_AGENT | $(median <"$OUT/trace-base") |"
echo
sc=$(for ((i = 0; i < RUNS; i++)); do "$OUT/sc" 200000; done)
col() { echo "$sc" | awk -v k="$1" '{print $k}' | median; }
echo "The system calls alone, ns each (median (least) of $RUNS, 200000 calls): read(2) of the group of five software events $(col 1), the ioctl(2) PERF_EVENT_IOC_ID that checks the group is still ours $(col 2), getppid(2) $(col 3)."
hw=$("$B/vitals" run -q --zone-counters -o "$OUT/h.vtr" -- "$OUT/zb" pair 10 1 >/dev/null &&
    "$B/vitals" report "$OUT/h.vtr" | grep -c "cycles .*unsupported" || true)
echo "Hardware counters on this machine: $([ "$hw" = 0 ] && echo "counted (two groups read per boundary)" || echo "none, no PMU (one group read per boundary)")."
echo "Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs."
