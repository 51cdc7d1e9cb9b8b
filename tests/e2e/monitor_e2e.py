#!/usr/bin/env python3
"""End-to-end tests of vitals monitor (docs/MONITOR.md): a program of known behaviour
(tests/programs/monitor_child.c) monitored into a trace and JSON lines, read back with
vitals report; alerts to stderr, the trace and --alert-exec; a pid that disappears, one that
does not exist, Ctrl-C, and the interval's bounds.

Usage: monitor_e2e.py --vitals PATH --agent-dir DIR --programs DIR --work DIR CASE
(the options of e2e.py, whose Ctx it uses)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e  # noqa: E402
from e2e import Failed  # noqa: E402

MIB = 1 << 20


def json_lines(ctx, out, label):
    lines = []
    for i, line in enumerate(out.decode().splitlines()):
        try:
            lines.append(json.loads(line))
        except ValueError as e:
            raise Failed(f"{label}: line {i + 1} of stdout is not JSON ({e}): {line[:200]!r}")
    return lines


def metric(rep, name):
    for m in rep["monitor"]["metrics"]:
        if m["name"] == name:
            return m
    raise Failed(f"the report has no metric '{name}'")


def case_monitor_exit(ctx):
    """A program that sleeps 0.1 s, touches 200 MiB, sleeps and exits 3: the exit status passes through, the
    JSON lines and the trace agree, the rss rule fires once into stderr, the trace and the
    --alert-exec command's environment."""
    trace = ctx.work / "m.vtr"
    env_file = ctx.work / "alert.env"
    r = ctx.vitals_cmd(["monitor", "-i", "20ms", "-o", trace, "--json", "--no-anomalies",
                        "--alert", "critical: rss > 100MiB",
                        "--alert-exec", f"env | grep ^VITALS_ALERT_ | sort > '{env_file}'",
                        "--", ctx.prog("monitor_child"), "sleep", "100", "touch", "200", "sleep", "300",
                        "exit", "3"])
    err = r.stderr.decode()
    ctx.eq("exit status (the program's)", r.returncode, 3)
    lines = json_lines(ctx, r.stdout, "--json")
    snaps = [x for x in lines if x["type"] == "snapshot"]
    alerts = [x for x in lines if x["type"] == "alert"]
    ends = [x for x in lines if x["type"] == "end"]
    ctx.require(len(ends) == 1 and lines[-1]["type"] == "end", f"one end line last: {lines[-1:]}")
    ctx.check(len(snaps) >= 10, f"{len(snaps)} snapshots in about 0.4 s at 20 ms")
    peak = max(x["rss"] or 0 for x in snaps)
    # 200 MiB touched; the program itself is about 1 MiB.
    ctx.check(200 * MIB <= peak <= 204 * MIB, f"largest rss {peak}, expected 200 to 204 MiB")
    ctx.eq("alert lines", [(a["severity"], a["metric"], a["rule"]) for a in alerts],
           [("critical", "rss", "critical: rss > 100MiB")])
    ctx.check("vitals: [critical]" in err and "rss is" in err, f"alert on stderr: {err}")
    ctx.check(all(b["t"] > a["t"] for a, b in zip(snaps, snaps[1:])), "snapshot times increase")
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines()) \
        if env_file.exists() else {}
    ctx.eq("--alert-exec: VITALS_ALERT_METRIC", env.get("VITALS_ALERT_METRIC"), "rss")
    ctx.eq("--alert-exec: VITALS_ALERT_SEVERITY", env.get("VITALS_ALERT_SEVERITY"), "critical")
    ctx.eq("--alert-exec: VITALS_ALERT_RULE", env.get("VITALS_ALERT_RULE"),
           "critical: rss > 100MiB")
    ctx.eq("--alert-exec: VITALS_ALERT_KIND", env.get("VITALS_ALERT_KIND"), "threshold")
    ctx.check(float(env.get("VITALS_ALERT_VALUE", 0)) > 100 * MIB, f"value in env: {env}")

    rep = ctx.report(trace)
    mon = rep["monitor"]
    ctx.eq("report: snapshots (as many as JSON lines)", mon["snapshots"], len(snaps))
    ctx.eq("report: spawned", mon["spawned"], True)
    ctx.eq("report: interval", mon["interval_ns"], 20000000)
    ctx.eq("report: end status", (rep["process"]["end"], rep["process"]["end_status"]),
           ("exit", 3))
    ctx.eq("report: alerts", [(a["metric"], a["rule"], a["severity"]) for a in mon["alerts"]],
           [("rss", "critical: rss > 100MiB", "critical")])
    rss = metric(rep, "rss")
    ctx.eq("report: rss max (the JSON lines' largest)", rss["max"], peak)
    ctx.eq("report: rss points", len(rss["points"]), len(snaps))
    ctx.eq("report: times", len(mon["times_ns"]), len(snaps))
    # 51,200 pages touched, each a minor fault (huge pages are off for the mapping).
    mf = metric(rep, "minor_faults")["total"]
    ctx.check(51200 <= mf <= 51200 + 2000, f"minor faults {mf}, expected 51200 to 53200")
    text = ctx.vitals_cmd(["report", trace, "--color", "never"])
    out = text.stdout.decode()
    for want in ("monitored, started by vitals monitor", "the program exited with status 3",
                 "Bottleneck", "Alerts (1)", "critical: rss > 100MiB", "Metrics", "Over time"):
        ctx.check(want in out, f"text report lacks '{want}':\n{out[:3000]}")


