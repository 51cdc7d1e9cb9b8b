#!/usr/bin/env python3
"""End-to-end tests of the report formats other tools read (docs/FORMATS.md): each case writes
a format, parses it back (with the tool that reads it where there is one: protoc, ms_print,
promtool) and checks that its totals equal the JSON report's for the same trace, whose figures
e2e.py checks against the programs' ground truth. Also the errors of `vitals report` for
malformed formats and unwritable outputs.

Usage: formats.py --vitals PATH --agent-dir DIR --programs DIR [--zone-programs DIR] --work DIR
       CASE
Python 3 standard library only.
"""

import csv
import gzip
import io
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import cases_of, check_site, run_cases  # noqa: E402

PROTO = Path(__file__).resolve().parents[2] / "src" / "report" / "profile.proto"
CLASS_KEYS = ("definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable")
# leak_classes.c's ground truth (its header comment): (bytes, blocks) per class.
LEAK_CLASSES = {"definitely_lost": (205128, 11), "indirectly_lost": (496, 11),
                "possibly_lost": (104, 2), "still_reachable": (1049596, 17)}


def traced_formats(ctx, prog, formats, name=None):
    """Runs prog under vitals, then one `vitals report` writing the JSON report and every
    format of `formats` (["csv", "pprof=p.pb.gz", ...]) into a directory: returns the JSON
    report and the directory."""
    name = name or prog
    trace = ctx.work / f"{name}.vtr"
    r = ctx.vitals_run(ctx.prog(prog), out=trace)
    ctx.require(r.returncode == 0, f"vitals run {prog} exited {r.returncode}: "
                f"{r.stderr.decode(errors='replace')}")
    out = ctx.work / f"{name}.out"
    args = ["report", trace, "--top", "100000", "-o", out, "-f", f"json={out}.json"]
    for f in formats:
        args += ["-f", f]
    r = ctx.vitals_cmd(args)
    ctx.require(r.returncode == 0, f"vitals {' '.join(map(str, args))} exited {r.returncode}: "
                f"{r.stderr.decode(errors='replace')}")
    rep = json.loads(Path(f"{out}.json").read_text())
    ctx.eq(f"{name}: dropped events", rep["process"]["dropped_events"], 0)
    return rep, out


def classes(rep):
    c = rep["leak_check"]["classes"]
    return {k: (c[k]["bytes"], c[k]["blocks"]) for k in CLASS_KEYS}


def read_csv(ctx, path):
    data = path.read_bytes()
    ctx.check(data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b""),
              f"{path.name}: rows do not all end with CRLF (RFC 4180)")
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def case_formats_csv(ctx):
    _, rep = None, None
    rep, out = traced_formats(ctx, "leaks_c", ["csv"])
    check_site(ctx, rep, "site_a", 37, 37 * 48, ["malloc"], 37, 37 * 48)
    heap = rep["heap"]
    sites = read_csv(ctx, out / "sites.csv")
    for col, key in (("alloc_calls", "alloc_calls"), ("alloc_bytes", "bytes_allocated"),
                     ("leaked_blocks", "leaked_blocks"), ("leaked_bytes", "leaked_bytes"),
                     ("peak_bytes", "peak_bytes"), ("peak_blocks", "peak_blocks")):
        ctx.eq(f"sites.csv: sum of {col} = heap.{key}", sum(int(s[col]) for s in sites),
               heap[key])
    a = [s for s in sites if s["function"] == "site_a"]
    ctx.eq("sites.csv: site_a rows (calls, bytes, functions, caller)",
           [(s["alloc_calls"], s["alloc_bytes"], s["functions"], s["stack"].split(";")[-2:])
            for s in a], [("37", "1776", "malloc", ["main", "site_a"])])
    ctx.eq("sites.csv: site_a's file", [Path(s["file"]).name for s in a], ["leaks_c.c"])
    ctx.eq("sites.csv: rows", len(sites), rep["sites_by_calls"]["total"])
    tl = read_csv(ctx, out / "timeline.csv")
    ctx.eq("timeline.csv: sum of alloc_calls", sum(int(b["alloc_calls"]) for b in tl),
           heap["alloc_calls"])
    ctx.eq("timeline.csv: sum of alloc_bytes", sum(int(b["alloc_bytes"]) for b in tl),
           heap["bytes_allocated"])
    ctx.eq("timeline.csv: highest max_bytes", max(int(b["max_bytes"]) for b in tl),
           heap["peak_bytes"])
    ctx.eq("timeline.csv: buckets as in the JSON",
           [(int(b["end_ns"]), int(b["end_bytes"])) for b in tl],
           [(b["end_ns"], b["end_bytes"]) for b in rep["over_time"]["buckets"]])
    mem = read_csv(ctx, out / "memory.csv")
    series = rep["fragmentation"]["series"]
    ctx.check(len(series) >= 1, "the trace has no memory sample")
    ctx.eq("memory.csv: (ns, rss_max) as in the JSON",
           [(int(p["ns"]), int(p["rss_max"])) for p in mem],
           [(p["ns"], p["max"]["rss"]) for p in series])

    # Leak classes, by site, from a program whose classes are known.
    rep, out = traced_formats(ctx, "leak_classes", ["csv:leaks"])
    ctx.eq("leak_classes: JSON classes", classes(rep), LEAK_CLASSES)
    leaks = read_csv(ctx, out / "leaks.csv")
    got = {k: (sum(int(r["bytes"]) for r in leaks if r["class"] == k),
               sum(int(r["blocks"]) for r in leaks if r["class"] == k)) for k in CLASS_KEYS}
    ctx.eq("leaks.csv: classes", got, LEAK_CLASSES)
    drop_big = [r for r in leaks if "drop_big" in r["stack"].split(";")]
    ctx.eq("leaks.csv: drop_big", [(r["class"], r["blocks"], r["bytes"]) for r in drop_big],
           [("definitely_lost", "1", str(200 * 1024))])
    ctx.check(not (out / "sites.csv").exists(), "csv:leaks wrote other parts too")

    # RFC 4180 quoting: the program's module path holds a comma, quotes and a space.
    odd = ctx.work / 'odd, "dir"'
    odd.mkdir()
    prog = odd / "leaks_c"
    shutil.copy2(ctx.prog("leaks_c"), prog)
    trace = ctx.work / "odd.vtr"
    r = ctx.vitals_run(prog, out=trace)
    ctx.require(r.returncode == 0, f"vitals run '{prog}' failed: {r.stderr.decode()}")
    r = ctx.vitals_cmd(["report", trace, "-f", "csv:sites"])
    ctx.require(r.returncode == 0, f"vitals report -f csv:sites failed: {r.stderr.decode()}")
    ctx.check(f'"{str(prog).replace(chr(34), chr(34) * 2)}"'.encode() in r.stdout,
              "sites.csv: the module path with a comma and quotes is not quoted as RFC 4180 says")
    rows = list(csv.DictReader(io.StringIO(r.stdout.decode(), newline="")))
    ctx.eq("sites.csv with an odd module path: site_a's (calls, module)",
           [(s["alloc_calls"], s["module"]) for s in rows if s["function"] == "site_a"],
           [("37", str(prog))])


