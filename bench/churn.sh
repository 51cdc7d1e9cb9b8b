#!/bin/bash
# Overhead of vitals against heaptrack and the plain program, measured side by side in one run.
#
#   bench/churn.sh [RUNS]        (default 5 runs of each; medians are reported)
#
# Builds bench/churn.c, then for each workload runs plain, heaptrack and vitals in turn, RUNS
# times, and prints a Markdown table: median wall seconds, slowdown, and trace bytes per
# allocation. Then it times the readers (vitals report and heaptrack_print) on the same runs.
# Needs: gcc, heaptrack (Debian package), /usr/bin/time, python3. BUILD (default build) is the
# vitals build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BUILD=${BUILD:-build}
VITALS=$BUILD/vitals
OUT=$(mktemp -d /tmp/vitals-bench.XXXXXX)
export VITALS_HISTORY=  # the run history is measured by bench/history.sh, not here
trap 'rm -rf "$OUT"' EXIT
for tool in heaptrack heaptrack_print /usr/bin/time python3 gcc; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -x "$VITALS" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
gcc -O2 -g -fno-omit-frame-pointer -pthread bench/churn.c -o "$OUT/churn"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# wall seconds and peak RSS (KiB) of a command, appended to FILE
timed() { local file=$1; shift; /usr/bin/time -f "%e %M" -a -o "$file" "$@" >/dev/null 2>>"$OUT/stderr"; }

echo "| workload | plain s | heaptrack s | vitals s | heaptrack slowdown | vitals slowdown | vitals/heaptrack | heaptrack B/alloc | vitals B/alloc |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
bench_one() {
    local name=$1; shift
    local tag=${name// /_}
    rm -f "$OUT"/$tag.*
    for ((i = 0; i < RUNS; i++)); do
        timed "$OUT/$tag.plain" "$@"
        rm -f "$OUT/$tag.ht"*
        timed "$OUT/$tag.heaptrack" heaptrack -o "$OUT/$tag.ht" "$@"
        rm -f "$OUT/$tag.vtr"
        timed "$OUT/$tag.vitals" "$VITALS" run -q -o "$OUT/$tag.vtr" -- "$@"
    done
    local p h v
    p=$(cut -d' ' -f1 "$OUT/$tag.plain" | median)
    h=$(cut -d' ' -f1 "$OUT/$tag.heaptrack" | median)
    v=$(cut -d' ' -f1 "$OUT/$tag.vitals" | median)
    local allocs hsize vsize
    allocs=$("$VITALS" report "$OUT/$tag.vtr" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heap"]["alloc_calls"])')
    hsize=$(stat -c %s "$OUT/$tag.ht".*)
    vsize=$(stat -c %s "$OUT/$tag.vtr")
    python3 - "$name" "$p" "$h" "$v" "$allocs" "$hsize" "$vsize" <<'PY'
import sys
name, p, h, v, n, hs, vs = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {name} | {p:.2f} | {h:.2f} | {v:.2f} | {h/p:.1f}x | {v/p:.1f}x | {(v/p)/(h/p):.0%} | {hs/n:.2f} | {vs/n:.2f} |")
PY
}
bench_one "churn 5000000 1" "$OUT/churn" 5000000 1
bench_one "churn 2500000 2" "$OUT/churn" 2500000 2
if command -v sqlite3 >/dev/null; then
    cat > "$OUT/sqlite.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t SELECT x, printf('name-%d', x), x * 0.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(value) FROM t WHERE name LIKE 'name-1%';
SELECT name FROM t ORDER BY value DESC LIMIT 5;
SQL
    bench_one "sqlite3 (200k rows, index, queries)" sqlite3 :memory: ".read $OUT/sqlite.sql"
fi

echo
echo "| reader | trace | wall s | peak RSS MiB |"
echo "| --- | --- | --- | --- |"
read_one() {
    local label=$1 trace=$2 file=$3; shift 3
    rm -f "$OUT/$file"
    for ((i = 0; i < RUNS; i++)); do timed "$OUT/$file" "$@"; done
    local w m
    w=$(cut -d' ' -f1 "$OUT/$file" | median)
    m=$(cut -d' ' -f2 "$OUT/$file" | median)
    echo "| $label | $trace | $w | $(awk -v m="$m" 'BEGIN {printf "%.0f", m / 1024}') |"
}
read_one "heaptrack_print" "churn 2500000 2" r_ht2 heaptrack_print "$OUT"/churn_2500000_2.ht.zst
read_one "vitals report" "churn 2500000 2" r_v2 "$VITALS" report "$OUT/churn_2500000_2.vtr"
rm -f "$OUT/big.ht"* "$OUT/big.vtr"
heaptrack -o "$OUT/big.ht" "$OUT/churn" 20000000 1 >/dev/null 2>&1
"$VITALS" run -q -o "$OUT/big.vtr" -- "$OUT/churn" 20000000 1 >/dev/null
read_one "heaptrack_print" "churn 20000000 1" r_htb heaptrack_print "$OUT"/big.ht.zst
read_one "vitals report" "churn 20000000 1" r_vb "$VITALS" report "$OUT/big.vtr"
