#!/usr/bin/env python3
"""End-to-end tests of vitals diff, budgets (--fail-on, run --budget), run --repeat and the run
history: real runs of tests/programs/grow, whose difference is known by construction
(`grow N S` holds 10 blocks of 100 B and N blocks of S bytes, so its peak is 1000 + N * S).

Usage: diff_e2e.py --vitals PATH --agent-dir DIR --programs DIR --work DIR CASE
Uses the Ctx of e2e.py. Python 3 standard library only.
"""

import concurrent.futures
import json
import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e  # noqa: E402
from e2e import Failed  # noqa: E402


def peak_of(n, size):
    return 1000 + n * size


def grow(ctx, name, n, size, *extra, prog="grow", opts=()):
    """Runs grow under vitals into WORK/name; returns the trace's path."""
    trace = ctx.work / name
    r = ctx.vitals_cmd(["run", "-q", "-o", trace] + list(opts) +
                       ["--", ctx.prog(prog), str(n), str(size)] + list(extra))
    ctx.require(r.returncode == 0, f"vitals run {prog} {n} {size} exited {r.returncode}: "
                f"{r.stderr.decode(errors='replace')}")
    ctx.require(trace.is_file(), f"no trace at {trace}")
    return trace


def diff(ctx, args, status=None):
    r = ctx.vitals_cmd(["diff"] + [str(a) for a in args])
    if status is not None:
        ctx.eq(f"'vitals diff {' '.join(map(str, args))}': exit status", r.returncode, status)
    return r


def diff_json(ctx, args, status=0):
    r = diff(ctx, list(args) + ["--format", "json", "--top", "1000"], status)
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise Failed(f"vitals diff printed invalid JSON ({e}): {r.stdout[:500]!r}; stderr: "
                     f"{r.stderr.decode(errors='replace')}")


def figure(d, name):
    for f in d["figures"]:
        if f["name"] == name:
            return f
    raise Failed(f"no figure '{name}' in the diff")


def site_with(d, fn):
    return [e for e in d["sites"]["entries"] if e["stack"] and e["stack"][0]["function"] == fn]


