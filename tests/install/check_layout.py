#!/usr/bin/python3
"""install.layout: what `cmake --install --prefix /usr` put into DESTDIR.

Checks every expected file and its mode (binaries executable, units and
config 0644), that the units name the installed paths (ExecStart= in
/usr/libexec, the config in /etc/callsd even for the prefix /usr), that no
template placeholder and no build or source path is left in any installed
text file, that nothing lands outside /usr and /etc, and, when
systemd-sysusers and systemd-tmpfiles are there, that the sysusers.d and
tmpfiles.d files create the user, the group and the folders with the right
modes in a scratch root.
"""

import argparse
import os
import re
import shutil
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Failure, check, run, run_main, short_tempdir, remove_tree  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--destdir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--libdir", required=True, help="installed libdir, e.g. /usr/lib")
    parser.add_argument("--system-unit-dir", required=True)
    parser.add_argument("--user-unit-dir", required=True)
    parser.add_argument("--sysusers-dir", required=True)
    parser.add_argument("--tmpfiles-dir", required=True)
    args = parser.parse_args()
    root = args.destdir

    def path(p):
        return os.path.join(root, p.lstrip("/"))

    def expect(p, mode):
        full = path(p)
        check(os.path.isfile(full), "missing %s" % p)
        actual = stat.S_IMODE(os.stat(full).st_mode)
        check(actual == mode, "%s has mode %o, expected %o" % (p, actual, mode))

    executables = ["/usr/bin/callsctl", "/usr/bin/calls-server", "/usr/libexec/callsd"]
    for p in executables:
        expect(p, 0o755)

    sysd, userd = args.system_unit_dir, args.user_unit_dir
    regular = [
        "/etc/callsd/callsd.conf",
        sysd + "/callsd.socket", sysd + "/callsd.service",
        sysd + "/callsd@.socket", sysd + "/callsd@.service",
        userd + "/callsd.socket", userd + "/callsd.service",
        args.sysusers_dir + "/callsd.conf", args.tmpfiles_dir + "/callsd.conf",
        "/usr/include/callsd/client.h",
        "/usr/include/callsd/v1/callsd.pb.h", "/usr/include/callsd/v1/callsd.grpc.pb.h",
        args.libdir + "/libcallsclient.a", args.libdir + "/libcallsd_proto.a",
        args.libdir + "/cmake/CallsClient/CallsClientConfig.cmake",
        args.libdir + "/cmake/CallsClient/CallsClientConfigVersion.cmake",
        args.libdir + "/cmake/CallsClient/CallsClientTargets.cmake",
        args.libdir + "/pkgconfig/callsclient.pc",
        "/usr/share/callsd/proto/callsd/v1/callsd.proto",
        "/usr/share/callsd/proto/wire/v1/wire.proto",
        "/usr/share/bash-completion/completions/callsctl",
        "/usr/share/man/man1/callsctl.1", "/usr/share/man/man8/callsd.8",
        "/usr/share/man/man8/calls-server.8",
        "/usr/share/doc/callsd/README.md",
        "/usr/share/doc/callsd/examples/calls-server.conf",
        "/usr/share/doc/callsd/examples/python/callsd_client.py",
        "/usr/share/doc/callsd/examples/python/example.py",
        "/usr/share/doc/callsd/examples/python/proto/grpc_health/v1/health.proto",
    ]
    for p in regular:
        expect(p, 0o644)

    # The installed config is the documented one from config/.
    with open(path("/etc/callsd/callsd.conf")) as a, \
            open(os.path.join(args.source_dir, "config/callsd.conf")) as b:
        check(a.read() == b.read(), "/etc/callsd/callsd.conf differs from config/callsd.conf")

    # The units name the installed paths.
    def unit(p):
        with open(path(p)) as f:
            return f.read()

    service = unit(sysd + "/callsd.service")
    check("\nExecStart=/usr/libexec/callsd --config /etc/callsd/callsd.conf " in service,
          "callsd.service: ExecStart= does not run /usr/libexec/callsd --config "
          "/etc/callsd/callsd.conf")
    for line in ("Type=notify", "User=callsd", "StateDirectory=callsd", "StateDirectoryMode=0700",
                 "UMask=0077", "WatchdogSec=30s", "Requires=callsd.socket"):
        check("\n%s\n" % line in service, "callsd.service lacks %s" % line)
    socket = unit(sysd + "/callsd.socket")
    for line in ("ListenStream=/run/callsd/callsd.sock", "SocketMode=0660", "SocketGroup=callsd",
                 "RemoveOnStop=yes"):
        check("\n%s\n" % line in socket, "callsd.socket lacks %s" % line)
    instance = unit(sysd + "/callsd@.service")
    check("--config /etc/callsd/%i.conf --socket /run/callsd/%i.sock "
          "--state_dir /var/lib/callsd/%i" in instance,
          "callsd@.service does not use the instance's config, socket and state")
    check("ListenStream=/run/callsd/%i.sock" in unit(sysd + "/callsd@.socket"),
          "callsd@.socket does not listen on /run/callsd/%i.sock")
    check("ListenStream=%t/callsd/callsd.sock" in unit(userd + "/callsd.socket"),
          "the user callsd.socket does not listen in $XDG_RUNTIME_DIR/callsd")
    user_service = unit(userd + "/callsd.service")
    check("ExecStart=/usr/libexec/callsd " in user_service, "user callsd.service: ExecStart=")
    check("\nUser=" not in user_service, "the user callsd.service must not set User=")

    with open(path(args.libdir + "/pkgconfig/callsclient.pc")) as f:
        pc = f.read()
    check(re.search(r"^prefix=/usr$", pc, re.M), "callsclient.pc: prefix is not /usr:\n" + pc)

    # Nothing outside /usr and /etc; no placeholder, build or source path left.
    leaks = [os.path.realpath(args.build_dir), os.path.realpath(args.source_dir)]
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, root)
            check(rel.startswith("/usr/") or rel.startswith("/etc/") or
                  rel.startswith(sysd + "/") or rel.startswith(userd + "/"),
                  "installed outside /usr and /etc: %s" % rel)
            check(not rel.startswith("/usr/etc/") and not rel.startswith("/usr/local/"),
                  "installed under the wrong folder: %s" % rel)
            if rel.endswith(".a") or os.access(full, os.X_OK):
                continue
            with open(full, "rb") as f:
                data = f.read()
            if b"\0" in data:
                continue
            text = data.decode("utf-8", "replace")
            text = text.replace("Expanded from @PACKAGE_INIT@", "")  # CMake's own comment
            placeholder = re.search(r"@[A-Z][A-Z_]+@", text)
            check(placeholder is None,
                  "%s still holds the placeholder %s" % (rel, placeholder and placeholder.group()))
            for leak in leaks:
                check(leak not in text, "%s names the build or source folder %s" % (rel, leak))

    check_sysusers_tmpfiles(root, args)
    print("PASS: %d files checked in %s" % (len(executables) + len(regular), root))
    return 0


