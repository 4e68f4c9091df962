"""callsd_client: a small Python client of callsd, the Calls session daemon.

It uses gRPC stubs generated from the installed API contract
(/usr/share/callsd/proto/callsd/v1/callsd.proto) with Debian's python3-grpcio
and protoc (packages python3-grpcio, protobuf-compiler, protobuf-compiler-grpc):

    import callsd_client
    client = callsd_client.Client()            # the default socket, as callsctl finds it
    print(client.health())                     # "SERVING"
    state = client.get_state()
    client.authenticate("alice", callsd_client.read_token_file("alice.token"))
    for event in client.watch():               # a snapshot first, then every change
        print(callsd_client.describe_event(event))

The stubs are generated on first use into a cache folder (see stubs_dir()),
together with the standard grpc.health.v1 health-checking stubs (from
proto/grpc_health/v1/health.proto next to this file: Debian's python3-grpcio
does not ship them). Use /usr/bin/python3: Debian's grpc module lives there.

Errors: every failed call raises CallsdError, which carries the gRPC status
code and the callsd.v1.ErrorInfo the daemon attached (the Calls error code
such as 1800302 "not initialized", the access tier, a hint).
"""

import importlib
import os
import subprocess
import sys

import grpc

DEFAULT_PROTO_DIR = "/usr/share/callsd/proto"
SYSTEM_SOCKET = "/run/callsd/callsd.sock"
GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"
HEALTH_PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proto")

# Filled by load_stubs().
pb = None  # callsd.v1.callsd_pb2
pb_grpc = None  # callsd.v1.callsd_pb2_grpc
health_pb = None  # grpc_health.v1.health_pb2
health_pb_grpc = None  # grpc_health.v1.health_pb2_grpc


def default_socket_path():
    """The socket callsctl and libcallsclient use when none is given:
    $CALLSD_SOCKET, else /run/callsd/callsd.sock when it exists, else
    $XDG_RUNTIME_DIR/callsd/callsd.sock, else /run/callsd/callsd.sock."""
    env = os.environ.get("CALLSD_SOCKET")
    if env:
        return env
    if os.path.exists(SYSTEM_SOCKET):
        return SYSTEM_SOCKET
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "callsd", "callsd.sock")
    return SYSTEM_SOCKET


def stubs_dir():
    """Where generated stubs are cached: $CALLSD_PY_STUBS, else
    $XDG_CACHE_HOME/callsd/python (~/.cache/callsd/python)."""
    if os.environ.get("CALLSD_PY_STUBS"):
        return os.environ["CALLSD_PY_STUBS"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "callsd", "python")


