#!/usr/bin/env python3
"""End-to-end tests of counters read at zone boundaries (`vitals run --zone-counters`, or
VITALS_ZONE_COUNTERS=1 with VITALS_TRACE): tests/programs/zone_counters.c has zones whose page
faults, context switches and CPU time are known by construction; the figures are read back with
`vitals report --format json` and checked against them.

Usage: zone_counters_e2e.py --vitals PATH --agent PATH --programs DIR --work DIR CASE
Python 3 standard library only.
"""

import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zones_e2e import by_name, run  # noqa: E402

SOFTWARE = ["task-clock", "minor-faults", "major-faults", "context-switches", "cpu-migrations"]
HARDWARE = ["cycles", "instructions", "branches", "branch-misses", "L1-dcache-loads",
            "L1-dcache-load-misses", "LLC-loads", "LLC-load-misses"]
# Faults a zone may take beyond its own pages: the agent's first touch of a page of its buffers
# or of its stack of counts while a zone is open.
SLACK = 8


def total(z, event):
    c = z["counters"][event]
    return None if c is None else c["total"]


def check_counts(ctx, rep, stdout, label):
    zs = rep["zones"]
    zc = zs["zone_counters"]
    ctx.check(zc is not None, f"{label}: no zone_counters in the report")
    if zc is None:
        return
    events = {e["name"]: e for e in zc["events"]}
    for name in SOFTWARE:
        ctx.check(name in events, f"{label}: event {name} missing")
        if name in events:
            ctx.eq(f"{label} {name} status", events[name]["status"], "counted")
            ctx.eq(f"{label} {name} group", events[name]["group"], "software")
    hw_counted = [n for n in HARDWARE if events.get(n, {}).get("status") == "counted"]
    for name in HARDWARE:
        ctx.check(name in events, f"{label}: event {name} missing")
        if name in events and name not in hw_counted:
            # A machine without a PMU (this VM): said, never a failure.
            ctx.eq(f"{label} {name} status", events[name]["status"], "unsupported")
            ctx.eq(f"{label} {name} group", events[name]["group"], None)
    ctx.eq(f"{label} unmatched records", zc["unmatched"], 0)
    ctx.eq(f"{label} records", zc["records"], 24 + 4 + 5 + 5 + 10 + 32)
    zones = {z["name"]: z for z in zc["zones"]}
    calls = {"touch": 24, "outer": 4, "sleep": 5, "burn": 5, "worker": 10}
    for name, n in calls.items():
        z = zones.get(name)
        ctx.check(z is not None, f"{label}: zone {name} missing")
        if z is None:
            return
        ctx.eq(f"{label} {name} calls", (z["calls"], z["counted_calls"]), (n, n))
        for e in SOFTWARE:
            ctx.check(z["counters"][e] is not None, f"{label} {name}: {e} not counted")
    # Nested deeper than 32 zones on a thread: those calls carry no counters.
    deep = zones.get("deep")
    ctx.check(deep is not None and (deep["calls"], deep["counted_calls"]) == (40, 32),
              f"{label} deep: (calls, counted) {deep and (deep['calls'], deep['counted_calls'])}, "
              f"expected (40, 32)")
    # Fresh pages written once each: one minor fault per page, by construction.
    for name, pages in (("touch", 64), ("outer", 96), ("worker", 16)):
        n = calls[name]
        f = total(zones[name], "minor-faults")
        ctx.check(f is not None and pages * n <= f <= (pages + SLACK) * n,
                  f"{label} {name}: {f} minor faults over {n} calls, expected "
                  f"{pages * n} to {(pages + SLACK) * n}")
        ctx.eq(f"{label} {name} major faults", total(zones[name], "major-faults"), 0)
    # Sleeping gives up the CPU: a voluntary context switch per call at least, and little CPU.
    wall = {z["name"]: z for z in zs["zones"]}
    sleep = zones["sleep"]
    if not events["context-switches"]["user_mode_only"]:
        ctx.check(total(sleep, "context-switches") >= 5,
                  f"{label} sleep: {total(sleep, 'context-switches')} context switches in 5 "
                  f"calls")
    ctx.check(total(sleep, "task-clock") < 0.1 * wall["sleep"]["total_ns"],
              f"{label} sleep: task-clock {total(sleep, 'task-clock')} ns of "
              f"{wall['sleep']['total_ns']} ns")
    # Burning CPU: task-clock is the CPU time the program measured itself around the calls
    # (which also holds the zones' begin and end), and never more than the wall time.
    line = [x for x in stdout.decode().split("\n") if x.startswith("burn_cpu_ns ")]
    ctx.check(len(line) == 1, f"{label}: program output {stdout!r}")
    if line:
        own = int(line[0].split()[1])
        tc = total(zones["burn"], "task-clock")
        ctx.check(0.9 * own <= tc <= own * 1.01,
                  f"{label} burn: task-clock {tc} ns, the program measured {own} ns")
        ctx.check(tc <= wall["burn"]["total_ns"] * 1.01,
                  f"{label} burn: task-clock {tc} ns over a wall time of "
                  f"{wall['burn']['total_ns']} ns")
    # Nesting: "outer" holds the faults of the "touch" inside it.
    ctx.check(total(zones["outer"], "minor-faults") >= 4 * 96,
              f"{label} outer: the inner zone's faults are not in it")
    ratios = zones["burn"]["ratios"]
    if "cycles" in hw_counted and "instructions" in hw_counted:
        ctx.check(ratios["IPC"] is not None and ratios["IPC"]["value"] > 0, f"{label}: no IPC")
        ctx.eq(f"{label} IPC formula", ratios["IPC"]["formula"], "instructions / cycles")
    else:
        ctx.eq(f"{label} IPC without hardware counters", ratios["IPC"], None)


