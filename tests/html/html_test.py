#!/usr/bin/env python3
"""Tests of the HTML report: real programs under `vitals run`, their page written by
`vitals report --format html`, its data compared with `vitals report --format json` for the same
trace and with what the programs do by construction, and the page opened in headless Chromium:
no console error, no network request, the key elements with the right numbers, the controls
working, a screenshot saved in the work directory.

Usage: html_test.py --vitals PATH --agent-dir DIR --programs DIR --prune PATH --work DIR
                    [--no-browser] CASE

--no-browser checks the pages' files and data only (the runs through the sanitized CLI, whose
pages the browser would draw the same way).

A missing dependency (Chromium, chromedriver) fails the case, never skips it. Python 3
standard library only.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import e2e  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webdriver import Browser, BrowserError, Firefox  # noqa: E402

TIMEOUT = 60
CRASH_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:", "Segmentation fault", "core dumped")


Failed = e2e.Failed


class Ctx:
    def __init__(self, args):
        self.vitals = Path(args.vitals).resolve()
        self.agent = Path(args.agent_dir).resolve() / "libvitals-agent.so"
        self.programs = Path(args.programs).resolve()
        self.prune = Path(args.prune).resolve()
        self.zone_programs = Path(args.zone_programs or args.programs).resolve()
        self.work = Path(args.work).resolve() / args.case
        self.browser = not args.no_browser
        self.problems = []
        self.pass_note = f" (work directory, screenshots: {self.work})"
        for what, path in (("vitals", self.vitals), ("the agent", self.agent),
                           ("the prune program", self.prune)):
            if not path.is_file():
                raise Failed(f"{what} is missing: '{path}' does not exist (build first)")
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.env = dict(os.environ)
        self.env.pop("LD_PRELOAD", None)
        self.env["VITALS_AGENT"] = str(self.agent)
        self.env["LC_ALL"] = "C"

    def check(self, cond, what):
        if not cond:
            self.problems.append(what)
        return cond

    def eq(self, what, actual, expected):
        return self.check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")

    def require(self, cond, what):
        if not cond:
            self.problems.append(what)
            raise Failed(what)

    def run(self, cmd, timeout=TIMEOUT):
        cmd = [str(c) for c in cmd]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.work,
                             env=self.env, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise Failed(f"hung: killed after {timeout} s: {' '.join(cmd)}")
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)

    def vitals_cmd(self, args):
        r = self.run([self.vitals] + list(args))
        err = r.stderr.decode(errors="replace")
        label = "vitals " + " ".join(map(str, args))
        self.require(r.returncode >= 0, f"'{label}' was killed by signal {-r.returncode}:\n{err}")
        for marker in CRASH_MARKERS:
            self.require(marker not in err, f"'{label}' printed '{marker}':\n{err}")
        return r

    def traced(self, prog, args=(), opts=()):
        """Runs a program under vitals (with options opts); returns its trace, JSON report and
        page."""
        path = prog if isinstance(prog, Path) else self.programs / prog
        self.require(path.is_file(), f"test program '{path}' is missing")
        trace = self.work / f"{path.name}.vtr"
        r = self.vitals_cmd(["run", "-q", "-o", trace] + list(opts) + ["--", path] + list(args))
        self.require(r.returncode == 0, f"vitals run {path.name} exited {r.returncode}:\n"
                     f"{r.stderr.decode(errors='replace')}")
        rep = self.json_report(trace)
        html = self.html_report(trace)
        return trace, rep, html

    def json_report(self, trace):
        r = self.vitals_cmd(["report", trace, "--format", "json", "--top", "100000"])
        self.require(r.returncode == 0, f"vitals report --format json '{trace}' exited "
                     f"{r.returncode}:\n{r.stderr.decode(errors='replace')}")
        return json.loads(r.stdout)

    def html_report(self, trace, out=None):
        out = out or trace.with_suffix(".html")
        r = self.vitals_cmd(["report", trace, "--format", "html", "-o", out])
        self.require(r.returncode == 0, f"vitals report --format html '{trace}' exited "
                     f"{r.returncode}:\n{r.stderr.decode(errors='replace')}")
        return out


DATA_RE = re.compile(r'<script type="application/json" id="vitals-data">(.*?)</script>', re.S)


def page_data(ctx, html):
    """The JSON object the page draws."""
    text = Path(html).read_text()
    m = DATA_RE.search(text)
    ctx.require(m is not None, f"{html}: no #vitals-data script")
    ctx.require("</" not in m.group(1), f"{html}: '</' inside the data would end its script")
    return json.loads(m.group(1))


def check_static(ctx, html, label):
    """What can be checked without a browser: one file, nothing it could fetch."""
    text = Path(html).read_text()
    ctx.check(text.startswith("<!DOCTYPE html>"), f"{label}: not an HTML document")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    ctx.check(csp and "default-src 'none'" in csp.group(1),
              f"{label}: no Content-Security-Policy with default-src 'none'")
    for pat in (r'\bsrc\s*=\s*"(?!data:)', r'<link\b', r'@import', r'url\(\s*["\']?(?!data:)',
                r'\bfetch\(', r'XMLHttpRequest', r'<!--VITALS:'):
        ctx.check(not re.search(pat, text), f"{label}: the page holds {pat!r}")


def flame_kind(data, key):
    return next(k for k in data["flame"]["kinds"] if k["key"] == key)


def check_flame(ctx, data, label):
    """Every kind's tree: preorder fours, children within their parent, nothing under the
    threshold but "other" nodes, and the pruned figures adding up."""
    for k in data["flame"]["kinds"]:
        a = k["nodes"]
        nodes = [a[i:i + 4] for i in range(0, len(a), 4)]
        ctx.eq(f"{label}: flame {k['key']}: emitted", k["emitted"], len(nodes))
        if not ctx.check(nodes and nodes[0][2] == 0, f"{label}: flame {k['key']}: no root"):
            continue
        ctx.eq(f"{label}: flame {k['key']}: root value", nodes[0][1], k["total"])
        stack, kids = [], {}
        other_value = other_nodes = 0
        for i, (name, value, depth, merged) in enumerate(nodes):
            if depth:
                ctx.require(depth <= len(stack), f"{label}: flame {k['key']}: node {i} skips a "
                            f"depth")
                kids.setdefault(stack[depth - 1], []).append(value)
            del stack[depth:]
            stack.append(i)
            if name < 0:
                other_value += value
                other_nodes += merged
            else:
                ctx.check(value >= k["threshold"] or i == 0,
                          f"{label}: flame {k['key']}: node {i} ({value}) under the threshold "
                          f"{k['threshold']} was not merged")
        for parent, values in kids.items():
            ctx.check(sum(values) <= nodes[parent][1],
                      f"{label}: flame {k['key']}: children of node {parent} exceed it")
        ctx.eq(f"{label}: flame {k['key']}: pruned_value", k["pruned_value"], other_value)
        ctx.eq(f"{label}: flame {k['key']}: pruned_nodes", k["pruned_nodes"], other_nodes)
        ctx.eq(f"{label}: flame {k['key']}: threshold", k["threshold"],
               max(1, -(-k["total"] // data["flame"]["prune_divisor"])))


def check_data(ctx, data, rep, label):
    """The page's figures are the JSON report's."""
    ctx.eq(f"{label}: schema", (data["schema"], data["version"]), ("vitals-html", 1))
    heap = dict(rep["heap"])
    heap.pop("calls_by_function")
    ctx.eq(f"{label}: heap", data["heap"], heap)
    for key in ("pid", "exe", "argv", "duration_ns", "end", "end_status", "dropped_events",
                "threads", "start_realtime_ns", "stopped"):
        ctx.eq(f"{label}: process.{key}", data["process"][key], rep["process"][key])
    ctx.eq(f"{label}: trace.events", data["trace"]["events"], rep["trace"]["events"])
    ctx.eq(f"{label}: leak_check.status", data["leak_check"]["status"],
           rep["leak_check"]["status"])
    classes = rep["leak_check"]["classes"]
    if data["leak_check"]["classes"] is None:
        ctx.check(all(v is None for v in classes.values()), f"{label}: leak classes missing")
    else:
        ctx.eq(f"{label}: leak classes",
               {c["key"]: (c["blocks"], c["bytes"]) for c in data["leak_check"]["classes"]},
               {k: (v["blocks"], v["bytes"]) for k, v in classes.items()})
    ctx.eq(f"{label}: threads",
           [(t["tid"], t["alloc_calls"], t["alloc_bytes"], t["frees"], t["stack_used"])
            for t in data["threads"]],
           [(t["tid"], t["alloc_calls"], t["alloc_bytes"], t["frees"], t["stack_used"])
            for t in rep["threads"]])
    b = rep["over_time"]["buckets"]
    ctx.eq(f"{label}: timeline",
           [data["timeline"][k] for k in ("end_ns", "min", "max", "end", "alloc_calls")],
           [[x[k] for x in b] for k in ("end_ns", "min_bytes", "max_bytes", "end_bytes",
                                        "alloc_calls")])
    series = rep["fragmentation"]["series"]
    ctx.eq(f"{label}: memory series", (data["memory"]["ns"], data["memory"]["rss_max"]),
           ([p["ns"] for p in series], [p["max"]["rss"] for p in series]))
    ctx.eq(f"{label}: memory samples", data["memory"]["samples"],
           rep["fragmentation"]["memory_samples"])
    life = {h["from_ns"]: h["blocks"] for h in rep["lifetimes"]["histogram"]}
    ctx.eq(f"{label}: lifetimes",
           {f: n for f, n in zip(data["lifetimes"]["from_ns"], data["lifetimes"]["freed"]) if n},
           life)
    for p in ("p50_ns", "p90_ns", "p99_ns"):
        ctx.eq(f"{label}: lifetimes.{p}", data["lifetimes"][p], rep["lifetimes"][p])
    ctx.eq(f"{label}: sizes",
           [(m, c, b) for m, c, b in zip(data["sizes"]["max_bytes"], data["sizes"]["calls"],
                                         data["sizes"]["bytes"]) if c],
           [(c["max_bytes"], c["calls"], c["bytes"]) for c in rep["sizes"]["classes"]])
    ctx.eq(f"{label}: health", data["health"], rep["health"])
    ctx.eq(f"{label}: advice",
           [(a["kind"], a["severity"], a["evidence"], a["saving"]) for a in data["advice"]],
           [(a["kind"], a["severity"], a["evidence"], a["saving"]) for a in rep["advice"]])
    sites = data["sites"]["entries"]
    ctx.eq(f"{label}: sites.total", data["sites"]["total"], rep["sites_by_calls"]["total"])
    if data["sites"]["total"] <= data["sites"]["max"]:
        ctx.eq(f"{label}: sites by calls",
               sorted(s["calls"] for s in sites if s["calls"]),
               sorted(e["alloc_calls"] for e in rep["sites_by_calls"]["entries"]))
        ctx.eq(f"{label}: sites' leaked bytes", sum(s["leaked"] for s in sites),
               rep["heap"]["leaked_bytes"])
    roots = {k["key"]: k["total"] for k in data["flame"]["kinds"]}
    want = {"alloc_bytes": rep["heap"]["bytes_allocated"], "alloc_calls": rep["heap"]["alloc_calls"],
            "leaked_bytes": rep["heap"]["leaked_bytes"], "peak_bytes": rep["heap"]["peak_bytes"]}
    if rep.get("cpu"):
        want["cpu_samples"] = sum(t["samples"] for t in rep["cpu"]["threads"])
    ctx.eq(f"{label}: flame totals", roots, want)
    check_flame(ctx, data, label)
    check_sections(ctx, data, rep, label)


def check_sections(ctx, data, rep, label):
    """The CPU profile, the monitor series and libvitals' records are the JSON report's (whose
    tables are longer: it was asked for --top 100000)."""
    if "zones" in rep:
        ctx.eq(f"{label}: zones", data["zones"], rep["zones"])
    else:  # a CPU profile only: no libvitals record
        ctx.eq(f"{label}: zones", (data["zones"]["present"], data["zones"]["zones"]), (False, []))
    ctx.eq(f"{label}: monitor", data["monitor"], rep.get("monitor"))
    if not ctx.check((data["cpu"] is None) == (rep.get("cpu") is None), f"{label}: cpu present"):
        return
    if data["cpu"] is None:
        return
    for key in ("sampler", "hz", "samples", "lost", "sampled_ns", "threads", "hot_spots"):
        if key == "threads":
            ctx.eq(f"{label}: cpu.threads",
                   [{k: v for k, v in t.items() if k != "functions"} for t in data["cpu"][key]],
                   [{k: v for k, v in t.items() if k != "functions"} for t in rep["cpu"][key]])
        else:
            ctx.eq(f"{label}: cpu.{key}", data["cpu"][key], rep["cpu"][key])
    fns = data["cpu"]["functions"]
    ctx.eq(f"{label}: cpu functions", fns["entries"],
           rep["cpu"]["functions"]["entries"][:len(fns["entries"])])


def innermost(data, site, fn):
    """Whether site's innermost frame is in function fn."""
    return bool(site["stack"]) and data["strings"][site["stack"][0]].split(" ")[0] == fn


