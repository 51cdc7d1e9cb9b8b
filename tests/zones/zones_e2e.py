#!/usr/bin/env python3
"""End-to-end tests of libvitals' zones, counters, gauges, frames, tasks and pool/cache figures:
programs from tests/programs whose figures are known by construction, run under `vitals run`
(or with VITALS_TRACE), read back with `vitals report --format json`, exact values asserted.

Usage: zones_e2e.py --vitals PATH --agent PATH --programs DIR --work DIR CASE
Python 3 standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT = 60


class Ctx:
    def __init__(self, args):
        self.vitals = args.vitals
        self.agent = str(Path(args.agent).resolve())
        self.programs = Path(args.programs)
        self.work = Path(args.work)
        self.problems = []
        self.env = dict(os.environ)
        self.env.pop("LD_PRELOAD", None)
        self.env.pop("VITALS_TRACE", None)
        self.env["VITALS_AGENT"] = self.agent
        self.env["LC_ALL"] = "C"

    def eq(self, what, actual, expected):
        if actual != expected:
            self.problems.append(f"{what}: {actual!r}, expected {expected!r}")

    def check(self, cond, what):
        if not cond:
            self.problems.append(what)

    def run(self, cmd, env=None, check=True):
        r = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=TIMEOUT,
                           env=env or self.env)
        if check and r.returncode != 0:
            raise SystemExit(f"FAIL: {' '.join(map(str, cmd))} exited {r.returncode}:\n"
                             f"{r.stderr.decode(errors='replace')}")
        return r

    def traced(self, prog, args=(), quiet=True):
        trace = self.work / f"{prog}.vtr"
        r = self.run([self.vitals, "run"] + (["-q"] if quiet else []) +
                     ["-o", trace, "--", self.programs / prog] + list(args))
        return r, self.report(trace)

    def report(self, trace):
        rep = self.run([self.vitals, "report", trace, "--format", "json"])
        self.run([self.vitals, "report", trace])  # the text form must render too
        return json.loads(rep.stdout)


def by_name(entries, name):
    found = [e for e in entries if e["name"] == name]
    if len(found) != 1:
        raise SystemExit(f"FAIL: {len(found)} entries named {name!r} in {entries!r}")
    return found[0]


def check_zone(ctx, z, calls, errors, alloc_calls, alloc_bytes, label):
    ctx.eq(f"{label} calls", z["calls"], calls)
    ctx.eq(f"{label} errors", z["errors"], errors)
    if alloc_calls is not None:
        ctx.eq(f"{label} alloc_calls", z["alloc_calls"], alloc_calls)
        ctx.eq(f"{label} alloc_bytes", z["alloc_bytes"], alloc_bytes)
    order = [z[k] for k in ("min_ns", "p50_ns", "p90_ns", "p95_ns", "p99_ns", "p999_ns",
                            "max_ns")]
    ctx.check(order == sorted(order), f"{label}: min <= p50 <= ... <= max fails: {order}")
    ctx.check(abs(z["mean_ns"] * calls - z["total_ns"]) <= 1e-6 * z["total_ns"] + 1,
              f"{label}: mean x calls != total")
    ctx.check(z["rate_per_s"] > 0, f"{label}: no rate")
    ctx.eq(f"{label} windows' calls", sum(w["n"] for w in z["windows"]), calls)


def check_zones_program(ctx, rep, n, label, allocs=True):
    zs = rep["zones"]
    ctx.eq(f"{label} present", zs["present"], True)
    ctx.eq(f"{label} unmatched/open", (zs["unmatched_ends"], zs["open_at_end"]), (0, 0))
    names = sorted(z["name"] for z in zs["zones"])
    ctx.eq(f"{label} zones", names, ["inner", "outer", "sleep", "spin"])
    sleep = by_name(zs["zones"], "sleep")
    a = (lambda calls, size: (calls, size)) if allocs else (lambda calls, size: (None, None))
    check_zone(ctx, sleep, 20 * n, 5 * n, *a(0, 0), f"{label} sleep")
    # Each call sleeps 2 ms: no call is shorter; the median is near it (a busy machine may
    # delay a wake-up, never advance it).
    ctx.check(sleep["min_ns"] >= 2e6, f"{label} sleep: min {sleep['min_ns']} ns < 2 ms")
    ctx.check(sleep["p50_ns"] < 40e6, f"{label} sleep: median {sleep['p50_ns']} ns")
    check_zone(ctx, by_name(zs["zones"], "outer"), 10 * n, 0, *a(20 * n, 20000 * n),
               f"{label} outer")
    check_zone(ctx, by_name(zs["zones"], "inner"), 30 * n, 0, *a(30 * n, 3000 * n),
               f"{label} inner")
    spin = by_name(zs["zones"], "spin")
    check_zone(ctx, spin, 100 * n, 0, *a(0, 0), f"{label} spin")
    ctx.eq(f"{label} spin function", spin["function"], "spin")
    ctx.check(spin["file"].endswith("zones.c") and spin["line"] > 0, f"{label} spin location")
    ctx.eq(f"{label} zone order (by total time)", zs["zones"][0]["name"], "sleep")
    items = by_name(zs["counters"], "items")
    ctx.eq(f"{label} items", (items["total"], items["updates"]), (700 * n, 100 * n))
    ctx.eq(f"{label} items series total", items["series"][-1]["value"], 700 * n)
    refunds = by_name(zs["counters"], "refunds")
    ctx.eq(f"{label} refunds", (refunds["total"], refunds["updates"]), (-3 * n, n))
    depth = by_name(zs["gauges"], "depth")
    ctx.eq(f"{label} depth", (depth["min"], depth["max"], depth["updates"]), (0, 49, 50 * n))
    if n == 1:
        ctx.eq(f"{label} depth last", depth["last"], 49)
    frames = {f["name"]: f["marks"] for f in zs["frames"]}
    ctx.eq(f"{label} frames", frames, {None: 30 * n, "physics": 12 * n})


def case_zones(ctx):
    r, rep = ctx.traced("zones", quiet=False)
    ctx.eq("output", r.stdout, b"zones done\n")
    check_zones_program(ctx, rep, 1, "zones")
    err = r.stderr.decode()
    ctx.check("vitals: 4 zones (160 calls), most time in 'sleep'" in err,
              f"the summary does not mention the zones:\n{err}")
    # Without vitals the program runs the same, recording nothing.
    plain = ctx.run([ctx.programs / "zones"])
    ctx.eq("output without vitals", plain.stdout, b"zones done\n")


def case_zones_threads(ctx):
    _, rep = ctx.traced("zones", ["2"])
    check_zones_program(ctx, rep, 2, "zones 2 threads")


def case_zones_cxx(ctx):
    r, rep = ctx.traced("zones_cxx")
    ctx.eq("output", r.stdout, b"zones_cxx done\n")
    zs = rep["zones"]
    parse = by_name(zs["zones"], "parse")
    check_zone(ctx, parse, 40, 4, 40, 40 * 201, "parse")
    lookup = by_name(zs["zones"], "lookup")
    check_zone(ctx, lookup, 25, 0, 0, 0, "lookup")
    ctx.check("lookup" in lookup["function"], f"lookup's function: {lookup['function']}")
    ctx.eq("parsed", by_name(zs["counters"], "parsed")["total"], 40)


def case_zones_trace_env(ctx):
    """VITALS_TRACE=FILE without `vitals run`: libvitals loads the agent in zones-only mode."""
    trace = ctx.work / "env.vtr"
    env = dict(ctx.env)
    env["VITALS_TRACE"] = str(trace)
    r = ctx.run([ctx.programs / "zones"], env=env)
    ctx.eq("output", r.stdout, b"zones done\n")
    ctx.eq("stderr", r.stderr, b"")
    rep = ctx.report(trace)
    check_zones_program(ctx, rep, 1, "VITALS_TRACE", allocs=False)
    zs = rep["zones"]
    ctx.eq("zones_only", zs["zones_only"], True)
    ctx.eq("allocations recorded", rep["heap"]["alloc_calls"], 0)
    sleep = by_name(zs["zones"], "sleep")
    check_zone(ctx, sleep, 20, 5, None, None, "sleep")
    ctx.eq("alloc figures", (sleep["alloc_calls"], sleep["alloc_bytes"]), (None, None))
    ctx.eq("items", by_name(zs["counters"], "items")["total"], 700)
    # A bad path: the program runs on, untraced.
    env["VITALS_TRACE"] = str(ctx.work / "no-such-dir" / "x.vtr")
    r = ctx.run([ctx.programs / "zones"], env=env)
    ctx.eq("output with a bad VITALS_TRACE", r.stdout, b"zones done\n")


def case_zones_tsan(ctx):
    """Two threads recording zones, the program and libvitals built with ThreadSanitizer."""
    trace = ctx.work / "tsan.vtr"
    env = dict(ctx.env)
    env["VITALS_TRACE"] = str(trace)
    env["TSAN_OPTIONS"] = "halt_on_error=1:exitcode=66"
    r = ctx.run([ctx.programs / "zones_tsan", "2"], env=env, check=False)
    ctx.eq("exit status (66: a TSan report)", r.returncode, 0)
    ctx.check(b"ThreadSanitizer" not in r.stderr, r.stderr.decode(errors="replace"))
    if r.returncode == 0:
        check_zones_program(ctx, ctx.report(trace), 2, "zones_tsan", allocs=False)


def case_zones_disabled(ctx):
    """Built with -DVITALS_DISABLE, the program has no reference to libvitals."""
    prog = ctx.programs / "zones_disabled"
    nm = ctx.run(["nm", "--undefined-only", prog]).stdout.decode()
    refs = [l for l in nm.splitlines() if " vt_" in l or " vt__" in l]
    ctx.eq("libvitals symbols in the disabled build", refs, [])
    dyn = ctx.run(["objdump", "-p", prog]).stdout.decode()
    ctx.check("libvitals" not in dyn, f"the disabled build needs libvitals:\n{dyn}")
    r, rep = ctx.traced("zones_disabled")
    ctx.eq("output", r.stdout, b"zones done\n")
    ctx.eq("zones recorded", rep["zones"]["present"], False)
    ctx.eq("allocations still recorded", rep["heap"]["alloc_calls"] > 0, True)


def case_tasks(ctx):
    r, rep = ctx.traced("tasks", [ctx.work])
    ctx.eq("output", r.stdout, b"tasks done\n")
    zs = rep["zones"]
    tasks = zs["tasks"]
    ctx.eq("tasks", [(t["name"], t["kind"]) for t in tasks],
           [("burn", "cpu"), ("nap", "sleep"), ("save", "io"), ("fill", "memory")] * 3)
    for i, t in enumerate(tasks):
        scale = 2 if i >= 8 else 1
        label = f"task {i} ({t['name']})"
        ctx.check(t["user_ns"] is not None and t["rchar"] is not None, f"{label}: no usage")
        if t["name"] == "burn":
            ctx.check(t["user_ns"] + t["sys_ns"] >= scale * 40e6 * 0.95,
                      f"{label}: CPU {t['user_ns'] + t['sys_ns']} ns, expected {scale * 40} ms")
        if t["name"] == "nap":
            ctx.check(t["wall_ns"] >= scale * 40e6, f"{label}: wall {t['wall_ns']}")
            ctx.check(t["vcsw"] >= 1, f"{label}: no voluntary context switch")
        if t["name"] == "save":
            ctx.eq(f"{label} wchar", t["wchar"], scale << 20)
            # what reached storage: the data, and some of the file system's own blocks
            ctx.check(scale << 20 <= t["write_bytes"] <= (scale << 20) + (64 << 10),
                      f"{label}: write_bytes {t['write_bytes']}")
        else:
            # The program writes nothing else; under `vitals run` the agent's own stack capture
            # (libunwind checks addresses with a write to a pipe) may add a few bytes.
            ctx.check(t["wchar"] < 64, f"{label}: wchar {t['wchar']}")
        if t["name"] == "fill":
            ctx.eq(f"{label} allocations", (t["alloc_calls"], t["alloc_bytes"]),
                   (16 * scale, 16 * scale << 20))
        else:
            ctx.eq(f"{label} allocations", (t["alloc_calls"], t["alloc_bytes"]), (0, 0))
    kinds = {k["kind"]: k for k in zs["task_kinds"]}
    ctx.eq("classes", {k: v["class"] for k, v in kinds.items()},
           {"cpu": "cpu", "sleep": "wait", "io": "io", "memory": "memory"})
    for k in kinds.values():
        ctx.eq(f"{k['kind']} tasks", k["tasks"], 3)
        mine = [t["vs_baseline"] for t in tasks if t["kind"] == k["kind"]]
        ctx.check(1.0 in mine, f"{k['kind']}: no task at the median: {mine}")
    # The third nap sleeps twice as long: it stands out against its kind's median. (The wall
    # times of the other kinds depend on how busy the machine is.)
    for kind in ("sleep",):
        mine = [t for t in tasks if t["kind"] == kind]
        ctx.check(mine[2]["vs_baseline"] == max(t["vs_baseline"] for t in mine) and
                  mine[2]["vs_baseline"] > 1.3,
                  f"{kind}: the third task is not the slowest against the median: "
                  f"{[t['vs_baseline'] for t in mine]}")


def case_pool_cache(ctx):
    r, rep = ctx.traced("pool_cache")
    out = r.stdout.decode()
    ctx.check(out.endswith("pool_cache done\n"), f"output: {out!r}")
    created = int(out.split("messages: created ")[1].split()[0])
    zs = rep["zones"]
    messages = by_name(zs["pools"], "messages")
    want = {"object_size": 64, "max": 0, "created": created, "in_use": 3, "high_water": 100,
            "acquires": 153, "served_pool": 153, "served_malloc": 0, "reused": 53,
            "releases": 150, "final": False}
    ctx.eq("messages", {k: messages[k] for k in want}, want)
    ctx.check(abs(messages["reuse_ratio"] - 53 / 153) < 1e-12, "messages: reuse ratio")
    bounded = by_name(zs["pools"], "bounded")
    want = {"object_size": 32, "max": 10, "created": 10, "in_use": 0, "high_water": 15,
            "acquires": 15, "served_pool": 10, "served_malloc": 5, "releases": 15,
            "final": True}
    ctx.eq("bounded", {k: bounded[k] for k in want}, want)
    pages = by_name(zs["caches"], "pages")
    want = {"gets": 15, "hits": 10, "hits_compressed": 0, "misses": 5, "puts": 20,
            "evictions": 10, "expirations": 0, "entries": 10, "bytes": 10 * (64 + 4 + 100),
            "bytes_compressed": 0, "final": False}
    ctx.eq("pages", {k: pages[k] for k in want}, want)
    ctx.check(abs(pages["hit_rate"] - 10 / 15) < 1e-12, "pages: hit rate")
    text = ctx.run([ctx.vitals, "report", ctx.work / "pool_cache.vtr"]).stdout.decode()
    ctx.check("pool  messages" in text and "cache pages" in text,
              "the text report does not show the pool and the cache")


def case_zones_aggregated(ctx):
    """VITALS_ZONE_SPANS=0: no call written as a span, every figure from the threads'
    aggregates (two threads under `vitals run`, one under VITALS_TRACE)."""
    env = dict(ctx.env)
    env["VITALS_ZONE_SPANS"] = "0"
    trace = ctx.work / "agg.vtr"
    ctx.run([ctx.vitals, "run", "-q", "-o", trace, "--", ctx.programs / "zones", "2"], env=env)
    rep = ctx.report(trace)
    check_zones_program(ctx, rep, 2, "aggregated, 2 threads")
    zs = rep["zones"]
    ctx.eq("aggregated, spans limit, lost", (zs["aggregated"], zs["spans_limit"],
                                             zs["zones_lost"]), (True, 0, 0))
    env["VITALS_TRACE"] = str(ctx.work / "agg-env.vtr")
    ctx.run([ctx.programs / "zones"], env=env)
    check_zones_program(ctx, ctx.report(ctx.work / "agg-env.vtr"), 1, "aggregated, VITALS_TRACE",
                        allocs=False)


def case_zones_spans(ctx):
    """VITALS_ZONE_SPANS=50: the first 50 calls are drawn in the Chrome trace, the other 110
    are counted there as not drawn, and every figure is the same as with all of them."""
    env = dict(ctx.env)
    env["VITALS_ZONE_SPANS"] = "50"
    trace = ctx.work / "spans.vtr"
    ctx.run([ctx.vitals, "run", "-q", "-o", trace, "--", ctx.programs / "zones"], env=env)
    rep = ctx.report(trace)
    check_zones_program(ctx, rep, 1, "50 spans")
    ctx.eq("spans limit", rep["zones"]["spans_limit"], 50)
    chrome = ctx.work / "spans.json"
    ctx.run([ctx.vitals, "report", trace, "-f", "chrome", "-o", chrome])
    events = json.loads(chrome.read_text())
    events = events["traceEvents"] if isinstance(events, dict) else events
    slices = [e for e in events if e.get("cat") == "zone" and e.get("ph") == "X"]
    ctx.eq("zone slices drawn", len(slices), 50)
    # The program's first zones: 20 of "sleep", then "outer" with 3 of "inner" inside each.
    ctx.eq("slices by name", {n: sum(1 for e in slices if e["name"] == n)
                              for n in ("sleep", "outer", "inner")},
           {"sleep": 20, "outer": 8, "inner": 22})
    not_drawn = [e for e in events if e.get("name") == "zone calls not drawn"]
    ctx.eq("calls not drawn", [e["args"]["calls"] for e in not_drawn], [110])


def case_zones_limits(ctx):
    """What a thread cannot record is counted (tests/programs/zones_limits.c), with and without
    spans; the rest is exact."""
    for spans in ("0", "200000"):
        env = dict(ctx.env)
        env["VITALS_ZONE_SPANS"] = spans
        trace = ctx.work / f"limits-{spans}.vtr"
        r = ctx.run([ctx.vitals, "run", "-q", "-o", trace, "--", ctx.programs / "zones_limits"],
                    env=env)
        ctx.eq("output", r.stdout, b"zones_limits done\n")
        zs = ctx.report(trace)["zones"]
        label = f"spans {spans}"
        ctx.eq(f"{label}: lost, unmatched, open", (zs["zones_lost"], zs["unmatched_ends"],
                                                    zs["open_at_end"]), (25, 1, 301))
        recorded = [z for z in zs["zones"] if z["calls"]]
        ctx.eq(f"{label}: zones with calls", len(recorded), 385)
        # "left" never ended: listed (with no calls) only when its begins were written as spans
        ctx.eq(f"{label}: zones listed", len(zs["zones"]), 385 + (spans != "0"))
        check_zone(ctx, by_name(zs["zones"], "worker"), 3000, 0, 3000, 30000, f"{label} worker")
        ctx.eq(f"{label}: deep", by_name(zs["zones"], "deep")["calls"], 64)
        ctx.eq(f"{label}: twice", by_name(zs["zones"], "twice")["calls"], 1)
        sites = sorted(z["line"] for z in zs["zones"] if z["name"] == "site")
        ctx.eq(f"{label}: sites", sites, list(range(1000, 1381)))
        wide = by_name(zs["zones"], "wide")
        check_zone(ctx, wide, 2000, 0, 0, 0, f"{label} wide")
        # durations spread evenly over 0 to 1999 iterations: the 99th percentile about twice
        # the median
        ctx.check(wide["p99_ns"] > 1.5 * wide["p50_ns"] > 0, f"{label} wide: {wide}")


def case_zones_batch(ctx):
    """The durations a thread holds back before counting them in its histogram are all counted
    (tests/programs/zones_batch.c): the percentiles that can only be long calls are, with
    spans and without, under `vitals run` and VITALS_TRACE."""
    for spans in ("0", "200000"):
        for how in ("run", "trace"):
            env = dict(ctx.env)
            env["VITALS_ZONE_SPANS"] = spans
            trace = ctx.work / f"batch-{how}-{spans}.vtr"
            cmd = [ctx.programs / "zones_batch"]
            if how == "run":
                cmd = [ctx.vitals, "run", "-q", "-o", trace, "--"] + cmd
            else:
                env["VITALS_TRACE"] = str(trace)
            r = ctx.run(cmd, env=env)
            label = f"{how}, spans {spans}"
            ctx.eq(f"{label}: output", r.stdout, b"zones_batch done\n")
            z = by_name(ctx.report(trace)["zones"]["zones"], "ranks")
            check_zone(ctx, z, 80, 0, None, None, f"{label} ranks")
            # 2 ms, less the histogram's relative error (under 1/64)
            for p in ("p90_ns", "p95_ns", "p99_ns", "p999_ns", "max_ns"):
                ctx.check(z[p] >= 1.96e6, f"{label}: {p} {z[p]} ns < 2 ms")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def run(cases, doc):
    """The command line of the zones runners: --vitals, --agent, --programs, --work and one
    case of cases (name -> function of a Ctx). Returns the exit status."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--vitals", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--programs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case", choices=sorted(cases))
    args = ap.parse_args()
    ctx = Ctx(args)
    ctx.work = ctx.work / args.case
    shutil.rmtree(ctx.work, ignore_errors=True)
    ctx.work.mkdir(parents=True)
    cases[args.case](ctx)
    if ctx.problems:
        print(f"FAIL {args.case}:\n  - " + "\n  - ".join(ctx.problems), file=sys.stderr)
        return 1
    print(f"PASS {args.case}")
    return 0


def main():
    return run(CASES, __doc__)


if __name__ == "__main__":
    sys.exit(main())