def case_diff_known(ctx):
    """grow 5 256 against grow 12 256 leak: grow_site grew by exactly 7 blocks of 256 B,
    leak_site is new with one block of 77 B, steady_site did not change."""
    base = grow(ctx, "base.vtr", 5, 256)
    new = grow(ctx, "new.vtr", 12, 256, "leak")
    d = diff_json(ctx, [base, new])
    ctx.eq("schema", (d["schema"], d["version"]), ("vitals-diff", 1))
    ctx.eq("runs", (d["base"]["runs"], d["new"]["runs"]), (1, 1))
    ctx.eq("noise estimate", d["noise"]["estimate"], False)
    for name, b, n in (("peak", peak_of(5, 256), peak_of(12, 256)), ("allocs", 15, 23),
                       ("allocated", 1000 + 5 * 256, 1000 + 12 * 256 + 77), ("leaked", 0, 77),
                       ("leaked_blocks", 0, 1), ("peak_blocks", 15, 22), ("frees", 15, 22)):
        f = figure(d, name)
        ctx.eq(f"figure {name}", (f["base"], f["new"], f["change"]), (b, n, n - b))
        ctx.eq(f"figure {name}: one value per run", (f["base_runs"], f["new_runs"]), ([b], [n]))
    ctx.eq("peak relative", round(figure(d, "peak")["relative"], 6),
           round(7 * 256 / peak_of(5, 256) * 100, 6))
    ctx.eq("sites by", d["sites"]["by"], "bytes")
    ctx.eq("sites changed", d["sites"]["changed"], 2)
    entries = d["sites"]["entries"]
    ctx.eq("ranked by absolute change", [e["stack"][0]["function"] for e in entries],
           ["grow_site", "leak_site"])
    g = site_with(d, "grow_site")
    if ctx.check(len(g) == 1, f"grow_site entries: {g}"):
        g = g[0]
        ctx.eq("grow_site change", g["change"], "grown")
        ctx.eq("grow_site delta", g["delta"], 7 * 256)
        ctx.eq("grow_site base", (g["base"]["calls"], g["base"]["bytes"], g["base"]["peak"]),
               (5, 5 * 256, 5 * 256))
        ctx.eq("grow_site new", (g["new"]["calls"], g["new"]["bytes"], g["new"]["peak"]),
               (12, 12 * 256, 12 * 256))
        ctx.eq("grow_site stack", [(f["function"], f["module"]) for f in g["stack"][:2]],
               [("grow_site", "<main>"), ("main", "<main>")])
    lk = site_with(d, "leak_site")
    if ctx.check(len(lk) == 1, f"leak_site entries: {lk}"):
        ctx.eq("leak_site", (lk[0]["change"], lk[0]["delta"], lk[0]["new"]["leaked"]),
               ("added", 77, 77))
    # The flame graph's data: every matched stack, root first, steady_site unchanged.
    stacks = d["flame"]["stacks"]
    steady = [s for s in stacks if s["frames"][-1]["function"] == "steady_site"]
    if ctx.check(len(steady) == 1, f"flame: steady_site stacks: {steady}"):
        ctx.eq("flame steady_site", (steady[0]["base"]["bytes"], steady[0]["new"]["bytes"]),
               (1000, 1000))
        ctx.eq("flame frames are root first", steady[0]["frames"][-2]["function"], "main")
    # Ranked by calls, the same sites; by leaked only leak_site.
    d = diff_json(ctx, [base, new, "--by", "calls"])
    ctx.eq("by calls", [(e["stack"][0]["function"], e["delta"]) for e in d["sites"]["entries"]],
           [("grow_site", 7), ("leak_site", 1)])
    d = diff_json(ctx, [base, new, "--by", "leaked"])
    ctx.eq("by leaked", [(e["stack"][0]["function"], e["delta"]) for e in d["sites"]["entries"]],
           [("leak_site", 77)])
    # Swapped: shrunk and removed.
    d = diff_json(ctx, [new, base])
    ctx.eq("swapped", [(e["stack"][0]["function"], e["change"], e["delta"])
                       for e in d["sites"]["entries"]],
           [("grow_site", "shrunk", -7 * 256), ("leak_site", "removed", -77)])
    # Text and Markdown say the same.
    out = diff(ctx, [base, new], 0).stdout.decode()
    for want in ("grow_site", "grown", "+1.75 KiB", "leak_site", "added", "no noise estimate"):
        ctx.check(want in out, f"text lacks {want!r}:\n{out}")
    md = diff(ctx, [base, new, "--format", "markdown", "--fail-on", "peak > +10%"], 1)
    md = md.stdout.decode()
    for want in ("### vitals diff: regression (1 of 1 budgets broken)", "| :x: | `peak > +10%`",
                 "| grown | +1.75 KiB | 1.25 KiB | 3.00 KiB | `grow_site` ← `main`"):
        ctx.check(want in md, f"markdown lacks {want!r}:\n{md}")
    # -o writes the same output to a file.
    out_file = ctx.work / "diff.json"
    r = diff(ctx, [base, new, "-f", "json", "-o", out_file], 0)
    ctx.eq("-o: stdout", r.stdout, b"")
    ctx.eq("-o: file", json.loads(out_file.read_text())["sites"]["changed"], 2)


def case_diff_rebuilt(ctx):
    """A renamed and rebuilt program (grow_rebuilt: other code before every site, so every
    address moves) matches every site of grow."""
    base = grow(ctx, "grow.vtr", 12, 256, "leak")
    new = grow(ctx, "grow_rebuilt.vtr", 12, 256, "leak", prog="grow_rebuilt")
    reps = [ctx.report(t) for t in (base, new)]
    addrs = []
    for rep in reps:
        s = e2e.with_function(rep["sites_by_calls"]["entries"], "grow_site")
        ctx.require(len(s) == 1, f"grow_site in the report: {s}")
        addrs.append(s[0]["stack"][0]["address"])
    ctx.check(addrs[0] != addrs[1], f"grow_site's address did not move: {addrs}")
    ctx.check(reps[0]["process"]["exe"] != reps[1]["process"]["exe"],
              "the rebuilt program has the same path")
    d = diff_json(ctx, [base, new])
    ctx.eq("changed sites", d["sites"]["changed"], 0)
    ctx.eq("matched sites", d["sites"]["matched"], len(reps[0]["sites_by_calls"]["entries"]))
    for name in ("peak", "allocs", "leaked", "allocated"):
        f = figure(d, name)
        ctx.eq(f"{name} unchanged", f["change"], 0)


