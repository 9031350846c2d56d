"""datagen_auth: the session of the datagen agent, for Python programs, in one call.

    import datagen_auth
    token = datagen_auth.token()                          # the profile and org of this shell
    creds = datagen_auth.credentials(profile="staging", min_valid=600)
    requests.get(creds.api_url + "/v1/me", headers={"Authorization": "Bearer " + creds.token})

It asks the agent that `datagen auth login` signed in (over its Unix socket, with the CLI's trust
checks: the socket's folder must be this user's and closed to others, and the process answering
must run as this user), and never reads the credentials file or talks OAuth itself. The profile
is `profile`, else $DATAGEN_PROFILE, else "default"; the organization `org`, else $DATAGEN_ORG,
else the profile's active one. When no agent runs, one is started as the CLI starts it
(`datagen auth agent start`), unless DATAGEN_NO_AUTOSTART=1.

Errors are exceptions: NotSignedIn (sign in with `datagen auth login`), AgentUnavailable,
UnsafeSocketFolder (nothing was sent), and AgentError for any other answer of the agent.
"""

import datetime
import os
import shutil
import socket
import stat
import struct
import subprocess
import time
from dataclasses import dataclass
from typing import Optional

import grpc

from datagen.agent.v1 import agent_pb2, agent_pb2_grpc

__all__ = [
    "AgentError",
    "AgentUnavailable",
    "Credentials",
    "NotSignedIn",
    "UnsafeSocketFolder",
    "credentials",
    "socket_path",
    "status",
    "token",
]

_TIMEOUT_SECONDS = 30.0


class AgentError(Exception):
    """The agent answered an error; `code` is its gRPC status code (grpc.StatusCode)."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class NotSignedIn(AgentError):
    """The profile is not signed in, or its session expired: run `datagen auth login`."""


class AgentUnavailable(AgentError):
    """No agent answers on the socket, and none could be started."""


class UnsafeSocketFolder(AgentError):
    """The socket's folder (or the process behind the socket) is not this user's: nothing sent."""


@dataclass(frozen=True)
class Credentials:
    """What a program needs to call the datagen API. `token` is a secret: never log it."""

    token: str
    token_type: str
    api_url: str
    org: str
    org_source: str
    profile: str
    email: str
    expires_at: Optional[datetime.datetime]
    min_valid_unmet: bool

    def __repr__(self):  # keeps the token out of logs and tracebacks
        return (f"Credentials(profile={self.profile!r}, org={self.org!r}, api_url={self.api_url!r}, "
                f"expires_at={self.expires_at!r}, token=<hidden>)")


def socket_path() -> str:
    """The agent's socket, found as the CLI finds it."""
    if os.environ.get("DATAGEN_AGENT_SOCKET"):
        return os.environ["DATAGEN_AGENT_SOCKET"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "datagen", "agent.sock")
    return f"/tmp/datagen-{os.getuid()}/agent.sock"


def _check_folder(folder: str) -> bool:
    """True when `folder` is this user's and closed to others; False when it does not exist."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise UnsafeSocketFolder(f"{folder} is not a folder of yours (a link or a file): refusing it")
    if st.st_uid != os.getuid():
        raise UnsafeSocketFolder(f"{folder} belongs to uid {st.st_uid}, not you: refusing it")
    if st.st_mode & 0o077:
        raise UnsafeSocketFolder(
            f"{folder} is open to other users (mode {stat.S_IMODE(st.st_mode):o}): refusing it")
    return True


def _agent_pid(path: str) -> Optional[int]:
    """Connects once and checks, by SO_PEERCRED, that the process answering runs as this user;
    returns its pid, or None when nothing listens at `path`."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(path)
        creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _ = struct.unpack("3i", creds)
        if uid != os.getuid():
            raise UnsafeSocketFolder(f"the process behind {path} runs as uid {uid}, not you")
        return pid
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    finally:
        probe.close()