# Scripts run in the page.
JS_CLICK = """
const [sel, x, y] = arguments;
const e = document.querySelector(sel), r = e.getBoundingClientRect();
const at = {bubbles: true, clientX: r.left + (x === null ? r.width / 2 : x),
            clientY: r.top + (y === null ? r.height / 2 : y)};
for (const t of ['mousedown', 'mouseup', 'click']) e.dispatchEvent(new MouseEvent(t, at));
"""
JS_DRAG = """
const [sel, x0, x1] = arguments;
const e = document.querySelector(sel), r = e.getBoundingClientRect(), y = r.top + r.height / 2;
e.dispatchEvent(new MouseEvent('mousedown', {bubbles: true, clientX: r.left + x0, clientY: y}));
e.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + x1, clientY: y}));
e.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, clientX: r.left + x1, clientY: y}));
e.dispatchEvent(new MouseEvent('mouseleave', {clientX: r.left + x1, clientY: y}));
"""
JS_TYPE = """
const [sel, text] = arguments, e = document.querySelector(sel);
e.value = text;
e.dispatchEvent(new Event('input', {bubbles: true}));
"""
JS_TEXT = "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;"
JS_ATTR = ("const e = document.querySelector(arguments[0]);"
           "return e ? e.getAttribute(arguments[1]) : null;")