def check_text(ctx, trace, label, hw_missing):
    r = ctx.run([ctx.vitals, "report", trace])
    text = r.stdout.decode()
    ctx.check("Zone counters, per call" in text, f"{label}: no zone counters section in the text")
    if hw_missing:
        ctx.check("cycles                   unsupported on this machine" in text,
                  f"{label}: unsupported hardware counters are not said")


def hw_missing(rep):
    ev = rep["zones"]["zone_counters"]["events"]
    return any(e["name"] == "cycles" and e["status"] != "counted" for e in ev)


def case_zone_counters(ctx):
    """vitals run --zone-counters: per-zone faults, switches and CPU time, two threads; an
    --event is read at the boundaries too."""
    trace = ctx.work / "zone_counters.vtr"
    r = ctx.run([ctx.vitals, "run", "-q", "--zone-counters", "--event", "page-faults", "-o",
                 trace, "--", ctx.programs / "zone_counters"])
    rep = ctx.report(trace)
    check_counts(ctx, rep, r.stdout, "--zone-counters")
    zc = rep["zones"]["zone_counters"]
    user = [e for e in zc["events"] if e["user"]]
    ctx.eq("--event page-faults", [(e["name"], e["status"], e["group"]) for e in user],
           [("page-faults", "counted", "software")])
    for z in zc["zones"]:
        pf, minor = total(z, "page-faults"), total(z, "minor-faults")
        # The same faults, counted in the same group over the same span.
        ctx.check(pf is not None and minor <= pf <= minor + SLACK,
                  f"{z['name']}: page-faults {pf}, minor-faults {minor}")
    check_text(ctx, trace, "--zone-counters", hw_missing(rep))
    # The whole-run counters of --counters come along.
    ctx.check(rep["cpu"] is not None and rep["cpu"]["counters"], "--zone-counters: no --counters")


