"""The HTTP side of the distribution API: requests with Ollama's headers and auth retry.

Every request carries Ollama's `User-Agent` and the `Authorization` last earned for its
repository. A 401 is answered once through `Authenticator` and the request sent again; a
second 401 is `Unauthorized`. Redirects are followed (a blob answered from a CDN); httpx
drops `Authorization` on a redirect to another host, as Ollama's direct-URL fetch sends none.
httpx's exceptions are mapped to pollama's at this boundary (`map_httpx_errors`).

Blob bodies are read with blocking calls in a worker thread (`open_blocking`): on loopback
httpx's blocking client moves bytes about three times faster than its event-loop one, whose
every 64 KiB read is a trip through the loop. A 401 there comes back as `Challenge`, which
the event loop answers (`answer`) before the thread tries again. Those reads are 256 KiB
(`BODY_READ`), not httpcore's 64 KiB: each read is a trip through h11 and three iterators,
and on loopback that per-read cost, not the bytes, was most of a pull's receiving CPU.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpcore
import httpx

from pollama import __version__
from pollama.registry.auth import Authenticator
from pollama.registry.errors import map_httpx_errors, status_error
from pollama.registry.names import Repository

MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"

_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
# registry.ollama.ai reads the Ollama version from the User-Agent and refuses models that
# need a newer one (a 412), so pollama names the Ollama release whose formats it reads.
OLLAMA_COMPAT_VERSION = "0.12.0"
USER_AGENT = (
    f"ollama/{OLLAMA_COMPAT_VERSION} ({_ARCH.get(platform.machine(), platform.machine())} "
    f"{sys.platform}) pollama/{__version__} Python/{platform.python_version()}"
)

# How much one blocking read of a response asks the socket for (see the module doc). It is
# httpcore's knob for its blocking HTTP/1.1 connections, which in this process read only
# blob bodies (the event loop's client has its own).
BODY_READ = 256 << 10
httpcore.HTTP11Connection.READ_NUM_BYTES = BODY_READ

# A request body that can be sent again after an auth challenge: bytes, or a maker of them.
Body = bytes | Callable[[], Any] | None


class Challenge(Exception):
    """A 401 met in a worker thread: its `WWW-Authenticate`, for the event loop to answer."""

    def __init__(self, header: str) -> None:
        super().__init__(header)
        self.header = header


class RegistryClient:
    """Talks to registries for pulls and pushes.

    `stall_s` is how long a read may wait for a byte before the connection counts as stalled
    (httpx's read timeout); the caller restarts a stalled transfer from where it stopped.
    """

    def __init__(
        self,
        auth: Authenticator,
        *,
        stall_s: float = 30.0,
    ) -> None:
        self.auth = auth
        common: dict[str, Any] = {
            "timeout": httpx.Timeout(stall_s, connect=30.0, pool=None),
            "headers": {"User-Agent": USER_AGENT},
            "limits": httpx.Limits(max_connections=64, max_keepalive_connections=32),
            "trust_env": False,
        }
        self._http = httpx.AsyncClient(**common)
        self._blocking = httpx.Client(**common)
        self._authorization: dict[tuple[str, str], str] = {}

    async def aclose(self) -> None:
        await self._http.aclose()
        self._blocking.close()

    @asynccontextmanager
    async def open(
        self,
        method: str,
        url: str,
        repo: Repository,
        *,
        headers: dict[str, str] | None = None,
        body: Body = None,
        follow_redirects: bool = True,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request (answering one auth challenge) and yield the streamed response."""
        key = (repo.host, repo.path)
        with map_httpx_errors():
            for attempt in range(2):
                request = self._http.build_request(
                    method, url, headers=headers, content=body() if callable(body) else body
                )
                if key in self._authorization:
                    request.headers["Authorization"] = self._authorization[key]
                response = await self._http.send(
                    request, stream=True, follow_redirects=follow_redirects
                )
                if response.status_code != 401 or attempt == 1:
                    break
                await response.aclose()
                challenge = response.headers.get("www-authenticate", "")
                self._authorization[key] = await self.auth.answer(self._http, challenge, repo.host)
            try:
                yield response
            finally:
                await response.aclose()

    @contextmanager
    def open_blocking(
        self, method: str, url: str, repo: Repository, *, headers: dict[str, str]
    ) -> Iterator[httpx.Response]:
        """`open` for a worker thread, the body read with blocking calls (see the module
        doc); a 401 raises `Challenge`."""
        request = self._blocking.build_request(method, url, headers=headers)
        authorization = self._authorization.get((repo.host, repo.path))
        if authorization:
            request.headers["Authorization"] = authorization
        with map_httpx_errors():
            response = self._blocking.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code == 401:
                    raise Challenge(response.headers.get("www-authenticate", ""))
                yield response
            finally:
                response.close()

    async def answer(self, repo: Repository, challenge: Challenge) -> None:
        """Earn the `Authorization` a `Challenge` from `repo`'s registry asks for."""
        key = (repo.host, repo.path)
        self._authorization[key] = await self.auth.answer(self._http, challenge.header, repo.host)

    async def request(
        self,
        method: str,
        url: str,
        repo: Repository,
        *,
        headers: dict[str, str] | None = None,
        body: Body = None,
        follow_redirects: bool = True,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """`open` with the body read; a status >= 400 not in `ok` raises Ollama's error."""
        async with self.open(
            method, url, repo, headers=headers, body=body, follow_redirects=follow_redirects
        ) as response:
            await response.aread()
        if response.status_code >= 400 and response.status_code not in ok:
            raise status_error(response.status_code, response.text)
        return response

    async def put_unauthenticated(self, url: str, body: Body, headers: dict[str, str]) -> None:
        """A part PUT to a storage URL a registry redirected an upload to (no credentials)."""
        with map_httpx_errors():
            response = await self._http.put(
                url, content=body() if callable(body) else body, headers=headers
            )
        if response.status_code >= 400:
            raise status_error(response.status_code, response.text)

    async def get_manifest(self, repo: Repository) -> bytes:
        """The manifest's bytes, exactly as the registry sent them."""
        response = await self.request(
            "GET", repo.manifest_url(), repo, headers={"Accept": MANIFEST_ACCEPT}
        )
        return response.content