JS_ROWS = """
return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr')).map(
  tr => Array.from(tr.cells).map(td => td.dataset.value !== undefined ? Number(td.dataset.value)
                                                                    : td.textContent));
"""


def open_page(ctx, b, html, label):
    """Loads html; checks it drew, said nothing on the console and asked for nothing."""
    b.requests()
    b.console()
    t0 = time.monotonic()
    url = b.open(html)
    ready = None
    while time.monotonic() - t0 < 20:
        ready = b.js("return document.documentElement.getAttribute('data-ready')")
        if ready:
            break
        time.sleep(0.05)
    ctx.eq(f"{label}: page drawn (data-ready)", ready, "1")
    ctx.eq(f"{label}: error banner hidden", b.js("return document.getElementById('error').hidden"),
           True)
    return url


def check_quiet(ctx, b, url, label):
    """No console message of level warning or error; no request but the page itself."""
    msgs = [m for m in b.console() if m[0] in ("SEVERE", "WARNING")]
    ctx.eq(f"{label}: console errors and warnings", msgs, [])
    ctx.eq(f"{label}: network requests", [u for u in b.requests(url) if u != url], [])
    ctx.eq(f"{label}: resource timing entries",
           b.js("return performance.getEntriesByType('resource').map(e => e.name)"), [])