def read_folded(ctx, path):
    rows = []
    for line in path.read_text().splitlines():
        m = re.fullmatch(r"(.+) (\d+)", line)
        if ctx.check(m is not None, f"{path.name}: not a folded line: {line!r}"):
            rows.append((m.group(1).split(";"), int(m.group(2))))
    return rows


def case_formats_folded(ctx):
    rep, out = traced_formats(ctx, "leaks_c", ["folded"])
    heap = rep["heap"]
    for part, key in (("alloc_bytes", "bytes_allocated"), ("alloc_calls", "alloc_calls"),
                      ("leaked_bytes", "leaked_bytes"), ("peak_bytes", "peak_bytes")):
        rows = read_folded(ctx, out / f"{part}.folded")
        ctx.eq(f"{part}.folded: total", sum(v for _, v in rows), heap[key])
        ctx.check(all(v > 0 for _, v in rows), f"{part}.folded: a line of weight 0")
    rows = read_folded(ctx, out / "alloc_bytes.folded")
    ctx.eq("alloc_bytes.folded: site_a (root first: main, then site_a last)",
           [(s[-2:], v) for s, v in rows if s[-1] == "site_a"], [(["main", "site_a"], 1776)])
    rows = read_folded(ctx, out / "leaked_bytes.folded")
    ctx.eq("leaked_bytes.folded: site_c", [v for s, v in rows if s[-1] == "site_c"], [300])
    ctx.eq("leaked_bytes.folded: site_f", [v for s, v in rows if s[-1] == "site_f"], [])

    # Demangled C++ names.
    rep, out = traced_formats(ctx, "leaks_cxx", ["folded:alloc_calls"])
    rows = read_folded(ctx, out / "alloc_calls.folded")
    ctx.eq("alloc_calls.folded (C++): total", sum(v for _, v in rows), rep["heap"]["alloc_calls"])
    ctx.eq("alloc_calls.folded: app::make_widget(int)",
           sum(v for s, v in rows if s[-1] == "app::make_widget(int)"), 11)
    mangled = sorted({f for s, _ in rows for f in s if f.startswith("_Z")})
    ctx.eq("alloc_calls.folded: mangled names", mangled, [])
    ctx.check(not (out / "alloc_bytes.folded").exists(), "folded:alloc_calls wrote other parts")


def parse_text_proto(text):
    """protoc --decode's text format: {field: [values or nested dicts]}."""
    root, stack = {}, []
    cur = root
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.endswith("{"):
            child = {}
            cur.setdefault(line[:-1].strip(), []).append(child)
            stack.append(cur)
            cur = child
        elif line == "}":
            cur = stack.pop()
        else:
            k, v = line.split(":", 1)
            v = v.strip()
            if v.startswith('"'):
                v = json.loads(v)
            elif v in ("true", "false"):
                v = v == "true"
            else:
                v = int(v)
            cur.setdefault(k, []).append(v)
    return root


def build_id(ctx, path):
    r = ctx.run(["readelf", "-n", path])
    m = re.search(r"Build ID: ([0-9a-f]+)", r.stdout.decode())
    ctx.require(m, f"readelf found no build id in '{path}'")
    return m.group(1)


def case_formats_pprof(ctx):
    ctx.require(shutil.which("protoc"), "'protoc' is not installed (Debian: protobuf-compiler); "
                "this test decodes the profile with it; it is not skipped")
    rep, out = traced_formats(ctx, "leaks_c", ["pprof"])
    data = (out / "profile.pb.gz").read_bytes()
    ctx.require(data[:2] == b"\x1f\x8b", "profile.pb.gz is not gzipped")
    r = ctx.run(["protoc", "--decode", "perftools.profiles.Profile", f"-I{PROTO.parent}",
                 PROTO], stdin=gzip.decompress(data))
    ctx.require(r.returncode == 0, f"protoc --decode failed: {r.stderr.decode()}")
    p = parse_text_proto(r.stdout.decode())
    strings = p["string_table"]
    ctx.eq("string_table[0]", strings[0], "")
    types = [(strings[t.get("type", [0])[0]], strings[t.get("unit", [0])[0]])
             for t in p["sample_type"]]
    ctx.eq("sample types", types, [("alloc_objects", "count"), ("alloc_space", "bytes"),
                                   ("inuse_objects", "count"), ("inuse_space", "bytes")])
    ctx.eq("default sample type", strings[p["default_sample_type"][0]], "inuse_space")
    heap = rep["heap"]
    totals = [sum(s.get("value", [0] * 4)[i] for s in p["sample"]) for i in range(4)]
    ctx.eq("sample totals (alloc_objects, alloc_space, inuse_objects, inuse_space)", totals,
           [heap["alloc_calls"], heap["bytes_allocated"], heap["leaked_blocks"],
            heap["leaked_bytes"]])
    functions = {f["id"][0]: strings[f["name"][0]] for f in p["function"]}
    locations = {loc["id"][0]: loc for loc in p["location"]}
    mappings = {m["id"][0]: m for m in p["mapping"]}

    def leaf(sample):
        loc = locations[sample["location_id"][0]]
        return functions[loc["line"][0]["function_id"][0]]

    ctx.eq("samples whose leaf is site_a: values",
           [s["value"] for s in p["sample"] if leaf(s) == "site_a"], [[37, 1776, 37, 1776]])
    for s in p["sample"]:
        missing = [i for i in s["location_id"] if i not in locations]
        ctx.check(not missing, f"a sample names locations that do not exist: {missing}")
    prog = str(ctx.prog("leaks_c"))
    mine = [m for m in mappings.values() if strings[m["filename"][0]] == prog]
    ctx.eq("mappings of leaks_c", len(mine), 1)
    if mine:
        ctx.eq("leaks_c's build id", strings[mine[0]["build_id"][0]], build_id(ctx, prog))
        site_a = [loc for loc in locations.values()
                  if functions[loc["line"][0]["function_id"][0]] == "site_a"]
        ctx.check(site_a and all(loc.get("mapping_id") == mine[0]["id"] for loc in site_a),
                  "site_a's locations are not in leaks_c's mapping")
    ctx.eq("duration_nanos", p["duration_nanos"][0], rep["process"]["duration_ns"])