def case_monitor_cpu(ctx):
    """Idle, then 400 ms of CPU: the anomaly detector flags the jump once, the report's CPU
    total is the 400 ms the program burnt, and the class is cpu-bound once idle time is
    short."""
    trace = ctx.work / "cpu.vtr"
    r = ctx.vitals_cmd(["monitor", "-i", "10ms", "-o", trace, "-q", "--",
                        ctx.prog("monitor_child"), "sleep", "300", "burn", "400"])
    ctx.eq("exit status", r.returncode, 0)
    rep = ctx.report(trace)
    total = metric(rep, "cpu")["total"] / 1e6
    # /proc counts CPU time in 10 ms ticks: 400 ms, one tick below, three above.
    ctx.check(390 <= total <= 430, f"cpu total {total:.0f} ms, expected 390 to 430")
    anomalies = [a for a in rep["monitor"]["alerts"] if a["kind"] == "anomaly"
                 and a["metric"] == "cpu"]
    ctx.eq("cpu anomalies (flagged once, then the cooldown)", len(anomalies), 1)
    if anomalies:
        ctx.check(anomalies[0]["ns"] >= 280e6, f"anomaly at {anomalies[0]['ns']} ns, before "
                                                "the burn began")
    r = ctx.vitals_cmd(["monitor", "-i", "20ms", "-o", ctx.work / "burn.vtr", "-q", "--",
                        ctx.prog("monitor_child"), "burn", "300"])
    rep = ctx.report(ctx.work / "burn.vtr")
    b = rep["monitor"]["bottleneck"]
    ctx.eq(f"class of a program that only burns ({b['reason']})", b["class"], "cpu-bound")
    r = ctx.vitals_cmd(["monitor", "-i", "20ms", "-o", ctx.work / "sleep.vtr", "-q", "--",
                        ctx.prog("monitor_child"), "sleep", "300"])
    b = ctx.report(ctx.work / "sleep.vtr")["monitor"]["bottleneck"]
    ctx.eq(f"class of a program that only sleeps ({b['reason']})", b["class"], "waiting")


def start_child(ctx):
    return subprocess.Popen([str(ctx.prog("monitor_child"))], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, start_new_session=True)


def ask(child, cmd):
    child.stdin.write(cmd.encode() + b"\n")
    child.stdin.flush()
    if child.stdout.read(3) != b"ok\n":
        raise Failed(f"monitor_child did not answer '{cmd}'")


def case_monitor_pid(ctx):
    """--pid of a running process that starts threads and then goes away: the monitor ends by
    itself, with status 0, and its trace is whole."""
    child = start_child(ctx)
    try:
        trace = ctx.work / "pid.vtr"
        mon = ctx.spawn([ctx.vitals, "monitor", "--pid", child.pid, "-i", "10ms", "-o", trace,
                         "--json"])
        time.sleep(0.2)
        ask(child, "threads 3")
        ask(child, "fds 7")
        time.sleep(0.2)
        child.stdin.write(b"exit 0\n")
        child.stdin.flush()
        child.wait(timeout=10)
        r = ctx.vitals_checked(ctx.finish(mon))
    finally:
        if child.poll() is None:
            child.kill()
    ctx.eq("exit status", r.returncode, 0)
    lines = json_lines(ctx, r.stdout, "--json")
    ctx.eq("how it ended", lines[-1].get("how"), "the process ended")
    snaps = [x for x in lines if x["type"] == "snapshot"]
    ctx.eq("threads, first snapshot and most", (snaps[0]["threads"],
                                                 max(x["threads"] for x in snaps)), (1, 4))
    ctx.eq("fds gained", max(x["fds"] for x in snaps) - snaps[0]["fds"], 7)
    rep = ctx.report(trace)
    ctx.eq("report: spawned", rep["monitor"]["spawned"], False)
    ctx.eq("report: pid", rep["process"]["pid"], child.pid)
    ctx.eq("report: threads max", metric(rep, "threads")["max"], 4)


