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
     ├── StoreError (500)             the model store could not be read or written
     └── DistributionError (4xx)      an OCI distribution error of `/v2/` (its spec `code`)
          ├── NameInvalid (400)        NAME_INVALID
          ├── NameUnknown (404)        NAME_UNKNOWN
          ├── ManifestUnknown (404)    MANIFEST_UNKNOWN
          ├── BlobUnknown (404)        BLOB_UNKNOWN
          └── Unsupported (405)        UNSUPPORTED: `/v2/` is served read-only

Handlers raise these and never build error bodies: `pollama.api.errors` renders them in the
shape of the API family that was called (Ollama's `{"error": ...}`, OpenAI's envelope, or
the OCI distribution spec's `{"errors": [{"code", "message"}]}` under `/v2/`).
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


class PromptTooLong(InvalidRequest):
    """A prompt that does not fit the context, with truncation turned off; `remedy` names the
    request's own way to turn it on (the field differs between API families)."""

    def __init__(self, tokens: int, num_ctx: int, remedy: str = "enable truncate") -> None:
        super().__init__(
            f"prompt is {tokens} tokens, larger than num_ctx {num_ctx}; raise num_ctx or {remedy}"
        )
        self.tokens, self.num_ctx = tokens, num_ctx


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


class DistributionError(PollamaError):
    """An error of the OCI distribution API pollama serves to peers under `/v2/`.

    `code` is the spec's error code, which registry clients act on (a `MANIFEST_UNKNOWN` is
    "no such tag", a `NAME_UNKNOWN` "no such repository"); the message is distribution's own.
    """

    code = "UNKNOWN"
    status_code = 400
    default_message = "unknown error"

    def __init__(self, message: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message or self.default_message)
        if status_code is not None:
            self.status_code = status_code


class NameInvalid(DistributionError):
    """The repository is not `<namespace>/<model>` with valid parts."""

    code = "NAME_INVALID"
    default_message = "invalid repository name"


class NameUnknown(DistributionError):
    """No model of the store lives in that repository."""

    code = "NAME_UNKNOWN"
    status_code = 404
    default_message = "repository name not known to registry"


class ManifestUnknown(DistributionError):
    """The repository has no such tag or manifest digest."""

    code = "MANIFEST_UNKNOWN"
    status_code = 404
    default_message = "manifest unknown"


class BlobUnknown(DistributionError):
    """No manifest of the repository references that blob, or it is not on disk."""

    code = "BLOB_UNKNOWN"
    status_code = 404
    default_message = "blob unknown to registry"


class Unsupported(DistributionError):
    """A write (405), or an endpoint pollama does not serve (404): `/v2/` is read-only."""

    code = "UNSUPPORTED"
    status_code = 405
    default_message = "The operation is unsupported."