def case_formats_massif(ctx):
    ctx.require(shutil.which("ms_print"), "'ms_print' is not installed (Debian: valgrind); it is "
                "not skipped")
    rep, out = traced_formats(ctx, "peak", ["massif"])
    ctx.eq("JSON peak", rep["heap"]["peak_bytes"], 15000)
    path = out / "massif.out"
    text = path.read_text()
    snaps = re.findall(r"snapshot=(\d+)\n#-+\ntime=([\d.]+)\nmem_heap_B=(\d+)\n"
                       r"mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=(\w+)", text)
    ctx.check(2 <= len(snaps) <= 100, f"massif.out: {len(snaps)} snapshots")
    ctx.eq("massif.out: snapshots numbered in order", [int(s[0]) for s in snaps],
           list(range(len(snaps))))
    times = [float(s[1]) for s in snaps]
    ctx.eq("massif.out: times in order", times, sorted(times))
    ctx.eq("massif.out: greatest mem_heap_B", max(int(s[2]) for s in snaps), 15000)
    peaks = [s for s in snaps if s[3] == "peak"]
    ctx.eq("massif.out: the peak snapshot (bytes, ms)", [(int(s[2]), s[1]) for s in peaks],
           [(15000, "%d.%06d" % divmod(rep["heap"]["peak_ns"], 1000000))])
    r = ctx.run(["ms_print", path])
    printed = r.stdout.decode(errors="replace")
    ctx.require(r.returncode == 0, f"ms_print failed ({r.returncode}): {r.stderr.decode()}")
    m = re.search(r"Detailed snapshots: \[(\d+) \(peak\)\]", printed)
    ctx.require(m, f"ms_print names no peak snapshot:\n{printed[:3000]}")
    n = m.group(1)
    row = re.search(rf"^\s*{n}\s+[\d.,]+\s+([\d,]+)\s+([\d,]+)\s", printed, re.M)
    ctx.require(row, f"ms_print has no row for snapshot {n}")
    ctx.eq("ms_print: the peak's total and useful heap", (row.group(1), row.group(2)),
           ("15,000", "15,000"))
    ctx.check(re.search(r"^100\.00% \(15,000B\) \(heap allocation functions\)", printed, re.M),
              "ms_print: the peak tree's root is not 100% of 15,000 B")
    ctx.check(re.search(r"^->100\.00% \(15,000B\) 0x[0-9A-F]+: phase_large \(.*peak\.c:\d+\)$",
                        printed, re.M), "ms_print: phase_large is not the whole peak")
    ctx.check("phase_small" not in printed, "ms_print: phase_small is in the peak tree")


def case_formats_openmetrics(ctx):
    ctx.require(shutil.which("promtool"), "'promtool' is not installed (Debian: prometheus); "
                "it is not skipped")
    rep, out = traced_formats(ctx, "leak_classes", ["openmetrics"])
    path = out / "metrics.txt"
    r = ctx.run(["promtool", "check", "metrics"], stdin=path.read_bytes())
    ctx.eq("promtool check metrics: exit status and findings",
           (r.returncode, (r.stdout + r.stderr).decode()), (0, ""))
    text = path.read_text()
    ctx.check(text.endswith("# EOF\n"), "metrics.txt does not end with '# EOF'")
    values = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            values[k] = float(v)
    heap = rep["heap"]
    for name, want in (("vitals_heap_alloc_calls_total", heap["alloc_calls"]),
                       ("vitals_heap_free_calls_total", heap["free_calls"]),
                       ("vitals_heap_allocated_bytes_total", heap["bytes_allocated"]),
                       ("vitals_heap_peak_bytes", heap["peak_bytes"]),
                       ("vitals_heap_peak_blocks", heap["peak_blocks"]),
                       ("vitals_heap_leaked_bytes", heap["leaked_bytes"]),
                       ("vitals_heap_leaked_blocks", heap["leaked_blocks"]),
                       ("vitals_threads", rep["process"]["threads"]),
                       ("vitals_dropped_events_total", 0),
                       ("vitals_health_score", rep["health"]["score"]),
                       *((f'vitals_function_calls_total{{function="{fn}"}}', n)
                         for fn, n in heap["calls_by_function"].items())):
        ctx.eq(name, values.get(name), want)
    got = {k: (values.get(f'vitals_leak_bytes{{class="{k}"}}'),
               values.get(f'vitals_leak_blocks{{class="{k}"}}')) for k in CLASS_KEYS}
    ctx.eq("vitals_leak_bytes and _blocks by class", got, LEAK_CLASSES)
    ctx.eq("vitals_duration_seconds", round(values["vitals_duration_seconds"] * 1e9),
           rep["process"]["duration_ns"])