def case_monitor_errors(ctx):
    """A pid that does not exist, the interval's bounds, bad rules: clear errors, status 2."""
    def bad(args, want):
        r = ctx.vitals_cmd(["monitor"] + args)
        err = r.stderr.decode()
        ctx.eq(f"monitor {' '.join(map(str, args))}: status", r.returncode, 2)
        ctx.check(want in err, f"monitor {' '.join(map(str, args))}: '{want}' not in: {err}")
    bad(["--pid", "4194305"], "no process with pid 4194305")
    bad(["-i", "999us", "--", "true"], "expects a duration from 1 ms to 60 s")
    bad(["-i", "60001ms", "--", "true"], "got '60001ms'")
    bad(["-i", "0", "--", "true"], "got '0'")
    bad(["-i", "fast", "--", "true"], "got 'fast'")
    bad(["--alert", "rss > 2GX", "--", "true"], "unknown unit 'GX'")
    bad(["--alert", "rss > 2GX", "--", "true"], "           ^")
    bad(["--alert", "rsz > 1", "--", "true"], "unknown metric 'rsz'")
    bad(["--alert", "cpu > 90% for", "--", "true"], "expected a duration after 'for'")
    bad([], "needs --pid PID or a program")
    bad(["--pid", "1", "--", "true"], "not both")
    bad(["--no-trace", "--", "true"], "would record nothing")
    bad(["--bogus", "--", "true"], "unknown option '--bogus'")
    bad(["--window", "0", "--", "true"], "option '--window' expects a duration from 1 ms")
    bad(["--window", "2d", "--", "true"], "got '2d'")
    r = ctx.vitals_cmd(["monitor", "-q", "--no-trace", "--json", "--",
                        ctx.work / "no-such-program"])
    ctx.eq("a program that does not exist: status", r.returncode, 127)
    r = ctx.vitals_cmd(["monitor", "--list-metrics"])
    ctx.check(r.returncode == 0 and b"major_faults" in r.stdout and b"heap_blocks" in r.stdout,
              "--list-metrics")


def case_monitor_bounds(ctx):
    """The interval's bounds work: 1 ms gives snapshots about every millisecond (the machine
    allowing); 60 s still ends when the program does, at once."""
    trace = ctx.work / "fast.vtr"
    r = ctx.vitals_cmd(["monitor", "-i", "1ms", "-o", trace, "-q", "--no-anomalies", "--",
                        ctx.prog("monitor_child"), "sleep", "300"])
    ctx.eq("1 ms: status", r.returncode, 0)
    rep = ctx.report(trace)
    n = rep["monitor"]["snapshots"]
    # 300 ms at 1 ms is 300 snapshots; a busy machine delays some, and a late one is skipped,
    # not bunched up.
    ctx.check(30 <= n <= 320, f"1 ms for 0.3 s: {n} snapshots, expected 30 to 320")
    t = rep["monitor"]["times_ns"]
    # Snapshots keep to the schedule: never more than one per millisecond of the span.
    span_ms = (t[-1] - t[0]) / 1e6
    ctx.check(n <= span_ms + 2, f"{n} snapshots over {span_ms:.1f} ms at 1 ms")
    start = time.monotonic()
    r = ctx.vitals_cmd(["monitor", "-i", "60s", "-o", ctx.work / "slow.vtr", "-q", "--",
                        ctx.prog("monitor_child"), "sleep", "200"])
    took = time.monotonic() - start
    ctx.eq("60 s: status", r.returncode, 0)
    ctx.check(took < 5, f"60 s interval: the monitor took {took:.1f} s after a 0.2 s program")
    rep = ctx.report(ctx.work / "slow.vtr")
    ctx.eq("60 s: snapshots (the first, and the last when the program ended)",
           rep["monitor"]["snapshots"] in (1, 2), True)


