"""pollama's errors: one small hierarchy, each class carrying its HTTP status.

    PollamaError (500)
     ├── InvalidRequest (400)
     │    ├── InvalidModelName (400)   "invalid model name"
     │    └── MissingCapability (400)  '"m" does not support chat'
     ├── ModelNotFound (404)
     ├── BlobNotFound (404)           'blob "sha256:..." not found'
     ├── Canceled (499)                "request canceled"
     ├── ServerBusy (503)             the admission queue is full
     ├── RunnerCrashed (500)          a runner process died under a request
     └── StoreError (500)             the model store could not be read or written

Handlers raise these and never build error bodies: `pollama.api.errors` renders them in the
shape of the API family that was called (Ollama's `{"error": ...}` or OpenAI's envelope).
"""

from __future__ import annotations


class PollamaError(Exception):
    """Base of every error pollama reports to a client."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(PollamaError):
    """The request is malformed or asks for something impossible."""

    status_code = 400


class InvalidModelName(InvalidRequest):
    """A model name that does not parse as `[host/][namespace/]model[:tag]`."""

    def __init__(self, message: str = "invalid model name") -> None:
        super().__init__(message)


class MissingCapability(InvalidRequest):
    """The model cannot do what was asked (chat on an embedding model, tools, vision...)."""


class ModelNotFound(PollamaError):
    """No model of that name is in the store."""

    status_code = 404


class BlobNotFound(PollamaError):
    """No blob of that digest is in the store (`HEAD /api/blobs/:digest`)."""

    status_code = 404


class Canceled(PollamaError):
    """The client went away before the request was scheduled."""

    status_code = 499

    def __init__(self, message: str = "request canceled") -> None:
        super().__init__(message)


class ServerBusy(PollamaError):
    """The admission queue is full; answered at once rather than after a wait."""

    status_code = 503

    def __init__(
        self,
        message: str = "server busy, please try again.  maximum pending requests exceeded",
    ) -> None:
        super().__init__(message)


class RunnerCrashed(PollamaError):
    """The runner process serving the request exited or stopped answering."""


class StoreError(PollamaError):
    """The model store could not be read or written."""