def case_formats_chrome(ctx):
    rep, out = traced_formats(ctx, "threads", ["chrome"])
    doc = json.loads((out / "trace.json").read_text())
    events = doc["traceEvents"]
    pid = rep["process"]["pid"]
    ctx.check(all(e["pid"] == pid for e in events), "events of another pid")
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    ctx.eq("thread_name metadata: threads", sorted(names), sorted(t["tid"] for t in
                                                                   rep["threads"]))
    slices = {e["tid"]: e["args"] for e in events if e["ph"] == "X" and e.get("cat") == "thread"}
    ctx.eq("thread slices: (alloc_calls, alloc_bytes, frees) per thread",
           {t: (a["alloc_calls"], a["alloc_bytes"], a["frees"]) for t, a in slices.items()},
           {t["tid"]: (t["alloc_calls"], t["alloc_bytes"], t["frees"]) for t in rep["threads"]})
    heap = [e for e in events if e["ph"] == "C" and e["name"] == "heap in use"]
    ts = [e["ts"] for e in heap]
    ctx.eq("heap counter: in time order", ts, sorted(ts))
    ctx.eq("heap counter: greatest value", max(e["args"]["bytes"] for e in heap),
           rep["heap"]["peak_bytes"])
    ctx.eq("heap counter: last value", heap[-1]["args"]["bytes"], rep["heap"]["leaked_bytes"])
    rss = [(round(e["ts"] * 1000), e["args"]["bytes"]) for e in events
           if e["ph"] == "C" and e["name"] == "RSS"]
    series = rep["fragmentation"]["series"]
    ctx.check(len(series) >= 1, "the trace has no memory sample")
    ctx.eq("RSS counter: as the JSON series", rss, [(p["ns"], p["max"]["rss"]) for p in series])
    peak = [e for e in events if e["ph"] == "i" and e["name"] == "heap peak"]
    ctx.eq("heap peak instant: (ts in ns, bytes)",
           [(round(e["ts"] * 1000), e["args"]["bytes"]) for e in peak],
           [(rep["heap"]["peak_ns"], rep["heap"]["peak_bytes"])])
    end = [e for e in events if e["ph"] == "i" and e["name"] == "leak check end"]
    ctx.eq("leak check end instants", len(end), 1)
    if end:
        ctx.eq("leak check end: time (ns)", round(end[0]["ts"] * 1000),
               rep["process"]["duration_ns"] + rep["leak_check"]["scan_ns"])
        ctx.eq("leak check end: classes",
               {k: (end[0]["args"][k + "_bytes"], end[0]["args"][k + "_blocks"])
                for k in CLASS_KEYS}, classes(rep))


def case_formats_cli(ctx):
    trace = ctx.work / "t.vtr"
    r = ctx.vitals_run(ctx.prog("peak"), out=trace)
    ctx.require(r.returncode == 0 and trace.is_file(), "vitals run peak failed")
    (ctx.work / "afile").write_text("x")

    def expect(args, status, err_has=None, out_has=None):
        r = ctx.vitals_cmd(args)
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        label = "vitals " + " ".join(map(str, args))
        ctx.eq(f"'{label}': exit status", r.returncode, status)
        for want in ([err_has] if isinstance(err_has, str) else err_has or []):
            ctx.check(want in err, f"'{label}': stderr lacks {want!r}:\n{err}")
        if out_has is not None:
            ctx.check(out_has in out, f"'{label}': stdout lacks {out_has!r}:\n{out[:500]}")
        if status:
            ctx.check(err.startswith("vitals: "), f"'{label}': no message on stderr:\n{err}")
            ctx.eq(f"'{label}': stdout", out, "")
        return r

    t = str(trace)
    expect(["report", t, "-f", "nope"], 2, ["unknown format 'nope' for --format", "pprof"])
    expect(["report", t, "-f", "csv:nope"], 2, ["'nope' is not a part of 'csv'", "timeline"])
    expect(["report", t, "-f", "pprof:x"], 2, "the format 'pprof' has no parts")
    expect(["report", t, "-f", "csv"], 2, ["'csv' has several parts", "csv:sites"])
    expect(["report", t, "-f", "text", "-f", "json"], 2, "several formats would go to stdout")
    expect(["report", t, "-f", "json="], 2, "no output after '='")
    expect(["report", t, "-f", "json=a", "-f", "text=a"], 2, "two outputs write 'a'")
    # Unwritable outputs: exit 1 naming the file, before the trace is read, leaving no file.
    ok = ctx.work / "ok.txt"
    expect(["report", t, "-f", f"text={ok}", "-f", "json=/nonexistent/x.json"], 1,
           "cannot write '/nonexistent/x.json'")
    ctx.check(not ok.exists(), "a failed report left 'ok.txt' behind")
    expect(["report", t, "-o", "/nonexistent/r.txt"], 1, "cannot write '/nonexistent/r.txt'")
    expect(["report", t, "-f", "csv", "-o", f"{ctx.work}/afile/dir"], 1,
           f"cannot create the output directory '{ctx.work}/afile/dir'")
    expect(["report", t, "-f", "massif", "-f", "chrome", "-o", f"{ctx.work}/afile"], 1,
           f"cannot create the output directory '{ctx.work}/afile'")
    expect(["report", t, "-f", "json", "-o", t], 2, "is the trace")
    ctx.eq("the trace after '-o' named it", trace.read_bytes()[:4], b"\x89VTR")
    expect(["report", t, "-f", "openmetrics=/dev/full"], 1,
           "cannot write the openmetrics report to '/dev/full'")
    expect(["report", "/nonexistent.vtr", "-f", f"json={ctx.work}/gone.json"], 2,
           "/nonexistent.vtr")
    ctx.check(not (ctx.work / "gone.json").exists(), "an unreadable trace left its output")
    # What works: the old forms, a part to stdout, one read for every format.
    r = expect(["report", t, "-f", "json", "-o", ctx.work / "r.json"], 0)
    rep = json.loads((ctx.work / "r.json").read_text())
    ctx.eq("-f json -o FILE: peak", rep["heap"]["peak_bytes"], 15000)
    expect(["report", t, "-f", "folded:alloc_calls"], 0, out_has=" 10\n")
    r = expect(["report", t, "-f", "pprof"], 0)
    ctx.eq("pprof on stdout (a pipe): gzip magic", r.stdout[:2], b"\x1f\x8b")
    every = ["text", "json", "csv", "folded", "pprof", "massif", "openmetrics", "chrome"]
    args = ["report", t, "-o", ctx.work / "all"]
    for f in every:
        args += ["-f", f]
    expect(args, 0)
    ctx.eq("files of every format in -o DIR", sorted(p.name for p in (ctx.work / "all").iterdir()),
           sorted(["report.txt", "report.json", "sites.csv", "leaks.csv", "timeline.csv",
                   "memory.csv", "alloc_bytes.folded", "alloc_calls.folded",
                   "leaked_bytes.folded", "peak_bytes.folded", "profile.pb.gz", "massif.out",
                   "metrics.txt", "trace.json", "zones.csv", "tasks.csv", "cpu.csv",
                   "cpu.folded"]))
    # Parts of data the trace does not hold are there, empty: a header row, or no line.
    ctx.eq("zones.csv, tasks.csv, cpu.csv of a trace without zones, tasks or CPU samples",
           [len((ctx.work / "all" / f).read_bytes().split(b"\r\n")) for f in
            ("zones.csv", "tasks.csv", "cpu.csv")], [2, 2, 2])
    ctx.eq("cpu.folded of a trace without CPU samples",
           (ctx.work / "all" / "cpu.folded").read_bytes(), b"")
    text = (ctx.work / "all" / "report.txt").read_text()
    ctx.check("\033[" not in text, "colours in a text report written to a file")
    ctx.eq("report.json in -o DIR: peak",
           json.loads((ctx.work / "all" / "report.json").read_text())["heap"]["peak_bytes"], 15000)
    # -o naming an existing directory takes the default name even for one format.
    expect(["report", t, "-f", "massif", "-o", ctx.work / "all"], 0)
    r = expect(["report", "--help"], 0, out_has="FORMAT[:PART][=OUT]")
    for f in every:
        ctx.check(f"  {f} " in r.stdout.decode(), f"--help does not list '{f}'")


