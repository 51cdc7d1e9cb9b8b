#!/usr/bin/env python3
"""docs/CLI.md against the program: every command that `vitals help` lists has a section, every
long option a command's --help shows is in that section and every option the section names is in
the --help, and `vitals help CMD` prints what `vitals CMD --help` does.

usage: cli_doc.py VITALS CLI_MD
"""
import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
# Another command's option, named as such ("vitals run --repeat N").
OTHER = re.compile(r"vitals (\w+) (--[a-z][a-z0-9-]+)")


def run(*args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def options(text, command):
    """The long options text names, leaving out another command's ("vitals run --repeat")."""
    found = set()
    for line in text.splitlines():
        for m in OTHER.finditer(line):
            if m.group(1) != command:
                line = line.replace(m.group(0), "")
        found.update(OPTION.findall(line))
    return found - {"--help"}


def sections(md):
    """'## vitals CMD' sections of CLI.md, by command (subsections included)."""
    out, name = {}, None
    for line in md.splitlines():
        m = re.match(r"## vitals (\w+)\s*$", line)
        if m:
            name = m.group(1)
            out[name] = []
        elif line.startswith("## "):
            name = None
        elif name:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def main():
    vitals, md_path = sys.argv[1], sys.argv[2]
    problems = []
    with open(md_path, encoding="utf-8") as f:
        doc = sections(f.read())
    rc, top = run(vitals, "help")
    if rc != 0:
        problems.append(f"'vitals help' exited {rc}")
    listed = re.findall(r"^  (\w+)\s{2,}\S", top.split("commands:", 1)[-1].split("\n\n", 1)[0],
                        re.M)
    if len(listed) < 6:
        problems.append(f"'vitals help' lists only {listed}")
    for command in listed:
        if command not in doc:
            problems.append(f"{md_path}: no '## vitals {command}' section")
            continue
        if command in ("help", "version"):
            continue
        rc, helptext = run(vitals, command, "--help")
        if rc != 0:
            problems.append(f"'vitals {command} --help' exited {rc}")
        rc2, helped = run(vitals, "help", command)
        if helped != helptext:
            problems.append(f"'vitals help {command}' differs from 'vitals {command} --help'")
        in_help, in_doc = options(helptext, command), options(doc[command], command)
        for o in sorted(in_help - in_doc):
            problems.append(f"{md_path}: 'vitals {command}' section lacks {o} (in --help)")
        for o in sorted(in_doc - in_help):
            problems.append(f"'vitals {command} --help' lacks {o} (in {md_path})")
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    if problems:
        print(f"FAIL: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"PASS: {len(listed)} commands, help and {md_path} agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