def case_monitor_sigint(ctx):
    """Ctrl-C (SIGINT) while monitoring a pid: the monitor stops, the trace is whole (an END
    record, no warnings), the process goes on."""
    child = start_child(ctx)
    try:
        trace = ctx.work / "int.vtr"
        mon = ctx.spawn([ctx.vitals, "monitor", "--pid", child.pid, "-i", "10ms", "-o", trace])
        time.sleep(0.3)
        mon.send_signal(signal.SIGINT)
        r = ctx.vitals_checked(ctx.finish(mon))
        ctx.eq("exit status", r.returncode, 0)
        ctx.check(b"interrupted" in r.stderr, f"summary says interrupted: {r.stderr}")
        ctx.eq("the process still runs", child.poll(), None)
        rep = ctx.report(trace)
        ctx.eq("has an end", rep["process"]["end"], "exit")
        ctx.check(rep["monitor"]["snapshots"] >= 5, "snapshots before Ctrl-C")
    finally:
        child.kill()
        child.wait()


def case_monitor_no_alloc(ctx):
    """A tick allocates nothing: vitals monitor, itself run under vitals, makes as many
    allocation calls sampling for 0.2 s as for 0.6 s (20 and 60 ticks)."""
    child = start_child(ctx)
    counts = []
    try:
        for d in ("200ms", "600ms"):
            tr = ctx.work / f"self{d}.vtr"
            r = ctx.vitals_run(ctx.vitals, ["monitor", "--pid", str(child.pid), "-i", "10ms",
                                            "-t", d, "-q", "--no-anomalies", "-o",
                                            ctx.work / f"m{d}.vtr"], out=tr)
            ctx.eq(f"{d}: status", r.returncode, 0)
            rep = ctx.report(tr)
            counts.append(rep["heap"]["alloc_calls"])
            snaps = ctx.report(ctx.work / f"m{d}.vtr")["monitor"]["snapshots"]
            ctx.check(snaps >= (10 if d == "200ms" else 30), f"{d}: {snaps} snapshots")
    finally:
        child.kill()
        child.wait()
    ctx.eq("allocation calls for 20 ticks and for 60", counts[0], counts[1])