def case_diff_exit(ctx):
    """Every exit status of vitals diff: 0 pass, 1 a broken budget, 2 usage or input error."""
    base = grow(ctx, "base.vtr", 5, 256)
    new = grow(ctx, "new.vtr", 12, 256, "leak")
    none = grow(ctx, "none.vtr", 5, 256, opts=["--leak-check=none"])
    (ctx.work / "empty.vtr").write_bytes(b"")

    def expect(args, status, err_has=None, out_has=None):
        r = diff(ctx, args, status)
        err, out = r.stderr.decode(errors="replace"), r.stdout.decode(errors="replace")
        if err_has:
            ctx.check(err_has in err, f"'vitals diff {' '.join(map(str, args))}': stderr lacks "
                      f"{err_has!r}:\n{err}")
        if out_has:
            ctx.check(out_has in out, f"'vitals diff {' '.join(map(str, args))}': stdout lacks "
                      f"{out_has!r}:\n{out}")
        if status == 2:
            ctx.check(err.startswith("vitals: "), f"no message for {args}: {err!r}")
        return err

    expect([base, new], 0)
    expect([base, new, "--fail-on", "peak > +100%"], 0, out_has="verdict: pass")
    expect([base, new, "--fail-on", "peak > +10%"], 1, out_has="verdict: regression")
    expect([base, new, "--fail-on", "leaked > 0"], 1, out_has="FAIL   leaked > 0")
    expect([base, base, "--fail-on", "leaked > 0", "--fail-on", "allocs > +20%"], 0)
    expect([base, new, "--fail-on", "allocs > +50%", "--fail-on", "allocs > +60%"], 1,
           out_has="1 of 2 budgets broken")
    expect([new, base, "--fail-on", "peak < -40%"], 1)
    expect([base, new, "--fail-on", "peak > +1KiB"], 1)
    expect([base, new, "--fail-on", "peak > +2KiB"], 0)
    # Bad rules point at the offending character.
    err = expect([base, new, "--fail-on", "peak > +10x"], 2, err_has="unknown unit 'x'")
    ctx.check("    peak > +10x\n              ^" in err, f"caret under 'x':\n{err}")
    err = expect([base, new, "--fail-on", "zonk:parse p99 > +15%"], 2,
                 err_has="unknown figure 'zonk'")
    ctx.check("    zonk:parse p99 > +15%\n    ^" in err, f"caret under 'zonk':\n{err}")
    expect([base, new, "--fail-on", "zone:parse p99 > +15%"], 2, err_has="holds no zones")
    err = expect([base, new, "--fail-on", "allocs > 1MiB"], 2, err_has="a count")
    ctx.check("    allocs > 1MiB\n             ^" in err, f"caret under the limit:\n{err}")
    expect([base, new, "--fail-on", "peak > 10%"], 2, err_has="a percentage is a change")
    expect([base, none, "--fail-on", "definitely_lost > 0"], 2, err_has="leak check")
    expect([], 2, err_has="which traces?")
    expect([base], 2, err_has="expected two traces")
    expect([base, new, new], 2, err_has="expected two traces")
    expect([base, "--"], 2, err_has="new side")
    expect(["--", new], 2, err_has="base side")
    expect([base, "/nonexistent.vtr"], 2, err_has="/nonexistent.vtr")
    expect([base, "empty.vtr"], 2, err_has="not a vitals trace")
    expect([base, "/etc/passwd"], 2, err_has="not a vitals trace")
    expect([base, new, "--by", "nope"], 2, err_has="'nope'")
    expect([base, new, "--format", "nope"], 2, err_has="'nope'")
    expect([base, new, "--test", "nope"], 2, err_has="'nope'")
    expect([base, new, "--alpha", "1.5"], 2, err_has="--alpha")
    expect([base, new, "--bogus"], 2, err_has="'--bogus'")
    expect([base, new, "--fail-on"], 2, err_has="needs a value")
    expect([base, new, "-o", "/nonexistent/dir/x"], 2, err_has="/nonexistent/dir/x")
    expect(["--help"], 0, out_has="usage: vitals diff")
    expect(["--figures"], 0, out_has="definitely_lost")
    r = ctx.vitals_cmd(["help", "diff"])
    ctx.eq("help diff", r.returncode, 0)


