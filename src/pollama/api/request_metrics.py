"""Counting every HTTP request by route and status, for `/metrics`.

Pure ASGI, so streams pass through untouched: the status is read from the response's start
message. The route is the matched path template (`/api/chat`, `/api/blobs/{digest}`), never
the raw path, so a scanner's random URLs cannot grow the metric without bound.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pollama import metrics

UNMATCHED = "unmatched"


class CountRequests:
    """Count each answered request in `pollama_http_requests_total`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app fails before answering

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or UNMATCHED
            metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