def case_monitor_damaged(ctx):
    """A monitor trace cut short or with a bit flipped anywhere: vitals report reads what it
    can (status 0 with a warning, or 2 for a file that is not a trace any more), never crashes
    (the ASan build runs this too). And JSON lines into a pipe that closes early."""
    trace = ctx.work / "d.vtr"
    r = ctx.vitals_cmd(["monitor", "-i", "5ms", "-o", trace, "-q", "--alert", "rss > 1",
                        "--", ctx.prog("monitor_child"), "sleep", "100", "touch", "8",
                        "sleep", "100"])
    ctx.eq("status", r.returncode, 0)
    data = trace.read_bytes()
    whole = ctx.report(trace)["monitor"]["snapshots"]
    cut = ctx.work / "cut.vtr"
    step = max(1, len(data) // 10)
    for n in list(range(0, len(data), step)) + [len(data) - 1]:
        cut.write_bytes(data[:n])
        r = ctx.vitals_cmd(["report", cut, "-f", "json"])
        ctx.check(r.returncode in (0, 2), f"cut at {n}: status {r.returncode}")
        if r.returncode == 0:
            snaps = json.loads(r.stdout)["monitor"]
            ctx.check(snaps is None or snaps["snapshots"] <= whole, f"cut at {n}: more snapshots")
    step = max(1, len(data) // 16)
    for i, n in enumerate(range(32, len(data), step)):
        b = bytearray(data)
        b[n] ^= 0x10
        cut.write_bytes(bytes(b))
        r = ctx.vitals_cmd(["report", cut, "-f", "json" if i % 2 else "text"])
        ctx.check(r.returncode in (0, 2), f"bit flipped at {n}: status {r.returncode}")
    # JSON lines into `head -2`: the monitor stops writing them and finishes its trace.
    p = subprocess.Popen(f"'{ctx.vitals}' monitor -i 5ms -q --json -o '{ctx.work}/pipe.vtr' -- "
                         f"'{ctx.prog('monitor_child')}' sleep 300 | head -2", shell=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    ctx.eq("lines through head", len(out.splitlines()), 2)
    ctx.check(b"Sanitizer" not in err, f"stderr: {err}")
    ctx.report(ctx.work / "pipe.vtr")


class Tmux:
    """A tmux server of our own (its own socket), for driving vitals top like a person."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.n = 0
        self.sock = f"vitals-test-{os.getpid()}-0"
        self.exit_file = ctx.work / "top.exit"

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + [str(a) for a in args],
                           capture_output=True, timeout=10)
        if check and r.returncode:
            raise Failed(f"tmux {' '.join(map(str, args))}: {r.stderr.decode()}")
        return r

    def start(self, args, x=80, y=24):
        """A new server for each screen: one whose last session ended may still be exiting."""
        self.close()
        self.n += 1
        self.sock = f"vitals-test-{os.getpid()}-{self.n}"
        if self.exit_file.exists():
            self.exit_file.unlink()
        cmd = " ".join(f"'{a}'" for a in [self.ctx.vitals] + args)
        self.tmux("new-session", "-d", "-s", "t", "-x", x, "-y", y,
                  f"{cmd} 2>'{self.ctx.work}/top.err'; echo $? > '{self.exit_file}'")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t").stdout.decode()

    def wait_for(self, text, timeout=8):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.screen()
            if text in s:
                return s
            time.sleep(0.1)
        raise Failed(f"vitals top never showed '{text}'; the screen:\n{self.screen()}")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def wait_exit(self, timeout=5):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.1)
        raise Failed("vitals top did not quit on 'q'")

    def close(self):
        self.tmux("kill-server", check=False)


def check_fits(ctx, screen, w, h, label):
    lines = screen.rstrip("\n").split("\n")
    ctx.check(len(lines) <= h, f"{label}: {len(lines)} lines on a {h}-line screen")
    ctx.check(all(len(x) <= w for x in lines), f"{label}: a line wider than {w}")


def case_top_tmux(ctx):
    """vitals top in a real terminal (tmux, 80x24): the header, the table, sorting, help,
    resizing, the process view with the threads of a known process, themes, quitting."""
    if not shutil.which("tmux"):
        raise Failed("tmux is missing (Debian package tmux; scripts/deps.sh installs it)")
    child = start_child(ctx)
    t = Tmux(ctx)
    try:
        ask(child, "threads 3")
        t.start(["top", "-d", "0.2"])
        s = t.wait_for("PID USER")
        for want in ("vitals top", "load", "Mem [", "Swp [", "Net ", "Dsk ", "GPU ",
                     "no GPU found", "CPU%", "RSS", "THR", "IO/s", "COMMAND", "sort cpu"):
            ctx.check(want in s, f"80x24: '{want}' is not on the screen:\n{s}")
        ctx.check(s.count("%]") >= 1, f"no per-core bars:\n{s}")
        check_fits(ctx, s, 80, 24, "80x24")
        t.keys("m")
        t.wait_for("sort memory")
        t.keys("t")
        t.wait_for("sort threads")
        t.keys("h")
        s = t.wait_for("vitals top: keys")
        ctx.check("sort by memory" in s and "quit" in s, f"help screen:\n{s}")
        t.keys("x")
        s = t.wait_for("PID USER")
        ctx.check("vitals top: keys" not in s, "the help closes on a key")
        t.tmux("resize-window", "-t", "t", "-x", 120, "-y", 40)
        time.sleep(0.6)
        s = t.wait_for("PID USER")
        ctx.check(len(s.rstrip("\n").split("\n")) > 24, f"120x40: the table uses the room:\n{s}")
        check_fits(ctx, s, 120, 40, "120x40")
        t.tmux("resize-window", "-t", "t", "-x", 80, "-y", 24)
        time.sleep(0.6)
        s = t.wait_for("PID USER")
        check_fits(ctx, s, 80, 24, "back to 80x24")
        t.keys("T")  # the light theme, then back
        t.keys("T")
        # Enter on the first row sorted by pid opens pid 1's view; Esc comes back.
        t.keys("p")
        t.wait_for("sort pid")
        t.keys("Home", "Enter")
        s = t.wait_for("Process 1 (")
        ctx.check("TID" in s and "NUMA" in s, f"process view of pid 1:\n{s}")
        t.keys("Escape")
        t.wait_for("PID USER")
        t.keys("q")
        ctx.eq("exit status after q", t.wait_exit(), 0)

        t.start(["top", "-d", "0.2", "-p", child.pid, "--theme", "light"])
        s = t.wait_for(f"Process {child.pid} (monitor_child)")
        s = t.wait_for("CPU TIME")
        rows = [x for x in s.split("\n") if re.match(r"\s*\d+ monitor_child ", x)]
        ctx.eq("process view: thread rows", len(rows), 4)
        ctx.check(f"threads 4" in s, f"process view says 4 threads:\n{s}")
        ctx.check("RSS" in s and "anon" in s and "faults" in s, f"process view figures:\n{s}")
        check_fits(ctx, s, 80, 24, "process view")
        t.keys("q")
        ctx.eq("exit status after q (process view)", t.wait_exit(), 0)
    finally:
        t.close()
        child.kill()
        child.wait()


def case_top_batch(ctx):
    """vitals top --batch: N snapshots as JSON lines or text; a process's threads; the
    options' errors."""
    child = start_child(ctx)
    try:
        ask(child, "threads 2")
        r = ctx.vitals_cmd(["top", "--batch", "2", "-d", "0.1", "--json", "-n", "5"])
        ctx.eq("status", r.returncode, 0)
        snaps = json_lines(ctx, r.stdout, "top --json")
        ctx.eq("snapshots", [x["snapshot"] for x in snaps], [1, 2])
        ctx.eq("cpus per snapshot", len(snaps[0]["cpus"]), os.cpu_count())
        procs = snaps[1]["processes"]
        ctx.check(1 <= len(procs) <= 5, f"{len(procs)} processes with -n 5")
        cpu = [p["cpu"] for p in procs]
        ctx.eq("sorted by CPU", cpu, sorted(cpu, reverse=True))
        ctx.check(snaps[0]["gpu_note"].startswith("no GPU found"), f"GPU: {snaps[0]['gpu_note']}")
        r = ctx.vitals_cmd(["top", "-b", "1", "-p", child.pid, "--json"])
        p = json_lines(ctx, r.stdout, "top -p --json")[0]["process"]
        ctx.eq("process threads", len(p["threads"]), 3)
        ctx.eq("thread ids", sorted(x["tid"] for x in p["threads"])[0], child.pid)
        r = ctx.vitals_cmd(["top", "-b", "1", "-s", "memory", "-n", "3"])
        out = r.stdout.decode()
        ctx.check("COMMAND" in out and "mem  used" in out, f"text batch:\n{out}")
        ctx.eq("text batch rows", len([x for x in out.split("\n")
                                       if x.strip()[:1].isdigit()]), 3)
    finally:
        child.kill()
        child.wait()
    for args, want in ((["-d", "0.05"], "from 100 ms to 60 s"), (["-d", "61"], "got '61'"),
                       (["--json"], "needs --batch"), (["-p", "4194305", "-b", "1"],
                                                        "no process with pid"),
                       (["-s", "size", "-b", "1"], "cpu, memory, io, threads or pid"),
                       (["--theme", "blue"], "dark or light"),
                       ([], "needs a terminal")):
        r = ctx.vitals_cmd(["top"] + args)
        ctx.eq(f"top {' '.join(args)}: status", r.returncode, 2)
        ctx.check(want in r.stderr.decode(), f"top {' '.join(args)}: {r.stderr.decode()}")


LIVE_HEAP = 10_000_000  # live_heap.c: 1000 blocks of 10,000 bytes
LIVE_SIZE = 4312  # sizeof(struct vt_live_file), version 1 (src/collect/live.h)


def start_live_heap(ctx, trace):
    """live_heap under vitals run, once it has allocated its blocks: (vitals run, its pid)."""
    run = ctx.spawn([ctx.vitals, "run", "-q", "-o", trace, "--", ctx.prog("live_heap")])
    if run.stdout.read(6) != b"ready\n":
        run.kill()
        raise Failed("live_heap under vitals run did not say ready")
    kids = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    ctx.require(len(kids) == 1, f"vitals run has children {kids}")
    return run, int(kids[0])


def top_process(ctx, pid):
    r = ctx.vitals_cmd(["top", "-b", "1", "-d", "0.1", "-p", pid, "--json"])
    ctx.require(r.returncode == 0, f"top -p {pid}: {r.stderr.decode()}")
    return json_lines(ctx, r.stdout, "top -p --json")[0]["process"]


def wait_heap(ctx, pid, want):
    """The process view's heap figures once the agent has published want bytes in use (its
    writer merges the events a round or two after they happen)."""
    end = time.monotonic() + 10
    while True:
        heap = top_process(ctx, pid)["heap"]
        if (heap and heap["bytes"] == want) or time.monotonic() > end:
            return heap
        time.sleep(0.05)


def case_top_live(ctx):
    """The agent's live figures: a program under vitals run that holds exactly 1000 blocks of
    10,000 bytes shows them in vitals top --batch (JSON and text) and as vitals monitor's heap
    series (with an alert on them); the file is the user's alone and goes at exit; a process
    not under vitals, and a stale file of another process with the same pid, show none."""
    trace = ctx.work / "live.vtr"
    run, pid = start_live_heap(ctx, trace)
    path = Path(f"/dev/shm/vitals-{os.getuid()}-{pid}")
    try:
        heap = wait_heap(ctx, pid, LIVE_HEAP)
        ctx.require(heap is not None, "top -p shows no heap figures for a process under vitals")
        ctx.eq("heap in use, blocks, peak", (heap["bytes"], heap["blocks"], heap["peak"]),
               (LIVE_HEAP, 1000, LIVE_HEAP))
        ctx.eq("alloc and free calls and bytes",
               (heap["alloc_calls"], heap["alloc_bytes"], heap["free_calls"], heap["free_bytes"]),
               (1000, LIVE_HEAP, 0, 0))
        ctx.eq("trace", heap["trace"], str(trace))
        ctx.check(heap["trace_bytes"] > 0 and heap["agent_mapped_bytes"] > 0,
                  f"trace and agent bytes: {heap}")
        ctx.eq("dropped, cpu samples (no --cpu)", (heap["dropped"], heap["cpu_samples"]), (0, None))
        ctx.check(0 < heap["peak_ns"] <= heap["elapsed_ns"], f"peak time: {heap}")
        st = path.stat()
        ctx.eq("live file: mode and owner", (oct(st.st_mode & 0o777), st.st_uid),
               (oct(0o600), os.getuid()))
        r = ctx.vitals_cmd(["top", "-b", "1", "-d", "0.1", "-p", pid])
        out = r.stdout.decode()
        ctx.check("Heap 9.54 MiB in 1,000 blocks  peak 9.54 MiB" in out and
                  f"vitals: trace {trace}" in out, f"text batch:\n{out}")
        mtrace = ctx.work / "monitor.vtr"
        r = ctx.vitals_cmd(["monitor", "--pid", pid, "-i", "50ms", "-t", "400ms", "--json",
                            "-o", mtrace, "--no-anomalies", "-a", "heap > 9MB",
                            "-a", "heap_blocks >= 1001"])
        lines = json_lines(ctx, r.stdout, "monitor --json")
        snaps = [x for x in lines if x["type"] == "snapshot"]
        ctx.check(len(snaps) >= 3, f"{len(snaps)} snapshots")
        ctx.eq("monitor: heap, heap_blocks, heap_peak of every snapshot",
               {(x["heap"], x["heap_blocks"], x["heap_peak"]) for x in snaps},
               {(LIVE_HEAP, 1000, LIVE_HEAP)})
        ctx.eq("monitor: allocs total", snaps[-1]["allocs"], 0)  # none since it started
        alerts = [x for x in lines if x["type"] == "alert"]
        ctx.eq("monitor: alerts (heap > 9MB once)", [(a["metric"], a["value"]) for a in alerts],
               [("heap", LIVE_HEAP)])
        mrep = ctx.report(mtrace)
        ctx.eq("monitor trace: heap min and max", (metric(mrep, "heap")["min"],
                                                   metric(mrep, "heap")["max"]),
               (LIVE_HEAP, LIVE_HEAP))
        ctx.eq("monitor trace: heap_blocks measured on every snapshot",
               metric(mrep, "heap_blocks")["measured"], mrep["monitor"]["snapshots"])
        run.stdin.write(b"\n")
        run.stdin.flush()
        r = ctx.finish(run)
        ctx.eq("vitals run: exit status", r.returncode, 0)
    finally:
        if run.poll() is None:
            run.kill()
    ctx.check(not path.exists(), f"{path} is still there after the run")
    rep = ctx.report(trace)
    ctx.eq("the trace's peak (the same figure)", rep["heap"]["peak_bytes"], LIVE_HEAP)

    # A CPU profile alone: no heap figures, the samples counted.
    run = ctx.spawn([ctx.vitals, "run", "-q", "--cpu", "--no-alloc", "-o", ctx.work / "cpu.vtr",
                     "--", ctx.prog("monitor_child"), "burn", "1500"])
    try:
        heap, end = None, time.monotonic() + 10
        while time.monotonic() < end and not (heap and heap["cpu_samples"]):
            time.sleep(0.1)
            kids = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
            heap = top_process(ctx, int(kids[0]))["heap"] if kids else None
        ctx.require(heap is not None, "vitals run --cpu --no-alloc: no live figures")
        ctx.eq("--no-alloc: heap figures", (heap["bytes"], heap["blocks"], heap["alloc_calls"]),
               (None, None, None))
        ctx.check(heap["cpu_samples"] > 0, f"--cpu: CPU samples {heap['cpu_samples']}")
    finally:
        ctx.finish(run)

    child = start_child(ctx)
    stale = Path(f"/dev/shm/vitals-{os.getuid()}-{child.pid}")
    try:
        p = top_process(ctx, child.pid)
        ctx.eq("not under vitals: heap", p["heap"], None)
        out = ctx.vitals_cmd(["top", "-b", "1", "-d", "0.1", "-p", child.pid]).stdout.decode()
        ctx.check("Heap: not known (the process does not run under vitals run)" in out,
                  f"text batch, not under vitals:\n{out}")
        # A file left by an earlier process with this pid: right magic, version and size,
        # another start time.
        import struct
        head = struct.pack("<IIIiQQQQQQQ", 0x564c5456, 1, LIVE_SIZE, child.pid, 1, 2, 1, 0, 0,
                           12345, 1)
        stale.write_bytes(head + b"\0" * (LIVE_SIZE - len(head)))
        stale.chmod(0o600)
        ctx.eq("stale file: heap", top_process(ctx, child.pid)["heap"], None)
    finally:
        if stale.exists():
            stale.unlink()
        child.kill()
        child.wait()


def case_top_live_tmux(ctx):
    """The process view in a terminal (tmux, 80x24) of a program under vitals run shows its
    heap line."""
    if not shutil.which("tmux"):
        raise Failed("tmux is missing (Debian package tmux; scripts/deps.sh installs it)")
    run, pid = start_live_heap(ctx, ctx.work / "live.vtr")
    t = Tmux(ctx)
    try:
        wait_heap(ctx, pid, LIVE_HEAP)
        t.start(["top", "-d", "0.2", "-p", pid])
        s = t.wait_for("Heap 9.54 MiB in 1,000 blocks")
        ctx.check("vitals: trace" in s, f"the recording's line:\n{s}")
        check_fits(ctx, s, 80, 24, "process view under vitals")
        t.keys("q")
        ctx.eq("exit status after q", t.wait_exit(), 0)
    finally:
        t.close()
        run.stdin.write(b"\n")
        run.stdin.flush()
        ctx.finish(run)


def case_monitor_phases(ctx):
    """A program that burns the CPU for 2 s, then writes straight to the disk for 2 s
    (O_DIRECT, O_DSYNC), then sleeps 2 s:
    windows of 1 s give three phases, cpu-bound, io-bound and waiting, in that order, each
    announced once as it begins (JSON lines), and the report of the trace finds the same."""
    trace = ctx.work / "phases.vtr"
    r = ctx.vitals_cmd(["monitor", "-i", "20ms", "--window", "1s", "-o", trace, "--json",
                        "--no-anomalies", "--", ctx.prog("monitor_child"), "burn", "2000",
                        "dwrite", "2000", "sleep", "2000"])
    ctx.eq("exit status", r.returncode, 0)
    lines = json_lines(ctx, r.stdout, "--json")
    announced = [x["class"] for x in lines if x["type"] == "phase"]
    end = lines[-1]
    classes = [p["class"] for p in end["phases"]]
    want = ["cpu-bound", "io-bound", "waiting"]
    ctx.eq(f"phases at the end ({end['phases']})", classes, want)
    ctx.eq("phases announced as they began", announced, want)
    if classes == want:
        b = [(p["from"], p["to"]) for p in end["phases"]]
        # boundaries near 2 s and 4 s of the program's time (burning may take longer on a
        # loaded machine: its 2 s are of CPU time); each phase at least a second long
        ctx.check(all(t - f >= 1.0 for f, t in b), f"phase lengths: {b}")
    r = ctx.vitals_cmd(["report", trace, "--format", "json", "--window", "1s"])
    ph = json.loads(r.stdout)["monitor"]["phases"]
    ctx.eq("report: window", ph["window_ns"], 1_000_000_000)
    ctx.eq("report: phases", [p["class"] for p in ph["phases"]], want)
    io = [p for p in ph["phases"] if p["class"] == "io-bound"]
    if io:
        ctx.check(max(io[0]["blkio_pct"] or 0, io[0]["disk_state_pct"] or 0) >= 20,
                  f"the figures that decided io-bound: {io[0]}")
    text = ctx.vitals_cmd(["report", trace, "--window", "1s"]).stdout.decode()
    ctx.check("phases (windows of 1 s" in text and "io-bound" in text, f"text report:\n{text}")
    r = ctx.vitals_cmd(["report", trace, "--window", "0s"])
    ctx.eq("--window 0s: status", r.returncode, 2)


def main():
    return e2e.run_cases(e2e.cases_of(globals()), __doc__)


if __name__ == "__main__":
    sys.exit(main())
