"""The small HTTP client the CLI uses: every verb but `serve` goes through the server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from pollama import config


class ClientError(Exception):
    """The server answered with an error (its `error` message) or could not be reached."""

    def __init__(self, message: str, status_code: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _error_of(response: httpx.Response) -> ClientError:
    try:
        message = response.json().get("error") or response.text
    except (ValueError, AttributeError):
        message = response.text or f"status {response.status_code}"
    return ClientError(str(message), response.status_code)


@contextmanager
def _connecting() -> Iterator[None]:
    """Say, as Ollama's CLI does, that no server is running when none answers."""
    try:
        yield
    except httpx.ConnectError as exc:
        raise ClientError(
            "could not connect to pollama server, run 'pollama serve' to start it"
        ) from exc


class Client:
    """Talks to the server at `OLLAMA_HOST`."""

    def __init__(self, base_url: str | None = None, timeout: float | None = None) -> None:
        self.base_url = base_url or config.host().url
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request; returns the decoded body (None when empty)."""
        with _connecting():
            response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json() if response.content else None

    def stream(self, method: str, path: str, body: Any = None) -> Iterator[dict[str, Any]]:
        """An NDJSON stream, one decoded object at a time; an `error` line raises."""
        with _connecting(), self._http.stream(method, path, json=body) as response:
            if response.status_code >= 400:
                response.read()
                raise _error_of(response)
            for line in response.iter_lines():
                if not line.strip():
                    continue
                chunk = json.loads(line)
                if "error" in chunk:
                    raise ClientError(str(chunk["error"]), response.status_code)
                yield chunk

    def upload(
        self, path: str, file: Path, on_progress: Callable[[int], None] | None = None
    ) -> None:
        """POST the bytes of `file` as the raw body, streamed (blob uploads); `on_progress`
        hears the bytes sent so far after each chunk."""
        with _connecting(), file.open("rb") as body:
            response = self._http.post(path, content=_chunks(body, on_progress))
        if response.status_code >= 400:
            raise _error_of(response)

    def close(self) -> None:
        self._http.close()


def _chunks(file: BinaryIO, on_progress: Callable[[int], None] | None) -> Iterator[bytes]:
    sent = 0
    while chunk := file.read(1 << 20):
        yield chunk
        sent += len(chunk)
        if on_progress is not None:
            on_progress(sent)


class AsyncClient:
    """The same client for code that keeps many requests in flight (`pollama translate`):
    cancelling a call closes its connection, which frees the server's slot at once."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url or config.host().url
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request; returns the decoded body (None when empty)."""
        with _connecting():
            response = await self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json() if response.content else None

    async def aclose(self) -> None:
        await self._http.aclose()