def case_diff_noise(ctx):
    """vitals run --repeat writes one trace per run; diff of 3 runs against 3 runs weighs each
    change against the noise and reports the confidence."""
    r = ctx.vitals_cmd(["run", "-q", "--repeat", "3", "-o", "base/", "--", ctx.prog("grow"),
                        "5", "256"])
    ctx.eq("repeat: exit status", r.returncode, 0)
    ctx.eq("repeat: the program's output each run", r.stdout, b"grow done\n" * 3)
    ctx.eq("repeat: traces", sorted(p.name for p in (ctx.work / "base").iterdir()),
           ["grow.1.vtr", "grow.2.vtr", "grow.3.vtr"])
    r = ctx.vitals_cmd(["run", "-q", "--repeat", "3", "-o", "new.vtr", "--", ctx.prog("grow"),
                        "6", "256"])
    ctx.eq("repeat -o new.vtr: traces", sorted(p.name for p in ctx.work.glob("new.*.vtr")),
           ["new.1.vtr", "new.2.vtr", "new.3.vtr"])
    news = sorted(ctx.work.glob("new.*.vtr"))
    for test in ("welch", "mann-whitney"):
        d = diff_json(ctx, ["base", "--test", test, "--", *news, "--fail-on", "allocs > +5%",
                            "--fail-on", "peak > +20%"], status=1)
        ctx.eq(f"{test}: runs", (d["base"]["runs"], d["new"]["runs"]), (3, 3))
        ctx.eq(f"{test}: noise", (d["noise"]["estimate"], d["noise"]["test"]), (True, test))
        f = figure(d, "allocs")
        ctx.eq(f"{test}: allocs per run", (f["base_runs"], f["new_runs"]),
               ([15, 15, 15], [16, 16, 16]))
        ctx.eq(f"{test}: test name", f["test"]["name"], test)
        b = d["budgets"]
        ctx.eq(f"{test}: budgets broken", [x["broken"] for x in b], [True, False])
        ctx.check(b[0]["test"] is not None and b[0]["test"]["confidence"] > 0.95,
                  f"{test}: confidence of allocs > +5%: {b[0]['test']}")
        if test == "welch":
            # Constant on each side: no noise at all, p = 0.
            ctx.eq("welch: p of allocs", f["test"]["p"], 0)
    out = diff(ctx, ["base", "--", *news], 0).stdout.decode()
    ctx.check("noise: 3 base and 3 new runs" in out and "Welch's t-test" in out,
              f"text does not describe the noise estimate:\n{out}")
    out = diff(ctx, ["base/grow.1.vtr", news[0]], 0).stdout.decode()
    ctx.check("no noise estimate exists" in out, f"single runs: no word on noise:\n{out}")
    # The exit status of a repetition is the first non-zero one.
    r = ctx.vitals_cmd(["run", "-q", "--repeat", "2", "-o", "bad.vtr", "--", ctx.prog("grow")])
    ctx.eq("repeat of a failing program: exit status", r.returncode, 2)
    ctx.eq("repeat of a failing program: traces", sorted(p.name for p in
                                                          ctx.work.glob("bad.*.vtr")),
           ["bad.1.vtr", "bad.2.vtr"])
    r = ctx.vitals_cmd(["run", "--repeat", "0", "--", "true"])
    ctx.eq("--repeat 0", r.returncode, 2)


def case_run_budget(ctx):
    """vitals run --budget FILE: limits checked at the end; 3 (or --budget-status) when one is
    broken and the program exited 0, the program's status otherwise."""
    ok = ctx.work / "ok.budget"
    ok.write_text("# limits of grow 5 256\npeak > 3KiB\nleaked > 0   # no leaks\n\n"
                  "allocs > 15\n")
    prog = ctx.prog("grow")

    def run(budget, args, *opts):
        return ctx.vitals_cmd(["run", "-q", "--budget", budget, *opts, "-o", "t.vtr", "--",
                               prog, *args])

    r = run(ok, ["5", "256"])
    ctx.eq("within budget: status", r.returncode, 0)
    err = r.stderr.decode()
    ctx.check("budget pass peak > 3KiB: 2.23 KiB" in err, f"no verdict on stderr:\n{err}")
    r = run(ok, ["6", "256"])
    ctx.eq("allocs over budget: status", r.returncode, 3)
    ctx.check("budget FAIL allocs > 15: 16" in r.stderr.decode(), r.stderr.decode())
    ctx.eq("the program's output", r.stdout, b"grow done\n")
    r = run(ok, ["12", "256", "leak"], "--budget-status", "7")
    ctx.eq("--budget-status 7", r.returncode, 7)
    ctx.check("3 of 3 limits broken" in r.stderr.decode(), r.stderr.decode())
    # A program that fails keeps its status; the budget is still reported.
    zero = ctx.work / "zero.budget"
    zero.write_text("allocs < 1\n")
    r = run(zero, [])
    ctx.eq("failing program: its status", r.returncode, 2)
    ctx.check("the exit status is the program's (2)" in r.stderr.decode(), r.stderr.decode())
    # Bad budget files: usage errors before the program runs.
    for text, err_has in (("peak > +10%\n", "absolute limits"), ("peak > 3XB\n", "unknown unit"),
                          ("zonk:parse p99 > 1ms\n", "unknown figure"),
                          ("# nothing\n", "holds no rule")):
        bad = ctx.work / "bad.budget"
        bad.write_text(text)
        r = ctx.vitals_cmd(["run", "-q", "--budget", bad, "--", prog, "5", "256"])
        ctx.eq(f"budget {text.strip()!r}: status", r.returncode, 2)
        ctx.eq(f"budget {text.strip()!r}: the program did not run", r.stdout, b"")
        ctx.check(err_has in r.stderr.decode(), f"{text!r}: stderr lacks {err_has!r}:\n"
                  f"{r.stderr.decode()}")
    bad.write_text("peak > 1MiB\nleaked > 3XB\n")
    r = ctx.vitals_cmd(["run", "--budget", bad, "--", prog])
    ctx.check(f"{bad}:2:" in r.stderr.decode() and "        ^" in r.stderr.decode(),
              f"no line number and caret:\n{r.stderr.decode()}")
    r = ctx.vitals_cmd(["run", "--budget", "/nonexistent.budget", "--", prog])
    ctx.eq("missing budget file", r.returncode, 2)
    r = ctx.vitals_cmd(["run", "--budget-status", "0", "--", prog])
    ctx.eq("--budget-status 0", r.returncode, 2)


