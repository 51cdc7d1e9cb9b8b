#!/usr/bin/env python3
"""End-to-end tests: real programs under `vitals run`, checked against numbers known by
construction (the programs are in tests/programs; each says what it allocates).

Usage: e2e.py --vitals PATH --agent-dir DIR --programs DIR --work DIR CASE

Every case is a function named case_<CASE>. A case fails with exit status 1 and lists every
mismatch it found; a missing dependency (a program, heaptrack, ...) is a failure too, never a
skip. Python 3 standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "programs"
TIMEOUT = 30  # seconds for one command; every program here needs well under one
CRASH_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:", "Segmentation fault", "core dumped")

# The trace format (src/trace/format.h): a 32-byte file header, then blocks, each with a
# 40-byte header. The damage cases rely only on its sync word (offset 0) and stored size
# (offset 16), to know where blocks start.
TRACE_HEADER = 32
BLOCK_HEADER = struct.Struct("<IBBHIIIQQI")


class Failed(Exception):
    pass


class Ctx:
    def __init__(self, args):
        self.vitals = Path(args.vitals).resolve()
        self.agent = Path(args.agent_dir).resolve() / "libvitals-agent.so"
        self.programs = Path(args.programs).resolve()
        self.work = Path(args.work).resolve() / args.case
        self.problems = []
        for what, path in (("vitals", self.vitals), ("the agent", self.agent)):
            if not path.is_file():
                raise Failed(f"{what} is missing: '{path}' does not exist (build first: "
                             f"cmake --build build)")
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.env = dict(os.environ)
        self.env.pop("LD_PRELOAD", None)
        self.env["VITALS_AGENT"] = str(self.agent)
        self.env["LC_ALL"] = "C"
        self.env["VITALS_HISTORY"] = str(self.work / "history.db")  # never the user's

    # Checks that collect every mismatch of a case instead of stopping at the first.
    def check(self, cond, what):
        if not cond:
            self.problems.append(what)
        return cond

    def eq(self, what, actual, expected):
        return self.check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")

    def require(self, cond, what):
        """A check the rest of the case depends on: stop here if it fails."""
        if not cond:
            self.problems.append(what)
            raise Failed(what)

    def prog(self, name):
        p = self.programs / name
        if not p.is_file():
            raise Failed(f"test program '{p}' is missing (built by tests/programs)")
        return p

    def spawn(self, cmd, cwd=None, env=None, preexec=None):
        """Starts cmd in a process group of its own, so that a hang is cleaned up whole (the
        program, and children it forked, not only vitals); finish() collects it. preexec runs
        in the child before exec (limits, signal dispositions)."""
        cmd = [str(c) for c in cmd]
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=cwd or self.work,
                                env=env or self.env, start_new_session=True,
                                preexec_fn=preexec)

    def finish(self, p, stdin=b"", timeout=TIMEOUT):
        """Waits for a process of spawn(); a hang fails the case, naming the command."""
        try:
            out, err = p.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise Failed(f"hung: killed after {timeout} s: {' '.join(p.args)}\n"
                         f"stdout: {out[-2000:]!r}\nstderr: {err[-2000:]!r}")
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def run(self, cmd, stdin=b"", cwd=None, env=None, timeout=TIMEOUT, preexec=None):
        """Runs cmd (see spawn and finish)."""
        return self.finish(self.spawn(cmd, cwd, env, preexec), stdin, timeout)

    def vitals_cmd(self, args, stdin=b"", env=None, timeout=TIMEOUT, preexec=None):
        """Runs vitals; fails the case if vitals itself died or a sanitizer spoke."""
        r = self.run([self.vitals] + list(args), stdin=stdin, env=env, timeout=timeout,
                     preexec=preexec)
        return self.vitals_checked(r)

    def vitals_checked(self, r):
        """r, a finished vitals command, unless vitals died or a sanitizer spoke."""
        args = r.args[1:]
        err = r.stderr.decode(errors="replace")
        self.require(r.returncode >= 0,
                     f"'vitals {' '.join(map(str, args))}' was killed by signal "
                     f"{-r.returncode}; stderr:\n{err}")
        for marker in CRASH_MARKERS:
            self.require(marker not in err,
                         f"'vitals {' '.join(map(str, args))}' printed '{marker}':\n{err}")
        return r

    def run_opts(self, out=None, follow=False, quiet=True, depth=None):
        """The options of `vitals run` for these settings."""
        opts = []
        if out:
            opts += ["-o", out]
        if follow:
            opts.append("--follow")
        if quiet:
            opts.append("-q")
        if depth:
            opts += ["--depth", depth]
        return opts

    def vitals_run(self, prog, args=(), out=None, follow=False, quiet=True, stdin=b"", env=None,
                   depth=None, timeout=TIMEOUT):
        opts = self.run_opts(out, follow, quiet, depth)
        return self.vitals_cmd(["run"] + opts + ["--", prog] + list(args), stdin=stdin, env=env,
                               timeout=timeout)

    def report_any(self, trace):
        """The JSON report of a trace, warnings or not, and what vitals said on stderr."""
        r = self.vitals_cmd(["report", trace, "--format", "json", "--top", "100000"])
        err = r.stderr.decode(errors="replace")
        self.require(r.returncode == 0,
                     f"vitals report '{trace}' exited {r.returncode}; stderr:\n{err}")
        try:
            return json.loads(r.stdout), err
        except ValueError as e:
            raise Failed(f"vitals report '{trace}' printed invalid JSON ({e})")

    def report(self, trace):
        """The JSON report of an intact trace (no warnings, nothing dropped)."""
        rep, _ = self.report_any(trace)
        self.eq(f"{Path(trace).name}: trace.warnings", rep["trace"]["warnings"], None)
        self.eq(f"{Path(trace).name}: process.dropped_events", rep["process"]["dropped_events"],
                0)
        return rep

    def traced(self, prog, args=(), expect_status=0, trace_name=None, **kw):
        """Runs a test program under vitals and returns (run result, report)."""
        trace = self.work / (trace_name or f"{prog}.vtr")
        r = self.vitals_run(self.prog(prog), args, out=trace, **kw)
        self.require(r.returncode == expect_status,
                     f"vitals run {prog} exited {r.returncode}, expected {expect_status}; "
                     f"stderr:\n{r.stderr.decode(errors='replace')}")
        self.require(trace.is_file(), f"no trace at '{trace}'")
        rep = self.report(trace)
        self.check_symbolized(rep, trace.name)
        return r, rep

    def check_symbolized(self, rep, label):
        """Every site has frames the module map places in a module."""
        for key in ("sites_by_calls", "sites_by_mapped"):
            for e in rep[key]["entries"]:
                if not any(f["module"] for f in e["stack"]):
                    self.problems.append(
                        f"{label}: a site of {e['alloc_calls'] + e['mmap_calls']} calls has "
                        f"{len(e['stack'])} frames and none is in a known module (no module "
                        f"map in the trace?): {[f['address'] for f in e['stack']]}")
                    return False
        return True

    def repeat_symbolized(self, prog, status, runs):
        """Runs prog again and again: a race in how the trace ends shows up as a fraction."""
        bad = 0
        for i in range(runs):
            trace = self.work / f"{prog}.again{i}.vtr"
            r = self.vitals_run(self.prog(prog), out=trace)
            self.eq(f"{prog} run {i + 2}: exit status", r.returncode, status)
            rep = self.report(trace)
            seen = len(self.problems)
            if not self.check_symbolized(rep, trace.name):
                bad += 1
                del self.problems[seen:]
        self.eq(f"{prog}: runs of {runs} more whose trace cannot be symbolized", bad, 0)


def functions(entry):
    return [f["function"] for f in entry["stack"]]


def with_function(entries, fn):
    """The site entries whose stack passes through fn: the robust way to find a site."""
    return [e for e in entries if fn in functions(e)]


def total(entries, key):
    return sum(e[key] for e in entries)


def fn_union(entries):
    return sorted({f for e in entries for f in e["functions"]})


def marker_lines(source, marker):
    """Line numbers of the '@marker' comments in a test program's source."""
    lines = (SOURCES / source).read_text().splitlines()
    found = [i + 1 for i, l in enumerate(lines) if re.search(rf"@{marker}\b", l)]
    if not found:
        raise Failed(f"marker @{marker} not found in {source}")
    return found


def check_site(ctx, rep, fn, n_blocks, n_bytes, fns, calls, call_bytes, label=None):
    """Exact leaked blocks and bytes, allocating functions and calls at the sites through fn."""
    label = label or fn
    leaks = with_function(rep["leaks"]["entries"], fn)
    sites = with_function(rep["sites_by_calls"]["entries"], fn)
    ctx.eq(f"{label}: leaked_blocks", total(leaks, "leaked_blocks"), n_blocks)
    ctx.eq(f"{label}: leaked_bytes", total(leaks, "leaked_bytes"), n_bytes)
    if fns is not None:
        ctx.eq(f"{label}: functions of the leaking sites", fn_union(leaks), sorted(fns))
    ctx.eq(f"{label}: alloc_calls", total(sites, "alloc_calls"), calls)
    ctx.eq(f"{label}: alloc_bytes", total(sites, "alloc_bytes"), call_bytes)
    ctx.eq(f"{label}: leaked_blocks in sites_by_calls", total(sites, "leaked_blocks"), n_blocks)
    return leaks


def check_innermost(ctx, entries, fn, source, markers, module, label=None):
    """The innermost frame of each entry is the site itself, at one of the marked lines."""
    label = label or fn
    want = sorted({n for m in markers for n in marker_lines(source, m)})
    got = []
    for e in entries:
        top = e["stack"][0] if e["stack"] else {}
        ctx.eq(f"{label}: innermost frame function", top.get("function"), fn)
        ctx.eq(f"{label}: innermost frame file", Path(top.get("file") or "").name, source)
        ctx.eq(f"{label}: innermost frame module", Path(top.get("module") or "").name, module)
        ctx.eq(f"{label}: innermost frame inlined", top.get("inlined"), False)
        got.append(top.get("line"))
    ctx.eq(f"{label}: lines of the innermost frames", sorted(got), want)


def case_leaks_c(ctx):
    _, rep = ctx.traced("leaks_c")
    check_site(ctx, rep, "site_a", 37, 37 * 48, ["malloc"], 37, 37 * 48)
    check_site(ctx, rep, "site_b", 5, 5 * 120, ["calloc"], 5, 5 * 120)
    # The chain is one block: the leak is filed under the last realloc; the three calls
    # (malloc, realloc, realloc) each count as an allocation.
    check_site(ctx, rep, "site_c", 1, 300, ["realloc"], 3, 10 + 100 + 300)
    check_site(ctx, rep, "site_d", 4, 4 * 64, ["posix_memalign"], 4, 4 * 64)
    check_site(ctx, rep, "site_e", 3, 128 + 200 + 300, ["aligned_alloc", "memalign", "valloc"], 3,
               128 + 200 + 300)
    check_site(ctx, rep, "site_f", 0, 0, [], 20 + 1 + 2, 20 * 64 + 21 + 16 + 4000)
    calls_c = with_function(rep["sites_by_calls"]["entries"], "site_c")
    ctx.eq("site_c: functions of its three sites", fn_union(calls_c), ["malloc", "realloc"])

    leaks = rep["leaks"]["entries"]
    for fn, markers in (("site_a", ["A"]), ("site_b", ["B"]), ("site_c", ["C3"]),
                        ("site_d", ["D"]), ("site_e", ["E1", "E2", "E3"])):
        check_innermost(ctx, with_function(leaks, fn), fn, "leaks_c.c", markers, "leaks_c")
    for e in leaks:
        ctx.eq("leaks_c: the caller of every leaking site", functions(e)[1:2], ["main"])

    # The program allocates nothing else (no stdio; glibc makes no heap allocation of its own
    # in a C program that does not use it), so the totals are exact too.
    heap = rep["heap"]
    ctx.eq("heap.alloc_calls", heap["alloc_calls"], 37 + 5 + 3 + 4 + 3 + 23)
    ctx.eq("heap.free_calls", heap["free_calls"], 20 + 1 + 1)
    ctx.eq("heap.realloc_calls", heap["realloc_calls"], 3)
    ctx.eq("heap.bytes_allocated", heap["bytes_allocated"], 1776 + 600 + 410 + 256 + 628 + 5317)
    ctx.eq("heap.leaked_blocks", heap["leaked_blocks"], 37 + 5 + 1 + 4 + 3)
    ctx.eq("heap.leaked_bytes", heap["leaked_bytes"], 1776 + 600 + 300 + 256 + 628)
    ctx.eq("heap.unmatched_frees", heap["unmatched_frees"], 0)
    ctx.eq("heap.calls_by_function", heap["calls_by_function"],
           {"malloc": 37 + 1 + 20 + 1, "calloc": 5 + 1, "realloc": 3, "posix_memalign": 4,
            "aligned_alloc": 1, "memalign": 1, "valloc": 1, "free": 22})
    ctx.eq("leaks.total", rep["leaks"]["total"], 7)
    ctx.eq("process.end", rep["process"]["end"], "exit")
    ctx.eq("process.forked", rep["process"]["forked"], False)
    ctx.eq("process.exe", Path(rep["process"]["exe"]).name, "leaks_c")