def check_sysusers_tmpfiles(root, args):
    """sysusers.d and tmpfiles.d, applied to a scratch root."""
    if shutil.which("systemd-sysusers") is None or shutil.which("systemd-tmpfiles") is None:
        print("note: systemd-sysusers or systemd-tmpfiles is missing: not applied")
        return
    scratch = short_tempdir("callsd-sysroot.")
    try:
        for d, name in ((args.sysusers_dir, "callsd.conf"), (args.tmpfiles_dir, "callsd.conf")):
            os.makedirs(scratch + d, exist_ok=True)
            with open(os.path.join(root + d, name), "rb") as src, \
                    open(os.path.join(scratch + d, name), "wb") as dst:
                dst.write(src.read())
        os.makedirs(scratch + "/etc")
        done = run(["systemd-sysusers", "--root=" + scratch, "callsd.conf"])
        check(done.returncode == 0, "systemd-sysusers failed: %s" % done.stderr)
        with open(scratch + "/etc/passwd") as f:
            passwd = f.read()
        with open(scratch + "/etc/group") as f:
            group = f.read()
        user = re.search(r"^callsd:x:(\d+):(\d+):Calls session daemon:/var/lib/callsd:", passwd, re.M)
        check(user is not None, "sysusers.d did not create the user callsd:\n" + passwd)
        check(re.search(r"^callsd:x:%s:" % user.group(2), group, re.M),
              "sysusers.d did not create the group callsd:\n" + group)
        if os.geteuid() != 0:
            print("note: not root: tmpfiles.d not applied (it chowns)")
            return
        done = run(["systemd-tmpfiles", "--create", "--root=" + scratch, "callsd.conf"])
        check(done.returncode == 0, "systemd-tmpfiles failed: %s" % done.stderr)
        for d, mode in (("/run/callsd", 0o755), ("/var/lib/callsd", 0o700)):
            st = os.stat(scratch + d)
            check(stat.S_IMODE(st.st_mode) == mode,
                  "tmpfiles.d made %s mode %o, expected %o" % (d, stat.S_IMODE(st.st_mode), mode))
            check(st.st_uid == int(user.group(1)) and st.st_gid == int(user.group(2)),
                  "tmpfiles.d: %s is not owned by callsd:callsd" % d)
        print("sysusers.d and tmpfiles.d applied to a scratch root: user, group and folders OK")
    finally:
        remove_tree(scratch)


if __name__ == "__main__":
    run_main(main)