def named(d, name):
    for f in d["named"]:
        if f["name"] == name:
            return f
    raise Failed(f"no figure '{name}' in the diff's zones and counters: "
                 f"{[f['name'] for f in d['named']]}")


def case_diff_zones(ctx):
    """Zone and counter figures: zone_sleep 1 against zone_sleep 30 (the zone "parse" sleeps 1 ms
    and 30 ms by construction, 20 calls each; the counter "records" is 60 in both)."""
    traces = []
    for ms in (1, 30):
        t = ctx.work / f"zones-{ms}.vtr"
        r = ctx.vitals_cmd(["run", "-q", "--no-history", "-o", t, "--", ctx.prog("zone_sleep"),
                            str(ms)])
        ctx.require(r.returncode == 0, f"vitals run zone_sleep {ms}: {r.stderr.decode()}")
        ctx.eq(f"zone_sleep {ms}: its output", r.stdout, b"zone_sleep done\n")
        traces.append(t)
    d = diff_json(ctx, traces)
    ctx.eq("zone:parse calls (base, new)", (named(d, "zone:parse calls")["base"],
                                            named(d, "zone:parse calls")["new"]), (20, 20))
    ctx.eq("zone:emit calls (base, new)", (named(d, "zone:emit calls")["base"],
                                           named(d, "zone:emit calls")["new"]), (10, 10))
    ctx.eq("counter:records (base, new)", (named(d, "counter:records")["base"],
                                           named(d, "counter:records")["new"]), (60, 60))
    p99 = named(d, "zone:parse p99")
    ctx.eq("zone:parse p99 unit", p99["unit"], "ns")
    ctx.check(1e6 <= p99["base"] < 30e6, f"base p99 {p99['base']} ns: expected >= 1 ms")
    ctx.check(p99["new"] >= 30e6, f"new p99 {p99['new']} ns: expected >= 30 ms")
    ctx.eq("zone:parse calls unit", named(d, "zone:parse calls")["unit"], "count")
    # The rule of the issue fails (exit 1); looser limits pass (exit 0).
    r = diff(ctx, traces + ["--fail-on", "zone:parse p99 > +15%"], 1)
    ctx.check(b"FAIL   zone:parse p99 > +15%" in r.stdout, f"no FAIL line:\n{r.stdout.decode()}")
    ctx.check(b"zone:parse p99" in r.stdout and b"zones and counters" in r.stdout,
              f"the text lacks the zones:\n{r.stdout.decode()}")
    r = diff(ctx, traces + ["--fail-on", "zone:parse p99 > +1s", "--fail-on",
                            "zone:parse calls != +0", "--fail-on", "counter:records != 60",
                            "--fail-on", "zone:emit calls > +0%"], 0)
    r = diff(ctx, traces + ["-f", "markdown", "--fail-on", "zone:parse p99 > +15%"], 1)
    ctx.check(b"`zone:parse p99`" in r.stdout, f"Markdown lacks the zone:\n{r.stdout.decode()}")
    # Bad rules: usage errors (2) that say why.
    for rule, err_has in (("zone:parse p42 > 1ms", "no statistic 'p42'"),
                          ("zone:parse calls > 1ms", "a count"),
                          ("zone p99 > 1ms", "needs a name"),
                          ("counter:records p99 > 1", "no statistic"),
                          ("zone:nope p99 > +1%", "no zone of that name"),
                          ("cpu > +10%", "no CPU profile"),
                          ("cpu:main share > 1MiB", "percentage")):
        r = diff(ctx, traces + ["--fail-on", rule], 2)
        ctx.check(err_has in r.stderr.decode(), f"{rule!r}: stderr lacks {err_has!r}:\n"
                  f"{r.stderr.decode()}")
    # vitals run --budget with a zone limit, and the history's trend of a zone figure.
    budget = ctx.work / "zones.budget"
    budget.write_text("zone:parse p99 > 1s\nzone:parse calls > 20\n")
    db = ctx.work / "zones-history.db"
    for ms in (1, 30):
        r = ctx.vitals_cmd(["run", "-q", "--budget", budget, "--history", db, "-o",
                            ctx.work / "zb.vtr", "--", ctx.prog("zone_sleep"), str(ms)])
        ctx.eq(f"run --budget zone_sleep {ms}: status", r.returncode, 0)
        ctx.check("budget pass zone:parse calls > 20: 20" in r.stderr.decode(), r.stderr.decode())
    t = history_json(ctx, db, "trend", "zone:parse p99")
    vals = [p["value"] for p in t["points"]]
    ctx.eq("history trend zone:parse p99: points", len(vals), 2)
    ctx.check(vals[0] < 30e6 <= vals[1], f"trend values {vals}")
    t = history_json(ctx, db, "trend", "counter:records")
    ctx.eq("history trend counter:records", [p["value"] for p in t["points"]], [60, 60])
    # Task kinds (tests/programs/tasks.c: three tasks of each kind; a "sleep" task sleeps at
    # least 40 ms, a "cpu" one uses at least 40 ms of CPU).
    tt = ctx.work / "tasks.vtr"
    r = ctx.vitals_cmd(["run", "-q", "--no-history", "-o", tt, "--", ctx.prog("tasks"),
                        ctx.work])
    ctx.require(r.returncode == 0, f"vitals run tasks: {r.stderr.decode()}")
    diff(ctx, [tt, tt, "--fail-on", "task:cpu tasks != 3", "--fail-on", "task:sleep wall < 40ms",
               "--fail-on", "task:cpu cpu < 40ms", "--fail-on", "task:io tasks > +0%"], 0)
    diff(ctx, [tt, tt, "--fail-on", "task:sleep tasks == 3"], 1)


