#!/usr/bin/python3
"""install.socket_activation: callsd serves a socket passed the way systemd
passes it (LISTEN_FDS=1, LISTEN_PID, the listening socket as fd 3), without
systemd.

1. This script binds and listens on a socket (mode 0660, as callsd.socket
   does) and connects a client to it BEFORE callsd runs (the connection
   waits in the backlog, as with a real socket unit: it sends the HTTP/2
   preface), then starts callsd with the socket as fd 3. The early
   connection must get callsd's HTTP/2 SETTINGS; `callsctl status` must
   answer NOT_INITIALIZED; callsd must log
   that it uses the passed socket and must not create the --socket path it
   was given; after SIGTERM the socket file stays (it belongs to the socket
   unit, RemoveOnStop= is systemd's job).
2. A file instead of a socket as fd 3: callsd refuses to start (exit 1,
   "not a listening Unix stream socket").
3. With systemd-socket-activate (when installed): `systemd-socket-activate
   -l PATH callsd ...` starts callsd on the first connection, and that
   first callsctl is answered.
"""

import argparse
import fcntl
import os
import shutil
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Processes, check, run, run_main, short_tempdir, tail, wait_for  # noqa: E402

# Runs argv with fd N as fd 3 and LISTEN_PID set to its own pid (exec keeps it).
ACTIVATE = 'export LISTEN_FDS=1 LISTEN_PID=$$ LISTEN_FDNAMES=callsd.socket; exec "$0" "$@" 3<&%d %d<&-'


def daemon_argv(callsd, tmp, name):
    return [callsd, "--socket", os.path.join(tmp, name + "-own.sock"),
            "--state_dir", os.path.join(tmp, name + "-state"),
            "--server_url", "http://127.0.0.1:9"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--callsd", required=True)
    parser.add_argument("--callsctl", required=True)
    args = parser.parse_args()
    tmp = short_tempdir("callsd-act.")
    try:
        with Processes() as procs:
            # 1. A socket passed as fd 3, with a client already waiting.
            path = os.path.join(tmp, "activated.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            os.chmod(path, 0o660)
            listener.listen(16)
            # A client connects before callsd runs (its connection waits in the
            # backlog) and sends the HTTP/2 client preface with a SETTINGS frame.
            early = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            early.connect(path)
            early.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(3) + b"\x04" + bytes(5))
            fd = fcntl.fcntl(listener.fileno(), fcntl.F_DUPFD, 10)  # never 3 itself
            listener.close()
            log = os.path.join(tmp, "callsd-activated.log")
            daemon = procs.start(["/bin/bash", "-c", ACTIVATE % (fd, fd)] +
                                 daemon_argv(args.callsd, tmp, "activated"),
                                 log, pass_fds=(fd,))
            os.close(fd)  # callsd holds it now
            early.settimeout(30)
            header = b""
            while len(header) < 9:
                chunk = early.recv(9 - len(header))
                check(chunk, "the early connection was closed without an answer%s" % tail(log))
                header += chunk
            early.close()
            check(header[3] == 4, "the early connection's first frame is not SETTINGS: %r" % header)
            print("a connection made before callsd started was served (HTTP/2 SETTINGS)")
            done = run([args.callsctl, "--socket", path, "--timeout", "20", "status"], timeout=30)
            print("$ callsctl status\n" + done.stdout, end="")
            check(done.returncode == 0, "callsctl status failed (%d): %s%s"
                  % (done.returncode, done.stderr, tail(log)))
            check("NOT_INITIALIZED" in done.stdout, "callsctl status did not show NOT_INITIALIZED")
            done = run([args.callsctl, "--socket", path, "--json", "status"], timeout=30)
            check(done.returncode == 0, "a second callsctl status failed: %s" % done.stdout)
            wait_for(lambda: "using the socket passed by systemd" in open(log).read(),
                     "callsd's log line about the passed socket", process=daemon, log=log)
            check(not os.path.exists(os.path.join(tmp, "activated-own.sock")),
                  "callsd created its own socket although it was given one")
            daemon.terminate()
            daemon.wait(timeout=15)
            check(daemon.returncode == 0, "callsd exited with %d on SIGTERM%s"
                  % (daemon.returncode, tail(log)))
            check(stat.S_ISSOCK(os.lstat(path).st_mode),
                  "callsd removed the socket it was passed (it belongs to the socket unit)")
            print("socket passed as fd 3: served, kept, own socket not created")

            # 2. Not a socket.
            opened = os.open(os.path.join(tmp, "not-a-socket"), os.O_RDWR | os.O_CREAT, 0o600)
            not_socket = fcntl.fcntl(opened, fcntl.F_DUPFD, 10)
            os.close(opened)
            log = os.path.join(tmp, "callsd-bad.log")
            bad = procs.start(["/bin/bash", "-c", ACTIVATE % (not_socket, not_socket)] +
                              daemon_argv(args.callsd, tmp, "bad"), log, pass_fds=(not_socket,))
            os.close(not_socket)
            try:
                bad.wait(timeout=30)
            except subprocess.TimeoutExpired:
                check(False, "callsd kept running with a file as its activation socket")
            check(bad.returncode == 1, "callsd exited with %s, expected 1, for a file as fd 3%s"
                  % (bad.returncode, tail(log)))
            check("not a listening Unix stream socket" in open(log).read(),
                  "callsd's error does not say the fd is not a listening socket%s" % tail(log))
            print("a file as fd 3: refused with a clear error")

            # 3. systemd-socket-activate.
            activate = shutil.which("systemd-socket-activate")
            if activate is None:
                print("note: systemd-socket-activate is not installed: part 3 not run")
            else:
                path = os.path.join(tmp, "sa.sock")
                log = os.path.join(tmp, "callsd-sa.log")
                proc = procs.start([activate, "-l", path] +
                                   daemon_argv(args.callsd, tmp, "sa"), log)
                wait_for(lambda: os.path.exists(path), "systemd-socket-activate's socket",
                         process=proc, log=log)
                # The first connection makes systemd-socket-activate exec callsd.
                first = run([args.callsctl, "--socket", path, "--timeout", "20", "status"],
                            timeout=30)
                print("$ callsctl status (starts callsd)\n" + first.stdout + first.stderr, end="")
                wait_for(lambda: "serving on " + path in open(log).read(),
                         "callsd serving the passed socket", process=proc, log=log)
                # The client that triggers the start must itself be served.
                check(first.returncode == 0 and "NOT_INITIALIZED" in first.stdout,
                      "the callsctl that started callsd failed: %s%s"
                      % (first.stderr, tail(log)))
                done = run([args.callsctl, "--socket", path, "--timeout", "20", "status"],
                           timeout=30)
                print("$ callsctl status\n" + done.stdout, end="")
                check(done.returncode == 0 and "NOT_INITIALIZED" in done.stdout,
                      "callsctl status through systemd-socket-activate failed: %s%s"
                      % (done.stderr, tail(log)))
                check("using the socket passed by systemd" in open(log).read(),
                      "callsd did not use the socket systemd-socket-activate passed%s" % tail(log))
                print("systemd-socket-activate: served")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS: socket activation")
    return 0


if __name__ == "__main__":
    run_main(main)
