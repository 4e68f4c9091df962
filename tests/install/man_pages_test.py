#!/usr/bin/python3
"""install.man_pages: the man pages list every flag, command and config key,
with the defaults of the documented configs, and render without warnings.

- callsd.8 and calls-server.8: every flag their --helpfull lists for main.cc;
  every key of config/callsd.conf and config/calls-server.conf (section by
  section), each with its documented default in its paragraph;
- callsctl.1: every command, push subcommand, global option and command
  option that `callsctl help` lists;
- `man --warnings -l` prints no warning (when man is installed).
Fails when a program or config gains a flag or key the page does not have.
"""

import argparse
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, run, run_main  # noqa: E402
from completion_test import help_text, section  # noqa: E402


def main_flags(binary):
    done = run([binary, "--helpfull"])
    flags = []
    inside = False
    for line in (done.stdout + done.stderr).splitlines():
        if "Flags from" in line:
            inside = line.rstrip(":").endswith("/main.cc")
            continue
        match = re.match(r"\s+--(\w+) \(", line)
        if inside and match:
            flags.append(match.group(1))
    check(flags, "no flags of main.cc in %s --helpfull" % binary)
    return flags


def config_keys(path):
    """[(section, key, default)] of a documented config: `key = value` lines,
    commented out or not."""
    keys = []
    table = ""
    with open(path) as f:
        for line in f:
            text = line.strip()
            match = re.match(r"^#?\s*(\[\[?[a-z_]+\]\]?)\s*$", text)
            if match:
                table = match.group(1).strip("[]")
                continue
            match = re.match(r"^#?\s?([a-z_]+) = (.*)$", text)
            if match:
                keys.append((table, match.group(1), match.group(2).strip()))
    check(keys, "no keys found in %s" % path)
    return keys


def paragraphs(man_source):
    """{label word: paragraph text} for every .TP entry."""
    result = {}
    lines = man_source.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".TP" or i + 1 >= len(lines):
            continue
        label = lines[i + 1]
        body = []
        for following in lines[i + 2:]:
            if following.startswith((".TP", ".SS", ".SH")):
                break
            body.append(following)
        words = re.findall(r"[A-Za-z_\[\]\\-]+", label.replace('"', " "))
        for word in words:
            result.setdefault(word.replace("\\-", "-"), " ".join(body))
    return result


def section_of(man_source, name):
    match = re.search(r"^\.SS \[%s\]$(.*?)(?=^\.S[SH] )" % re.escape(name), man_source,
                      re.M | re.S)
    return match.group(1) if match else None


def expect_default(page, key, default, paragraph):
    value = default.strip('"')
    if value in ("", "[]"):
        check(re.search(r"Default: (empty|none|no)|No default", paragraph, re.I),
              "%s: %s: the paragraph gives no default (empty)" % (page, key))
        return
    check(value in paragraph.replace("\\-", "-"),
          "%s: %s: the paragraph does not give the default %s" % (page, key, value))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--callsd", required=True)
    parser.add_argument("--calls-server", required=True)
    parser.add_argument("--callsctl", required=True)
    args = parser.parse_args()
    man_dir = os.path.join(args.source_dir, "man")

    def read(name):
        with open(os.path.join(man_dir, name)) as f:
            return f.read()

    # Flags.
    for page, binary in (("callsd.8", args.callsd), ("calls-server.8", args.calls_server)):
        source = read(page)
        for flag in main_flags(binary):
            check(re.search(r"^\.BI? \\-\\-%s\b" % re.escape(flag), source, re.M),
                  "%s does not document --%s" % (page, flag))

    # callsd.conf keys, per [section].
    callsd = read("callsd.8")
    for table, key, default in config_keys(os.path.join(args.source_dir, "config/callsd.conf")):
        text = section_of(callsd, table)
        check(text is not None, "callsd.8 has no section [%s]" % table)
        entries = paragraphs(".SH X\n" + text + "\n.SH Y\n")
        check(key in entries, "callsd.8 [%s] does not document %s" % (table, key))
        if key == "url":
            continue  # required: no default
        expect_default("callsd.8", "%s.%s" % (table, key), default, entries[key])

    # calls-server.conf keys.
    server = read("calls-server.8")
    entries = paragraphs(server)
    for table, key, default in config_keys(os.path.join(args.source_dir,
                                                        "config/calls-server.conf")):
        check(key in entries, "calls-server.8 does not document %s%s"
              % (table + "." if table else "", key))
        if table == "apps" or key == "database":
            continue  # examples, not defaults
        expect_default("calls-server.8", key, default, entries[key])

    # callsctl: commands, subcommands, options.
    ctl = read("callsctl.1").replace("\\-", "-").replace("\\fB", "").replace("\\fR", "") \
        .replace("\\fI", "")
    overview = help_text(args.callsctl)
    for row in section(overview, "commands"):
        name = row[0] if row[0] != "push" else "push " + row[1]
        check(re.search(r"^\.B[IR]? \"?%s\b" % re.escape(name), ctl, re.M),
              "callsctl.1 does not document the command %s" % name)
        text = help_text(args.callsctl, *name.split())
        for option in section(text, "options"):
            check(option[0] in ctl, "callsctl.1 does not document %s %s" % (name, option[0]))
    for option in section(overview, "global options"):
        check(option[0].rstrip(",") in ctl, "callsctl.1 does not document %s" % option[0])

    # Rendering.
    if shutil.which("man"):
        for page in ("callsd.8", "calls-server.8", "callsctl.1"):
            done = run(["man", "--warnings", "-l", os.path.join(man_dir, page)],
                       env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
            check(done.returncode == 0 and not done.stderr.strip(),
                  "man %s: %s" % (page, done.stderr))
    else:
        print("note: man is not installed: rendering not checked")
    print("PASS: man pages document every flag, command and config key")
    return 0


if __name__ == "__main__":
    run_main(main)
