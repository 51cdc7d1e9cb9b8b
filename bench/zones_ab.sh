#!/bin/bash
# Two builds of vitals compared on the cost of a zone begin+end pair (docs/BENCHMARKS.md,
# "Zones"), runs interleaved so that both see the same load on the machine:
#
#   bench/zones_ab.sh BUILD_A BUILD_B [RUNS] [PAIRS]   (default 7 runs of 3 million pairs)
#
# BUILD_A and BUILD_B are build trees (vitals, libvitals.so and libvitals-agent.so). For each
# of VITALS_TRACE (zones only) and `vitals run`, on one and two threads, prints the median and
# least ns of thread CPU time per pair of each build, by default and with VITALS_ZONE_SPANS=0
# (no call written as a span: what a pair costs once the first 200,000 calls have been drawn).
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(cd "$1" && pwd) B=$(cd "$2" && pwd) RUNS=${3:-7} N=${4:-3000000}
OUT=$(mktemp -d /tmp/vitals-zoneab.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -pthread -Iinclude bench/zones_bench.c -L"$B" -lvitals -Wl,-rpath,"$B" -o "$OUT/zb"
unset VITALS_TRACE LD_PRELOAD VITALS_ZONE_SPANS

# one SIDE MODE THREADS: ns per pair of one run
one() {
    local dir=$A spans=
    case $1 in A0) spans=0 ;; B) dir=$B ;; B0) dir=$B spans=0 ;; esac
    rm -f "$OUT/t.vtr"
    if [ "$2" = trace ]; then
        env ${spans:+VITALS_ZONE_SPANS=$spans} VITALS_AGENT="$dir/libvitals-agent.so" \
            VITALS_TRACE="$OUT/t.vtr" "$OUT/zb" pair "$N" "$3"
    else
        env ${spans:+VITALS_ZONE_SPANS=$spans} "$dir/vitals" run -q -o "$OUT/t.vtr" -- \
            "$OUT/zb" pair "$N" "$3"
    fi
}
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.1f (%.1f)", a[int((NR+1)/2)], a[1]}'; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in trace run; do
    for threads in 1 2; do
        for ((i = 0; i < RUNS; i++)); do
            for side in A B A0 B0; do
                echo "$side $(one $side $mode "$threads")" >>"$OUT/$mode.$threads"
            done
        done
    done
done
echo "| what | threads | A: median (least) of $RUNS, ns | B | A, VITALS_ZONE_SPANS=0 | B, VITALS_ZONE_SPANS=0 |"
echo "| --- | --- | --- | --- | --- | --- |"
for mode in trace run; do
    for threads in 1 2; do
        label="recording, VITALS_TRACE (zones only)"
        [ $mode = run ] && label="recording, vitals run"
        row="| $label | $threads"
        for side in A B A0 B0; do
            row="$row | $(awk -v s=$side '$1 == s {print $2}' "$OUT/$mode.$threads" | stats)"
        done
        echo "$row |"
    done
done
echo
echo "A: $A; B: $B; $N pairs per thread and run; one rdtsc: $("$OUT/zb" clocks 10000000 | cut -d' ' -f1) ns."
echo "Load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs."