def json_keys(o):
    """Every key of a JSON document, at any depth."""
    if isinstance(o, dict):
        for k, v in o.items():
            yield k
            yield from json_keys(v)
    elif isinstance(o, list):
        for v in o:
            yield from json_keys(v)


def case_formats_json_schema(ctx):
    """docs/JSON.md documents every field the JSON report has (the keys of calls_by_function
    are function names, values rather than fields)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "JSON.md").read_text()
    version = int(re.search(r'schema "vitals-report", version (\d+)', doc).group(1))
    for prog in ("leak_classes", "threads"):
        rep, _ = traced_formats(ctx, prog, [])
        ctx.eq(f"{prog}: schema and version", (rep["schema"], rep["version"]),
               ("vitals-report", version))
        names = set(rep["heap"]["calls_by_function"])
        missing = sorted({k for k in json_keys(rep) if k not in names and f'"{k}"' not in doc})
        ctx.eq(f"{prog}: fields missing from docs/JSON.md", missing, [])


def traced_cmd(ctx, name, cmd, formats):
    """Runs `vitals CMD...` writing the trace name.vtr (cmd holds everything but -o), then one
    `vitals report` writing the JSON report and every format of `formats` into a directory:
    returns the JSON report and the directory."""
    trace = ctx.work / f"{name}.vtr"
    r = ctx.vitals_cmd([cmd[0], "-q", "-o", trace] + cmd[1:])
    ctx.require(r.returncode == 0, f"vitals {cmd[0]} ({name}) exited {r.returncode}: "
                f"{r.stderr.decode(errors='replace')}")
    out = ctx.work / f"{name}.out"
    args = ["report", trace, "--top", "100000", "-o", out, "-f", f"json={out}.json"]
    for f in formats:
        args += ["-f", f]
    r = ctx.vitals_cmd(args)
    ctx.require(r.returncode == 0, f"vitals {' '.join(map(str, args))} exited {r.returncode}: "
                f"{r.stderr.decode(errors='replace')}")
    return json.loads(Path(f"{out}.json").read_text()), out


def read_metrics(ctx, path):
    """metrics.txt checked by promtool, as {"name{labels}": value}."""
    ctx.require(shutil.which("promtool"), "'promtool' is not installed (Debian: prometheus); "
                "it is not skipped")
    r = ctx.run(["promtool", "check", "metrics"], stdin=path.read_bytes())
    ctx.eq("promtool check metrics: exit status and findings",
           (r.returncode, (r.stdout + r.stderr).decode()), (0, ""))
    values = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            values[k] = float(v)
    return values


def zone_key(name, z):
    return f'zone="{name}",file="{z["file"] or ""}",line="{z["line"]}"'


def chrome_events(ctx, out, rep):
    doc = json.loads((out / "trace.json").read_text())
    events = doc["traceEvents"]
    ctx.check(all(e["pid"] == rep["process"]["pid"] for e in events), "events of another pid")
    return events


# zones.c's ground truth (its header comment): calls, errors, allocations, bytes allocated.
ZONES = {"sleep": (20, 5, 0, 0), "outer": (10, 0, 20, 20000), "inner": (30, 0, 30, 3000),
         "spin": (100, 0, 0, 0)}


def case_formats_zones(ctx):
    """The zones program: csv:zones, the openmetrics zone families and the Chrome zone,
    counter and gauge tracks against the JSON report's "zones" and the program's figures."""
    rep, out = traced_cmd(ctx, "zones", ["run", "--", ctx.zone_programs / "zones"],
                          ["csv:zones", "openmetrics", "chrome"])
    zs = {z["name"]: z for z in rep["zones"]["zones"]}
    ctx.eq("JSON: zones (calls, errors, alloc_calls, alloc_bytes)",
           {n: (z["calls"], z["errors"], z["alloc_calls"], z["alloc_bytes"])
            for n, z in zs.items()}, ZONES)
    rows = read_csv(ctx, out / "zones.csv")
    ctx.eq("zones.csv: zones in the JSON's order", [r["zone"] for r in rows],
           [z["name"] for z in rep["zones"]["zones"]])
    for r in rows:
        z = zs.get(r["zone"], {})
        ctx.eq(f"zones.csv {r['zone']}: calls, errors, alloc_calls, alloc_bytes, line",
               tuple(int(r[k]) for k in ("calls", "errors", "alloc_calls", "alloc_bytes", "line")),
               tuple(z.get(k) for k in ("calls", "errors", "alloc_calls", "alloc_bytes", "line")))
        ctx.eq(f"zones.csv {r['zone']}: file", r["file"], z.get("file"))
        for k in ("total_ns", "min_ns", "max_ns", "mean_ns", "stddev_ns", "p50_ns", "p90_ns",
                  "p95_ns", "p99_ns", "p999_ns"):
            ctx.check(abs(float(r[k]) - z.get(k, 0)) <= 0.5,
                      f"zones.csv {r['zone']}: {k} {r[k]}, the JSON says {z.get(k)}")

    v = read_metrics(ctx, out / "metrics.txt")
    for n, z in zs.items():
        lab = zone_key(n, z)
        ctx.eq(f"openmetrics {n}: calls, errors, count, allocated bytes",
               (v.get(f"vitals_zone_calls_total{{{lab}}}"),
                v.get(f"vitals_zone_errors_total{{{lab}}}"),
                v.get(f"vitals_zone_duration_seconds_count{{{lab}}}"),
                v.get(f"vitals_zone_allocated_bytes_total{{{lab}}}")),
               (z["calls"], z["errors"], z["calls"], z["alloc_bytes"]))
        got = v.get(f"vitals_zone_duration_seconds_sum{{{lab}}}", -1) * 1e9
        ctx.check(abs(got - z["total_ns"]) <= 1, f"openmetrics {n}: sum {got} ns, the JSON "
                  f"says {z['total_ns']}")
        for q, k in (("0.5", "p50_ns"), ("0.99", "p99_ns"), ("0.999", "p999_ns")):
            got = v.get(f'vitals_zone_duration_seconds{{{lab},quantile="{q}"}}', -1) * 1e9
            ctx.check(abs(got - z[k]) <= 1, f"openmetrics {n}: quantile {q} {got} ns, the "
                      f"JSON's {k} {z[k]}")

    events = chrome_events(ctx, out, rep)
    for n, z in zs.items():
        track = [e for e in events if e["ph"] == "C" and e["name"] == f"zone {n}"]
        ctx.eq(f"chrome: zone {n}: (ts in ns, calls) per window",
               [(round(e["ts"] * 1000), e["args"]["calls"]) for e in track],
               [(w["start_ns"], w["n"]) for w in z["windows"]])
        ctx.eq(f"chrome: zone {n}: calls over the windows",
               sum(e["args"]["calls"] for e in track), ZONES[n][0])
        spans = [e for e in events if e["ph"] == "X" and e.get("cat") == "zone"
                 and e["name"] == n]
        ctx.eq(f"chrome: zone {n}: slices (one per call)", len(spans), ZONES[n][0])
        got = sum(e["dur"] for e in spans) * 1000
        ctx.check(abs(got - z["total_ns"]) <= len(spans) + 1,
                  f"chrome: zone {n}: slices last {got:.0f} ns in all, the JSON says "
                  f"{z['total_ns']}")
    for kind in ("counter", "gauge"):
        for c in rep["zones"][kind + "s"]:
            track = [e for e in events if e["ph"] == "C" and e["name"] == f"{kind} {c['name']}"]
            ctx.eq(f"chrome: {kind} {c['name']}: (ts in ns, value) of windows with updates",
                   [(round(e["ts"] * 1000), e["args"]["value"]) for e in track],
                   [(w["start_ns"], w["value"]) for w in c["series"] if w["n"]])
    last = {e["name"]: e["args"]["value"] for e in events
            if e["ph"] == "C" and e["name"].split(" ")[0] in ("counter", "gauge")}
    ctx.eq("chrome: last values of counter items, counter refunds, gauge depth",
           (last.get("counter items"), last.get("counter refunds"), last.get("gauge depth")),
           (700, -3, 49))

    # Recorded without allocation hooks (VITALS_TRACE): the allocation columns are empty and
    # the allocated-bytes family is left out, the rest as before.
    trace = ctx.work / "zones_env.vtr"
    env = dict(ctx.env, VITALS_TRACE=str(trace))
    r = ctx.run([ctx.zone_programs / "zones"], env=env)
    ctx.require(r.returncode == 0 and trace.is_file(), "zones under VITALS_TRACE failed")
    out = ctx.work / "zones_env.out"
    r = ctx.vitals_cmd(["report", trace, "-o", out, "-f", "csv:zones", "-f", "openmetrics"])
    ctx.require(r.returncode == 0, f"vitals report exited {r.returncode}: {r.stderr.decode()}")
    rows = read_csv(ctx, out / "zones.csv")
    ctx.eq("zones.csv (VITALS_TRACE): (zone, calls, errors, alloc_calls, alloc_bytes)",
           sorted((r["zone"], int(r["calls"]), int(r["errors"]), r["alloc_calls"],
                   r["alloc_bytes"]) for r in rows),
           sorted((n, c, e, "", "") for n, (c, e, _, _) in ZONES.items()))
    v = read_metrics(ctx, out / "metrics.txt")
    ctx.eq("openmetrics (VITALS_TRACE): allocated bytes of zones",
           [k for k in v if k.startswith("vitals_zone_allocated_bytes_total")], [])


def case_formats_tasks(ctx):
    """The tasks program: csv:tasks, openmetrics task counts and the Chrome task slices against
    the JSON report's task kinds and tasks."""
    rep, out = traced_cmd(ctx, "tasks", ["run", "--", ctx.zone_programs / "tasks", ctx.work],
                          ["csv:tasks", "openmetrics", "chrome"])
    kinds = rep["zones"]["task_kinds"]
    ctx.eq("JSON: tasks per kind", sorted((k["kind"], k["tasks"]) for k in kinds),
           [("cpu", 3), ("io", 3), ("memory", 3), ("sleep", 3)])
    rows = read_csv(ctx, out / "tasks.csv")
    cols = ("tasks", "median_wall_ns", "median_cpu_ns", "median_alloc_bytes",
            "median_alloc_calls", "median_io_bytes", "median_run_delay_ns")
    ctx.eq("tasks.csv: (kind, class, figures) as the JSON's",
           [(r["kind"], r["class"]) + tuple(int(r[c]) for c in cols) for r in rows],
           [(k["kind"], k["class"]) + tuple(k[c] for c in cols) for k in kinds])
    v = read_metrics(ctx, out / "metrics.txt")
    ctx.eq("openmetrics: vitals_tasks_total per kind",
           {k["kind"]: v.get(f'vitals_tasks_total{{kind="{k["kind"]}",class="{k["class"]}"}}')
            for k in kinds}, {"cpu": 3, "io": 3, "memory": 3, "sleep": 3})
    events = chrome_events(ctx, out, rep)
    tids = {i: t["tid"] for i, t in enumerate(rep["threads"])}
    slices = [e for e in events if e["ph"] == "X" and e.get("cat") == "task"]
    ctx.eq("chrome: task slices (name, kind, tid, ts and dur in ns) as the JSON's tasks",
           [(e["name"], e["args"]["kind"], e["tid"], round(e["ts"] * 1000),
             round(e["dur"] * 1000)) for e in slices],
           [(t["name"], t["kind"], tids.get(t["thread"]), t["start_ns"], t["wall_ns"])
            for t in rep["zones"]["tasks"]])