def _start_agent():
    if os.environ.get("DATAGEN_NO_AUTOSTART") == "1":
        raise AgentUnavailable("no agent is running (DATAGEN_NO_AUTOSTART=1): run datagen auth agent start")
    datagen = shutil.which("datagen")
    if datagen is None:
        raise AgentUnavailable("no agent is running, and `datagen` is not on PATH to start one")
    done = subprocess.run([datagen, "auth", "agent", "start"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise AgentUnavailable(f"could not start the agent: {done.stderr.strip()}")


# One channel per process, socket and agent (a gRPC channel does not survive fork, and one to an
# agent that has since stopped would fail its next call): a warm call then costs one round trip,
# not a new HTTP/2 connection. The trust checks run on every call.
_channels = {}


def _agent(path: str, folder: str) -> Optional[int]:
    return _agent_pid(path) if _check_folder(folder) else None


def _stub() -> agent_pb2_grpc.AuthAgentStub:
    path = socket_path()
    folder = os.path.dirname(path) or "/"
    agent = _agent(path, folder)
    if agent is None:
        _start_agent()
        deadline = time.monotonic() + 10
        while agent is None:
            if time.monotonic() > deadline:
                raise AgentUnavailable(f"the agent did not come up on {path}")
            time.sleep(0.02)
            agent = _agent(path, folder)
    key = (os.getpid(), path, agent)
    stub = _channels.get(key)
    if stub is None:
        for old in list(_channels):
            del _channels[old]  # another agent's, or a parent's inherited by fork
        stub = agent_pb2_grpc.AuthAgentStub(grpc.insecure_channel("unix:" + path))
        _channels[key] = stub
    return stub


def _scope(request, profile, org):
    profile = profile or os.environ.get("DATAGEN_PROFILE") or ""
    request.profile = profile
    if org:
        request.org = org
        request.org_source = agent_pb2.ORG_SOURCE_FLAG
    elif os.environ.get("DATAGEN_ORG"):
        request.org = os.environ["DATAGEN_ORG"]
        request.org_source = agent_pb2.ORG_SOURCE_ENV
    return request


def _call(method, request):
    stub = _stub()
    try:
        return getattr(stub, method)(request, timeout=_TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        code = error.code()
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            _channels.clear()  # the next call connects anew
        if code == grpc.StatusCode.UNAUTHENTICATED:
            raise NotSignedIn(error.details(), code) from None
        if code == grpc.StatusCode.UNAVAILABLE:
            raise AgentUnavailable(error.details(), code) from None
        raise AgentError(error.details(), code) from None


def credentials(profile: Optional[str] = None, org: Optional[str] = None,
                min_valid: Optional[float] = None) -> Credentials:
    """The token and what goes with it. `min_valid` (seconds): refresh first unless the token
    stays valid that long (when the server's tokens live shorter, `min_valid_unmet` is True)."""
    request = _scope(agent_pb2.GetTokenRequest(), profile, org)
    if min_valid is not None:
        if min_valid < 0:
            raise ValueError("min_valid must not be negative")
        request.min_valid_seconds = int(min_valid + 0.999)
    reply = _call("GetToken", request)
    expires = None
    if reply.HasField("expires_at"):
        expires = _utc(reply.expires_at)
    return Credentials(token=reply.token, token_type=reply.token_type or "Bearer",
                       api_url=reply.api_url, org=reply.active_org_slug,
                       org_source=reply.org_source, profile=reply.profile, email=reply.email,
                       expires_at=expires, min_valid_unmet=reply.min_valid_unmet)


def token(profile: Optional[str] = None, org: Optional[str] = None,
          min_valid: Optional[float] = None) -> str:
    """The access token alone (see credentials)."""
    return credentials(profile, org, min_valid).token


def _utc(timestamp) -> datetime.datetime:
    return timestamp.ToDatetime().replace(tzinfo=datetime.timezone.utc)


def status(profile: Optional[str] = None, org: Optional[str] = None) -> dict:
    """Who is signed in, as the agent says (from memory: it never waits for the server):
    profile, email, active_org_slug, role, org_source, api_url, token_expires_at (an aware
    datetime or None), unverified (not confirmed by the server lately) and warnings (for people).
    Raises NotSignedIn when the profile is not signed in or its session expired."""
    request = _scope(agent_pb2.GetStatusRequest(), profile, org)
    request.verify = False
    reply = _call("GetStatus", request)
    return {"profile": reply.profile, "email": reply.email,
            "active_org_slug": reply.active_org_slug, "role": reply.role,
            "org_source": reply.org_source, "api_url": reply.api_url,
            "token_expires_at": _utc(reply.token_expires_at)
            if reply.HasField("token_expires_at") else None,
            "unverified": reply.unverified, "warnings": list(reply.warnings)}