def case_diff_cpu(ctx):
    """CPU figures: cpu_split with 600000 and 1200000 work units per round (tests/programs/
    cpu_split.c: hot70 runs 70% of the work, cold30 30%), so the CPU time doubles by construction
    and the shares stay. Sampled, so bounds rather than exact values."""
    traces = []
    for units in (600000, 1200000):
        t = ctx.work / f"cpu-{units}.vtr"
        r = ctx.vitals_cmd(["run", "-q", "--no-history", "--cpu", "-o", t, "--",
                            ctx.prog("cpu_split"), "", str(units)])
        ctx.require(r.returncode == 0, f"vitals run cpu_split: {r.stderr.decode()}")
        traces.append(t)
    d = diff_json(ctx, traces)
    cpu = figure(d, "cpu")
    ctx.check(1.5 < cpu["new"] / cpu["base"] < 2.6, f"CPU time {cpu['base']} -> {cpu['new']}")
    ctx.eq("cpu: samples lost", figure(d, "samples_lost")["new"], 0)
    fns = {f["function"]: f for f in d["cpu"]["functions"]}
    ctx.eq("the most grown function", d["cpu"]["functions"][0]["function"], "hot70")
    for fn, share in (("hot70", 70), ("cold30", 30)):
        ctx.check(fn in fns and abs(fns[fn]["new_share"] - share) < 12,
                  f"{fn}: share {fns.get(fn)}")
    diff(ctx, traces + ["--fail-on", "cpu > +20%"], 1)
    diff(ctx, traces + ["--fail-on", "cpu > +300%", "--fail-on", "cpu:hot70 share > 85",
                        "--fail-on", "cpu:hot70 > +1s"], 0)
    r = diff(ctx, traces + ["--fail-on", "cpu:nothing_here > 1ms"], 2)
    ctx.check("no CPU sample in a function of that name" in r.stderr.decode(), r.stderr.decode())
    r = diff(ctx, traces)
    ctx.check(b"CPU functions by self time" in r.stdout, r.stdout.decode())


def history(ctx, db, *args, status=0):
    r = ctx.vitals_cmd(["history", "--history", db, *map(str, args)])
    ctx.eq(f"vitals history {' '.join(map(str, args))}: status", r.returncode, status)
    return r


def history_json(ctx, db, *args):
    r = history(ctx, db, *args, "--format", "json")
    return json.loads(r.stdout)