def case_zone_counters_trace_env(ctx):
    """VITALS_TRACE=FILE VITALS_ZONE_COUNTERS=1, without `vitals run`, and without spans: the
    counters are named by their zone's call site, not matched with ZONE_BEGIN/ZONE_END."""
    trace = ctx.work / "zone_counters_env.vtr"
    env = dict(ctx.env)
    env["VITALS_TRACE"] = str(trace)
    env["VITALS_ZONE_COUNTERS"] = "1"
    env["VITALS_ZONE_SPANS"] = "0"
    r = ctx.run([ctx.programs / "zone_counters"], env=env)
    rep = ctx.report(trace)
    ctx.eq("VITALS_TRACE zones only", rep["zones"]["zones_only"], True)
    check_counts(ctx, rep, r.stdout, "VITALS_TRACE")


def case_zone_counters_user_only(ctx):
    """An unprivileged user (perf_event_paranoid 2): counted in user mode only, and said."""
    runuser = shutil.which("runuser")
    try:
        paranoid = int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())
    except (OSError, ValueError):
        paranoid = None
    if os.geteuid() != 0 or not runuser or paranoid != 2:
        print("skipped: needs root (to run as nobody), runuser and perf_event_paranoid 2; "
              f"have uid {os.geteuid()}, runuser {runuser}, paranoid {paranoid}")
        return
    out = ctx.work / "nobody"
    out.mkdir()
    out.chmod(0o777)
    trace = out / "user_only.vtr"
    r = ctx.run([runuser, "-u", "nobody", "--", ctx.vitals, "run", "-q", "--no-history",
                 "--zone-counters", "-o", trace, "--", ctx.programs / "zone_counters"])
    rep = ctx.report(trace)
    events = {e["name"]: e for e in rep["zones"]["zone_counters"]["events"]}
    for name in SOFTWARE:
        ctx.eq(f"{name} (status, user mode only)",
               (events[name]["status"], events[name]["user_mode_only"]), ("counted", True))
    zones = {z["name"]: z for z in rep["zones"]["zone_counters"]["zones"]}
    # Faults are taken in user mode: they still count, exactly.
    f = total(zones["touch"], "minor-faults")
    ctx.check(64 * 24 <= f <= (64 + SLACK) * 24, f"touch: {f} minor faults in user mode")
    ctx.check(b"burn_cpu_ns " in r.stdout, f"program output {r.stdout!r}")
    text = ctx.run([ctx.vitals, "report", trace]).stdout.decode()
    ctx.check("counted in user mode only" in text, "user mode only is not said in the text")


def case_zone_counters_no_zones(ctx):
    """--zone-counters on a program without zones changes nothing and reports no zone."""
    prog = ctx.programs / "zones_disabled"
    plain = ctx.run([prog])
    trace = ctx.work / "zone_counters_none.vtr"
    r = ctx.run([ctx.vitals, "run", "-q", "--zone-counters", "-o", trace, "--", prog])
    ctx.eq("output under --zone-counters", r.stdout, plain.stdout)
    rep = ctx.report(trace)
    zc = rep["zones"]["zone_counters"]
    ctx.check(zc is not None and zc["zones"] == [] and zc["records"] == 0,
              f"zone counters of a program without zones: {zc!r}")


def case_zone_counters_bad_options(ctx):
    """A combination that cannot work is refused before the program runs."""
    r = ctx.run([ctx.vitals, "run", "--zone-counters", "--no-alloc", "--",
                 ctx.programs / "zone_counters"], check=False)
    ctx.eq("exit status of --zone-counters --no-alloc", r.returncode, 2)
    err = r.stderr.decode()
    ctx.check("--zone-counters" in err and "--no-alloc" in err,
              f"--zone-counters --no-alloc: unclear error {err!r}")
    ctx.eq("no program output", r.stdout, b"")
    r = ctx.run([ctx.vitals, "run", "--zone-counters=1", "--", ctx.programs / "zone_counters"],
                check=False)
    ctx.eq("exit status of --zone-counters=1", r.returncode, 2)
    ctx.check("zone-counters" in r.stderr.decode(),
              f"--zone-counters=1: unclear error {r.stderr.decode()!r}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return run(CASES, __doc__)


if __name__ == "__main__":
    sys.exit(main())
