"""What every request goes through before the routes: host and origin checks, JSON bodies
and their limits.

All are pure ASGI middleware, so streaming responses pass through untouched.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import socket
from collections.abc import Iterable

import anyio
import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pollama import limits
from pollama.api.errors import error_body

# Routes whose body is not JSON: blob uploads are raw bytes, of any size.
_RAW_BODY_PREFIXES = ("/api/blobs/",)
_JSON = b"application/json"
# Go's `netip.Addr.IsPrivate`: narrower than Python's `is_private`.
_PRIVATE = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")
# A JSON string, its escapes included: removed before brackets are counted.
_CHUNK = 1 << 20
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def origin_pattern(origins: list[str]) -> re.Pattern[str]:
    """One regex for Ollama's origin list, where `*` matches any run of characters."""
    return re.compile("|".join("^" + re.escape(o).replace(r"\*", ".*") + "$" for o in origins))


class RejectForeignOrigins:
    """Answer 403 to a request whose `Origin` is not allowed, as Ollama's CORS layer does.

    A browser sends some cross-site POSTs without asking first (no preflight), so without
    this a web page could drive the API, create models or read generations; CORS headers
    alone only stop the page from reading the answer.
    """

    def __init__(self, app: ASGIApp, allowed: re.Pattern[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = dict(scope["headers"]).get(b"origin")
            if origin is not None and not self.allowed.match(origin.decode("latin-1")):
                await send({"type": "http.response.start", "status": 403, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


class BodiesAreJson:
    """Read every request body as JSON, whatever its `Content-Type` says, as Ollama does.

    `curl -d '{...}'` (in Ollama's own docs) sends `application/x-www-form-urlencoded`, and
    many scripts send no type at all; FastAPI would refuse to parse either.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_RAW_BODY_PREFIXES):
            content_type = dict(scope["headers"]).get(b"content-type", b"")
            if not content_type.split(b";")[0].strip().endswith(b"json"):
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                scope = {**scope, "headers": [*headers, (b"content-type", _JSON)]}
        await self.app(scope, receive, send)


def _go_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_loopback_listener(host: str) -> bool:
    """Whether a server bound to `host` is reachable from this machine only.

    A name (`localhost`) counts as loopback, as Go resolves it to 127.0.0.1 before listening.
    """
    ip = _go_ip(host)
    return ip is None or ip.is_loopback


@functools.cache
def machine_addresses() -> frozenset[str]:
    """This machine's own names and addresses, lower-cased (Ollama's `isLocalIP` and
    `os.Hostname`); looked up once, as a lookup may wait on DNS."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        infos = []
    names |= {str(info[4][0]).lower() for info in infos}
    return frozenset(names)


def _host_part(header: str) -> str:
    """The host of a `Host` header, without its port or IPv6 brackets."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    if header.count(":") == 1:
        return header.partition(":")[0]
    return header


def allowed_host(header: str, own: Iterable[str]) -> bool:
    """Ollama's `allowedHostsMiddleware` test for a server bound to loopback."""
    host = _host_part(header).lower()
    ip = _go_ip(host)
    if ip is not None:
        private = any(ip in net for net in _PRIVATE if net.version == ip.version)
        return ip.is_loopback or ip.is_unspecified or private or host in own
    return host in ("", "localhost") or host in own or host.endswith(_LOCAL_SUFFIXES)


class RefuseForeignHosts:
    """Answer 403 (no body) to a request whose `Host` is not this machine, when the server
    listens on loopback only.

    This is what stops DNS rebinding: a web page at `evil.example` re-points its name at
    127.0.0.1, and the browser then calls the local API as "same origin" (no `Origin` header
    to refuse), but still with `Host: evil.example`. A server bound to a public address is
    meant to be reached by other names, so it is not checked, as in Ollama.
    """

    def __init__(self, app: ASGIApp, listen_host: str) -> None:
        self.app = app
        self.checked = is_loopback_listener(listen_host)
        self.own = machine_addresses()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.checked:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not allowed_host(header, self.own):
            await _send_status(send, 403)
            return
        if _plain_options(scope) and _go_ip(_host_part(header)) is None:
            # Ollama answers a plain OPTIONS to an allowed host name itself; a CORS
            # preflight goes on to the CORS layer, which answers it with its headers.
            await _send_status(send, 204)
            return
        await self.app(scope, receive, send)


def _plain_options(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    preflight = b"origin" in headers and b"access-control-request-method" in headers
    return scope["method"] == "OPTIONS" and not preflight


async def _send_status(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in `body` (strings skipped), without parsing it.

    Only the brackets are kept, and they are summed a megabyte at a time, so a 64 MiB body
    costs a few megabytes of memory.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for start in range(0, len(brackets), _CHUNK):
        chunk = np.frombuffer(brackets[start : start + _CHUNK], dtype=np.uint8)
        # `[` 0x5B and `{` 0x7B have bit 1 set (+1); `]` 0x5D and `}` 0x7D do not (-1).
        running = np.cumsum((chunk & 2).astype(np.int32) - 1) + depth
        deepest = max(deepest, int(running.max()))
        depth = int(running[-1])
    return deepest


class LimitBodies:
    """Refuse a JSON body over `MAX_BODY_BYTES` (413) or nested past `MAX_JSON_DEPTH` (400)
    before any route reads it, in the called API family's error shape.

    The body is read here once and handed on whole; after it, the route's `receive` is the
    client's own, so it still hears a disconnect.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_RAW_BODY_PREFIXES):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        body = b"" if _length(declared) <= limits.MAX_BODY_BYTES else None
        more = body is not None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(b"", receive, message), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limits.MAX_BODY_BYTES:
                body, more = None, False
        if body is None:
            mib = limits.MAX_BODY_BYTES >> 20
            await _send_error(send, scope, 413, f"request body is larger than {mib} MiB")
            return
        if (b"[" in body or b"{" in body) and await _depth(body) > limits.MAX_JSON_DEPTH:
            message = f"request JSON nests deeper than {limits.MAX_JSON_DEPTH} levels"
            await _send_error(send, scope, 400, message)
            return
        await self.app(scope, _replay(body, receive), send)


async def _depth(body: bytes) -> int:
    """`json_depth`, in a worker thread for a big body, so the event loop stays free."""
    if len(body) < _CHUNK:
        return json_depth(body)
    return await anyio.to_thread.run_sync(json_depth, body)


def _length(header: bytes) -> int:
    """A `Content-Length` as a number; uvicorn has already refused one that is not."""
    return int(header) if header.strip().isdigit() else 0


def _replay(body: bytes, receive: Receive, first: Message | None = None) -> Receive:
    """A `receive` that gives `body` (or `first`) once, then listens to the client."""
    pending: list[Message] = [first or {"type": "http.request", "body": body}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def _send_error(send: Send, scope: Scope, status: int, message: str) -> None:
    body = json.dumps(error_body(scope["path"], status, message)).encode()
    headers = [(b"content-type", _JSON), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
