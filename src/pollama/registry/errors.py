"""What can go wrong talking to a registry, and the one table that maps httpx's errors.

    PollamaError (500)
     └── RegistryError (500)          "<status>: <body>", as Ollama words a failed request
          ├── RegistryNotFound (500)  "file does not exist" (a 404, Go's `os.ErrNotExist`)
          ├── Unauthorized (500)      "unauthorized: access denied"
          ├── DigestMismatch (500)    "digest mismatch, file must be downloaded again: ..."
          └── TransferFailed (500)    the network failed (connect, read, stall) past retries

All are 500: Ollama reports every pull and push failure as a stream's last line or, for
`stream: false`, as a 500. httpx's exceptions never leave this package: `map_httpx_errors()`
turns them into `TransferFailed` (retryable) through `HTTPX_ERRORS`, and a test keeps that
table complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from pollama.errors import PollamaError


class RegistryError(PollamaError):
    """A registry answered with an error status, or broke the protocol."""


class RegistryNotFound(RegistryError):
    """The registry has no such manifest or blob (a 404)."""

    def __init__(self, message: str = "file does not exist") -> None:
        super().__init__(message)


class Unauthorized(RegistryError):
    """The registry refused our credentials, or we had none it accepts."""

    def __init__(self, message: str = "unauthorized: access denied") -> None:
        super().__init__(message)


class DigestMismatch(RegistryError):
    """A downloaded blob's sha256 is not the digest the manifest promised."""

    def __init__(self, want: str, got: str) -> None:
        super().__init__(f"digest mismatch, file must be downloaded again: want {want}, got {got}")


class TransferFailed(RegistryError):
    """The connection failed or stalled; worth another try from where it stopped."""


# Every httpx exception a request or a response stream can raise, most specific first. The
# words lead with what happened, so the message a user sees names the fault.
HTTPX_ERRORS: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectTimeout, "timed out connecting to the registry"),
    (httpx.ReadTimeout, "the registry stopped sending (stalled)"),
    (httpx.WriteTimeout, "timed out sending to the registry"),
    (httpx.PoolTimeout, "no connection to the registry became free"),
    (httpx.ConnectError, "could not connect to the registry"),
    (httpx.ReadError, "reading from the registry failed"),
    (httpx.WriteError, "sending to the registry failed"),
    (httpx.CloseError, "closing the registry connection failed"),
    (httpx.RemoteProtocolError, "the registry broke the HTTP protocol"),
    (httpx.LocalProtocolError, "a request to the registry was malformed"),
    (httpx.ProxyError, "the proxy to the registry failed"),
    (httpx.UnsupportedProtocol, "unsupported registry URL"),
    (httpx.DecodingError, "the registry's answer could not be decoded"),
    (httpx.TooManyRedirects, "the registry redirected too many times"),
    (httpx.TimeoutException, "a request to the registry timed out"),
    (httpx.NetworkError, "the network to the registry failed"),
    (httpx.ProtocolError, "the registry broke the HTTP protocol"),
    (httpx.TransportError, "the connection to the registry failed"),
    (httpx.HTTPStatusError, "the registry answered with an error"),
    (httpx.RequestError, "a request to the registry failed"),
    (httpx.HTTPError, "a request to the registry failed"),
)


def transfer_error(exc: httpx.HTTPError) -> TransferFailed:
    """The pollama error for an httpx exception: the first matching row of the table."""
    for kind, words in HTTPX_ERRORS:
        if isinstance(exc, kind):
            return TransferFailed(f"{words}: {exc}" if str(exc) else words)
    raise AssertionError("HTTPX_ERRORS ends with httpx.HTTPError")  # pragma: no cover


@contextmanager
def map_httpx_errors() -> Iterator[None]:
    """Raise httpx's errors from the block as `TransferFailed`, chained to the original."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise transfer_error(exc) from exc


def status_error(status: int, body: str) -> RegistryError:
    """The error for a failed status, in Ollama's words (`makeRequestWithRetry`); a busy or
    failing registry (408, 429, 5xx) is `TransferFailed`, worth another try."""
    if status in (408, 429) or status >= 500:
        return TransferFailed(f"{status}: {body.strip()}")
    if status == 404:
        return RegistryNotFound()
    if status == 401:
        return Unauthorized()
    return RegistryError(f"{status}: {body.strip()}")
