#!/usr/bin/python3
"""install.consumer_cmake / install.consumer_pkgconfig: a project outside the
tree builds against the client library installed in DESTDIR, with
find_package(CallsClient) (--mode cmake) or with pkg-config callsclient
(--mode pkgconfig), and the program it builds talks to a real callsd.

Proves that the installed headers are self-contained (client.h and the
generated callsd/v1/callsd.pb.h), that the CMake package finds its
dependencies (Protobuf, gRPC, absl) and links, that callsclient.pc lists
enough to link, and that the result works: DefaultSocketPath() follows
$CALLSD_SOCKET, and GetState over that socket answers NOT_INITIALIZED.
"""

import argparse
import os
import re
import shlex
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import (Processes, check, run, run_main, short_tempdir, remove_tree,  # noqa: E402
                     wait_for)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("cmake", "pkgconfig"), required=True)
    parser.add_argument("--destdir", required=True)
    parser.add_argument("--libdir", required=True, help="installed libdir, e.g. /usr/lib")
    parser.add_argument("--consumer-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--cmake", required=True)
    parser.add_argument("--cxx", required=True)
    parser.add_argument("--flags", default="", help="extra compile and link flags (sanitizers)")
    parser.add_argument("--link-flags", default="",
                        help="extra link-only flags and objects (the TSan build's shim)")
    parser.add_argument("--callsd", required=True)
    args = parser.parse_args()

    work = os.path.join(args.work_dir, args.mode)
    remove_tree(work)
    os.makedirs(work)
    prefix = os.path.join(args.destdir, "usr")
    flags = shlex.split(args.flags)
    link_flags = flags + shlex.split(args.link_flags)

    if args.mode == "cmake":
        build = os.path.join(work, "build")
        done = run([args.cmake, "-S", args.consumer_dir, "-B", build, "-G", "Ninja",
                    "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_COMPILER=" + args.cxx,
                    "-DCMAKE_PREFIX_PATH=" + prefix,
                    "-DCMAKE_CXX_FLAGS=" + " ".join(flags),
                    "-DCMAKE_EXE_LINKER_FLAGS=" + " ".join(link_flags)])
        check(done.returncode == 0, "configuring the consumer failed:\n%s%s"
              % (done.stdout, done.stderr))
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = f.read()
        found = [l for l in cache.splitlines() if l.startswith("CallsClient_DIR:")]
        check(found and found[0].split("=", 1)[1].startswith(prefix),
              "find_package(CallsClient) did not use the DESTDIR install: %s" % found)
        done = run([args.cmake, "--build", build])
        check(done.returncode == 0, "building the consumer failed:\n%s%s"
              % (done.stdout, done.stderr))
        binary = os.path.join(build, "consumer")
    else:
        # The installed .pc names /usr; a copy relocated to DESTDIR/usr is what
        # the same install would carry under that prefix.
        pc_dir = os.path.join(work, "pkgconfig")
        os.makedirs(pc_dir)
        with open(os.path.join(args.destdir + args.libdir, "pkgconfig", "callsclient.pc")) as f:
            pc = f.read()
        check(re.search(r"^prefix=/usr$", pc, re.M), "callsclient.pc: prefix= is not /usr")
        with open(os.path.join(pc_dir, "callsclient.pc"), "w") as f:
            f.write(re.sub(r"^prefix=/usr$", "prefix=" + prefix, pc, count=1, flags=re.M))
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
        done = run(["pkg-config", "--cflags", "--libs", "callsclient"], env=env)
        check(done.returncode == 0, "pkg-config callsclient failed: %s" % done.stderr)
        pc_flags = shlex.split(done.stdout)
        check("-I%s/include" % prefix in pc_flags,
              "pkg-config --cflags lacks -I%s/include: %s" % (prefix, done.stdout))
        binary = os.path.join(work, "consumer")
        command = ([args.cxx, "-std=c++20", "-O1"] + link_flags +
                   [os.path.join(args.consumer_dir, "main.cc"), "-o", binary] + pc_flags)
        done = run(command)
        check(done.returncode == 0, "compiling with pkg-config's flags failed:\n$ %s\n%s"
              % (" ".join(command), done.stderr[-4000:]))

    # The program against a real daemon.
    tmp = short_tempdir("callsd-consumer.")
    try:
        with Processes() as procs:
            socket = os.path.join(tmp, "d.sock")
            log = os.path.join(tmp, "callsd.log")
            daemon = procs.start([args.callsd, "--socket", socket, "--state_dir",
                                  os.path.join(tmp, "state"),
                                  "--server_url", "http://127.0.0.1:9"], log)
            wait_for(lambda: os.path.exists(socket), "callsd's socket", process=daemon, log=log)
            env = dict(os.environ, CALLSD_SOCKET=socket)
            done = run([binary], env=env, timeout=60)
            print(done.stdout, end="")
            check(done.returncode == 0, "the consumer failed: %s" % done.stderr)
            check("socket %s\n" % socket in done.stdout,
                  "DefaultSocketPath() did not follow $CALLSD_SOCKET")
            check("state SESSION_STATE_NOT_INITIALIZED" in done.stdout,
                  "GetState through the installed library did not answer NOT_INITIALIZED")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS: consumer built with %s and talked to callsd" % args.mode)
    return 0


if __name__ == "__main__":
    run_main(main)
