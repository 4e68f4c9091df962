#!/usr/bin/python3
"""A Python app using callsd: checks the daemon's health, sets it up and logs
in when asked, prints the state, watches events and answers a ringing call.

  /usr/bin/python3 example.py                       # health and state
  /usr/bin/python3 example.py --init demo-app --login alice --token-file alice.token
  /usr/bin/python3 example.py --watch               # print events until Ctrl-C
  /usr/bin/python3 example.py --accept              # answer the next ringing call

With --accept it watches until a call rings (or finds one already ringing),
accepts it and keeps watching until the call is connected (exit status 0) or
ends first (exit status 1). --timeout bounds the wait.

Exit status: 0 success, 1 an error from callsd (printed with its Calls code
and hint) or a timeout, 2 a usage error.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callsd_client  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", help="callsd's socket (default: as callsctl finds it)")
    parser.add_argument("--proto-dir", default=callsd_client.DEFAULT_PROTO_DIR,
                        help="the installed .proto files (default %(default)s)")
    parser.add_argument("--stubs-dir", help="where to generate the Python stubs "
                        "(default: $CALLSD_PY_STUBS or ~/.cache/callsd/python)")
    parser.add_argument("--init", metavar="APP_ID", help="initialize the daemon with APP_ID")
    parser.add_argument("--login", metavar="USER", help="authenticate USER")
    parser.add_argument("--token-file", help="the token for --login (never on the command line)")
    parser.add_argument("--session-token", action="store_true",
                        help="the token is a session token (default: an access token)")
    parser.add_argument("--watch", action="store_true", help="print events as they happen")
    parser.add_argument("--events", type=int, default=0,
                        help="with --watch: stop after this many events (0: no limit)")
    parser.add_argument("--accept", action="store_true",
                        help="accept the next ringing call and wait until it is connected")
    parser.add_argument("--timeout", type=float, default=None,
                        help="give up watching after this many seconds")
    args = parser.parse_args()
    if args.login and not args.token_file:
        parser.error("--login needs --token-file FILE")

    client = callsd_client.Client(args.socket, stubs=args.stubs_dir, proto_dir=args.proto_dir)
    try:
        health = client.health()
        print("health: %s" % health, flush=True)
        if health != "SERVING":
            return 1
        if args.init:
            response = client.init(args.init)
            print("init: %s" % ("changed" if response.changed else "unchanged"), flush=True)
        if args.login:
            token = callsd_client.read_token_file(args.token_file)
            response = client.authenticate(args.login, token, args.session_token)
            print("login: %s" % response.user.user_id, flush=True)
        print("state: %s" % callsd_client.describe_state(client.get_state()), flush=True)
        if args.accept:
            return accept_next_call(client, args.timeout)
        if args.watch:
            count = 0
            for event in client.watch(timeout=args.timeout):
                print("event: %s" % callsd_client.describe_event(event), flush=True)
                count += 1
                if args.events and count >= args.events:
                    break
        return 0
    except callsd_client.CallsdError as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    finally:
        client.close()


def accept_next_call(client, timeout):
    pb = callsd_client.pb
    deadline = None if timeout is None else time.monotonic() + timeout
    accepted = None
    for event in client.watch(timeout=timeout):
        print("event: %s" % callsd_client.describe_event(event), flush=True)
        kind = event.WhichOneof("kind")
        if accepted is None:
            ringing = []
            if kind == "snapshot":
                ringing = [c for c in event.snapshot.calls
                           if c.direction == pb.CALL_DIRECTION_INCOMING and
                           c.state == pb.CALL_STATE_RINGING]
            elif kind == "ringing":
                ringing = [event.ringing.call]
            if ringing:
                call = ringing[0]
                response = client.accept(call.call_id)
                accepted = call.call_id
                print("accepted: %s" % callsd_client.describe_call(response.call), flush=True)
            continue
        body = getattr(event, kind)
        call = body.call if hasattr(body, "call") else None
        if call is None or call.call_id != accepted:
            continue
        if kind == "connected":
            print("connected: %s" % callsd_client.describe_call(call), flush=True)
            return 0
        if kind == "ended":
            print("error: the call ended before it was connected: %s"
                  % callsd_client.describe_call(call), file=sys.stderr)
            return 1
    what = "a ringing call" if accepted is None else "call %s to connect" % accepted
    waited = "" if deadline is None else " after %.0f s" % timeout
    print("error: gave up waiting for %s%s" % (what, waited), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
