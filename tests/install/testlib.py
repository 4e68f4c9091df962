"""Helpers shared by the install tests (run with /usr/bin/python3)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77  # ctest SKIP_RETURN_CODE of these tests


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run_main(main):
    """Runs main(); prints FAIL and exits 1 on a Failure."""
    try:
        code = main()
    except Failure as failure:
        print("FAIL: %s" % failure, flush=True)
        sys.exit(1)
    sys.exit(code or 0)


def skip(reason):
    print("SKIP: %s" % reason, flush=True)
    sys.exit(SKIP)


def short_tempdir(prefix):
    """A temporary folder with a short path (Unix socket paths are limited to
    107 bytes; build folders can be deep)."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def wait_for(predicate, what, timeout=20.0, process=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise Failure("%s: the process exited with %s before that%s"
                          % (what, process.returncode, tail(log)))
        time.sleep(0.05)
    raise Failure("timed out waiting for %s%s" % (what, tail(log)))


def tail(log, lines=30):
    if not log or not os.path.exists(log):
        return ""
    with open(log, errors="replace") as f:
        text = f.read().splitlines()[-lines:]
    return "\n--- %s (tail) ---\n%s" % (log, "\n".join(text))


class Processes:
    """Started processes, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log, env=None, **kwargs):
        out = open(log, "wb")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, **kwargs)
        out.close()
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


def start_calls_server(procs, calls_server, workdir, extra=()):
    """calls-server on loopback with the demo app; returns its base URL."""
    port_file = os.path.join(workdir, "server.port")
    log = os.path.join(workdir, "calls-server.log")
    proc = procs.start([calls_server, "--listen", "127.0.0.1", "--port", "0",
                        "--port_file", port_file, "--demo_dir", os.path.join(workdir, "demo")]
                       + list(extra), log)
    wait_for(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0,
             "calls-server's port file", process=proc, log=log)
    with open(port_file) as f:
        return "http://127.0.0.1:%s" % f.read().strip()


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


def run(argv, **kwargs):
    """subprocess.run with text output captured."""
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)
