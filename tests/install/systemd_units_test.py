#!/usr/bin/python3
"""install.systemd_verify / install.systemd_security: the installed units.

verify: `systemd-analyze verify` on every installed unit (system:
callsd.socket, callsd.service, callsd@.socket, callsd@.service and an
instance of them; user: callsd.socket, callsd.service with --user). The
units are copied with their ExecStart= programs rewritten into DESTDIR, so
that verify's check that the program exists and is executable looks at the
installed binary; Documentation=man: pages are looked up in DESTDIR's
share/man (MANPATH), so that they must be installed too.

security: `systemd-analyze security --offline=yes` on the installed
callsd.service and on an instance of callsd@.service; fails when the
"Overall exposure level" is above --max-exposure (2.0). The user unit's level
is printed for information (a user manager cannot sandbox much).

Skipped (exit 77, with the reason) only when systemd-analyze is missing.
"""

import argparse
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, run, run_main, short_tempdir, skip  # noqa: E402

SYSTEM_UNITS = ["callsd.socket", "callsd.service", "callsd@.socket", "callsd@.service"]
USER_UNITS = ["callsd.socket", "callsd.service"]


def copy_units(src_dir, names, dst_dir, destdir):
    """Copies units, pointing ExecStart= programs into DESTDIR."""
    os.makedirs(dst_dir)
    for name in names:
        with open(os.path.join(src_dir, name)) as f:
            text = f.read()

        def rewrite(match):
            program = match.group(2)
            check(os.path.isabs(program), "%s: ExecStart= program is not absolute: %s"
                  % (name, program))
            installed = destdir + program
            check(os.access(installed, os.X_OK), "%s: ExecStart= names %s, which is not an "
                  "installed executable (%s)" % (name, program, installed))
            return match.group(1) + installed

        text = re.sub(r"^(Exec\w+=[-@:+!]*)(\S+)", rewrite, text, flags=re.M)
        with open(os.path.join(dst_dir, name), "w") as f:
            f.write(text)


def exposure(output, unit):
    match = re.search(r"Overall exposure level for %s: (\d+(?:\.\d+)?)" % re.escape(unit), output)
    check(match is not None, "no exposure level for %s in:\n%s" % (unit, output))
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("verify", "security"), required=True)
    parser.add_argument("--destdir", required=True)
    parser.add_argument("--system-unit-dir", required=True)
    parser.add_argument("--user-unit-dir", required=True)
    parser.add_argument("--max-exposure", type=float, default=2.0)
    args = parser.parse_args()

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        skip("systemd-analyze is not installed (Debian package systemd)")

    tmp = short_tempdir("callsd-units.")
    try:
        system_dir = os.path.join(tmp, "system")
        user_dir = os.path.join(tmp, "user")
        copy_units(args.destdir + args.system_unit_dir, SYSTEM_UNITS, system_dir, args.destdir)
        copy_units(args.destdir + args.user_unit_dir, USER_UNITS, user_dir, args.destdir)
        runtime = os.path.join(tmp, "xdg-runtime")  # the user manager needs one
        os.makedirs(runtime, mode=0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime,
                   MANPATH=os.path.join(args.destdir, "usr/share/man"))

        if args.mode == "verify":
            man = ["--man=yes"] if shutil.which("man") else ["--man=no"]
            if man == ["--man=no"]:
                print("note: man is not installed: Documentation= pages not checked")
            system = [os.path.join(system_dir, n) for n in SYSTEM_UNITS]
            system += [os.path.join(system_dir, "callsd@demo.socket"),
                       os.path.join(system_dir, "callsd@demo.service")]
            for argv in ([analyze, "verify"] + man + system,
                         [analyze, "--user", "verify"] + man +
                         [os.path.join(user_dir, n) for n in USER_UNITS]):
                done = run(argv, env=env)
                print("$ %s\n%s%s" % (" ".join(argv), done.stdout, done.stderr), end="")
                check(done.returncode == 0 and not done.stderr.strip(),
                      "systemd-analyze verify reported problems (exit %d)" % done.returncode)
            print("PASS: systemd-analyze verify: every unit is clean")
            return 0

        levels = {}
        for unit, argv in (
                ("callsd.service", [analyze, "security", "--offline=yes",
                                    os.path.join(system_dir, "callsd.service")]),
                ("callsd@demo.service", [analyze, "security", "--offline=yes",
                                         os.path.join(system_dir, "callsd@demo.service")]),
                ("callsd.service", [analyze, "--user", "security", "--offline=yes",
                                    os.path.join(user_dir, "callsd.service")])):
            done = run(argv, env=env)
            output = done.stdout + done.stderr
            level = exposure(output, unit)
            key = unit if "--user" not in argv else "user " + unit
            levels[key] = level
            print("$ %s\n  overall exposure: %.1f" % (" ".join(argv), level))
        for key in ("callsd.service", "callsd@demo.service"):
            if levels[key] > args.max_exposure:
                done = run([analyze, "security", "--offline=yes",
                            os.path.join(system_dir, key)], env=env)
                print(done.stdout)
            check(levels[key] <= args.max_exposure, "%s: exposure %.1f is above %.1f"
                  % (key, levels[key], args.max_exposure))
        print("PASS: exposure callsd.service %.1f, callsd@.service %.1f (at most %.1f); "
              "user callsd.service %.1f (information)"
              % (levels["callsd.service"], levels["callsd@demo.service"], args.max_exposure,
                 levels["user callsd.service"]))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
