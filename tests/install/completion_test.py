#!/usr/bin/python3
"""install.bash_completion: the callsctl completion script loads in bash,
registers itself for callsctl, and completes what callsctl accepts.

- `callsctl pu<TAB>` gives push (the brief's example), `push <TAB>` the
  subcommands, `push register <TAB>` voip and remote, `--token-file <TAB>`
  file names;
- no drift from callsctl itself: every command and push subcommand listed
  by `callsctl help`, every global option, and every option of each command
  (`callsctl help COMMAND`) is offered at its place.
"""

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, run, run_main, short_tempdir, remove_tree  # noqa: E402


def complete(script, words, cwd=None):
    """COMPREPLY for the command line `words` (the last one being completed)."""
    quoted = " ".join("'%s'" % w.replace("'", "'\\''") for w in words)
    program = ('source "$1" || exit 3; COMP_WORDS=(%s); COMP_CWORD=%d; _callsctl; '
               'printf "%%s\\n" "${COMPREPLY[@]}"' % (quoted, len(words) - 1))
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program, "bash", script],
                          capture_output=True, text=True, cwd=cwd)
    check(done.returncode == 0, "bash failed on %r: %s" % (words, done.stderr))
    return [line for line in done.stdout.splitlines() if line]


def help_text(callsctl, *topic):
    done = run([callsctl, "help"] + list(topic))
    check(done.returncode == 0, "callsctl help %s failed: %s" % (" ".join(topic), done.stderr))
    return done.stdout


def section(text, title):
    """The first words of the indented lines under `title:`."""
    rows = []
    inside = False
    for line in text.splitlines():
        if line.strip() == title + ":":
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                if rows:
                    break
                continue
            if line.startswith("   "):  # a wrapped continuation
                continue
            rows.append(line.split())
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", required=True)
    parser.add_argument("--callsctl", required=True)
    args = parser.parse_args()

    done = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                           'source "$1" && complete -p callsctl', "bash", args.script],
                          capture_output=True, text=True)
    check(done.returncode == 0 and "-F _callsctl" in done.stdout,
          "the script does not register _callsctl for callsctl: %s%s" % (done.stdout, done.stderr))

    got = complete(args.script, ["callsctl", "pu"])
    print("callsctl pu<TAB> -> %s" % " ".join(got))
    check(got == ["push"], "callsctl pu<TAB> gave %r, expected push" % got)

    overview = help_text(args.callsctl)
    commands = sorted({row[0] for row in section(overview, "commands")})
    check("status" in commands and "push" in commands, "cannot read the commands of callsctl "
          "help:\n" + overview)
    offered = complete(args.script, ["callsctl", ""])
    missing = [c for c in commands if c not in offered]
    check(not missing, "commands not completed: %s" % missing)

    push_help = help_text(args.callsctl, "push")
    subcommands = sorted({row[1] for row in section(push_help, "subcommands") if row[0] == "push"})
    check(subcommands, "cannot read the push subcommands:\n" + push_help)
    offered = complete(args.script, ["callsctl", "push", ""])
    check(sorted(offered) == subcommands, "push <TAB> gave %r, callsctl has %r"
          % (offered, subcommands))
    check(sorted(complete(args.script, ["callsctl", "push", "register", ""])) ==
          ["remote", "voip"], "push register <TAB> does not offer voip and remote")

    globals_ = sorted({row[0] for row in section(overview, "global options")})
    offered = complete(args.script, ["callsctl", "status", "--"])
    missing = [o for o in globals_ if o.startswith("--") and o.rstrip(",") not in offered]
    check(not missing, "global options not completed: %s" % missing)

    # Each command's own options, where they belong.
    for name in commands + ["push " + s for s in subcommands]:
        if name in ("push", "help"):
            continue
        text = help_text(args.callsctl, *name.split())
        own = sorted({row[0] for row in section(text, "options")})
        offered = complete(args.script, ["callsctl"] + name.split() + ["--"])
        missing = [o for o in own if o not in offered]
        check(not missing, "options of %s not completed: %s" % (name, missing))

    tmp = short_tempdir("callsd-compl.")
    try:
        open(os.path.join(tmp, "alice.token"), "w").close()
        got = complete(args.script, ["callsctl", "login", "alice", "--token-file", "ali"], cwd=tmp)
        check(got == ["alice.token"], "--token-file <TAB> did not complete a file name: %r" % got)
    finally:
        remove_tree(tmp)
    print("PASS: bash completion: %d commands, %d push subcommands, their options"
          % (len(commands), len(subcommands)))
    return 0


if __name__ == "__main__":
    run_main(main)