def check_cpu_pprof(ctx, rep, out, cpu_only):
    ctx.require(shutil.which("protoc"), "'protoc' is not installed (Debian: protobuf-compiler); "
                "this test decodes the profile with it; it is not skipped")
    data = gzip.decompress((out / "profile.pb.gz").read_bytes())
    r = ctx.run(["protoc", "--decode", "perftools.profiles.Profile", f"-I{PROTO.parent}",
                 PROTO], stdin=data)
    ctx.require(r.returncode == 0, f"protoc --decode failed: {r.stderr.decode()}")
    p = parse_text_proto(r.stdout.decode())
    strings = p["string_table"]
    types = [(strings[t.get("type", [0])[0]], strings[t.get("unit", [0])[0]])
             for t in p["sample_type"]]
    ctx.eq("pprof: sample types", types, [
        ("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"),
        ("inuse_space", "bytes"), ("samples", "count"), ("cpu", "nanoseconds")])
    pt = p["period_type"][0]
    cpu = rep["cpu"]
    if cpu_only:
        ctx.eq("pprof: period type, period, default sample type",
               (strings[pt["type"][0]], strings[pt["unit"][0]], p["period"][0],
                strings[p["default_sample_type"][0]]),
               ("cpu", "nanoseconds", cpu["period_ns"], "cpu"))
    else:
        ctx.eq("pprof: period type (allocations)",
               (strings[pt["type"][0]], strings[pt["unit"][0]]), ("space", "bytes"))
    ctx.eq("pprof: comment", [strings[c] for c in p.get("comment", [])],
           [f"cpu sampling period: {cpu['period_ns']} ns"])
    totals = [sum(s.get("value", [0] * 6)[i] for s in p["sample"]) for i in range(6)]
    heap = rep.get("heap") or dict.fromkeys(
        ("alloc_calls", "bytes_allocated", "leaked_blocks", "leaked_bytes"), 0)
    ctx.eq("pprof: sample totals", totals,
           [heap["alloc_calls"], heap["bytes_allocated"], heap["leaked_blocks"],
            heap["leaked_bytes"], cpu["samples"], cpu["sampled_ns"]])
    functions = {f["id"][0]: strings[f["name"][0]] for f in p["function"]}
    locations = {loc["id"][0]: loc for loc in p["location"]}

    def leaf_ns(name):
        return sum(s["value"][5] for s in p["sample"] if s.get("location_id") and functions[
            locations[s["location_id"][0]]["line"][0]["function_id"][0]] == name)
    fns = {f["function"]: f for f in cpu["functions"]["entries"]}
    ctx.eq("pprof: cpu ns whose leaf is hot70, cold30 (the JSON's self_ns)",
           (leaf_ns("hot70"), leaf_ns("cold30")),
           (fns.get("hot70", {}).get("self_ns"), fns.get("cold30", {}).get("self_ns")))


