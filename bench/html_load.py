#!/usr/bin/env python3
"""How big the HTML report of a large run is, and how long headless Chromium takes to load and
draw it: the page for `churn ITERATIONS THREADS` (bench/churn.c), for `manystacks STACKS_ALLOCS`
(bench/manystacks.c: 65536 distinct call stacks, so the flame graphs are pruned hard), beside the
page of a small run (tests/programs/leaks_c), measured in the same browser, in alternation.

    bench/html_load.py [--build build] [--iterations 5000000] [--threads 1]
                       [--stacks-allocs 1000000] [--loads 5]

Prints a Markdown table: page bytes, the time `vitals report --format html` took, and over
--loads loads of each page the median and the slowest of
  - navigate: until WebDriver's navigation returned (the load event),
  - drawn: from the start of the navigation until the page's script had drawn everything
    (window.vitalsReadyMs),
  - script: the page's script alone (window.vitalsRenderMs).
Needs: gcc, the Debian packages chromium and chromium-driver, a build of vitals.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "html"))
from webdriver import Browser  # noqa: E402


def run(cmd, env=None):
    t = time.monotonic()
    subprocess.run([str(c) for c in cmd], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--iterations", type=int, default=5000000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--stacks-allocs", type=int, default=1000000)
    ap.add_argument("--loads", type=int, default=5)
    args = ap.parse_args()
    build = Path(args.build).resolve()
    vitals = build / "vitals"
    env = dict(os.environ, VITALS_AGENT=str(build / "libvitals-agent.so"))
    with tempfile.TemporaryDirectory(prefix="vitals-html-bench.") as tmp:
        tmp = Path(tmp)
        churn = tmp / "churn"
        run(["gcc", "-O2", "-g", "-fno-omit-frame-pointer", "-pthread", ROOT / "bench" / "churn.c",
             "-o", churn])
        many = tmp / "manystacks"
        run(["gcc", "-O2", "-g", "-fno-omit-frame-pointer", ROOT / "bench" / "manystacks.c",
             "-o", many])
        pages = {}
        for name, prog in ((f"churn {args.iterations} {args.threads}",
                            [churn, args.iterations, args.threads]),
                           (f"manystacks {args.stacks_allocs}", [many, args.stacks_allocs]),
                           ("leaks_c (small)", [build / "tests" / "programs" / "leaks_c"])):
            trace, html = tmp / f"{len(pages)}.vtr", tmp / f"{len(pages)}.html"
            run([vitals, "run", "-q", "-o", trace, "--"] + prog, env=env)
            secs = run([vitals, "report", trace, "--format", "html", "-o", html])
            pages[name] = {"html": html, "report_s": secs, "bytes": html.stat().st_size,
                           "trace_bytes": trace.stat().st_size, "nav": [], "drawn": [],
                           "script": []}
        blank = tmp / "blank.html"
        blank.write_text("<!DOCTYPE html><title>blank</title>")
        with Browser(tmp / "browser") as b:
            for _ in range(args.loads):
                for p in pages.values():
                    b.open(blank)
                    t = time.monotonic()
                    b.open(p["html"])
                    p["nav"].append((time.monotonic() - t) * 1000)
                    drawn, script, err = b.js("return [window.vitalsReadyMs, window.vitalsRenderMs,"
                                              " document.getElementById('error').hidden]")
                    if not err:
                        sys.exit(f"the page {p['html']} shows an error")
                    p["drawn"].append(drawn)
                    p["script"].append(script)
    print(f"| page | trace | page bytes | report s | navigate ms (median / max) | "
          f"drawn ms (median / max) | script ms (median / max) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, p in pages.items():
        def mm(v):
            return f"{statistics.median(v):.0f} / {max(v):.0f}"
        print(f"| {name} | {p['trace_bytes']:,} B | {p['bytes']:,} | {p['report_s']:.2f} | "
              f"{mm(p['nav'])} | {mm(p['drawn'])} | {mm(p['script'])} |")


if __name__ == "__main__":
    main()
