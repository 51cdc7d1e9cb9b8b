#!/usr/bin/env python3
"""The HTML page of `vitals diff` (--format html) in headless Chromium: grow 5 256 against
grow 12 256 leak (tests/programs/grow.c: grow_site grew by exactly 7 blocks of 256 B, leak_site
is new, steady_site did not change). The page must load with no console error, make no network
request, and draw grow_site in the grown colour and steady_site unchanged.

Usage: diff_html_test.py --vitals PATH --agent-dir DIR --programs DIR --work DIR
Python 3 standard library only.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webdriver import Browser, BrowserError  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for a in ("--vitals", "--agent-dir", "--programs", "--work"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, VITALS_AGENT=str(Path(args.agent_dir) / "libvitals-agent.so"),
               VITALS_HISTORY="")
    problems = []

    def vitals(*a):
        r = subprocess.run([args.vitals, *map(str, a)], env=env, capture_output=True, timeout=60)
        if r.returncode not in (0, 1):
            raise SystemExit(f"FAIL: vitals {' '.join(map(str, a))} exited {r.returncode}: "
                             f"{r.stderr.decode(errors='replace')}")
        return r

    grow = Path(args.programs) / "grow"
    db = work / "history.db"
    db.unlink(missing_ok=True)
    for n in (5, 5, 5, 6):
        vitals("run", "-q", "--history", db, "-o", work / "h.vtr", "--", grow, n, 4096)
    vitals("run", "-q", "-o", work / "base.vtr", "--", grow, 5, 256)
    vitals("run", "-q", "-o", work / "new.vtr", "--", grow, 12, 256, "leak")
    trend = work / "trend.html"
    trend.write_bytes(vitals("history", "--history", db, "trend", "peak", "-f", "html").stdout)
    r = subprocess.run([args.vitals, "history", "--history", db, "-f", "html"], env=env,
                       capture_output=True)
    if r.returncode != 2 or b"is for 'vitals history trend" not in r.stderr:
        problems.append(f"history -f html (the list): exit {r.returncode}, {r.stderr!r}")
    page = work / "diff.html"
    r = vitals("diff", "-f", "html", "-o", page, "--fail-on", "peak > +10%", work / "base.vtr",
               work / "new.vtr")
    if r.returncode != 1:
        problems.append(f"--fail-on 'peak > +10%' with -f html: exit {r.returncode}, expected 1")
    html = page.read_text()
    for needed in ("vitals-diff-data", "grow_site"):
        if needed not in html:
            problems.append(f"the page lacks {needed!r}")
    if "<script src" in html or "<link" in html:
        problems.append("the page loads other files: it must be self-contained")
    try:
        with Browser(work / "browser") as b:
            b.open(page)
            errors = [m for level, m in b.console() if level in ("SEVERE", "ERROR")]
            if errors:
                problems.append(f"console errors: {errors}")
            uri = page.resolve().as_uri()
            requests = [u for u in b.requests(uri) if u != uri and not u.startswith("data:")]
            if requests:
                problems.append(f"network requests: {requests}")
            frames = b.js("return [...document.querySelectorAll('#flame .fr')].map("
                          "e => [e.dataset.name, e.dataset.change, "
                          "getComputedStyle(e).backgroundColor, e.getBoundingClientRect().width])")
            by = {f[0]: f for f in frames}
            g, s = by.get("grow_site"), by.get("steady_site")
            if not g or g[1] != "grown" or g[3] <= 0:
                problems.append(f"grow_site is not drawn as grown: {g}; frames {frames}")
            elif not g[2].startswith("rgb(") or g[2] == "rgb(204, 204, 204)":
                problems.append(f"grow_site's colour is not the grown one: {g[2]}")
            if not s or s[1] != "same" or s[2] != "rgb(204, 204, 204)":
                problems.append(f"steady_site is not drawn unchanged: {s}")
            leak = by.get("leak_site")
            if not leak or leak[1] != "grown":
                problems.append(f"leak_site (added) is not drawn as grown: {leak}")
            verdict = b.js("return document.querySelector('.verdict').textContent")
            if not verdict.startswith("regression"):
                problems.append(f"the verdict reads {verdict!r}")
            # the metric selector redraws the graph by another metric
            b.js("const s = document.getElementById('metric'); s.value = 'leaked';"
                 "s.dispatchEvent(new Event('change'));")
            names = b.js("return [...document.querySelectorAll('#flame .fr')].map("
                         "e => e.dataset.name)")
            if "leak_site" not in names or "grow_site" in names:
                problems.append(f"by leaked bytes, the graph holds {names}")
            errors = [m for level, m in b.console() if level in ("SEVERE", "ERROR")]
            if errors:
                problems.append(f"console errors after redrawing: {errors}")
            # the history's chart: 4 runs of grow, the 4th (6 blocks of 4 KiB more) flagged
            b.open(trend)
            errors = [m for level, m in b.console() if level in ("SEVERE", "ERROR")]
            if errors:
                problems.append(f"trend page: console errors: {errors}")
            pts = b.js("return [...document.querySelectorAll('#trend circle')].map("
                       "e => [e.getAttribute('class'), +e.getAttribute('cy')])")
            if [p[0] for p in pts] != ["point", "point", "point", "point flagged"]:
                problems.append(f"trend points: {pts}")
            elif not pts[3][1] < pts[0][1]:
                problems.append(f"the larger peak is not drawn higher: {pts}")
    except BrowserError as e:
        problems.append(str(e))
    if problems:
        print(f"FAIL diff_html: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("PASS diff_html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