def case_formats_cpu(ctx):
    """cpu_split (70% of its CPU time in hot70, 30% in cold30): csv:cpu, folded:cpu, the pprof
    CPU sample types, the openmetrics CPU families and the Chrome CPU tracks against the JSON
    report's "cpu"; then the same profile next to allocations (threads, without --no-alloc)."""
    rep, out = traced_cmd(ctx, "cpu", ["run", "--cpu", "--no-alloc", "--",
                                       ctx.prog("cpu_split")],
                          ["csv:cpu", "folded:cpu", "pprof", "openmetrics", "chrome"])
    cpu = rep["cpu"]
    ctx.require(cpu and cpu["samples"] > 50, f"too few CPU samples: {cpu and cpu['samples']}")
    rows = read_csv(ctx, out / "cpu.csv")
    ctx.eq("cpu.csv: (function, self_ns, self_pct, total_ns, total_pct) as the JSON's",
           [(r["function"], int(r["self_ns"]), float(r["self_pct"]), int(r["total_ns"]),
             float(r["total_pct"])) for r in rows],
           [(f["function"], f["self_ns"], f["self_pct"], f["total_ns"], f["total_pct"])
            for f in cpu["functions"]["entries"]])
    self_pct = {r["function"]: float(r["self_pct"]) for r in rows}
    for fn, want in (("hot70", 70), ("cold30", 30)):
        got = self_pct.get(fn, 0)
        ctx.check(abs(got - want) <= 8, f"cpu.csv: {fn} self {got}%, by construction {want}%")

    folded = read_folded(ctx, out / "cpu.folded")
    ctx.eq("cpu.folded: samples", sum(n for _, n in folded), cpu["samples"])
    for fn in ("hot70", "cold30"):
        stacks = [s for s, _ in folded if s[-1] == fn]
        ctx.check(stacks and all(s[-3:-1] == ["main", "split"] for s in stacks),
                  f"cpu.folded: {fn}'s stacks do not end main;split;{fn} (root first): "
                  f"{stacks[:2]}")
    hot = sum(n for s, n in folded if s[-1] == "hot70")
    ctx.check(abs(100 * hot / cpu["samples"] - 70) <= 8,
              f"cpu.folded: hot70 has {hot} of {cpu['samples']} samples, by construction 70%")

    check_cpu_pprof(ctx, rep, out, True)

    v = read_metrics(ctx, out / "metrics.txt")
    ctx.eq("openmetrics: vitals_cpu_samples_total, vitals_cpu_lost_samples_total",
           (v.get("vitals_cpu_samples_total"), v.get("vitals_cpu_lost_samples_total")),
           (cpu["samples"], cpu["lost"]))
    ctx.eq("openmetrics: vitals_cpu_sampled_seconds_total (ns)",
           round(v.get("vitals_cpu_sampled_seconds_total", 0) * 1e9), cpu["sampled_ns"])
    ctx.eq("openmetrics: vitals_cpu_seconds_total (ns)",
           round(v.get("vitals_cpu_seconds_total", 0) * 1e9),
           sum(t["cpu_ns"] for t in cpu["threads"]))

    events = chrome_events(ctx, out, rep)
    sl = {e["tid"]: e for e in events if e["ph"] == "X" and e.get("cat") == "cpu"}
    ctx.eq("chrome: CPU samples slices: (samples, sampled_ns, cpu_ns) per tid",
           {t: (e["args"]["samples"], e["args"]["sampled_ns"], e["args"]["cpu_ns"])
            for t, e in sl.items()},
           {t["tid"]: (t["samples"], t["sampled_ns"], t["cpu_ns"]) for t in cpu["threads"]})
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    ctx.check(all(t["tid"] in names for t in cpu["threads"]),
              f"chrome: sampled threads without a name: {names}")
    for t in cpu["threads"]:
        track = [e for e in events if e["ph"] == "C" and e["name"] == f"CPU % tid {t['tid']}"]
        if t["wall_ns"]:
            ctx.eq(f"chrome: CPU % of tid {t['tid']} (the JSON's utilization_pct, then 0)",
                   [e["args"]["pct"] for e in track], [t["utilization_pct"], 0])

    rep, out = traced_cmd(ctx, "cpu_alloc", ["run", "--cpu", "--", ctx.prog("cpu_split"),
                                             "threads", "600000"], ["pprof"])
    check_cpu_pprof(ctx, rep, out, False)