CLASS_KEYS = ("definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable")


def memcheck_summary(ctx, prog, args=()):
    """Runs prog under valgrind memcheck --leak-check=full; returns {class: (bytes, blocks)} and
    the memcheck output."""
    ctx.require(shutil.which("valgrind"),
                "'valgrind' is not installed: this test compares with memcheck (apt-get install "
                "valgrind); it is not skipped")
    r = ctx.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", ctx.prog(prog),
                 *args], timeout=120)
    text = r.stderr.decode(errors="replace")
    out = {}
    for key in CLASS_KEYS:
        m = re.search(key.replace("_", " ") + r": ([\d,]+) bytes in ([\d,]+) blocks", text)
        ctx.require(m, f"memcheck printed no '{key}' line:\n{text[-2000:]}")
        out[key] = (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")))
    return out, text


def vitals_classes(rep):
    classes = rep["leak_check"]["classes"]
    return {k: (classes[k]["bytes"], classes[k]["blocks"]) for k in CLASS_KEYS}


def class_site_total(rep, key, fn, exclude=()):
    """Bytes and blocks of class key over the sites whose stack names fn (and none of
    exclude)."""
    entries = [e for e in rep["leak_check"]["classes"][key]["sites"]["entries"]
               if fn in functions(e) and not set(exclude) & set(functions(e))]
    return (sum(e[key + "_bytes"] for e in entries), sum(e[key + "_blocks"] for e in entries))


def case_leak_classes(ctx):
    # The ground truth is in the program's header comment; memcheck must agree with it too.
    expected = {"definitely_lost": (205128, 11), "indirectly_lost": (496, 11),
                "possibly_lost": (104, 2), "still_reachable": (1049596, 17)}
    _, rep = ctx.traced("leak_classes")
    ctx.eq("leak_check.status", rep["leak_check"]["status"], "done")
    ctx.eq("vitals classes", vitals_classes(rep), expected)
    mc, _ = memcheck_summary(ctx, "leak_classes")
    ctx.eq("memcheck classes", mc, expected)
    # Each class, by call stack.
    for key, fn, want in (("definitely_lost", "drop_list", (48, 1)),
                          ("indirectly_lost", "drop_list", (9 * 48, 9)),
                          ("definitely_lost", "drop_cycle", (32, 1)),
                          ("indirectly_lost", "drop_cycle", (64, 2)),
                          ("definitely_lost", "drop_small", (7 * 24, 7)),
                          ("definitely_lost", "drop_big", (200 * 1024, 1)),
                          ("possibly_lost", "keep_interior", (104, 2)),
                          ("still_reachable", "keep_table", (580, 10)),
                          ("still_reachable", "keep_elsewhere", (56 + 72 + 1048576 + 88 + 120, 5)),
                          ("definitely_lost", "keep_elsewhere", (80, 1)),
                          ("still_reachable", "keep_by_heuristics", (104, 2))):
        ctx.eq(f"{key} from {fn}", class_site_total(rep, key, fn), want)
    heap = rep["heap"]
    ctx.eq("reachable via heuristic", rep["leak_check"]["reachable_via_heuristic"],
           {"blocks": 2, "bytes": 104})
    ctx.eq("leaked = sum of the classes",
           (heap["leaked_bytes"], heap["leaked_blocks"]),
           tuple(map(sum, zip(*expected.values()))))
    # The text report and the summary of vitals run say the same.
    text = ctx.vitals_cmd(["report", str(ctx.work / "leak_classes.vtr")]).stdout.decode()
    for line in ("definitely lost  11 blocks, 200 KiB", "indirectly lost  11 blocks, 496 B",
                 "possibly lost    2 blocks, 104 B", "still reachable  17 blocks, 1.00 MiB",
                 "Definitely lost, by call stack", "Possibly lost (reachable only through "
                 "interior pointers), by call stack"):
        ctx.check(line in text, f"the text report has no line '{line}'")


def case_leak_threads(ctx):
    # Threads blocked at exit hold blocks on their stacks; their arenas are not roots.
    _, rep = ctx.traced("leak_threads")
    mc, text = memcheck_summary(ctx, "leak_threads")
    got = vitals_classes(rep)
    for key, want in (("definitely_lost", (432, 7)), ("indirectly_lost", (0, 0))):
        ctx.eq(f"vitals {key}", got[key], want)
        ctx.eq(f"memcheck {key}", mc[key], want)
    ctx.eq("memcheck still_reachable", mc["still_reachable"], (3456, 15))
    ctx.eq("vitals still reachable, less the 4 TLS vectors",
           (got["still_reachable"][0] - rep["leak_check"]["reachable_via_heuristic"]["bytes"],
            got["still_reachable"][1] - 4), (3456, 15))
    ctx.eq("definitely lost from drop_two", class_site_total(rep, "definitely_lost", "drop_two"),
           (3 * 2 * 64, 6))
    ctx.eq("definitely lost from drop_one", class_site_total(rep, "definitely_lost", "drop_one"),
           (48, 1))
    ctx.eq("still reachable from worker", class_site_total(rep, "still_reachable", "worker"),
           (3 * 4 * 256, 12))
    # The C library's thread-local storage vectors (reached only through a pointer 16 bytes
    # in): memcheck calls the 3 of the blocked threads possibly lost (it frees the cached
    # one's first); vitals's dtv heuristic counts all 4 still reachable, apart.
    ctx.eq("vitals possibly lost", got["possibly_lost"], (0, 0))
    ctx.eq("possibly lost TLS vectors (memcheck)", mc["possibly_lost"][1], 3)
    ctx.check("allocate_dtv" in text, "memcheck's possibly lost blocks are not the TLS vectors")
    ctx.eq("vitals: reachable only by a heuristic (the 4 vectors)",
           rep["leak_check"]["reachable_via_heuristic"]["blocks"], 4)
    dtv = ("allocate_dtv", "_dl_allocate_tls")
    ctx.eq("the vectors' blocks",
           sum(e["still_reachable_blocks"] for e in
               rep["leak_check"]["classes"]["still_reachable"]["sites"]["entries"]
               if set(dtv) & set(functions(e))), 4)
    ctx.eq("threads seen by the scan", rep["leak_check"]["threads"], 4)
    ctx.eq("threads whose stack pointer was known", rep["leak_check"]["threads_with_stack_pointer"],
           4)


def case_leak_demo(ctx):
    # The demo program, run several times: the classes must not depend on where the kernel
    # puts the agent's memory. It leaks 200 records of 16 bytes with their texts (3,289 bytes in
    # all, reached only from the records) and the 4 KiB cache table; stdout's 4 KiB buffer
    # (stdout is a pipe here) is still reachable.
    leaky = ctx.vitals.parent / "examples" / "leaky"
    ctx.require(leaky.is_file(), f"'{leaky}' is missing (built with vitals)")
    want = {"definitely_lost": (200 * 16 + 4096, 201), "indirectly_lost": (3289, 200),
            "possibly_lost": (0, 0), "still_reachable": (4096, 1)}
    for i in range(4):
        trace = ctx.work / f"leaky{i}.vtr"
        r = ctx.vitals_run(leaky, out=trace)
        ctx.eq(f"run {i}: exit status", r.returncode, 0)
        ctx.eq(f"run {i}: classes", vitals_classes(ctx.report(trace)), want)


def case_leak_reserved(ctx):
    # 32 GiB reserved, one page touched: the scan skips the pages never used.
    _, rep = ctx.traced("leak_reserved")
    ctx.eq("classes", vitals_classes(rep),
           {"definitely_lost": (24, 1), "indirectly_lost": (0, 0), "possibly_lost": (0, 0),
            "still_reachable": (40, 1)})
    root = rep["leak_check"]["root_bytes"]
    ctx.check(root < 64 << 20, f"the scan read {root} bytes of roots: it read untouched pages")


def case_advice(ctx):
    # tests/programs/advice.c triggers every rule once, each from its own function.
    _, rep = ctx.traced("advice", timeout=60)
    got = {}
    for a in rep["advice"]:
        where = functions(a["site"])[0] if a["site"] else None
        got.setdefault(a["kind"], []).append((a["severity"], where, a["saving"]))
    want = {
        "leak": [("warning", "drop_leaks", 640)],
        "growth": [("warning", "grow", None)],
        "pool": [("info", "pool_candidate", 20000)],
        "temporary": [("info", "temporaries", 20000)],
        "realloc": [("info", "grow_buffer", 299)],
        "waste": [("info", "tiny", 100000 * 23)],
        "stack": [("critical", None, 0)],
        "overhead": [("warning", None, None)],
    }
    ctx.eq("advice kinds", sorted(got), sorted(want))
    for kind, items in want.items():
        have = got.get(kind, [])
        ctx.eq(f"{kind}: items", len(have), len(items))
        for (sev, fn, saving), (hsev, hfn, hsaving) in zip(items, have):
            ctx.eq(f"{kind}: severity", hsev, sev)
            ctx.eq(f"{kind}: site", hfn, fn)
            if saving is not None:
                ctx.eq(f"{kind}: saving", hsaving, saving)
    growth = got.get("growth", [(None, None, 0)])[0][2]
    ctx.check(150 * 2048 * 0.8 <= growth <= 150 * 2048,
              f"growth: saving {growth}, expected most of the 150 x 2 KiB the site grew by")
    ctx.eq("the order: most severe first",
           [a["severity"] for a in rep["advice"]],
           sorted([a["severity"] for a in rep["advice"]],
                  key=["critical", "warning", "info"].index))
    stack = [a for a in rep["advice"] if a["kind"] == "stack"]
    ctx.check(stack and stack[0]["thread_tid"] and "95." in stack[0]["evidence"],
              f"stack advice: {stack}")
    ctx.eq("health", (rep["health"]["score"], rep["health"]["rating"]), (40, "poor"))
    ctx.eq("deductions", [d["points"] for d in rep["health"]["deductions"]], [15, 15, 20, 10])
    text = ctx.vitals_cmd(["report", str(ctx.work / "advice.vtr")]).stdout.decode()
    for line in ("Memory health  poor (40/100)", "critical stack: thread",
                 "do: keep these objects in a pool", "saves: 299 realloc calls"):
        ctx.check(line in text, f"the text report has no '{line}'")


def case_advice_clean(ctx):
    r, rep = ctx.traced("advice_clean", quiet=False)
    ctx.eq("advice", rep["advice"], [])
    ctx.eq("health", (rep["health"]["score"], rep["health"]["rating"], rep["health"]["deductions"]),
           (100, "excellent", []))
    ctx.check(b"memory health: excellent (100/100)\n" in r.stderr,
              f"the run summary does not give the health: {r.stderr!r}")


def case_leak_check_none(ctx):
    trace = ctx.work / "none.vtr"
    r = ctx.vitals_cmd(["run", "-q", "--leak-check=none", "-o", str(trace), "--",
                        str(ctx.prog("leak_classes"))])
    ctx.eq("exit status", r.returncode, 0)
    rep = ctx.report(trace)
    ctx.eq("leak_check.status", rep["leak_check"]["status"], "not run")
    ctx.eq("classes", rep["leak_check"]["classes"], {k: None for k in CLASS_KEYS})
    ctx.eq("leaked blocks", rep["heap"]["leaked_blocks"], 41)
    for bad in ("--leak-check=sometimes", "--leak-check"):
        r = ctx.vitals_cmd(["run", bad, "--", str(ctx.prog("leak_classes"))])
        ctx.eq(f"{bad}: exit status", r.returncode, 2)
        ctx.check(b"--leak-check" in r.stderr or b"needs a value" in r.stderr,
                  f"{bad}: the error does not name the option: {r.stderr!r}")


def case_fragmentation(ctx):
    """Internal waste from glibc's usable sizes, exact; memory samples while a known heap is
    held (see tests/programs/frag_waste.c)."""
    _, rep = ctx.traced("frag_waste")
    frag = rep["fragmentation"]
    waste = frag["internal_waste"]
    ctx.require(waste is not None, "fragmentation.internal_waste is null for a 1.2 trace")
    kept, kept_waste = 10 * 1 + 10 * 24 + 10 * 100, 10 * 23 + 10 * 0 + 10 * 4
    held, held_waste = 16 * 32768, 16 * 8
    temp, temp_waste = 5 * 50, 5 * 6

    def figures(requested, w):
        return {"requested": requested, "waste": w, "usable": requested + w,
                "percent": round(100 * w / (requested + w), 2)}

    ctx.eq("internal_waste.all", waste["all"],
           figures(kept + held + temp, kept_waste + held_waste + temp_waste))
    ctx.eq("internal_waste.at_peak", waste["at_peak"],
           figures(kept + held, kept_waste + held_waste))
    ctx.eq("internal_waste.at_exit", waste["at_exit"], figures(kept, kept_waste))
    by_fn = {}
    for e in frag["sites_by_waste"]["entries"]:
        for fn in ("waste_small", "waste_100", "waste_temp", "waste_hold"):
            if fn in functions(e):
                by_fn[fn] = (e["alloc_calls"], e["waste_bytes"], e["peak_waste"],
                             e["leaked_waste"])
    ctx.eq("sites_by_waste (calls, waste, at peak, at exit)", by_fn,
           {"waste_small": (10, 230, 230, 230), "waste_100": (10, 40, 40, 40),
            "waste_temp": (5, 30, 0, 0), "waste_hold": (16, 128, 128, 0)})
    ctx.eq("sites_by_waste.total (malloc(24) wastes nothing)", frag["sites_by_waste"]["total"], 4)
    exact = with_function(rep["sites_by_calls"]["entries"], "waste_exact")
    ctx.eq("waste_exact: (calls, waste_bytes)",
           [(e["alloc_calls"], e["waste_bytes"]) for e in exact], [(10, 0)])

    # Samples: every 100 ms while the 16 blocks are held (500 ms), and one at exit.
    series = frag["series"]
    ctx.eq("memory_samples == points (no merging below 512)", frag["memory_samples"],
           len(series))
    held_points = [p for p in series if p["max"]["heap"] == kept + held]
    ctx.check(len(held_points) >= 2,
              f"samples while the blocks are held: got {len(held_points)}, expected at least 2 "
              f"(heaps sampled: {[p['max']['heap'] for p in series]})")
    for p in held_points:
        v = p["max"]
        ctx.check(v["rss"] > 0, f"sample at {p['ns']} ns: rss is 0")
        ctx.check(v["uordblks"] + v["hblkhd"] >= kept + held + kept_waste + held_waste,
                  f"sample at {p['ns']} ns: in use per the allocator "
                  f"({v['uordblks']} + {v['hblkhd']}) is less than the usable size of the live "
                  f"blocks ({kept + held + kept_waste + held_waste})")
        ctx.eq(f"sample at {p['ns']} ns: min == max for one sample", p["min"], p["max"])
    for p in series:
        ctx.check(p["ns"] <= rep["process"]["duration_ns"],
                  f"sample at {p['ns']} ns is after the end ({rep['process']['duration_ns']})")
    ctx.eq("times of the series are in order", [p["ns"] for p in series],
           sorted(p["ns"] for p in series))
    at_peak, at_exit = frag["at_peak"], frag["at_exit"]
    if ctx.check(at_peak is not None, "fragmentation.at_peak is null"):
        ctx.eq("at_peak: heap", at_peak["values"]["heap"], kept + held)
        ctx.check(at_peak["ns"] >= rep["heap"]["peak_ns"],
                  f"at_peak sample ({at_peak['ns']}) is before the peak "
                  f"({rep['heap']['peak_ns']})")
    if ctx.check(at_exit is not None, "fragmentation.at_exit is null"):
        ctx.eq("at_exit: heap", at_exit["values"]["heap"], kept)
        ctx.eq("at_exit: the last point of the series", at_exit["ns"], series[-1]["ns"])
        v = at_exit["values"]
        ctx.eq("at_exit: footprint = arena + hblkhd", at_exit["footprint"],
               v["arena"] + v["hblkhd"])
        ctx.eq("at_exit: rss_per_heap", at_exit["rss_per_heap"], round(v["rss"] / kept, 3))

    # The text report explains the figures.
    r = ctx.vitals_cmd(["report", ctx.work / "frag_waste.vtr", "--color", "never"])
    text = r.stdout.decode()
    for line in ("Fragmentation", "internal waste", "allocator (mallinfo2)", "Stacks"):
        ctx.check(line in text, f"the text report has no '{line}':\n{text}")


def case_stack_use(ctx):
    """Stack size and deepest use per thread: one thread near its limit, one far from it."""
    r, rep = ctx.traced("stack_use")
    out = r.stdout.decode()
    got = dict(re.findall(r"^(\w+) (\d+)$", out, re.M))
    ctx.require(set(got) == {"shallow", "deep", "size", "reached"}, f"unexpected output:\n{out}")
    size, reached = int(got["size"]), int(got["reached"])
    threads = {t["tid"]: t for t in rep["threads"]}
    shallow, deep = threads.get(int(got["shallow"])), threads.get(int(got["deep"]))
    ctx.require(shallow is not None and deep is not None,
                f"the threads {got['shallow']} and {got['deep']} are not in the report")
    page = os.sysconf("SC_PAGE_SIZE")
    ctx.eq("deep: stack_size", deep["stack_size"], size)
    ctx.eq("shallow: stack_size", shallow["stack_size"], size)
    # The deepest page touched holds the deepest frame; above the top sit glibc's thread
    # descriptor and TLS, inside the stack block.
    ctx.check(reached <= deep["stack_used"] <= reached + 2 * page,
              f"deep: stack_used {deep['stack_used']}, expected {reached} (the depth the thread "
              f"reached) up to two pages more")
    ctx.eq("deep: stack_near_limit", deep["stack_near_limit"], True)
    ctx.check(0 < shallow["stack_used"] <= 8 * page,
              f"shallow: stack_used {shallow['stack_used']}, expected a few pages")
    ctx.eq("shallow: stack_near_limit", shallow["stack_near_limit"], False)
    main = rep["threads"][0]
    ctx.check(main["stack_size"] is not None and main["stack_used"] is not None and
              0 < main["stack_used"] < main["stack_size"],
              f"main thread: stack {main['stack_used']} of {main['stack_size']}")
    ctx.eq("main: stack_near_limit", main["stack_near_limit"], False)
    text = ctx.vitals_cmd(["report", ctx.work / "stack_use.vtr", "--color", "never"]).stdout
    text = text.decode()
    warn = [l for l in text.splitlines() if "warning" in l and "stack" in l]
    ctx.eq("stack warnings in the text report (the deep thread's only)",
           [got["deep"] in l for l in warn], [True])
    # The summary of `vitals run` warns too.
    r = ctx.vitals_run(ctx.prog("stack_use"), out=ctx.work / "again.vtr", quiet=False)
    deep_tid = re.search(r"^deep (\d+)$", r.stdout.decode(), re.M)
    warn = [l for l in vitals_lines(r.stderr) if "stack" in l and "warning" in l]
    ctx.eq("stack warnings in the run summary",
           [f"thread {deep_tid.group(1) if deep_tid else '?'} used" in l for l in warn], [True])


def case_leaks_cxx(ctx):
    _, rep = ctx.traced("leaks_cxx")
    leaks = rep["leaks"]["entries"]
    widget = check_site(ctx, rep, "app::make_widget(int)", 11, 11 * 24, ["operator new"], 11,
                        11 * 24)
    buffer = check_site(ctx, rep, "app::make_buffer(int)", 7, 700, ["operator new[]"], 7, 700)
    # operator new takes its memory from malloc: the waste is glibc's (new char[100] has 104
    # usable bytes, a 24-byte Widget exactly 24).
    ctx.eq("make_buffer: waste_bytes",
           total(with_function(rep["sites_by_calls"]["entries"], "app::make_buffer(int)"),
                 "waste_bytes"), 7 * 4)
    ctx.eq("make_widget: waste_bytes",
           total(with_function(rep["sites_by_calls"]["entries"], "app::make_widget(int)"),
                 "waste_bytes"), 0)
    check_site(ctx, rep, "app::round_trips()", 0, 0, [], 13 + 4, 13 * 24 + 4 * 50)
    trips = with_function(rep["sites_by_calls"]["entries"], "app::round_trips()")
    ctx.eq("app::round_trips(): functions", fn_union(trips), ["operator new", "operator new[]"])
    check_innermost(ctx, widget, "app::make_widget(int)", "leaks_cxx.cpp", ["NEW"], "leaks_cxx")
    check_innermost(ctx, buffer, "app::make_buffer(int)", "leaks_cxx.cpp", ["NEWARRAY"],
                    "leaks_cxx")
    # No mangled name anywhere in the program's own frames.
    for e in leaks + rep["sites_by_calls"]["entries"]:
        for f in e["stack"]:
            if Path(f["module"] or "").name == "leaks_cxx":
                ctx.check(f["function"] and not f["function"].startswith("_Z"),
                          f"frame not demangled: {f}")
    # libstdc++ allocates its exception emergency pool with malloc before main; everything
    # made with new and delete is the program's own.
    calls = rep["heap"]["calls_by_function"]
    for fn, n in (("operator new", 11 + 13), ("operator new[]", 7 + 4), ("operator delete", 13),
                  ("operator delete[]", 4)):
        ctx.eq(f"heap.calls_by_function['{fn}']", calls.get(fn), n)
    runtime = [e for e in leaks if not e["stack"] or "main" not in functions(e)]
    ctx.eq("leaks from outside main (libstdc++'s pool)",
           [(e["leaked_blocks"], e["functions"]) for e in runtime], [(1, ["malloc"])])


def case_peak(ctx):
    _, rep = ctx.traced("peak")
    heap = rep["heap"]
    ctx.eq("heap.peak_bytes", heap["peak_bytes"], 15000)
    ctx.eq("heap.peak_blocks", heap["peak_blocks"], 5)
    ctx.eq("heap.alloc_calls", heap["alloc_calls"], 15)
    ctx.eq("heap.free_calls", heap["free_calls"], 15)
    ctx.eq("heap.bytes_allocated", heap["bytes_allocated"], 10 * 1000 + 5 * 3000)
    ctx.eq("heap.leaked_bytes", heap["leaked_bytes"], 0)
    ctx.eq("heap.leaked_blocks", heap["leaked_blocks"], 0)
    ctx.eq("leaks.total", rep["leaks"]["total"], 0)
    check_site(ctx, rep, "phase_small", 0, 0, [], 10, 10000)
    check_site(ctx, rep, "phase_large", 0, 0, [], 5, 15000)
    by_peak = rep["sites_by_peak"]["entries"]
    ctx.eq("sites_by_peak: phase_large at the peak",
           [(e["peak_bytes"], e["peak_blocks"]) for e in with_function(by_peak, "phase_large")],
           [(15000, 5)])
    ctx.eq("sites_by_peak: phase_small at the peak", with_function(by_peak, "phase_small"), [])
    ctx.eq("sites_by_peak: sites", len(by_peak), 1)


def case_threads(ctx):
    r, rep = ctx.traced("threads")
    out = r.stdout.decode()
    producers = [int(x) for x in re.findall(r"^producer (\d+)$", out, re.M)]
    consumers = [int(x) for x in re.findall(r"^consumer (\d+)$", out, re.M)]
    ctx.require(len(producers) == 4 and len(consumers) == 1, f"unexpected output:\n{out}")
    check_site(ctx, rep, "producer", 0, 0, [], 4000, 4000 * 32)
    ctx.eq("leaks through producer", with_function(rep["leaks"]["entries"], "producer"), [])
    ctx.check(rep["process"]["threads"] >= 5,
              f"process.threads: got {rep['process']['threads']}, expected at least 5")
    threads = {t["tid"]: t for t in rep["threads"]}
    for tid in producers:
        t = threads.get(tid)
        if ctx.check(t is not None, f"producer thread {tid} is not in the report"):
            ctx.eq(f"producer {tid}: (alloc_calls, alloc_bytes, frees)",
                   (t["alloc_calls"], t["alloc_bytes"], t["frees"]), (1000, 32000, 0))
    t = threads.get(consumers[0])
    if ctx.check(t is not None, f"consumer thread {consumers[0]} is not in the report"):
        ctx.eq("consumer: (alloc_calls, frees)", (t["alloc_calls"], t["frees"]), (0, 4000))
    ctx.eq("heap.unmatched_frees", rep["heap"]["unmatched_frees"], 0)
    # The program maps nothing; glibc maps and unmaps thread stacks and malloc arenas with
    # internal calls that no preload library sees.
    ctx.eq("mapped (the program maps nothing)", rep["mapped"],
           {"mmap_calls": 0, "munmap_calls": 0, "bytes_mapped": 0, "peak_bytes": 0,
            "live_bytes": 0})
    ctx.check(rep["heap"]["free_calls"] >= 4000,
              f"heap.free_calls: got {rep['heap']['free_calls']}, expected at least 4000")
    # Every block a producer made, the consumer released.
    cross = rep["cross_thread_frees"]
    pairs = {(p["alloc_tid"], p["free_tid"]): (p["frees"], p["bytes"]) for p in cross["pairs"]}
    for tid in producers:
        ctx.eq(f"cross_thread_frees: producer {tid} -> consumer",
               pairs.get((tid, consumers[0])), (1000, 32000))
    sites = with_function(cross["sites"]["entries"], "producer")
    ctx.eq("cross_thread_frees of the producer site",
           [(e["cross_thread_frees"]["frees"], e["cross_thread_frees"]["bytes"]) for e in sites],
           [(4000, 128000)])
    ctx.check(cross["frees"] >= 4000, f"cross_thread_frees.frees: {cross['frees']}")


def check_over_time(ctx, rep, label):
    """What holds for any trace: the timeline accounts for every allocation, its highest bucket
    is the peak, its last ends with what is live at the end; every block is released once or
    still live."""
    heap, ot = rep["heap"], rep["over_time"]
    buckets = ot["buckets"]
    ctx.check(1 <= len(buckets) <= 1024, f"{label}: {len(buckets)} timeline buckets")
    ctx.eq(f"{label}: allocations in the timeline", sum(b["alloc_calls"] for b in buckets),
           heap["alloc_calls"])
    ctx.eq(f"{label}: bytes in the timeline", sum(b["alloc_bytes"] for b in buckets),
           heap["bytes_allocated"])
    ctx.eq(f"{label}: highest bucket", max(b["max_bytes"] for b in buckets), heap["peak_bytes"])
    ctx.eq(f"{label}: last bucket", buckets[-1]["end_bytes"], heap["leaked_bytes"])
    ctx.eq(f"{label}: last bucket's end", buckets[-1]["end_ns"], rep["process"]["duration_ns"])
    lives = sum(rep["lifetimes"]["classes"].values()) + sum(
        ot["live_at_end"]["classes"].values())
    ctx.eq(f"{label}: lifetimes and live blocks", lives, heap["alloc_calls"])
    ctx.eq(f"{label}: live_at_end.blocks", ot["live_at_end"]["blocks"], heap["leaked_blocks"])


def case_growth(ctx):
    _, rep = ctx.traced("growth")
    heap = rep["heap"]
    ctx.eq("heap.alloc_calls", heap["alloc_calls"], 2 * 120 * 4)
    ctx.eq("heap.free_calls", heap["free_calls"], 2 * 120 * 4)
    ctx.eq("heap.leaked_bytes", heap["leaked_bytes"], 0)
    ctx.eq("heap.peak_bytes", heap["peak_bytes"], 121 * 4 * 4096)
    check_over_time(ctx, rep, "growth")
    ot = rep["over_time"]
    suspects = ot["growth_suspects"]
    ctx.eq("growth_suspects.total", suspects["total"], 1)
    ctx.eq("growth suspects through grow_step", len(with_function(suspects["entries"],
                                                                  "grow_step")), 1)
    for e in with_function(suspects["entries"], "grow_step"):
        g = e["growth"]
        ctx.eq("grow_step: leaked_bytes", e["leaked_bytes"], 0)
        ctx.eq("grow_step: alloc_calls", e["alloc_calls"], 480)
        ctx.eq("grow_step: windows", g["windows"], len(ot["windows_end_ns"]) * 9 // 10)
        ctx.check(g["windows"] >= 8, f"grow_step: only {g['windows']} windows")
        ctx.check(g["rises"] * 4 >= (g["windows"] - 1) * 3,
                  f"grow_step: rose in {g['rises']} of {g['windows'] - 1} steps")
        ctx.check(g["to_bytes"] >= 2 * g["from_bytes"] and
                  g["to_bytes"] - g["from_bytes"] >= 65536, f"grow_step: growth {g}")
        ctx.eq("grow_step: series ends at 0 (freed at the end)", g["series"][-1], 0)
        ctx.eq("grow_step: series length", len(g["series"]), len(ot["windows_end_ns"]))
    churn = with_function(rep["sites_by_calls"]["entries"], "churn_step")
    ctx.eq("churn_step: sites", len(churn), 1)
    for e in churn:
        # Flat at 4 blocks, but a window may end before the first phase or inside a phase.
        g = e["growth"]
        ctx.eq("churn_step: growth.suspect", g["suspect"], False)
        ctx.check(g["rises"] <= 2 and g["to_bytes"] <= 4 * 4096,
                  f"churn_step: not flat: {g}")
    ctx.eq("lifetimes.classes", rep["lifetimes"]["classes"],
           {"short": 960, "medium": 0, "long": 0, "permanent": 0})
    ctx.eq("sizes.classes", rep["sizes"]["classes"],
           [{"max_bytes": 4096, "calls": 960, "bytes": 960 * 4096}])


def case_lifetimes(ctx):
    _, rep = ctx.traced("lifetimes")
    check_over_time(ctx, rep, "lifetimes")
    lt = rep["lifetimes"]
    ctx.eq("lifetimes.classes", lt["classes"], {"short": 15, "medium": 0, "long": 0,
                                                "permanent": 0})
    # 2^24 ns is 16.8 ms: the blocks held across the sleep of 30 ms lived longer, the others
    # much less.
    long_lived = sum(h["blocks"] for h in lt["histogram"] if h["from_ns"] >= 1 << 24)
    ctx.eq("lifetimes: blocks that lived 16.8 ms or more", long_lived, 5)
    for fn, n, slow in (("quick", 10, False), ("hold", 5, True)):
        sites = with_function(rep["sites_by_calls"]["entries"], fn)
        hist = [h for e in sites for h in e["lifetimes"]["histogram"]]
        ctx.eq(f"{fn}: released blocks", sum(h["blocks"] for h in hist), n)
        ctx.eq(f"{fn}: lived 16.8 ms or more", all(h["from_ns"] >= 1 << 24 for h in hist) if slow
               else not any(h["from_ns"] >= 1 << 24 for h in hist), True)
    live = rep["over_time"]["live_at_end"]
    ctx.eq("live_at_end.blocks", live["blocks"], 3)
    ctx.eq("live_at_end.classes", live["classes"], {"short": 3, "medium": 0, "long": 0,
                                                    "permanent": 0})
    ctx.check(live["oldest_ns"] >= 30000000, f"live_at_end.oldest_ns: {live['oldest_ns']}")
    for e in with_function(rep["leaks"]["entries"], "keep"):
        ctx.eq("keep: live_classes", e["lifetimes"]["live_classes"],
               {"short": 3, "medium": 0, "long": 0, "permanent": 0})
        ctx.check(e["lifetimes"]["oldest_live_ns"] >= 30000000,
                  f"keep: oldest_live_ns {e['lifetimes']['oldest_live_ns']}")


def case_realloc_chain(ctx):
    _, rep = ctx.traced("realloc_chain")
    check_over_time(ctx, rep, "realloc_chain")
    rc = rep["realloc_chains"]
    ctx.eq("realloc_chains (chains, reallocs, longest, copied_bytes_max)",
           (rc["chains"], rc["reallocs"], rc["longest"], rc["copied_bytes_max"]),
           (2, 12, 10, 16368 + 100 + 200))
    ctx.eq("realloc_chains.sites.total", rc["sites"]["total"], 2)
    start = with_function(rc["sites"]["entries"], "start_buffer")
    ctx.eq("start_buffer: chains",
           [(e["realloc_chains"]["chains"], e["realloc_chains"]["reallocs"],
             e["realloc_chains"]["longest"], e["realloc_chains"]["copied_bytes_max"],
             e["functions"]) for e in start], [(1, 10, 10, 16368, ["malloc"])])
    other = [e for e in rc["sites"]["entries"] if "start_buffer" not in functions(e)]
    ctx.eq("the chain begun by realloc(NULL)",
           [(e["realloc_chains"]["chains"], e["realloc_chains"]["reallocs"],
             e["realloc_chains"]["longest"], e["realloc_chains"]["copied_bytes_max"],
             e["functions"]) for e in other], [(1, 2, 2, 300, ["realloc"])])
    ctx.eq("heap.realloc_calls", rep["heap"]["realloc_calls"], 12)


def case_sizes(ctx):
    _, rep = ctx.traced("sizes")
    check_over_time(ctx, rep, "sizes")
    mib2 = 2 << 20
    ctx.eq("sizes.classes", rep["sizes"]["classes"], [
        {"max_bytes": 16, "calls": 100, "bytes": 1600},
        {"max_bytes": 32, "calls": 50, "bytes": 1200},
        {"max_bytes": 64, "calls": 50, "bytes": 2000},
        {"max_bytes": 1024, "calls": 50, "bytes": 50000},
        {"max_bytes": 8192, "calls": 20, "bytes": 100000},
        {"max_bytes": 131072, "calls": 5, "bytes": 500000},
        {"max_bytes": mib2, "calls": 2, "bytes": 2 * mib2}])
    ctx.eq("sizes.coarse", rep["sizes"]["coarse"], [
        {"name": "<= 1 KiB", "calls": 250, "bytes": 54800},
        {"name": "1 KiB - 64 KiB", "calls": 20, "bytes": 100000},
        {"name": "64 KiB - 1 MiB", "calls": 5, "bytes": 500000},
        {"name": "> 1 MiB", "calls": 2, "bytes": 2 * mib2}])
    one = rep["one_size_sites"]
    ctx.eq("one_size_sites", [(functions(e)[0], e["alloc_calls"], e["sizes"]["one_size"])
                              for e in one["entries"]], [("tiny", 100, 16)])
    for e in with_function(rep["sites_by_calls"]["entries"], "mixed"):
        ctx.eq("mixed: one_size", e["sizes"]["one_size"], None)
        ctx.eq("mixed: size classes", e["sizes"]["classes"],
               [{"max_bytes": 32, "calls": 50}, {"max_bytes": 64, "calls": 50}])

def case_fork(ctx):
    parent_trace = ctx.work / "parent.vtr"
    r = ctx.vitals_run(ctx.prog("fork"), out=parent_trace, quiet=False)
    ctx.require(r.returncode == 0, f"vitals run fork exited {r.returncode}: {r.stderr!r}")
    m = re.search(rb"^child (\d+)$", r.stdout, re.M)
    ctx.require(m, f"fork printed no child pid: {r.stdout!r}")
    child_pid = int(m.group(1))
    child_trace = ctx.work / f"vitals.fork.{child_pid}.vtr"
    ctx.eq("traces written", sorted(p.name for p in ctx.work.glob("*.vtr")),
           sorted([parent_trace.name, child_trace.name]))
    ctx.check(str(child_trace) in r.stderr.decode(),
              f"the summary does not mention the child's trace:\n{r.stderr.decode()}")
    ctx.require(child_trace.is_file(), f"no trace for the child at '{child_trace}'")

    parent = ctx.report(parent_trace)
    ctx.eq("parent: process.forked", parent["process"]["forked"], False)
    ctx.eq("parent: process.end", parent["process"]["end"], "exit")
    check_site(ctx, parent, "parent_leak", 3, 192, ["malloc"], 3, 192, "parent: parent_leak")
    check_site(ctx, parent, "child_leak", 0, 0, None, 0, 0, "parent: child_leak")
    ctx.eq("parent: heap.leaked_blocks", parent["heap"]["leaked_blocks"], 3)

    child = ctx.report(child_trace)
    # Observed and asserted: the child's trace starts at the fork; blocks the parent
    # allocated before it are not the child's leaks.
    ctx.eq("child: process.forked", child["process"]["forked"], True)
    ctx.eq("child: process.pid", child["process"]["pid"], child_pid)
    ctx.eq("child: process.ppid", child["process"]["ppid"], parent["process"]["pid"])
    ctx.eq("child: process.end", child["process"]["end"], "exit")
    check_site(ctx, child, "child_leak", 5, 640, ["malloc"], 5, 640, "child: child_leak")
    check_site(ctx, child, "parent_leak", 0, 0, None, 0, 0, "child: parent_leak")
    ctx.eq("child: (heap.leaked_blocks, heap.leaked_bytes)",
           (child["heap"]["leaked_blocks"], child["heap"]["leaked_bytes"]), (5, 640))
    ctx.eq("child: heap.alloc_calls", child["heap"]["alloc_calls"], 5)
    # The program maps nothing: whatever the agent maps for itself (before or after the fork)
    # is not the program's.
    nothing = {"mmap_calls": 0, "munmap_calls": 0, "bytes_mapped": 0, "peak_bytes": 0,
               "live_bytes": 0}
    ctx.eq("parent: mapped", parent["mapped"], nothing)
    ctx.eq("child: mapped", child["mapped"], nothing)


def case_fork_many(ctx):
    """Forks while the agent's writer thread is busy (see fork_many.c): no child may hang.
    libslow_phdr.so (see slow_phdr.c) makes a race that shows once in thousands of forks show
    in every run."""
    shim = ctx.prog("libslow_phdr.so")
    plain = ctx.run([ctx.prog("fork_many")], env=dict(ctx.env, LD_PRELOAD=str(shim)))
    ctx.require(plain.returncode == 0 and b"hung 0\n" in plain.stdout,
                f"fork_many hangs even without vitals: {plain.stdout[-300:]!r}")
    opts = ["-q", "-o", ctx.work / "parent.vtr"]
    r = ctx.vitals_cmd(["run"] + opts + ["--", ctx.prog("fork_many")],
                       env=dict(ctx.env, LD_PRELOAD=str(shim)))
    out = r.stdout.decode()
    hung = re.findall(r"^hung child (\d+)$", out, re.M)
    ctx.eq("fork_many: children that hung (deadlocked after fork)", len(hung), 0)
    ctx.eq("fork_many: exit status", r.returncode, 0)
    m = re.search(r"^children (\d+)$", out, re.M)
    ctx.require(m, f"fork_many printed no count: {out!r}")
    children = int(m.group(1))
    traces = sorted(ctx.work.glob("vitals.fork_many.*.vtr"))
    ctx.eq("fork_many: traces of children", len(traces), children - len(hung))
    for trace in traces[:: max(1, len(traces) // 4)]:
        rep = ctx.report(trace)
        ctx.eq(f"{trace.name}: process.forked", rep["process"]["forked"], True)
        check_site(ctx, rep, "child_alloc", 1, 16, ["malloc"], 1, 16, f"{trace.name}: child_alloc")


def case_exec(ctx):
    target = ctx.prog("exec_target")
    for follow in (True, False):
        mode = "--follow" if follow else "no --follow"
        d = ctx.work / ("follow" if follow else "nofollow")
        d.mkdir()
        first = d / "first.vtr"
        r = ctx.vitals_run(ctx.prog("exec"), [target], out=first, follow=follow)
        ctx.require(r.returncode == 0, f"{mode}: vitals run exec exited {r.returncode}")
        m = re.search(rb"^exec pid (\d+)$", r.stdout, re.M)
        ctx.require(m and b"exec_target pid " + m.group(1) in r.stdout,
                    f"{mode}: unexpected output {r.stdout!r}")
        pid = int(m.group(1))
        second = d / f"vitals.exec_target.{pid}.vtr"
        want = [first.name, second.name] if follow else [first.name]
        ctx.eq(f"{mode}: traces written", sorted(p.name for p in d.glob("*.vtr")), sorted(want))
        rep = ctx.report(first)
        ctx.eq(f"{mode}: first: process.exec", rep["process"]["exec"], str(target))
        ctx.eq(f"{mode}: first: process.end", rep["process"]["end"], "exec")
        ctx.eq(f"{mode}: first: process.pid", rep["process"]["pid"], pid)
        check_site(ctx, rep, "before_exec", 2, 80, ["malloc"], 2, 80, f"{mode}: before_exec")
        ctx.eq(f"{mode}: first: heap.leaked_blocks", rep["heap"]["leaked_blocks"], 2)
        if follow and second.is_file():
            rep2 = ctx.report(second)
            ctx.eq("second: process.exe", rep2["process"]["exe"], str(target))
            ctx.eq("second: process.pid", rep2["process"]["pid"], pid)
            ctx.eq("second: process.forked", rep2["process"]["forked"], False)
            ctx.eq("second: process.end", rep2["process"]["end"], "exit")
            ctx.eq("second: process.exec", rep2["process"]["exec"], None)
            check_site(ctx, rep2, "after_exec", 6, 144, ["malloc"], 6, 144, "second: after_exec")
            check_site(ctx, rep2, "before_exec", 0, 0, None, 0, 0, "second: before_exec")
            ctx.eq("second: heap.leaked_blocks", rep2["heap"]["leaked_blocks"], 6)


def case_abort(ctx):
    r, rep = ctx.traced("abort", expect_status=134)
    ctx.eq("stdout", r.stdout, b"aborting\n")
    ctx.eq("process.end", rep["process"]["end"], "signal")
    ctx.eq("process.end_status", rep["process"]["end_status"], 6)
    check_site(ctx, rep, "before_abort", 7, 700, ["malloc"], 9, 900)
    ctx.eq("heap.alloc_calls", rep["heap"]["alloc_calls"], 9)
    ctx.eq("heap.free_calls", rep["heap"]["free_calls"], 2)
    ctx.eq("(heap.leaked_blocks, heap.leaked_bytes)",
           (rep["heap"]["leaked_blocks"], rep["heap"]["leaked_bytes"]), (7, 700))
    ctx.repeat_symbolized("abort", 134, 20)


def case_vfork_exec(ctx):
    """vfork + exec children (gcc's driver does this) leave the parent's trace whole: its end,
    its exit status and its own leaks."""
    r, rep = ctx.traced("vfork_exec", expect_status=5)
    ctx.eq("stdout", r.stdout, b"children done\n")
    ctx.eq("trace.warnings", rep["trace"]["warnings"], None)
    ctx.eq("process.end", rep["process"]["end"], "exit")
    ctx.eq("process.end_status", rep["process"]["end_status"], 5)
    ctx.eq("process.dropped_events", rep["process"]["dropped_events"], 0)
    check_site(ctx, rep, "after_children", 4, 224, ["malloc"], 4, 224)


def case_close_fds(ctx):
    """A program that closes every descriptor above stderr and opens files of its own: the
    agent never writes into them, and the trace stays whole."""
    out = ctx.work / "close_fds.out"
    r, rep = ctx.traced("close_fds", [str(out)])
    ctx.eq("stdout", r.stdout, b"closed and wrote\n")
    ctx.eq("the program's file", out.read_bytes(), b"line of the program\n" * 200)
    ctx.eq("trace.warnings", rep["trace"]["warnings"], None)
    ctx.eq("process.end_status", rep["process"]["end_status"], 0)
    check_site(ctx, rep, "after_close", 6, 432, ["malloc"], 6, 432)
    ctx.check(rep["heap"]["alloc_calls"] >= 300006, "all 300,006 allocations are in the trace")


def case_real_programs(ctx):
    """Debian's own programs (no frame pointers, their own threads and allocators) behave as
    without vitals, and their traces are whole: same stdout and exit status, an end record, no
    warnings, no unknown frees, every allocation's free matched."""
    which = shutil.which("python3")
    ctx.require(which, "'python3' is not in PATH: this test needs it; it is not skipped")
    q = ctx.run([which, "-c", "import sys; print(sys.executable)"])
    python = os.path.realpath(q.stdout.decode().strip())
    py = ("import threading, json\n"
          "def work():\n"
          "    for _ in range(100):\n"
          "        json.dumps(list(range(1000)))\n"
          "ts = [threading.Thread(target=work) for _ in range(4)]\n"
          "[t.start() for t in ts]; [t.join() for t in ts]\n"
          "print('python ok')\n")
    programs = [
        ("perl", ["perl", "-e", 'my %h; $h{$_} = [1..10] for (1..20000); '
                               'print scalar(keys %h), "\\n"; exit 3'], 3),
        ("python3", [python, "-c", py], 0),
        ("sort", ["sort", "-r", "/etc/services"], 0),
        ("sqlite3", ["sqlite3", ":memory:", "select count(*) from (with recursive c(x) as "
                     "(select 1 union all select x+1 from c where x<20000) select x from c);"], 0),
    ]
    for name, cmd, status in programs:
        exe = shutil.which(cmd[0]) or cmd[0]
        ctx.require(os.path.exists(exe), f"'{cmd[0]}' is missing: this test needs it")
        plain = ctx.run([exe] + cmd[1:])
        ctx.eq(f"{name}: exit status without vitals", plain.returncode, status)
        trace = ctx.work / f"real.{name}.vtr"
        r = ctx.vitals_run(exe, cmd[1:], out=trace)
        ctx.eq(f"{name}: exit status under vitals", r.returncode, plain.returncode)
        ctx.eq(f"{name}: stdout under vitals", r.stdout, plain.stdout)
        rep = ctx.report(trace)
        ctx.eq(f"{name}: trace.warnings", rep["trace"]["warnings"], None)
        ctx.eq(f"{name}: process.end", rep["process"]["end"], "exit")
        ctx.eq(f"{name}: process.end_status", rep["process"]["end_status"], status)
        ctx.eq(f"{name}: heap.unmatched_frees", rep["heap"]["unmatched_frees"], 0)
        ctx.check(rep["heap"]["alloc_calls"] > 10, f"{name}: has allocations")


def without_vitals_lines(stderr):
    return b"".join(l for l in stderr.splitlines(keepends=True) if not l.startswith(b"vitals:"))


def case_passthrough(ctx):
    prog = ctx.prog("passthrough")
    data = b"".join(b"line %d: %s\n" % (i, bytes(range(32 + i % 90, 40 + i % 90)))
                    for i in range(500)) + b"\xff\x00no newline at the end"
    args = ["first arg", "second"]
    plain = ctx.run([prog] + args, stdin=data)
    traced = ctx.vitals_run(prog, args, out=ctx.work / "p.vtr", quiet=False, stdin=data)
    ctx.eq("exit status without vitals", plain.returncode, 7)
    ctx.eq("exit status under vitals", traced.returncode, 7)
    ctx.check(plain.stdout.endswith(b"last line of stdout\n") and data in plain.stdout,
              "passthrough did not echo its input")
    ctx.eq("stdout under vitals == without", traced.stdout, plain.stdout)
    ctx.eq("stderr under vitals, 'vitals:' lines removed == without",
           without_vitals_lines(traced.stderr), plain.stderr)
    ctx.check(b"vitals:" in traced.stderr, "vitals printed no summary on stderr")
    ctx.eq("stderr without vitals", plain.stderr,
           b"to stderr: line one\nto stderr: 500 lines of input\n")



def case_sigterm(ctx):
    prog = ctx.prog("sigterm")
    plain = ctx.run([prog])
    ctx.eq("sigterm without vitals: killed by", plain.returncode, -15)
    r, rep = ctx.traced("sigterm", expect_status=143, quiet=False)
    ctx.eq("sigterm: stdout under vitals == without", r.stdout, plain.stdout)
    ctx.eq("sigterm: stderr under vitals, 'vitals:' lines removed == without",
           without_vitals_lines(r.stderr), plain.stderr)
    ctx.eq("sigterm: process.end", rep["process"]["end"], "signal")
    ctx.eq("sigterm: process.end_status", rep["process"]["end_status"], 15)
    check_site(ctx, rep, "before_term", 1, 333, ["malloc"], 1, 333)
    ctx.repeat_symbolized("sigterm", 143, 20)


def case_mmap(ctx):
    _, rep = ctx.traced("mmap")
    KIB = 1024
    sites = with_function(rep["sites_by_mapped"]["entries"], "map_regions")
    ctx.eq("map_regions: mmap_calls", total(sites, "mmap_calls"), 3)
    ctx.eq("map_regions: mapped_bytes", total(sites, "mapped_bytes"), (64 + 128 + 1024) * KIB)
    ctx.eq("map_regions: mapped_live", total(sites, "mapped_live"), (64 + 512) * KIB)
    ctx.eq("map_regions: functions", fn_union(sites), ["mmap"])
    ctx.eq("map_regions: (mapped_bytes, mapped_live) per region",
           sorted((e["mapped_bytes"], e["mapped_live"]) for e in sites),
           [(64 * KIB, 64 * KIB), (128 * KIB, 0), (1024 * KIB, 512 * KIB)])
    # glibc maps its own memory (malloc arenas, thread stacks) with internal calls that the
    # agent does not see, and this program has no heap, so the totals are exact as well.
    mapped = rep["mapped"]
    ctx.eq("mapped", mapped, {"mmap_calls": 3, "munmap_calls": 2,
                              "bytes_mapped": (64 + 128 + 1024) * KIB,
                              "peak_bytes": (64 + 128 + 1024) * KIB,
                              "live_bytes": (64 + 512) * KIB})
    ctx.eq("heap.alloc_calls", rep["heap"]["alloc_calls"], 0)


def case_cli(ctx):
    _, _ = ctx.traced("peak", trace_name="t.vtr")
    (ctx.work / "empty.vtr").write_bytes(b"")

    def expect(args, status, out_has=None, err_has=None):
        r = ctx.vitals_cmd(args)
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        label = "vitals " + " ".join(args)
        ctx.eq(f"'{label}': exit status", r.returncode, status)
        if out_has is not None:
            ctx.check(out_has in out, f"'{label}': stdout lacks {out_has!r}:\n{out}")
        if err_has is not None:
            ctx.check(err_has in err, f"'{label}': stderr lacks {err_has!r}:\n{err}")
        if status == 2:
            ctx.check(err.startswith("vitals: ") or err.startswith("usage"),
                      f"'{label}': no message on stderr:\n{err}")
            ctx.eq(f"'{label}': stdout", out, "")

    expect(["run"], 2, err_has="which program?")
    expect(["run", "--bogus", "x"], 2, err_has="'--bogus'")
    expect(["run", "-o"], 2, err_has="'-o'")
    expect(["run", "--depth", "0", "--", "true"], 2, err_has="--depth")
    expect(["run", "--", "/nonexistent/prog"], 127, err_has="/nonexistent/prog")
    expect(["report"], 2, err_has="which trace?")
    expect(["report", "--top", "abc", "t.vtr"], 2, err_has="'abc'")
    expect(["report", "--format", "nope", "t.vtr"], 2, err_has="'nope'")
    expect(["report", "/etc/passwd"], 2, err_has="not a vitals trace")
    expect(["report", "empty.vtr"], 2, err_has="not a vitals trace")
    expect(["report", "/nonexistent.vtr"], 2, err_has="/nonexistent.vtr")
    expect(["report", "t.vtr", "t.vtr"], 2, err_has="one trace at a time")
    expect(["bogus"], 2, err_has="'bogus'")
    expect([], 2, err_has="usage")
    expect(["help", "bogus"], 2, err_has="'bogus'")
    for args in (["--help"], ["help"], ["help", "run"], ["run", "--help"], ["report", "--help"],
                 ["help", "report"]):
        expect(args, 0, out_has="usage")
    expect(["report", "t.vtr", "--format", "json"], 0, out_has='"schema":"vitals-report"')


def blocks(data):
    """(offset, kind, stored size) of each whole block of a trace. Only the sync word and the
    stored size are relied on."""
    out, off = [], TRACE_HEADER
    while off + BLOCK_HEADER.size <= len(data):
        sync, kind, _, _, _, _, stored, _, _, _ = BLOCK_HEADER.unpack_from(data, off)
        if sync != 0x4B4C4256 or off + BLOCK_HEADER.size + stored > len(data):
            break
        out.append((off, kind, stored))
        off += BLOCK_HEADER.size + stored
    return out


def damage_inputs(ctx, progs=("leaks_c", "many_blocks")):
    """The traces the damage cases cut and flip: case 1's, and many_blocks' (900000
    allocations, so that the trace has many blocks)."""
    out = []
    for prog in progs:
        _, full = ctx.traced(prog)
        if prog == "many_blocks":
            heap = full["heap"]
            ctx.eq("many_blocks: (alloc_calls, free_calls, leaked_blocks, leaked_bytes)",
                   (heap["alloc_calls"], heap["free_calls"], heap["leaked_blocks"],
                    heap["leaked_bytes"]), (900000, 899700, 300, 300 * 48))
            check_site(ctx, full, "site_y", 300, 300 * 48, ["malloc"], 300000, 300000 * 48)
        data = (ctx.work / f"{prog}.vtr").read_bytes()
        bl = blocks(data)
        ctx.require(bl, f"{prog}.vtr: no block found")
        ctx.require(sum(BLOCK_HEADER.size + s for _, _, s in bl) + TRACE_HEADER == len(data),
                    f"{prog}.vtr: the blocks do not cover the file")
        # The process information is the first record: damage to the first block may lose
        # it, damage after it must not.
        info_end = bl[0][0] + BLOCK_HEADER.size + bl[0][2]
        out.append((prog, data, bl, info_end, full))
    return out


def check_damaged(ctx, label, path, info_end, damaged_at, full, stop):
    """vitals report on a damaged trace: 0 with a warning naming byte `stop` (where reading
    stopped), or 2 when the process information itself is gone; never a crash, never more
    than the whole trace holds."""
    r = ctx.vitals_cmd(["report", path, "--format", "json", "--top", "100000"])
    err = r.stderr.decode(errors="replace")
    if damaged_at < info_end and r.returncode == 2:
        # The first block holds the process information: without it there is no report.
        ctx.check("no process information" in err, f"{label}: exit status 2 but: {err}")
        return
    if not ctx.eq(f"{label}: exit status", r.returncode, 0):
        ctx.problems.append(f"{label}: stderr: {err}")
        return
    ctx.check(f"byte {stop}" in err and "warning" in err,
              f"{label}: the warning does not name byte {stop}: {err.strip()!r}")
    rep = json.loads(r.stdout)
    ctx.check(rep["trace"]["warnings"], f"{label}: trace.warnings is empty")
    h, fh = rep["heap"], full["heap"]
    for key in ("alloc_calls", "free_calls", "bytes_allocated"):
        ctx.check(h[key] <= fh[key], f"{label}: heap.{key} {h[key]} > the full trace's {fh[key]}")
    for key in ("leaked_blocks", "peak_blocks"):
        ctx.check(h[key] <= fh["alloc_calls"],
                  f"{label}: heap.{key} {h[key]} > the full trace's alloc_calls {fh['alloc_calls']}")
    return rep


def case_truncated(ctx):
    for prog, data, bl, info_end, full in damage_inputs(ctx):
        starts = [o for o, _, _ in bl]
        size = len(data)
        seen = []
        for k in range(1, 11):
            cut = TRACE_HEADER + (size - TRACE_HEADER) * k // 11
            if cut in starts:
                cut += 1  # block boundaries are case truncated_at_block
            path = ctx.work / f"{prog}.cut{cut}.vtr"
            path.write_bytes(data[:cut])
            stop = max(o for o in starts if o <= cut)
            rep = check_damaged(ctx, f"{prog} cut at {cut}", path, info_end, cut, full, stop)
            if rep:
                seen.append((cut, rep["heap"]["alloc_calls"]))
        # A longer prefix of the same trace never shows fewer allocations.
        ctx.eq(f"{prog}: allocations seen, by length of the cut trace",
               sorted(seen, key=lambda x: x[1]), seen)
        if prog == "many_blocks":
            ctx.check(len(seen) >= 8, f"{prog}: only {len(seen)} of 10 cut traces were readable")


def case_truncated_at_block(ctx):
    """A trace cut exactly after a whole block (a crash between two writes) is readable, and
    the warning says where it ends."""
    for prog, data, bl, info_end, full in damage_inputs(ctx):
        for off, _, _ in bl[1:]:
            path = ctx.work / f"{prog}.cut{off}.vtr"
            path.write_bytes(data[:off])
            check_damaged(ctx, f"{prog} cut at block boundary {off}", path, info_end, off, full,
                          off)


def case_corrupted(ctx):
    for prog, data, bl, info_end, full in damage_inputs(ctx):
        starts = [o for o, _, _ in bl]
        size = len(data)
        for k in range(10):
            at = size // 4 + (size // 2) * k // 10
            bad = bytearray(data)
            bad[at] ^= 0xFF
            path = ctx.work / f"{prog}.flip{at}.vtr"
            path.write_bytes(bad)
            stop = max(o for o in starts if o <= at)
            check_damaged(ctx, f"{prog} byte {at} flipped", path, info_end, at, full, stop)


def summary(rep):
    """What a report says, without its times and the trace's path."""
    p, h = rep["process"], rep["heap"]
    return {
        "process": {k: p[k] for k in ("pid", "ppid", "exe", "argv", "forked", "end",
                                      "end_status", "exec", "dropped_events")},
        "heap": {k: h[k] for k in ("alloc_calls", "free_calls", "realloc_calls",
                                   "bytes_allocated", "peak_bytes", "leaked_blocks",
                                   "leaked_bytes", "calls_by_function")},
        "mapped": rep["mapped"],
        "leaks": [(e["leaked_blocks"], e["leaked_bytes"], e["functions"], functions(e))
                  for e in rep["leaks"]["entries"]],
    }


def flip_each(ctx, prog, data, positions, full):
    """Flips one bit at each position in turn: the damage must be reported (a warning that
    names a byte, or exit status 2 without process information), or change nothing the
    report shows but times."""
    want = summary(full)
    silent = []
    for at in positions:
        bad = bytearray(data)
        bad[at] ^= 0x01
        path = ctx.work / f"{prog}.flip{at}.vtr"
        path.write_bytes(bad)
        r = ctx.vitals_cmd(["report", path, "--format", "json", "--top", "100000"])
        err = r.stderr.decode(errors="replace")
        path.unlink()
        if r.returncode == 2 and "no process information" in err:
            continue
        if not ctx.eq(f"{prog}: byte {at} flipped: exit status", r.returncode, 0):
            continue
        if re.search(r"warning: .*byte \d+", err):
            continue
        got = summary(json.loads(r.stdout))
        if got != want:
            diff = {f"{part}.{k}": (got[part][k], want[part][k])
                    for part in ("process", "heap", "mapped") for k in want[part]
                    if got[part][k] != want[part][k]}
            if got["leaks"] != want["leaks"]:
                diff["leaks"] = "differ"
            silent.append((at, diff))
    for at, diff in silent[:8]:
        ctx.problems.append(f"{prog}: byte {at} flipped, no warning, the report changed "
                            f"(got, expected): {diff}")
    ctx.eq(f"{prog}: of {len(positions)} one-bit flips, those that silently changed the "
           f"report", len(silent), 0)


def case_corrupted_end_block(ctx):
    """Every byte of the last block (the one with the end record) flipped in turn. Case 1's
    trace only: every report of the larger one takes a while."""
    for prog, data, bl, info_end, full in damage_inputs(ctx, ("leaks_c",)):
        off, _, stored = bl[-1]
        # The payload, and the header's sync word, kind, stored size and check (the header
        # check covers the rest of the header).
        header = [off, off + 4, off + 16, off + 36]
        payload = range(off + BLOCK_HEADER.size, off + BLOCK_HEADER.size + stored)
        flip_each(ctx, prog, data, header + list(payload), full)


def case_corrupted_crash_trace(ctx):
    """A trace written by the fatal-signal handler (abort) damaged anywhere: the reader must
    notice, as it does for traces written at a normal exit."""
    _, full = ctx.traced("abort", expect_status=134)
    data = (ctx.work / "abort.vtr").read_bytes()
    bl = blocks(data)
    ctx.require(bl, "abort.vtr: no block found")
    positions = [at for off, _, stored in bl
                 for at in range(off + BLOCK_HEADER.size, off + BLOCK_HEADER.size + stored, 8)]
    flip_each(ctx, "abort", data, positions, full)


def flamegraph(ctx, data_file, cost):
    """heaptrack_print's flame graph stacks for one cost type: [(frames, value)]."""
    out = ctx.work / f"flame-{cost}.txt"
    r = ctx.run(["heaptrack_print", "-f", data_file, "--disable-builtin-suppressions",
                 "--flamegraph-cost-type", cost, "-F", out])
    ctx.require(r.returncode == 0, f"heaptrack_print -F failed: {r.stderr.decode()}")
    rows = []
    for line in out.read_text().splitlines():
        stack, _, value = line.rpartition(" ")
        rows.append((stack.split(";"), int(value)))
    return rows


def case_heaptrack(ctx):
    for tool in ("heaptrack", "heaptrack_print", "sort"):
        ctx.require(shutil.which(tool),
                    f"'{tool}' is not installed: this test needs it (apt-get install heaptrack "
                    f"coreutils); it is not skipped")
    sort = shutil.which("sort")
    x, lines = 12345, []
    for _ in range(3000):
        x = (x * 1103515245 + 12345) % 2**31
        lines.append(f"{x % 100000} item-{x % 977}\n")
    (ctx.work / "input.txt").write_text("".join(lines))
    args = ["--parallel=1", "-o", "/dev/null", "input.txt"]
    # A UTF-8 locale, so that sort's start-up (setlocale) allocates as it does for users.
    env = dict(ctx.env, LC_ALL="C.UTF-8")

    ht = ctx.run(["heaptrack", "-o", ctx.work / "ht", sort] + args, env=env)
    ctx.require(ht.returncode == 0, f"heaptrack failed: {ht.stderr.decode()}")
    data_files = sorted(ctx.work.glob("ht.*"))
    ctx.require(len(data_files) == 1, f"heaptrack data file not found: {data_files}")
    # heaptrack itself prints "heaptrack stats: allocations: N, leaked allocations: N".
    m_blocks = re.search(r"leaked allocations:\s+(\d+)", ht.stderr.decode())
    pr = ctx.run(["heaptrack_print", "-f", data_files[0], "--disable-builtin-suppressions"])
    ctx.require(pr.returncode == 0, f"heaptrack_print failed: {pr.stderr.decode()}")
    text = pr.stdout.decode()
    m_calls = re.search(r"^calls to allocation functions: (\d+)", text, re.M)
    m_leaked = re.search(r"^total memory leaked: (\S+)", text, re.M)
    m_peak = re.search(r"^peak heap memory consumption: (\S+)", text, re.M)
    ctx.require(m_calls and m_leaked and m_blocks and m_peak,
                f"unexpected heaptrack output:\n{ht.stderr.decode()}\n{text[-600:]}")
    ht_calls, ht_blocks = int(m_calls.group(1)), int(m_blocks.group(1))
    # Exact byte figures: heaptrack_print rounds its summary (12.20K), its flame graphs don't.
    allocs = flamegraph(ctx, data_files[0], "allocations")
    leaked = flamegraph(ctx, data_files[0], "leaked")
    peak = flamegraph(ctx, data_files[0], "peak")
    ctx.require(sum(v for _, v in allocs) == ht_calls,
                "heaptrack's flame graph and summary disagree on allocation calls")

    r = ctx.vitals_cmd(["run", "-q", "-o", ctx.work / "sort.vtr", "--", sort] + args, env=env)
    ctx.require(r.returncode == 0, f"vitals run sort failed: {r.stderr.decode()}")
    rep = ctx.report(ctx.work / "sort.vtr")
    heap = rep["heap"]

    # heaptrack's preload library links libstdc++, whose start-up code (run by the dynamic
    # loader's _dl_init, before main) allocates its 72704-byte exception emergency pool: an
    # allocation sort makes only under heaptrack. Counted on both sides, so the comparison is
    # still exact.
    def dl_init(frames):
        return any((f or "").startswith("_dl_init") for f in frames)

    ht_pre_calls = sum(v for s, v in allocs if dl_init(s))
    ht_pre_peak = sum(v for s, v in peak if dl_init(s))
    ht_pre_leaked = sum(v for s, v in leaked if dl_init(s))
    vt_pre = [e for e in rep["sites_by_calls"]["entries"] if dl_init(functions(e))]
    vt_pre_calls, vt_pre_bytes = total(vt_pre, "alloc_calls"), total(vt_pre, "leaked_bytes")
    ht_leaked = sum(v for _, v in leaked)
    ht_peak = sum(v for _, v in peak)
    print(f"heaptrack: calls to allocation functions: {ht_calls} "
          f"({ht_pre_calls} of them in _dl_init before main); leaked allocations: {ht_blocks}; "
          f"total memory leaked: {m_leaked.group(1)} = {ht_leaked} B "
          f"({ht_pre_leaked} B from _dl_init); peak: {m_peak.group(1)} = {ht_peak} B "
          f"({ht_pre_peak} B from _dl_init)")
    print(f"vitals:    alloc_calls: {heap['alloc_calls']} ({vt_pre_calls} in _dl_init); "
          f"leaked_blocks: {heap['leaked_blocks']}; leaked_bytes: {heap['leaked_bytes']} "
          f"({vt_pre_bytes} B from _dl_init); peak_bytes: {heap['peak_bytes']}; "
          f"calls_by_function: {heap['calls_by_function']}")
    ctx.eq("allocation calls outside _dl_init (vitals vs heaptrack)",
           heap["alloc_calls"] - vt_pre_calls, ht_calls - ht_pre_calls)
    ctx.eq("leaked bytes outside _dl_init (vitals vs heaptrack)",
           heap["leaked_bytes"] - vt_pre_bytes, ht_leaked - ht_pre_leaked)
    # Observed: under heaptrack the pool is released at exit, so it is no leak on either side.
    ctx.eq("heaptrack: bytes leaked from _dl_init", ht_pre_leaked, 0)
    ctx.eq("leaked blocks (vitals vs heaptrack)",
           heap["leaked_blocks"] - total(vt_pre, "leaked_blocks"), ht_blocks)
    ctx.eq("peak bytes outside _dl_init (vitals vs heaptrack)",
           heap["peak_bytes"] - total(vt_pre, "peak_bytes"), ht_peak - ht_pre_peak)


UNWIND_CHECK = re.compile(r"^vitals: unwind check: (\d+) stacks, (\d+) differ from unw_backtrace$",
                          re.M)


def unwind_checked(ctx, label, cmd, min_stacks, stdin=b""):
    """Runs cmd under `vitals run` with VITALS_CHECK_UNWIND=1 and the same command without
    vitals: the same output and status, one check line, no stack unlike unw_backtrace's, and at
    least min_stacks stacks checked (a callable gets the run under vitals)."""
    plain = ctx.run(cmd, stdin=stdin)
    trace = ctx.work / f"{label}.vtr"
    r = ctx.vitals_run(cmd[0], cmd[1:], out=trace, stdin=stdin,
                       env=dict(ctx.env, VITALS_CHECK_UNWIND="1"))
    err = r.stderr.decode(errors="replace")
    ctx.eq(f"{label}: exit status under vitals (without: {plain.returncode})", r.returncode,
           plain.returncode)
    ctx.eq(f"{label}: exit status", plain.returncode, 0)
    lines = UNWIND_CHECK.findall(err)
    ctx.require(len(lines) == 1,
                f"{label}: expected one 'vitals: unwind check: N stacks, M differ from "
                f"unw_backtrace' line on stderr, found {len(lines)}:\n{err[-3000:]}")
    n, m = int(lines[0][0]), int(lines[0][1])
    want = min_stacks(r) if callable(min_stacks) else min_stacks
    print(f"{label}: unwind check: {n} stacks, {m} differ (at least {want} stacks expected)")
    ctx.eq(f"{label}: stacks that differ from unw_backtrace (of {n})", m, 0)
    ctx.check(n >= want, f"{label}: only {n} stacks were checked, expected at least {want}")
    return plain, r, trace


def case_unwind_check(ctx):
    """The agent's unwinding self-check (VITALS_CHECK_UNWIND=1: every stack is also taken by
    unw_backtrace) on unwind_mix (deep, mixed frame-pointer and optimised code, threads,
    function pointers, allocations from a SIGALRM handler), sqlite3 and python3."""
    # (a) The test program: at least the allocations it counts outside its signal handler.
    def counted(r):
        m = re.search(rb"^allocations (\d+)$", r.stdout, re.M)
        ctx.require(m, f"unwind_mix printed no count: {r.stdout!r}")
        return int(m.group(1))

    plain, r, trace = unwind_checked(ctx, "unwind_mix", [ctx.prog("unwind_mix")], counted)
    for out, how in ((plain.stdout, "without vitals"), (r.stdout, "under vitals")):
        m = re.search(rb"^signals (\d+)$", out, re.M)
        ctx.check(m and int(m.group(1)) >= 200 and out.endswith(b"done\n"),
                  f"unwind_mix {how}: expected 'signals N' with N >= 200 and 'done': {out!r}")
    ctx.report(trace)

    # (b) sqlite3 with a small script.
    sqlite = Path("/usr/bin/sqlite3")
    ctx.require(sqlite.is_file(), f"'{sqlite}' is not installed: this test needs it (apt-get "
                                  f"install sqlite3); it is not skipped")
    sql = b"""CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
  INSERT INTO t SELECT x, 'name-' || x, x * 1.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v) FROM t WHERE name LIKE 'name-1%';
SELECT group_concat(name, ',') FROM (SELECT name FROM t ORDER BY v DESC LIMIT 5);
"""
    plain, r, _ = unwind_checked(ctx, "sqlite3", [sqlite, ":memory:"], 1000, stdin=sql)
    ctx.eq("sqlite3: stdout without vitals", plain.stdout,
           b"1111|2271894.0\nname-2000,name-1999,name-1998,name-1997,name-1996\n")
    ctx.eq("sqlite3: stdout under vitals", r.stdout, plain.stdout)

    # (c) python3: the interpreter itself, not a shim script in front of it.
    which = shutil.which("python3")
    ctx.require(which, "'python3' is not in PATH: this test needs it; it is not skipped")
    q = ctx.run([which, "-c", "import sys; print(sys.executable)"])
    ctx.require(q.returncode == 0 and q.stdout.strip(),
                f"'{which} -c print(sys.executable)' failed: {q.stderr!r}")
    python = Path(os.path.realpath(q.stdout.decode().strip()))
    ctx.require(python.is_file() and python.read_bytes()[:4] == b"\x7fELF",
                f"python3's interpreter '{python}' is not an ELF executable")
    script = """import json, re, threading
def deep(n):
    return [n] if n == 0 else deep(n - 1) + [n]
def work(k):
    d = {str(i): [j * k for j in range(i % 10)] for i in range(3000)}
    s = json.dumps(d)
    assert len(re.findall(r'"[0-9]+"', s)) == 3000
    return len(deep(150)) + len(json.loads(s))
ts = [threading.Thread(target=work, args=(k,)) for k in range(3)]
[t.start() for t in ts]
[t.join() for t in ts]
print(work(7))
"""
    plain, r, _ = unwind_checked(ctx, "python3", [python, "-c", script], 1000)
    ctx.eq("python3: stdout without vitals", plain.stdout, b"3151\n")
    ctx.eq("python3: stdout under vitals", r.stdout, plain.stdout)


def vitals_lines(stderr, prefix="vitals:"):
    return [l for l in stderr.decode(errors="replace").splitlines() if l.startswith(prefix)]


def case_disk_full(ctx):
    """Trace writes fail (RLIMIT_FSIZE, SIGXFSZ ignored, so that write() says EFBIG): the
    program runs on unchanged, the agent says so once, and what was written is readable."""
    limit = 100000

    def small_files():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited across exec

    prog = ctx.prog("churn")
    plain = ctx.run([prog])
    ctx.eq("churn without vitals: exit status", plain.returncode, 42)
    ctx.eq("churn without vitals: stdout", plain.stdout,
           b"checksum 615994816\nkept 300\nchurn done\n")
    trace = ctx.work / "full.vtr"
    r = ctx.vitals_cmd(["run"] + ctx.run_opts(trace) + ["--", prog], preexec=small_files)
    ctx.eq("exit status under vitals", r.returncode, plain.returncode)
    ctx.eq("stdout under vitals", r.stdout, plain.stdout)
    ctx.eq("stderr under vitals, 'vitals:' lines removed", without_vitals_lines(r.stderr),
           plain.stderr)
    stopped = vitals_lines(r.stderr, "vitals: tracing stopped:")
    ctx.eq("'vitals: tracing stopped:' lines on stderr", len(stopped), 1)
    ctx.check(all("no space" in l for l in stopped),
              f"the stop message does not say 'no space': {stopped}")
    ctx.require(trace.is_file(), f"no trace at '{trace}'")
    ctx.check(trace.stat().st_size <= limit,
              f"the trace has {trace.stat().st_size} bytes, over the limit of {limit}")
    rep, err = ctx.report_any(trace)
    ctx.check("warning" in err, f"vitals report printed no warning on stderr: {err!r}")
    ctx.check(rep["trace"]["warnings"], "the report has no trace.warnings")
    calls = rep["heap"]["alloc_calls"]
    ctx.check(0 < calls < 300000,
              f"heap.alloc_calls: {calls}, expected some but fewer than the 300000 made")
    print(f"disk_full: {trace.stat().st_size} bytes written, {calls} of 300000 allocations "
          f"readable; warning: {rep['trace']['warnings']}")


def case_cannot_create(ctx):
    """VITALS_OUTPUT in a directory that does not exist, the agent preloaded by hand: the
    program runs unchanged and the agent says so once."""
    out = Path("/nonexistent/dir/x.vtr")
    ctx.require(not out.parent.exists(), f"'{out.parent}' exists: this test needs it not to")
    prog = ctx.prog("churn")
    plain = ctx.run([prog])
    env = dict(ctx.env, LD_PRELOAD=str(ctx.agent), VITALS_OUTPUT=str(out))
    r = ctx.run([prog], env=env)
    ctx.eq("exit status with the agent", r.returncode, plain.returncode)
    ctx.eq("exit status without", plain.returncode, 42)
    ctx.eq("stdout with the agent", r.stdout, plain.stdout)
    ctx.eq("stderr with the agent, 'vitals:' lines removed", without_vitals_lines(r.stderr),
           plain.stderr)
    lines = vitals_lines(r.stderr)
    ctx.eq("'vitals:' lines on stderr",
           [l.startswith("vitals: tracing stopped: cannot create the trace file") for l in lines],
           [True])
    ctx.check(all(str(out) in l for l in lines), f"the message does not name '{out}': {lines}")
    ctx.check(not out.exists(), f"'{out}' exists after the run")


SIG_CHURN_OUT = (b"worker 0 sum 52857882\nworker 1 sum 52919357\nworker 2 sum 52848977\n"
                 b"done\n")
# A normal run takes well under a second; four runs that hang must still end within CTest's 120 s
# so that the case can say which one hung.
SIG_CHURN_TIMEOUT = 20


def check_sig_churn(ctx, label, r, trace):
    """One run of sig_churn under vitals: its output, and a complete trace with every
    allocation the workers made (see sig_churn.c)."""
    err = r.stderr.decode(errors="replace")
    ctx.eq(f"{label}: exit status", r.returncode, 0)
    ctx.eq(f"{label}: stdout", r.stdout, SIG_CHURN_OUT)
    m = re.search(r"^signals (\d+)$", err, re.M)
    h = re.search(r"^handler allocations (\d+)$", err, re.M)
    if not ctx.check(m and h, f"{label}: no signal counts on stderr: {err!r}"):
        return
    signals, handler = int(m.group(1)), int(h.group(1))
    ctx.check(signals >= 10, f"{label}: the handler ran only {signals} times")
    rep = ctx.report(trace)
    heap = rep["heap"]
    calls = heap["calls_by_function"]
    # Three workers, 200000 rounds each; 14 blocks each to prime glibc's cache.
    made = 3 * 200000
    ctx.check(calls.get("malloc", 0) >= made + 3 * 14 and calls.get("realloc", 0) >= made and
              calls.get("free", 0) >= made,
              f"{label}: calls_by_function {calls}: fewer than the workers made")
    # The handler's calls are recorded unless the thread it interrupted was inside a hook;
    # glibc allocates a little for each thread.
    ctx.check(heap["alloc_calls"] <= 2 * made + 3 * 14 + handler + 64,
              f"{label}: heap.alloc_calls {heap['alloc_calls']}: more than the program made "
              f"({2 * made + 3 * 14} + {handler} in the handler)")
    ctx.eq(f"{label}: heap.unmatched_frees", heap["unmatched_frees"], 0)
    for fn in ("churn", "handler_work", "worker"):
        ctx.eq(f"{label}: leaks through {fn}", with_function(rep["leaks"]["entries"], fn), [])
    ctx.eq(f"{label}: process.end", rep["process"]["end"], "exit")


def case_signal_reentrancy(ctx):
    """A SIGALRM handler that allocates while every thread allocates: no deadlock, the same
    output, a complete trace; also two such runs at once. And a program that longjmps out of
    its own SIGSEGV handler and allocates on."""
    prog = ctx.prog("sig_churn")
    plain = ctx.run([prog], timeout=SIG_CHURN_TIMEOUT)
    ctx.require(plain.returncode == 0 and plain.stdout == SIG_CHURN_OUT,
                f"sig_churn fails even without vitals: status {plain.returncode}, "
                f"stdout {plain.stdout!r}")
    trace = ctx.work / "sig_churn.vtr"
    r = ctx.vitals_run(prog, out=trace, timeout=SIG_CHURN_TIMEOUT)
    check_sig_churn(ctx, "sig_churn", r, trace)

    traces = [ctx.work / f"sig_churn.parallel{i}.vtr" for i in range(2)]
    procs = [ctx.spawn([ctx.vitals, "run"] + ctx.run_opts(t) + ["--", prog]) for t in traces]
    results = []
    try:
        for p in procs:
            results.append(ctx.vitals_checked(ctx.finish(p, timeout=SIG_CHURN_TIMEOUT)))
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    for i, (r, t) in enumerate(zip(results, traces)):
        check_sig_churn(ctx, f"sig_churn parallel run {i + 1}", r, t)

    plain = ctx.run([ctx.prog("segv_jump")])
    ctx.eq("segv_jump without vitals: (status, stdout)", (plain.returncode, plain.stdout),
           (0, b"recovered\ndone\n"))
    r, rep = ctx.traced("segv_jump")
    ctx.eq("segv_jump: stdout under vitals", r.stdout, plain.stdout)
    ctx.eq("segv_jump: stderr under vitals", r.stderr, plain.stderr)
    ctx.eq("segv_jump: process.end", rep["process"]["end"], "exit")
    check_site(ctx, rep, "site_before", 1, 100, ["malloc"], 2, 200)
    check_site(ctx, rep, "site_after", 3, 600, ["malloc"], 5, 1000)
    ctx.eq("segv_jump: (heap.alloc_calls, heap.leaked_blocks)",
           (rep["heap"]["alloc_calls"], rep["heap"]["leaked_blocks"]), (7, 4))


def case_dlopen(ctx):
    """Leaks from a library unloaded (dlclose) before the end, and from a second one loaded
    after it, most likely at the same addresses: each leak is named by its own library's
    function and line, through the module map recorded while the library was loaded."""
    lib_a, lib_b = ctx.prog("libdl_leak_a.so"), ctx.prog("libdl_leak_b.so")
    libs = (("leak_a", 3, 24, "dl_leak_a.c", "LEAK_A", "libdl_leak_a.so"),
            ("leak_b", 4, 40, "dl_leak_b.c", "LEAK_B", "libdl_leak_b.so"))
    # a-only: the first library alone, loaded and unloaded at once; then with the second
    # library loaded after it (most likely at the same addresses), called from its own call
    # site or from the same one: stacks carry their code generation, so each leak is named by
    # its own library.
    for mode, n_libs in (("a-only", 1), ("two-sites", 2), ("one-site", 2)):
        r, rep = ctx.traced("dl_leaks", [lib_a, lib_b, mode], trace_name=f"dl_leaks.{mode}.vtr")
        ctx.eq(f"{mode}: stdout", r.stdout, b"a unloaded\ndone\n")
        leaks = rep["leaks"]["entries"]
        # The library functions' own leaks: called by call() (the loader's are deeper).
        mine = [e for e in leaks if functions(e)[1:2] == ["call"]]
        seen = [(e["leaked_blocks"], e["leaked_bytes"],
                 [(f["function"], Path(f["file"] or "").name, f["line"],
                   Path(f["module"] or "").name) for f in e["stack"][:1]]) for e in mine]
        ctx.eq(f"{mode}: leaks called from call(): (blocks, bytes, innermost frame)",
               sorted(seen, key=lambda x: x[1]),
               [(n, n * size, [(fn, src, marker_lines(src, marker)[0], module)])
                for fn, n, size, src, marker, module in libs[:n_libs]])
        for fn, n, size, src, marker, module in libs[:n_libs]:
            label = f"{mode}: {fn}"
            entries = check_site(ctx, rep, fn, n, n * size, ["malloc"], n, n * size, label)
            check_innermost(ctx, entries, fn, src, [marker], module, label)


def case_deep_stack(ctx):
    """A thread with a 64 KiB stack allocating 100 calls deep: the agent's work must fit in
    what is left of it, at the default depth and at the largest."""
    depth, rounds = 100, 4
    level_bytes = sum(16 + d % 32 for d in range(depth))
    for opt in (None, 256):
        label = f"--depth {opt or 'default'}"
        r, rep = ctx.traced("small_stack", depth=opt, trace_name=f"small_stack.{opt}.vtr")
        ctx.eq(f"{label}: stdout", r.stdout, b"depth 100\ndone\n")
        check_site(ctx, rep, "down", 0, 0, [], rounds * (depth + 1),
                   rounds * (48 + level_bytes), f"{label}: down")
        deepest = [e for e in with_function(rep["sites_by_calls"]["entries"], "down")
                   if e["alloc_bytes"] == rounds * 48]
        if ctx.eq(f"{label}: sites of the deepest allocation", len(deepest), 1):
            fns = functions(deepest[0])
            if opt:
                ctx.eq(f"{label}: frames of 'down' in the deepest stack", fns.count("down"),
                       depth + 1)
                ctx.check("thread_main" in fns, f"{label}: the deepest stack stops short: {fns}")
            else:
                ctx.eq(f"{label}: frames in the deepest stack", len(fns), 64)


def case_exit_paths(ctx):
    """A second thread ends the process while the main thread allocates: _exit(5), exit(3).
    The status is the program's, the trace is readable and says how it ended."""
    prog = ctx.prog("exit_thread")
    for how, status, end in (("_exit", 5, "_exit"), ("exit", 3, "exit")):
        plain = ctx.run([prog, how])
        ctx.eq(f"{how}: exit status without vitals", plain.returncode, status)
        bad = []
        for i in range(5):
            trace = ctx.work / f"exit_thread.{how}.{i}.vtr"
            r = ctx.vitals_run(prog, [how], out=trace)
            seen = len(ctx.problems)
            ctx.eq(f"{how} run {i + 1}: exit status under vitals", r.returncode, plain.returncode)
            ctx.eq(f"{how} run {i + 1}: stdout", r.stdout, plain.stdout)
            if ctx.check(trace.is_file(), f"{how} run {i + 1}: no trace"):
                rep, err = ctx.report_any(trace)
                p = rep["process"]
                ctx.eq(f"{how} run {i + 1}: trace.warnings", rep["trace"]["warnings"], None)
                ctx.eq(f"{how} run {i + 1}: process.end", p["end"], end)
                if how == "_exit":
                    ctx.eq(f"{how} run {i + 1}: process.end_status", p["end_status"], status)
                check_site(ctx, rep, "ender", 1, 77, ["malloc"], 1, 77, f"{how} run {i + 1}: ender")
                sites = with_function(rep["sites_by_calls"]["entries"], "site_main")
                ctx.check(total(sites, "alloc_calls") >= 1000,
                          f"{how} run {i + 1}: site_main made {total(sites, 'alloc_calls')} "
                          f"allocations, expected at least 1000")
            if len(ctx.problems) > seen:
                bad.append(i + 1)
        ctx.eq(f"{how}: runs with a problem (of 5)", bad, [])


def run_cases(cases, doc, add_args=None, setup=None, make_ctx=None):
    """The command line of every e2e runner: --vitals, --agent-dir, --programs, --work and one
    case of cases (name -> function of a Ctx). add_args(parser) adds a runner's own options,
    setup(ctx, args) reads them into the Ctx, make_ctx(args) makes a runner's own kind of
    context (one with problems, and pass_note for the PASS line if it likes). Returns the exit
    status."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--vitals", required=True)
    ap.add_argument("--agent-dir", required=True)
    ap.add_argument("--programs", required=True)
    ap.add_argument("--work", required=True)
    if add_args:
        add_args(ap)
    ap.add_argument("case", choices=sorted(cases))
    args = ap.parse_args()
    try:
        ctx = (make_ctx or Ctx)(args)
        if setup:
            setup(ctx, args)
    except Failed as e:
        print(f"FAIL {args.case}: {e}", file=sys.stderr)
        return 1
    try:
        cases[args.case](ctx)
    except Failed as e:
        if str(e) not in ctx.problems:
            ctx.problems.append(str(e))
    if ctx.problems:
        print(f"FAIL {args.case}: {len(ctx.problems)} problem(s):", file=sys.stderr)
        for p in ctx.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"PASS {args.case}{getattr(ctx, 'pass_note', '')}")
    return 0


def cases_of(namespace):
    """The case_NAME functions of a module's globals(), by NAME."""
    return {n[5:]: f for n, f in namespace.items() if n.startswith("case_")}


def main():
    return run_cases(cases_of(globals()), __doc__)


if __name__ == "__main__":
    sys.exit(main())
