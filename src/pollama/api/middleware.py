"""What every request goes through before the routes: origin checks and JSON bodies.

Both are pure ASGI middleware, so streaming responses pass through untouched.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

# Routes whose body is not JSON: blob uploads are raw bytes.
_RAW_BODY_PREFIXES = ("/api/blobs/",)
_JSON = b"application/json"


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