def check_network_log_works(ctx, b):
    """The method sees a page's requests: a page that loads an image is caught."""
    (ctx.work / "pixel.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    control = ctx.work / "control.html"
    control.write_text('<!DOCTYPE html><title>control</title><img src="pixel.svg">')
    b.requests()
    b.open(control)
    ctx.check(any(u.endswith("/pixel.svg") for u in b.requests(control.as_uri())),
              "the network log did not see the control page's image request: the 'no network "
              "request' checks would prove nothing")


def cards(b):
    return b.js("""
const out = {};
for (const c of document.querySelectorAll('.card'))
  out[c.id] = Number(c.querySelector('.value').dataset.value);
for (const d of document.querySelectorAll('#card-leaked [data-class]'))
  out[d.dataset.class] = [Number(d.dataset.blocks), Number(d.dataset.value)];
return out;""")


def check_cards(ctx, b, rep, label):
    c = cards(b)
    want = {"card-peak": rep["heap"]["peak_bytes"], "card-leaked": rep["heap"]["leaked_bytes"],
            "card-allocs": rep["heap"]["alloc_calls"], "card-runtime": rep["process"]["duration_ns"],
            "card-dropped": rep["process"]["dropped_events"],
            "card-health": rep["health"]["score"],
            "card-cpu": sum(t["cpu_ns"] for t in rep["cpu"]["threads"]) if rep.get("cpu") else 0}
    for k, v in rep["leak_check"]["classes"].items():
        if v is not None:
            want[k] = [v["blocks"], v["bytes"]]
    ctx.eq(f"{label}: summary cards", c, want)


def case_page(ctx):
    """leaks_c (known leaks), threads (known threads) and advice (advice items) in Chromium."""
    pages = {}
    for prog in ("leaks_c", "threads", "advice"):
        _, rep, html = ctx.traced(prog)
        check_static(ctx, html, prog)
        data = page_data(ctx, html)
        check_data(ctx, data, rep, prog)
        pages[prog] = (rep, html, data)

    rep, html, data = pages["leaks_c"]
    # By construction (tests/programs/leaks_c.c): 50 blocks, 3560 bytes leaked; site_a made 37
    # blocks of 48 bytes.
    ctx.eq("leaks_c: leaked (blocks, bytes)",
           (rep["heap"]["leaked_blocks"], rep["heap"]["leaked_bytes"]), (50, 3560))
    site_a = [s for s in data["sites"]["entries"] if innermost(data, s, "site_a")]
    ctx.eq("leaks_c: site_a (calls, bytes, leaked)",
           [(s["calls"], s["bytes"], s["leaked"]) for s in site_a], [(37, 1776, 1776)])

    if not ctx.browser:
        return
    try:
        with Browser(ctx.work / "browser") as b:
            check_network_log_works(ctx, b)

            url = open_page(ctx, b, html, "leaks_c")
            check_cards(ctx, b, rep, "leaks_c")
            rows = b.js(JS_ROWS, "#sites-tbl")
            ctx.eq("leaks_c: sites table rows", len(rows), rep["sites_by_calls"]["total"])
            ctx.eq("leaks_c: leaks table rows", len(b.js(JS_ROWS, "#leaks-tbl")),
                   rep["leaks"]["total"])
            ctx.eq("leaks_c: threads table", [r[0] for r in b.js(JS_ROWS, "#threads-tbl")],
                   [t["tid"] for t in rep["threads"]])
            # Sorting by calls puts site_a (37) first; a filter leaves site_b's one site.
            b.js(JS_CLICK, '#sites-tbl th[data-key="calls"]', None, None)
            rows = b.js(JS_ROWS, "#sites-tbl")
            ctx.eq("leaks_c: sorted by calls: first row", (rows[0][0].split(" ")[0], rows[0][1]),
                   ("site_a", 37))
            ctx.eq("leaks_c: sorted by calls: order", [r[1] for r in rows],
                   sorted((r[1] for r in rows), reverse=True))
            b.js(JS_CLICK, '#sites-tbl th[data-key="calls"]', None, None)
            rows = b.js(JS_ROWS, "#sites-tbl")
            ctx.eq("leaks_c: sorted by calls, ascending", [r[1] for r in rows],
                   sorted(r[1] for r in rows))
            b.js(JS_TYPE, "#sites-table input[type=search]", "site_b")
            ctx.eq("leaks_c: sites filtered by 'site_b'",
                   [(r[0].split(" ")[0], r[1]) for r in b.js(JS_ROWS, "#sites-tbl")],
                   [("site_b", 5)])
            # Flame graph: the leaked bytes, a search, zoom and reset, icicle.
            b.js(JS_CLICK, '#fg-kinds button[data-kind="leaked_bytes"]', None, None)
            ctx.eq("leaks_c: flame kind pressed",
                   b.js(JS_ATTR, '#fg-kinds button[data-kind="leaked_bytes"]', "aria-pressed"),
                   "true")
            b.js(JS_TYPE, "#fg-search", "site_a")
            ctx.eq("leaks_c: flame search 'site_a' matches",
                   b.js(JS_ATTR, "#fg-status", "data-matched"), "1776")
            b.js(JS_TYPE, "#fg-search", "/^site_[ab]$/")
            ctx.eq("leaks_c: flame search /^site_[ab]$/ matches",
                   b.js(JS_ATTR, "#fg-status", "data-matched"), "2376")
            b.js(JS_TYPE, "#fg-search", "")
            height = b.js("return document.getElementById('fg-canvas').clientHeight")
            b.js(JS_CLICK, "#fg-canvas", 20, height - 18 - 9)  # depth 1 (root at the bottom)
            ctx.check("zoomed on" in b.js(JS_TEXT, "#fg-status"),
                      f"leaks_c: a click on the flame graph did not zoom: "
                      f"{b.js(JS_TEXT, '#fg-status')!r}")
            b.js(JS_CLICK, "#fg-reset", None, None)
            ctx.check("zoomed on" not in b.js(JS_TEXT, "#fg-status"),
                      "leaks_c: reset did not unzoom the flame graph")
            b.js(JS_CLICK, "#fg-orient", None, None)
            ctx.eq("leaks_c: icicle pressed", b.js(JS_ATTR, "#fg-orient", "aria-pressed"), "true")
            b.js(JS_CLICK, "#fg-canvas", 20, 18 + 9)  # depth 1 (root at the top)
            ctx.check("zoomed on" in b.js(JS_TEXT, "#fg-status"),
                      "leaks_c: a click on the icicle graph did not zoom")
            ctx.eq("leaks_c: flame pruned nodes", b.js(JS_ATTR, "#fg-pruned", "data-pruned-nodes"),
                   "0")
            # Timeline: a drag zooms, reset shows the whole run again.
            before = b.js(JS_TEXT, "#tl-range")
            b.js(JS_DRAG, "#tl-heap", 200, 400)
            zoomed = b.js(JS_TEXT, "#tl-range")
            ctx.check(zoomed != before, f"leaks_c: a drag did not zoom the timeline ({zoomed!r})")
            b.js(JS_CLICK, "#tl-reset", None, None)
            ctx.eq("leaks_c: timeline after reset", b.js(JS_TEXT, "#tl-range"), before)
            b.js(JS_CLICK, "#fg-orient", None, None)
            b.js(JS_CLICK, "#fg-reset", None, None)
            b.js(JS_TYPE, "#sites-table input[type=search]", "")
            b.screenshot(ctx.work / "leaks_c-light.png")
            # The dark theme follows the system's setting.
            b.cdp("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
            ctx.eq("leaks_c: background in the dark theme",
                   b.js("return getComputedStyle(document.documentElement).backgroundColor"),
                   "rgb(21, 25, 29)")
            b.js("window.dispatchEvent(new Event('resize'))")
            time.sleep(0.3)
            b.screenshot(ctx.work / "leaks_c-dark.png")
            b.cdp("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
            ctx.eq("leaks_c: background in the light theme",
                   b.js("return getComputedStyle(document.documentElement).backgroundColor"),
                   "rgb(255, 255, 255)")
            check_quiet(ctx, b, url, "leaks_c")

            rep, html, data = pages["threads"]
            url = open_page(ctx, b, html, "threads")
            check_cards(ctx, b, rep, "threads")
            rows = {r[0]: r[1:4] for r in b.js(JS_ROWS, "#threads-tbl")}
            producers = [tid for tid, r in rows.items() if r == [1000, 32000, 0]]
            ctx.eq("threads: producers in the threads table (1000 blocks of 32 B each)",
                   len(producers), 4)
            check_quiet(ctx, b, url, "threads")

            rep, html, data = pages["advice"]
            url = open_page(ctx, b, html, "advice")
            check_cards(ctx, b, rep, "advice")
            ctx.eq("advice: items", b.js(
                "return Array.from(document.querySelectorAll('#advice-list li[data-kind]'))"
                ".map(li => li.dataset.kind)"), [a["kind"] for a in rep["advice"]])
            ctx.check(len(rep["advice"]) > 0, "advice: the advice program gave no advice")
            ctx.eq("advice: health score", b.js(JS_ATTR, "#health-score", "data-value"),
                   str(rep["health"]["score"]))
            check_quiet(ctx, b, url, "advice")
    except BrowserError as e:
        raise Failed(str(e))


def rows_by(b, table, key_col=0):
    return {r[key_col]: r for r in b.js(JS_ROWS, table)}


def case_sections(ctx):
    """The CPU profile (cpu_split), zones, counters, gauges and frames (zones), tasks (tasks),
    pools and caches (pool_cache) and a vitals monitor trace with one alert: the page's data
    is the JSON report's, the figures hold what the programs do by construction, and the
    page's tables, cards, charts and CPU flame graph show them, in one Chromium session."""
    zp = ctx.zone_programs
    pages = {}
    for label, prog, args, opts in (("zones", zp / "zones", (), ()),
                                    ("tasks", zp / "tasks", (ctx.work,), ()),
                                    ("pool_cache", zp / "pool_cache", (), ()),
                                    ("cpu_split", "cpu_split", ("1", "500000"), ("--cpu",)),
                                    ("cpu_only", "cpu_split_leaf", ("1", "300000"),
                                     ("--cpu-only",))):
        _, rep, html = ctx.traced(prog, args, opts)
        check_static(ctx, html, label)
        data = page_data(ctx, html)
        if rep.get("allocations_traced") is False:
            # A CPU profile only: the JSON report has no heap, sites or advice.
            check_sections(ctx, data, rep, label)
            ctx.eq(f"{label}: flame kinds", {k["key"]: k["total"] for k in data["flame"]["kinds"]
                                             if k["total"]},
                   {"cpu_samples": sum(t["samples"] for t in rep["cpu"]["threads"])})
            check_flame(ctx, data, label)
        else:
            check_data(ctx, data, rep, label)
        pages[label] = (rep, html, data)
    trace = ctx.work / "monitor.vtr"
    r = ctx.vitals_cmd(["monitor", "-i", "20ms", "-o", trace, "-q", "--no-anomalies",
                        "--alert", "critical: rss > 40MiB", "--", ctx.programs / "monitor_child",
                        "sleep", "60", "touch", "64", "sleep", "100"])
    ctx.require(r.returncode == 0, f"vitals monitor exited {r.returncode}: {r.stderr!r}")
    rep = ctx.json_report(trace)
    html = ctx.html_report(trace)
    data = page_data(ctx, html)
    check_static(ctx, html, "monitor")
    ctx.eq("monitor: data.monitor", data["monitor"], rep["monitor"])
    pages["monitor"] = (rep, html, data)

    # By construction (tests/programs/zones.c, pool_cache.c, tasks.c, cpu_split.c).
    z = {x["name"]: x for x in pages["zones"][2]["zones"]["zones"]}
    ctx.eq("zones: (calls, errors)", {n: (x["calls"], x["errors"]) for n, x in z.items()},
           {"sleep": (20, 5), "outer": (10, 0), "inner": (30, 0), "spin": (100, 0)})
    ctx.eq("zones: inner, outer (alloc calls, bytes)",
           [(z[n]["alloc_calls"], z[n]["alloc_bytes"]) for n in ("inner", "outer")],
           [(30, 3000), (20, 20000)])
    zz = pages["zones"][2]["zones"]
    ctx.eq("zones: counters", {c["name"]: c["total"] for c in zz["counters"]},
           {"items": 700, "refunds": -3})
    ctx.eq("zones: gauge depth (min, max)", [(g["min"], g["max"]) for g in zz["gauges"]],
           [(0, 49)])
    pz = pages["pool_cache"][2]["zones"]
    ctx.eq("pool_cache: pools (acquires, releases, in use, high water)",
           {p["name"]: (p["acquires"], p["releases"], p["in_use"], p["high_water"])
            for p in pz["pools"]},
           {"messages": (153, 150, 3, 100), "bounded": (15, 15, 0, 15)})
    ctx.eq("pool_cache: cache (gets, hits, misses, puts, evictions)",
           [(c["name"], c["gets"], c["hits"], c["misses"], c["puts"], c["evictions"])
            for c in pz["caches"]], [("pages", 15, 10, 5, 20, 10)])
    ctx.eq("tasks: kinds (tasks)", {k["kind"]: k["tasks"]
                                    for k in pages["tasks"][2]["zones"]["task_kinds"]},
           {"cpu": 3, "sleep": 3, "io": 3, "memory": 3})
    cpu_data = pages["cpu_split"][2]
    ctx.require(cpu_data["cpu"] is not None, "cpu_split: the trace has no CPU profile")
    k = flame_kind(cpu_data, "cpu_samples")
    names = cpu_data["strings"]
    a = k["nodes"]
    per_fn = {}
    for i in range(0, len(a), 4):
        if a[i] >= 0 and names[a[i]] in ("hot70", "cold30"):
            per_fn[names[a[i]]] = per_fn.get(names[a[i]], 0) + a[i + 1]
    both = per_fn.get("hot70", 0) + per_fn.get("cold30", 0)
    ctx.check(both and 0.6 <= per_fn.get("hot70", 0) / both <= 0.8,
              f"cpu_split: hot70's share of the CPU flame graph's samples: {per_fn}")
    mon = pages["monitor"][2]["monitor"]
    ctx.eq("monitor: alerts", [(x["metric"], x["severity"]) for x in mon["alerts"]],
           [("rss", "critical")])
    if not ctx.browser:
        return
    try:
        with Browser(ctx.work / "browser") as b:
            rep, html, data = pages["zones"]
            url = open_page(ctx, b, html, "zones")
            check_cards(ctx, b, rep, "zones")
            keys = ("calls", "errors", "total_ns", "mean_ns", "p50_ns", "p90_ns", "p95_ns",
                    "p99_ns", "p999_ns", "max_ns", "alloc_calls", "alloc_bytes")
            rows = rows_by(b, "#zones-tbl")
            ctx.eq("zones: table", {n: r[2:] for n, r in rows.items()},
                   {x["name"]: [x[k] for k in keys] for x in rep["zones"]["zones"]})
            b.js(JS_TYPE, "#zones-table input[type=search]", "inner")
            ctx.eq("zones: filtered by 'inner'", [r[0] for r in b.js(JS_ROWS, "#zones-tbl")],
                   ["inner"])
            b.js(JS_TYPE, "#zones-table input[type=search]", "")
            b.js(JS_CLICK, '#zones-tbl th[data-key="calls"]', None, None)
            ctx.eq("zones: sorted by calls", [r[0] for r in b.js(JS_ROWS, "#zones-tbl")],
                   ["spin", "inner", "sleep", "outer"])
            rows = b.js(JS_ROWS, "#counters-tbl")
            ctx.eq("zones: counters table", {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows},
                   {**{c["name"]: ("counter", c["updates"], c["total"], None, None)
                       for c in rep["zones"]["counters"]},
                    **{g["name"]: ("gauge", g["updates"], g["last"], g["min"], g["max"])
                       for g in rep["zones"]["gauges"]}})
            ctx.eq("zones: series charts (points)", b.js(
                "return Array.from(document.querySelectorAll('#counters-tbl tbody tr')).map("
                "tr => [tr.dataset.name, Number(tr.querySelector('svg').dataset.points)])"),
                [[r[0], sum(w["value"] is not None for w in next(
                    c for c in rep["zones"]["counters"] + rep["zones"]["gauges"]
                    if c["name"] == r[0])["series"])] for r in rows])
            ctx.eq("zones: frames table", {r[0]: r[1] for r in b.js(JS_ROWS, "#frames-tbl")},
                   {(f["name"] or "(main loop)"): f["marks"] for f in rep["zones"]["frames"]})
            ctx.eq("zones: hidden sections", b.js(
                "return ['cpu','tasks','pools','monitor'].map(id => document.getElementById(id)"
                ".hidden)"), [rep.get("cpu") is None, True, True, True])
            check_quiet(ctx, b, url, "zones")

            rep, html, data = pages["tasks"]
            url = open_page(ctx, b, html, "tasks")
            ctx.eq("tasks: kinds table", {r[0]: (r[1], r[2], r[3], r[4])
                                          for r in b.js(JS_ROWS, "#task-kinds-tbl")},
                   {k["kind"]: (k["class"], k["tasks"], k["median_wall_ns"], k["median_cpu_ns"])
                    for k in rep["zones"]["task_kinds"]})
            ctx.eq("tasks: tasks table (wall)", sorted(r[4] for r in b.js(JS_ROWS, "#tasks-tbl")),
                   sorted(t["wall_ns"] for t in rep["zones"]["tasks"]))
            check_quiet(ctx, b, url, "tasks")

            rep, html, data = pages["pool_cache"]
            url = open_page(ctx, b, html, "pool_cache")
            ctx.eq("pool_cache: pools table", {r[0]: r[1:7] for r in b.js(JS_ROWS, "#pools-tbl")},
                   {p["name"]: [p[k] for k in ("object_size", "acquires", "releases", "in_use",
                                               "high_water", "created")]
                    for p in rep["zones"]["pools"]})
            ctx.eq("pool_cache: caches table", {r[0]: r[1:4] for r in b.js(JS_ROWS, "#caches-tbl")},
                   {c["name"]: [c["gets"], c["hits"], c["misses"]] for c in rep["zones"]["caches"]})
            check_quiet(ctx, b, url, "pool_cache")

            rep, html, data = pages["cpu_split"]
            url = open_page(ctx, b, html, "cpu_split")
            check_cards(ctx, b, rep, "cpu_split")
            ctx.eq("cpu_split: cpu card (sampler, samples, lost)",
                   [b.js(JS_ATTR, "#" + i, "data-value") for i in ("cpu-sampler", "cpu-samples",
                                                                   "cpu-lost")],
                   [rep["cpu"]["sampler"], str(rep["cpu"]["samples"]), str(rep["cpu"]["lost"])])
            rows = b.js(JS_ROWS, "#cpu-fns-tbl")
            ctx.eq("cpu_split: hot functions table",
                   sorted((r[0], r[2], r[4]) for r in rows),
                   sorted((f["function"], f["self_ns"], f["total_ns"])
                          for f in data["cpu"]["functions"]["entries"]))
            ctx.eq("cpu_split: cpu threads table", sorted(r[0] for r in b.js(JS_ROWS,
                                                                             "#cpu-threads-tbl")),
                   sorted(t["tid"] for t in rep["cpu"]["threads"]))
            b.js(JS_CLICK, '#fg-kinds button[data-kind="cpu_samples"]', None, None)
            b.js(JS_TYPE, "#fg-search", "hot70")
            ctx.eq("cpu_split: CPU flame search 'hot70' matches",
                   b.js(JS_ATTR, "#fg-status", "data-matched"), str(per_fn.get("hot70")))
            b.js(JS_TYPE, "#fg-search", "")
            b.screenshot(ctx.work / "cpu_split.png")
            check_quiet(ctx, b, url, "cpu_split")

            rep, html, data = pages["cpu_only"]
            url = open_page(ctx, b, html, "cpu_only")
            ctx.eq("cpu_only: cpu card", cards(b)["card-cpu"],
                   sum(t["cpu_ns"] for t in rep["cpu"]["threads"]))
            ctx.eq("cpu_only: the flame graph opens on", b.js(
                "return document.querySelector('#fg-kinds button[aria-pressed=\"true\"]')"
                ".dataset.kind"), "cpu_samples")
            ctx.eq("cpu_only: sections left out", b.js(
                "return ['timeline','flame','sites','cpu'].map(id => document.getElementById(id)"
                ".hidden)"), [True, False, True, False])
            check_quiet(ctx, b, url, "cpu_only")

            rep, html, data = pages["monitor"]
            url = open_page(ctx, b, html, "monitor")
            mon = rep["monitor"]
            ctx.eq("monitor: charts (metric, points)", b.js(
                "return Array.from(document.querySelectorAll('#monitor-charts figure')).map("
                "f => [f.dataset.metric, Number(f.querySelector('svg').dataset.points)])"),
                [[m["name"], sum(v is not None for v in m["points"])] for m in mon["metrics"]])
            ctx.eq("monitor: alert marks", b.js(
                "return Array.from(document.querySelectorAll('#monitor-charts line.mark')).map("
                "l => [l.closest('figure').dataset.metric, Number(l.dataset.ns)])"),
                [[a["metric"], a["ns"]] for a in mon["alerts"]])
            ctx.eq("monitor: alerts table", [(r[0], r[1], r[2]) for r in b.js(JS_ROWS,
                                                                             "#alerts-tbl")],
                   [(a["ns"], a["severity"], a["metric"]) for a in mon["alerts"]])
            ctx.eq("monitor: memory sections left out", b.js(
                "return ['timeline','flame','sites','leaks','threads','histograms'].map("
                "id => document.getElementById(id).hidden)"), [True] * 6)
            b.screenshot(ctx.work / "monitor.png")
            check_quiet(ctx, b, url, "monitor")
    except BrowserError as e:
        raise Failed(str(e))


def case_firefox(ctx):
    """The leaks_c page in headless Firefox: drawn without error, nothing fetched, the same
    numbers, and the controls working."""
    _, rep, html = ctx.traced("leaks_c")
    check_data(ctx, page_data(ctx, html), rep, "leaks_c")
    if not ctx.browser:
        return
    try:
        with Firefox(ctx.work / "firefox") as b:
            b.open(html)
            ctx.eq("firefox: page drawn (data-ready)",
                   b.js("return document.documentElement.getAttribute('data-ready')"), "1")
            ctx.eq("firefox: error banner (script errors, blocked requests)",
                   b.js("const e = document.getElementById('error');"
                        "return e.hidden ? null : e.textContent"), None)
            ctx.eq("firefox: resource timing entries",
                   b.js("return performance.getEntriesByType('resource').map(e => e.name)"), [])
            check_cards(ctx, b, rep, "firefox")
            ctx.eq("firefox: sites table rows", len(b.js(JS_ROWS, "#sites-tbl")),
                   rep["sites_by_calls"]["total"])
            b.js(JS_CLICK, '#sites-tbl th[data-key="calls"]', None, None)
            rows = b.js(JS_ROWS, "#sites-tbl")
            ctx.eq("firefox: sorted by calls: first row", (rows[0][0].split(" ")[0], rows[0][1]),
                   ("site_a", 37))
            b.js(JS_CLICK, '#fg-kinds button[data-kind="leaked_bytes"]', None, None)
            b.js(JS_TYPE, "#fg-search", "site_a")
            ctx.eq("firefox: flame search 'site_a' matches",
                   b.js(JS_ATTR, "#fg-status", "data-matched"), "1776")
            b.js(JS_TYPE, "#fg-search", "")
            height = b.js("return document.getElementById('fg-canvas').clientHeight")
            b.js(JS_CLICK, "#fg-canvas", 20, height - 18 - 9)
            ctx.check("zoomed on" in b.js(JS_TEXT, "#fg-status"),
                      "firefox: a click on the flame graph did not zoom")
            b.js(JS_CLICK, "#fg-reset", None, None)
            b.screenshot(ctx.work / "leaks_c-firefox.png")
            ctx.eq("firefox: error banner at the end",
                   b.js("return document.getElementById('error').hidden"), True)
    except BrowserError as e:
        raise Failed(str(e))


def case_prune(ctx):
    """Nodes under 0.1% of a graph's total are merged into one "other" node per parent."""
    _, rep, html = ctx.traced(ctx.prune)
    check_static(ctx, html, "prune")
    data = page_data(ctx, html)
    check_data(ctx, data, rep, "prune")
    by = flame_kind(data, "alloc_bytes")
    ctx.eq("prune: bytes (total, threshold, pruned_nodes, pruned_value)",
           (by["total"], by["threshold"], by["pruned_nodes"], by["pruned_value"]),
           (100100, 101, 5, 100))
    a = by["nodes"]
    others = [a[i:i + 4] for i in range(0, len(a), 4) if a[i] < 0]
    ctx.eq("prune: bytes: 'other' nodes (value, merged)", [(o[1], o[3]) for o in others],
           [(100, 5)])
    names = {data["strings"][a[i]] for i in range(0, len(a), 4) if a[i] >= 0}
    ctx.check("big" in names and not any(n.startswith("tiny_") for n in names),
              f"prune: bytes: the nodes kept are {sorted(names)}")
    calls = flame_kind(data, "alloc_calls")
    ctx.eq("prune: calls (total, pruned_nodes)", (calls["total"], calls["pruned_nodes"]), (6, 0))
    if not ctx.browser:
        return
    try:
        with Browser(ctx.work / "browser") as b:
            url = open_page(ctx, b, html, "prune")
            ctx.eq("prune: pruned nodes shown",
                   (b.js(JS_ATTR, "#fg-pruned", "data-pruned-nodes"),
                    b.js(JS_ATTR, "#fg-pruned", "data-pruned-value")), ("5", "100"))
            ctx.check("5 nodes below 0.1%" in b.js(JS_TEXT, "#fg-pruned"),
                      f"prune: the page does not say what was pruned: "
                      f"{b.js(JS_TEXT, '#fg-pruned')!r}")
            b.screenshot(ctx.work / "prune.png")
            check_quiet(ctx, b, url, "prune")
    except BrowserError as e:
        raise Failed(str(e))


def case_cli(ctx):
    """Errors name the option or the file; a damaged trace still gives a page."""
    trace, rep, html = ctx.traced("leaks_c")
    r = ctx.vitals_cmd(["report", trace, "--format", "html", "-o", "/nonexistent/dir/r.html"])
    err = r.stderr.decode(errors="replace")
    ctx.eq("unwritable output: exit status", r.returncode, 1)
    ctx.check("/nonexistent/dir/r.html" in err, f"unwritable output: stderr lacks the path:\n{err}")
    r = ctx.vitals_cmd(["report", trace, "--format", "htm"])
    err = r.stderr.decode(errors="replace")
    ctx.eq("unknown format: exit status", r.returncode, 2)
    ctx.check("'htm'" in err and "html" in err, f"unknown format: stderr:\n{err}")
    r = ctx.vitals_cmd(["report", "--help"])
    ctx.check("html" in r.stdout.decode(), "report --help does not list html")
    r = ctx.vitals_cmd(["report", trace, "--format", "html"])
    ctx.eq("to stdout: exit status", r.returncode, 0)
    ctx.eq("to stdout: the same page as with -o", r.stdout, Path(html).read_bytes())
    # A trace cut in half: the page is written, with the reader's warning in its data.
    cut = ctx.work / "cut.vtr"
    whole = trace.read_bytes()
    cut.write_bytes(whole[:len(whole) // 2])
    rj = ctx.vitals_cmd(["report", cut, "--format", "json", "--top", "100000"])
    rh = ctx.vitals_cmd(["report", cut, "--format", "html", "-o", ctx.work / "cut.html"])
    ctx.eq("cut trace: exit status as json's", rh.returncode, rj.returncode)
    if rj.returncode == 0:
        rep = json.loads(rj.stdout)
        data = page_data(ctx, ctx.work / "cut.html")
        ctx.check(data["trace"]["warnings"], "cut trace: no warning in the page's data")
        check_data(ctx, data, rep, "cut trace")


def own_args(ap):
    ap.add_argument("--prune", required=True)
    ap.add_argument("--zone-programs", help="where the zones, tasks and pool_cache programs are")
    ap.add_argument("--no-browser", action="store_true")


def main():
    return e2e.run_cases(e2e.cases_of(globals()), __doc__, add_args=own_args, make_ctx=Ctx)


if __name__ == "__main__":
    sys.exit(main())