def case_history_concurrent(ctx):
    """8 runs of vitals run write the same history at once: every row is there, whole."""
    db = ctx.work / "hist" / "history.db"
    n = 8

    def one(i):
        trace = ctx.work / f"par.{i}.vtr"
        return ctx.run([ctx.vitals, "run", "-q", "--history", db, "-o", trace, "--",
                        ctx.prog("grow"), str(i), "100"], timeout=60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    for i, r in enumerate(results):
        ctx.eq(f"parallel run {i}: status", r.returncode, 0)
        ctx.eq(f"parallel run {i}: stderr", r.stderr.decode(errors="replace"), "")
    d = history_json(ctx, db, "--last", "100")
    runs = d["runs"]
    ctx.eq("rows", len(runs), n)
    by_trace = {Path(r["trace"]).name: r for r in runs}
    for i in range(n):
        r = by_trace.get(f"par.{i}.vtr")
        if ctx.check(r is not None, f"run {i} is missing from the history"):
            ctx.eq(f"run {i}: peak", r["figures"].get("peak"), peak_of(i, 100))
            ctx.eq(f"run {i}: allocs", r["figures"].get("allocs"), 10 + i)
            ctx.eq(f"run {i}: program, status", (r["program"], r["exit_status"]), ("grow", 0))
            ctx.check(r["command"].endswith(f"/grow {i} 100"), f"run {i}: {r['command']}")
    con = sqlite3.connect(db)
    try:
        ctx.eq("user_version", con.execute("PRAGMA user_version").fetchone()[0], 2)
        ctx.eq("journal_mode", con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        ctx.eq("integrity", con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        ctx.eq("runs rows", con.execute("SELECT count(*) FROM runs").fetchone()[0], n)
    finally:
        con.close()


def case_history(ctx):
    """What a run records (git commit, host, command, figures), --program, --no-history,
    VITALS_HISTORY, migration from schema 1, a newer schema, the trend and its flag."""
    db = ctx.work / "h.db"
    repo = ctx.work / "repo"
    repo.mkdir()
    genv = dict(ctx.env, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                GIT_COMMITTER_EMAIL="t@t")
    for cmd in (["git", "init", "-q"], ["git", "commit", "-q", "--allow-empty", "-m", "x"]):
        ctx.require(ctx.run(cmd, cwd=repo, env=genv).returncode == 0, f"{cmd} failed")
    head = ctx.run(["git", "rev-parse", "HEAD"], cwd=repo, env=genv).stdout.decode().strip()
    env = dict(ctx.env, VITALS_HISTORY=str(db))
    for n in (5, 5, 5, 5, 12):
        r = ctx.run([ctx.vitals, "run", "-q", "-o", f"g{n}.vtr", "--", ctx.prog("grow"), str(n),
                     "256"], cwd=repo, env=env)
        ctx.eq(f"grow {n}: status", r.returncode, 0)
    r = ctx.run([ctx.vitals, "run", "-q", "--no-history", "--", ctx.prog("grow"), "1", "1"],
                cwd=repo, env=env)
    r = ctx.run([ctx.vitals, "run", "-q", "-o", "p.vtr", "--", ctx.prog("peak")], cwd=repo,
                env=dict(ctx.env, VITALS_HISTORY=""))
    ctx.eq("VITALS_HISTORY empty: status", r.returncode, 0)
    ctx.eq("VITALS_HISTORY empty: stderr", r.stderr, b"")
    r = ctx.run([ctx.vitals, "run", "-q", "--", ctx.prog("peak")], cwd=repo, env=env)
    runs = history_json(ctx, db, "--last", "100")["runs"]
    ctx.eq("programs recorded", [x["program"] for x in runs], ["grow"] * 5 + ["peak"])
    ctx.eq("git commit", {x["git_commit"] for x in runs}, {head})
    ctx.eq("host", {x["host"] for x in runs}, {os.uname().nodename})
    ctx.eq("cwd", {x["cwd"] for x in runs}, {str(repo)})
    ctx.eq("peaks", [x["figures"]["peak"] for x in runs[:5]],
           [peak_of(5, 256)] * 4 + [peak_of(12, 256)])
    ctx.eq("--last 2", [x["program"] for x in history_json(ctx, db, "--last", "2")["runs"]],
           ["grow", "peak"])
    ctx.eq("--program", len(history_json(ctx, db, "--program", "grow")["runs"]), 5)
    out = history(ctx, db).stdout.decode()
    ctx.check(head[:8] in out and "3.98 KiB" in out, f"history list:\n{out}")
    # The trend: the last grow run is flagged as a sudden change.
    t = history_json(ctx, db, "trend", "peak", "--program", "grow")
    ctx.eq("trend values", [p["value"] for p in t["points"]],
           [peak_of(5, 256)] * 4 + [peak_of(12, 256)])
    ctx.eq("trend flags", [p["flagged"] for p in t["points"]], [False] * 4 + [True])
    ctx.eq("trend baseline", t["points"][4]["baseline"], peak_of(5, 256))
    out = history(ctx, db, "trend", "peak", "--program", "grow").stdout.decode()
    ctx.check("▁▁▁▁█" in out and "sudden change" in out, f"trend text:\n{out}")
    out = history(ctx, db, "trend", "peak", "--program", "grow", "--ascii").stdout.decode()
    ctx.check("____#" in out, f"ascii trend:\n{out}")
    history(ctx, db, "trend", "nope", status=2)
    history(ctx, db, "trend", status=2)
    history(ctx, db, "bogus", status=2)
    history(ctx, ctx.work / "missing.db", status=2)
    # A database of schema 1 is migrated, its rows kept.
    old = ctx.work / "v1.db"
    con = sqlite3.connect(old)
    con.executescript(
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, program TEXT NOT NULL,"
        " command TEXT NOT NULL, cwd TEXT, git_commit TEXT, host TEXT, trace TEXT,"
        " exit_status INTEGER);"
        "CREATE TABLE figures(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
        " name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(run_id, name)) WITHOUT ROWID;"
        "INSERT INTO runs VALUES (1, 1700000000, 'old', 'old --x', '/', NULL, 'h', NULL, 0);"
        "INSERT INTO figures VALUES (1, 'peak', 4096);"
        "PRAGMA user_version = 1;")
    con.close()
    runs = history_json(ctx, old)["runs"]
    ctx.eq("migrated rows", [(x["program"], x["figures"]) for x in runs], [("old",
                                                                             {"peak": 4096})])
    con = sqlite3.connect(old)
    ctx.eq("migrated version", con.execute("PRAGMA user_version").fetchone()[0], 2)
    ctx.eq("migration 2's index", con.execute("SELECT count(*) FROM sqlite_master WHERE "
                                              "name = 'runs_program_time'").fetchone()[0], 1)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    r = history(ctx, old, status=2)
    ctx.check("newer" in r.stderr.decode(), f"newer schema: {r.stderr.decode()}")


def case_history_corrupt(ctx):
    """A damaged history: vitals run still runs the program and keeps its status, says so;
    vitals history says how to recover; history reset moves it aside."""
    db = ctx.work / "h.db"
    db.write_bytes(b"this is not a database at all\n" * 200)
    r = ctx.vitals_cmd(["run", "-q", "--history", db, "-o", "t.vtr", "--", ctx.prog("grow"),
                        "5", "256"])
    ctx.eq("run with a damaged history: status", r.returncode, 0)
    ctx.eq("run with a damaged history: output", r.stdout, b"grow done\n")
    err = r.stderr.decode()
    ctx.check("not recorded" in err and "vitals history reset" in err and str(db) in err,
              f"run: no clear warning:\n{err}")
    r = history(ctx, db, status=2)
    err = r.stderr.decode()
    ctx.check("is damaged" in err and "vitals history reset" in err, f"history:\n{err}")
    r = history(ctx, db, "reset")
    ctx.check((ctx.work / "h.db.damaged-1").is_file(), "reset did not keep the damaged file")
    ctx.check(not db.exists(), "reset left the damaged file in place")
    r = ctx.vitals_cmd(["run", "-q", "--history", db, "-o", "t.vtr", "--", ctx.prog("grow"),
                        "5", "256"])
    ctx.eq("run after reset: stderr", r.stderr, b"")
    ctx.eq("rows after reset", len(history_json(ctx, db)["runs"]), 1)
    # A database whose pages were overwritten in the middle.
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=DELETE")
    con.executescript("CREATE TABLE pad(x);" + "".join(
        f"INSERT INTO pad VALUES (randomblob(2000));" for _ in range(20)))
    con.close()
    data = bytearray(db.read_bytes())
    for off in range(4096, len(data) - 4096, 512):
        data[off:off + 64] = b"\xff" * 64
    db.write_bytes(bytes(data))
    r = history(ctx, db, status=2)
    ctx.check("damaged" in r.stderr.decode(), f"overwritten pages:\n{r.stderr.decode()}")
    history(ctx, ctx.work / "nothing.db", "reset", status=2)


def main():
    return e2e.run_cases(e2e.cases_of(globals()), __doc__)


if __name__ == "__main__":
    sys.exit(main())
