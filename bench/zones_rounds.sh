#!/bin/bash
# What a zone pair costs, round by round next to what one rdtsc and one clock_gettime cost in
# the same minute (docs/BENCHMARKS.md, "Zones: round by round"): the development VM's virtual
# CPUs do not run at the same speed, and the issue's figures for scale (rdtsc about 10 ns,
# clock_gettime about 24 ns) are those of the faster one. Each round prints, unpinned:
#
#   rdtsc ns, clock_gettime ns | pair ns past the spans, 1 thread | the same, 2 threads |
#   pair ns of a default run (the first 200,000 calls spans) of 20,000,000 pairs, 1 thread
#
# then, for each CPU the process may run on, pinned to it (taskset, the writer thread too):
#
#   || cpuN rdtsc ns, clock_gettime ns, pair ns past the spans on 1 thread
#
#   bench/zones_rounds.sh [ROUNDS]      (default 12; BUILD=build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-12}
B=$(cd "${BUILD:-build}" && pwd)
OUT=$(mktemp -d /tmp/vitals-zonerounds.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -pthread -Iinclude bench/zones_bench.c -L"$B" -lvitals -Wl,-rpath,"$B" -o "$OUT/zb"
export VITALS_AGENT="$B/libvitals-agent.so"
cpus=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' |
    awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }' | tr '\n' ' ')
trace() { rm -f "$OUT/z.vtr"; VITALS_TRACE="$OUT/z.vtr" "$@"; }
for ((i = 0; i < ROUNDS; i++)); do
    c=$("$OUT/zb" clocks 5000000 | cut -d' ' -f1,2)
    p1=$(VITALS_ZONE_SPANS=0 trace "$OUT/zb" pair 2000000 1)
    p2=$(VITALS_ZONE_SPANS=0 trace "$OUT/zb" pair 2000000 2)
    p3=$(trace "$OUT/zb" pair 20000000 1)
    pinned=
    for cpu in $cpus; do
        pc=$(taskset -c "$cpu" "$OUT/zb" clocks 5000000 | cut -d' ' -f1,2)
        pp=$(VITALS_ZONE_SPANS=0 trace taskset -c "$cpu" "$OUT/zb" pair 2000000 1)
        pinned+=" || cpu$cpu $pc $pp"
    done
    echo "$c | $p1 | $p2 | $p3$pinned"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