def generate_stubs(out_dir, proto_dir=DEFAULT_PROTO_DIR, protoc="protoc",
                   plugin=GRPC_PYTHON_PLUGIN):
    """Runs protoc with grpc_python_plugin on callsd/v1/callsd.proto (from
    proto_dir) and grpc_health/v1/health.proto (next to this file). Raises
    RuntimeError with protoc's message when it fails."""
    os.makedirs(out_dir, exist_ok=True)
    command = [
        protoc, "-I", proto_dir, "-I", HEALTH_PROTO_DIR,
        "--python_out=" + out_dir, "--grpc_python_out=" + out_dir,
        "--plugin=protoc-gen-grpc_python=" + plugin,
        "callsd/v1/callsd.proto", "grpc_health/v1/health.proto",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("protoc failed (%s): %s" % (" ".join(command), done.stderr.strip()))
    # Regular packages, so that they win over any other "callsd" or
    # "grpc_health" on sys.path.
    for package in ("callsd", "callsd/v1", "grpc_health", "grpc_health/v1"):
        open(os.path.join(out_dir, package, "__init__.py"), "a").close()


def load_stubs(out_dir=None, proto_dir=DEFAULT_PROTO_DIR):
    """Imports the generated modules, generating them first when missing."""
    global pb, pb_grpc, health_pb, health_pb_grpc
    if pb is not None:
        return
    out_dir = out_dir or stubs_dir()
    if not (os.path.exists(os.path.join(out_dir, "callsd", "v1", "callsd_pb2_grpc.py")) and
            os.path.exists(os.path.join(out_dir, "grpc_health", "v1", "health_pb2_grpc.py"))):
        generate_stubs(out_dir, proto_dir)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    pb = importlib.import_module("callsd.v1.callsd_pb2")
    pb_grpc = importlib.import_module("callsd.v1.callsd_pb2_grpc")
    health_pb = importlib.import_module("grpc_health.v1.health_pb2")
    health_pb_grpc = importlib.import_module("grpc_health.v1.health_pb2_grpc")


def read_token_file(path):
    """A token from a file, trailing whitespace and newlines stripped (as
    callsctl --token-file does). Never pass tokens on a command line."""
    with open(path, encoding="utf-8") as f:
        token = f.read().rstrip()
    if not token:
        raise ValueError("%s is empty" % path)
    return token


class CallsdError(Exception):
    """A failed call: the gRPC code and message, and the daemon's ErrorInfo
    (calls_code, field, tier, hint; empty when there was none)."""

    def __init__(self, code, message, info=None):
        self.code = code
        self.message = message
        self.calls_code = info.calls_code if info is not None else 0
        self.field = info.field if info is not None else ""
        self.tier = info.tier if info is not None else ""
        self.hint = info.hint if info is not None else ""
        text = "%s: %s" % (code.name, message)
        if self.calls_code:
            text += " (Calls code %d)" % self.calls_code
        if self.hint:
            text += "; " + self.hint
        super().__init__(text)

    @classmethod
    def from_rpc_error(cls, error):
        info = None
        for key, value in error.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                status = pb.RpcStatus()
                status.ParseFromString(value)
                for detail in status.details:
                    candidate = pb.ErrorInfo()
                    if detail.Unpack(candidate):
                        info = candidate
        return cls(error.code(), error.details(), info)


class Client:
    """A connection to one callsd instance over its Unix socket.

    socket_path: default_socket_path() when None. timeout: seconds for each
    unary call (watch() streams have none)."""

    def __init__(self, socket_path=None, timeout=30.0, stubs=None, proto_dir=DEFAULT_PROTO_DIR):
        load_stubs(stubs, proto_dir)
        self.socket_path = os.path.abspath(socket_path or default_socket_path())
        self.timeout = timeout
        self._channel = grpc.insecure_channel("unix:" + self.socket_path)
        self._stub = pb_grpc.CallsStub(self._channel)
        self._health = health_pb_grpc.HealthStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout, wait_for_ready=True)
        except grpc.RpcError as error:
            raise CallsdError.from_rpc_error(error) from None

    def health(self, service=""):
        """grpc.health.v1 Check: "SERVING" when the daemon serves."""
        response = self._call(self._health.Check, health_pb.HealthCheckRequest(service=service))
        return health_pb.HealthCheckResponse.ServingStatus.Name(response.status)

    def get_state(self):
        return self._call(self._stub.GetState, pb.GetStateRequest())

    def init(self, app_id):
        return self._call(self._stub.Init, pb.InitRequest(app_id=app_id))

    def authenticate(self, user_id, token, session_token=False):
        kind = pb.TOKEN_KIND_SESSION_TOKEN if session_token else pb.TOKEN_KIND_ACCESS_TOKEN
        return self._call(self._stub.Authenticate,
                          pb.AuthenticateRequest(user_id=user_id, token_kind=kind, token=token))

    def deauthenticate(self, keep_push_tokens=False):
        return self._call(self._stub.Deauthenticate,
                          pb.DeauthenticateRequest(keep_push_tokens=keep_push_tokens))

    def list_calls(self):
        return self._call(self._stub.ListCalls, pb.ListCallsRequest())

    def accept(self, call_id):
        return self._call(self._stub.Accept, pb.AcceptRequest(call_id=call_id))

    def decline(self, call_id):
        return self._call(self._stub.Decline, pb.DeclineRequest(call_id=call_id))

    def end(self, call_id):
        return self._call(self._stub.End, pb.EndRequest(call_id=call_id))

    def watch(self, timeout=None):
        """Yields Events: a snapshot first, then every change. Ends when the
        caller stops iterating (call .cancel() on the generator's stream via
        close()), when `timeout` seconds have passed (then it just returns),
        or raises CallsdError when the daemon ends the stream with an error."""
        stream = self._stub.WatchEvents(pb.WatchEventsRequest(), timeout=timeout,
                                        wait_for_ready=True)
        try:
            for event in stream:
                yield event
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and timeout is not None:
                return
            if error.code() == grpc.StatusCode.CANCELLED:
                return
            raise CallsdError.from_rpc_error(error) from None
        finally:
            stream.cancel()


def enum_name(enum_type, value, prefix):
    name = enum_type.Name(value)
    return name[len(prefix):] if name.startswith(prefix) else name


def describe_call(call):
    direction = enum_name(pb.CallDirection, call.direction, "CALL_DIRECTION_").lower()
    text = "call=%s %s peer=%s state=%s" % (
        call.call_id, direction, call.peer.user_id,
        enum_name(pb.CallState, call.state, "CALL_STATE_"))
    if call.end_result:
        text += " result=%s" % enum_name(pb.EndResult, call.end_result, "END_RESULT_").lower()
    return text


def describe_state(state):
    text = "app=%s session=%s" % (state.app_id or "-", enum_name(
        pb.SessionState, state.session_state, "SESSION_STATE_"))
    if state.user.user_id:
        text += " user=%s" % state.user.user_id
    if state.token_kind:
        text += " token=%s" % enum_name(pb.TokenKind, state.token_kind, "TOKEN_KIND_").lower()
    if state.last_error.message:
        text += " last_error=%r" % state.last_error.message
    for call in state.calls:
        text += " [%s]" % describe_call(call)
    return text


def describe_event(event):
    """One line: the sequence number, the kind, and what changed."""
    kind = event.WhichOneof("kind")
    body = getattr(event, kind) if kind else None
    if kind == "snapshot":
        detail = describe_state(body)
    elif kind == "session_state_changed":
        detail = "%s -> %s" % (enum_name(pb.SessionState, body.previous, "SESSION_STATE_"),
                               enum_name(pb.SessionState, body.state, "SESSION_STATE_"))
        if body.user.user_id:
            detail += " user=%s" % body.user.user_id
    elif kind == "app_changed":
        detail = "app=%s previous=%s" % (body.app_id, body.previous_app_id or "-")
    elif kind == "push_tokens_changed":
        detail = "%d token(s)" % len(body.tokens)
    elif body is not None and hasattr(body, "call") and body.HasField("call"):
        detail = describe_call(body.call)
    else:
        detail = str(body).replace("\n", " ").strip() if body is not None else ""
    return "%d %s %s" % (event.seq, kind, detail)