def case_formats_monitor(ctx):
    """A monitor trace with one threshold alert: its metrics as Chrome counter tracks and the
    alert as an instant event, as the JSON report's "monitor" has them."""
    rep, out = traced_cmd(ctx, "monitor", [
        "monitor", "-i", "20ms", "--no-anomalies", "--alert", "critical: rss > 8MiB", "--",
        ctx.prog("monitor_child"), "sleep", "60", "touch", "16", "sleep", "100"], ["chrome"])
    mon = rep["monitor"]
    ctx.eq("JSON: alerts", [(a["metric"], a["rule"]) for a in mon["alerts"]],
           [("rss", "critical: rss > 8MiB")])
    events = chrome_events(ctx, out, rep)
    inst = [e for e in events if e["ph"] == "i" and e.get("cat") == "alert"]
    ctx.eq("chrome: alert instants (name, ts in ns, severity, metric, value, message)",
           [(e["name"], round(e["ts"] * 1000), e["s"], e["args"]["severity"],
             e["args"]["metric"], e["args"]["value"], e["args"]["message"]) for e in inst],
           [(a["rule"], a["ns"], "g", a["severity"], a["metric"], a["value"], a["message"])
            for a in mon["alerts"]])
    for m in mon["metrics"]:
        track = [e for e in events if e["ph"] == "C" and e["name"] == f"monitor {m['name']}"]
        want = [(t, p) for t, p in zip(mon["times_ns"], m["points"]) if p is not None]
        ctx.eq(f"chrome: monitor {m['name']}: times (ns) of measured points",
               [round(e["ts"] * 1000) for e in track], [t for t, _ in want])
        # The JSON report writes 6 significant digits of a metric's points.
        ctx.check(all(abs(e["args"]["value"] - p) <= 1e-5 * max(1, abs(p))
                      for e, (_, p) in zip(track, want)),
                  f"chrome: monitor {m['name']}: values differ from the JSON's points")
    rss = [e["args"]["value"] for e in events if e["ph"] == "C" and e["name"] == "monitor rss"]
    ctx.check(rss and max(rss) >= 16 * 1024 * 1024,
              f"chrome: monitor rss never reached the 16 MiB touched: {max(rss or [0])}")


def main():
    def add_args(ap):
        ap.add_argument("--zone-programs", help="where the zones and tasks programs are")

    def setup(ctx, args):
        ctx.zone_programs = Path(args.zone_programs or args.programs).resolve()

    return run_cases(cases_of(globals()), __doc__, add_args, setup)


if __name__ == "__main__":
    sys.exit(main())
