#!/usr/bin/python3
"""install.deb: `cpack -G DEB` builds the callsd package, and it holds what
an administrator needs.

Checks the control data (package callsd; Depends computed by dpkg-shlibdeps
naming the runtime libraries: libgrpc++1.51, libprotobuf32, libwebsockets17,
libgoogle-glog0v6, libsqlite3-0, libsystemd0, libssl3), the conffiles
(/etc/callsd/callsd.conf), the maintainer scripts (postinst runs
systemd-sysusers and systemd-tmpfiles; all pass `sh -n`), and the contents:
the programs, units, sysusers.d/tmpfiles.d, the library, headers, CMake and
pkg-config files, protos, completion and man pages, with the units naming
/usr/libexec/callsd and /etc/callsd/callsd.conf. The package is not
installed (that would change the machine). Skipped when dpkg-deb or
dpkg-shlibdeps is missing.
"""

import argparse
import glob
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, run, run_main, skip  # noqa: E402

RUNTIME_LIBS = ["libgrpc++1.51", "libprotobuf32", "libwebsockets17", "libgoogle-glog0v6",
                "libsqlite3-0", "libsystemd0", "libssl3"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpack", required=True)
    parser.add_argument("--config", required=True, help="the build's CPackConfig.cmake")
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--system-unit-dir", required=True)
    parser.add_argument("--libdir", required=True)
    args = parser.parse_args()
    for tool in ("dpkg-deb", "dpkg-shlibdeps"):
        if shutil.which(tool) is None:
            skip("%s is not installed (Debian package dpkg-dev)" % tool)

    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    done = run([args.cpack, "--config", args.config, "-G", "DEB", "-B", args.work_dir])
    print(done.stdout, end="")
    check(done.returncode == 0, "cpack -G DEB failed:\n%s%s" % (done.stdout, done.stderr))
    debs = glob.glob(os.path.join(args.work_dir, "callsd_*.deb"))
    check(len(debs) == 1, "expected one callsd_*.deb, found %s" % debs)
    deb = debs[0]

    info = run(["dpkg-deb", "--field", deb])
    check(info.returncode == 0, "dpkg-deb --field: %s" % info.stderr)
    fields = dict(re.findall(r"^([\w-]+): (.*)$", info.stdout, re.M))
    print("Package: %s %s\nDepends: %s" % (fields.get("Package"), fields.get("Version"),
                                           fields.get("Depends")))
    check(fields.get("Package") == "callsd", "the package is not named callsd")
    depends = [d.strip().split(" ")[0] for d in fields.get("Depends", "").split(",")]
    missing = [lib for lib in RUNTIME_LIBS if lib not in depends]
    check(not missing, "Depends lacks %s" % missing)

    control = os.path.join(args.work_dir, "control")
    done = run(["dpkg-deb", "--control", deb, control])
    check(done.returncode == 0, "dpkg-deb --control: %s" % done.stderr)
    with open(os.path.join(control, "conffiles")) as f:
        check(f.read().split() == ["/etc/callsd/callsd.conf"],
              "conffiles is not /etc/callsd/callsd.conf")
    for script in ("postinst", "prerm", "postrm"):
        path = os.path.join(control, script)
        check(os.access(path, os.X_OK), "%s is not executable" % script)
        done = run(["sh", "-n", path])
        check(done.returncode == 0, "%s: %s" % (script, done.stderr))
    with open(os.path.join(control, "postinst")) as f:
        postinst = f.read()
    check("systemd-sysusers" in postinst and "systemd-tmpfiles --create" in postinst,
          "postinst does not run systemd-sysusers and systemd-tmpfiles")

    listing = run(["dpkg-deb", "--contents", deb])
    check(listing.returncode == 0, "dpkg-deb --contents: %s" % listing.stderr)
    paths = {line.split()[-1].lstrip(".") for line in listing.stdout.splitlines()}
    sysd = args.system_unit_dir
    for expected in ["/usr/bin/callsctl", "/usr/bin/calls-server", "/usr/libexec/callsd",
                     "/etc/callsd/callsd.conf", sysd + "/callsd.socket", sysd + "/callsd.service",
                     sysd + "/callsd@.socket", sysd + "/callsd@.service",
                     "/usr/lib/systemd/user/callsd.socket", "/usr/lib/systemd/user/callsd.service",
                     "/usr/lib/sysusers.d/callsd.conf", "/usr/lib/tmpfiles.d/callsd.conf",
                     "/usr/include/callsd/client.h", "/usr/include/callsd/v1/callsd.pb.h",
                     args.libdir + "/libcallsclient.a",
                     args.libdir + "/cmake/CallsClient/CallsClientConfig.cmake",
                     args.libdir + "/pkgconfig/callsclient.pc",
                     "/usr/share/callsd/proto/callsd/v1/callsd.proto",
                     "/usr/share/bash-completion/completions/callsctl",
                     "/usr/share/man/man8/callsd.8", "/usr/share/man/man1/callsctl.1"]:
        check(expected in paths, "the package lacks %s" % expected)
    unit = run(["sh", "-c", 'dpkg-deb --fsys-tarfile "$1" | tar -xO ".$2"', "sh", deb,
                sysd + "/callsd.service"])
    check("\nExecStart=/usr/libexec/callsd --config /etc/callsd/callsd.conf " in unit.stdout,
          "the packaged callsd.service does not run /usr/libexec/callsd with /etc/callsd")
    print("PASS: %s (%d files)" % (os.path.basename(deb), len(paths)))
    shutil.rmtree(args.work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run_main(main)
