#!/bin/bash
# What the leak check costs on a large heap, beside valgrind memcheck, in one run.
#
#   bench/leakscan.sh [RUNS] [KEPT LOST LEN]   (default 3 runs; bigheap's default heap)
#
# Runs bench/bigheap.c plain, under vitals with --leak-check=none and =exit, and under
# memcheck --leak-check=full; prints median wall seconds, the scan's own time as the trace
# records it, and each tool's leak classes (which must agree). Needs gcc, valgrind,
# /usr/bin/time and python3; BUILD (default build) is the vitals build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
shift || true
ARGS=("$@")
BUILD=${BUILD:-build}
VITALS=$BUILD/vitals
OUT=$(mktemp -d /tmp/vitals-leakscan.XXXXXX)
export VITALS_HISTORY=  # the run history is measured by bench/history.sh, not here
trap 'rm -rf "$OUT"' EXIT
for tool in valgrind /usr/bin/time python3 gcc; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -x "$VITALS" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
gcc -O2 -g -fno-omit-frame-pointer bench/bigheap.c -o "$OUT/bigheap"
PROG=("$OUT/bigheap" "${ARGS[@]}")

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timed() { local file=$1; shift; /usr/bin/time -f "%e" -a -o "$file" "$@" >/dev/null 2>>"$OUT/stderr"; }

for ((i = 0; i < RUNS; i++)); do
    timed "$OUT/plain" "${PROG[@]}"
    timed "$OUT/none" "$VITALS" run -q --leak-check=none -o "$OUT/none.vtr" -- "${PROG[@]}"
    timed "$OUT/exit" "$VITALS" run -q --leak-check=exit -o "$OUT/exit.vtr" -- "${PROG[@]}"
    "$VITALS" report "$OUT/exit.vtr" --format json | python3 -c '
import json, sys
print(json.load(sys.stdin)["leak_check"]["scan_ns"] / 1e9)' >>"$OUT/scan"
    timed "$OUT/memcheck" valgrind --leak-check=full --log-file="$OUT/memcheck.log" "${PROG[@]}"
done
"$VITALS" report "$OUT/exit.vtr" --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)["leak_check"]
print("vitals   classes: " + ", ".join("%s %d blocks %d B" % (k, v["blocks"], v["bytes"])
                                   for k, v in r["classes"].items()))
print("vitals   scan read %.1f MiB of roots and %.1f MiB of blocks" % (r["root_bytes"] / 2**20,
                                                                     r["heap_bytes"] / 2**20))'
python3 - "$OUT/memcheck.log" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
parts = []
for k in ("definitely lost", "indirectly lost", "possibly lost", "still reachable"):
    m = re.search(k + r": ([\d,]+) bytes in ([\d,]+) blocks", t)
    parts.append("%s %s blocks %s B" % (k.replace(" ", "_"), m.group(2).replace(",", ""),
                                        m.group(1).replace(",", "")) if m else k + " ?")
print("memcheck classes: " + ", ".join(parts))
PY
p=$(median <"$OUT/plain"); n=$(median <"$OUT/none"); e=$(median <"$OUT/exit")
s=$(median <"$OUT/scan"); m=$(median <"$OUT/memcheck")
echo
echo "| run | median s | vs plain |"
echo "| --- | --- | --- |"
awk -v p="$p" -v n="$n" -v e="$e" -v s="$s" -v m="$m" 'BEGIN {
    printf "| plain | %.2f | 1.00x |\n", p
    printf "| vitals --leak-check=none | %.2f | %.2fx |\n", n, n / p
    printf "| vitals --leak-check=exit | %.2f | %.2fx |\n", e, e / p
    printf "| the scan alone (from the trace) | %.3f | |\n", s
    printf "| memcheck --leak-check=full | %.2f | %.2fx |\n", m, m / p
    printf "\nvitals with the leak check is %.1fx faster than memcheck\n", m / e
}'
