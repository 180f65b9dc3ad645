"""Wire types of model management (`/api/create|show|tags|copy|delete|blobs`), as in `api/types.go`.

Field names, JSON keys and omit-when-empty follow types.go: `None` fields are left out when a
reply is written (`pollama.api.streaming.dump`), as Go's `omitempty` leaves out zero values;
fields Go always writes default to their zero value instead of `None`. Requests ignore unknown
fields and log each unknown name once, because clients send fields from newer or older
Ollamas. This module imports nothing from `engine/` or `store/`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pollama.api.schemas.base import GoTime, ReplyModel, RequestModel
from pollama.api.schemas.generate import Message


class CreateRequest(RequestModel):
    """The request passed to `Client.Create`.

    Two forms: the current one names a base (`from`: a model, or `files`: filename -> blob
    digest already uploaded through `/api/blobs`) and overrides (`template`, `system`,
    `parameters`, ...); the old one, which older clients still send, carries the whole
    Modelfile text in `modelfile` (with `path` naming where it came from).
    """

    model: str = ""
    # Name is deprecated, see Model.
    name: str = ""
    stream: bool | None = None
    # Quantize names the type to quantize an F16/F32/BF16 model to (e.g. "q4_K_M").
    quantize: str = ""
    # Quantization is deprecated, see Quantize.
    quantization: str = ""
    # From is the name of an existing model to build on; one not here is pulled first.
    from_: str = Field("", alias="from")
    # Insecure pulls a missing `from` model over plain HTTP (pollama's; Ollama has none).
    insecure: bool = False
    # Files maps file names in the request to the digests of blobs uploaded beforehand.
    files: dict[str, str] | None = None
    # Adapters maps LoRA adapter file names to blob digests.
    adapters: dict[str, str] | None = None
    # DraftFiles maps a draft model's file name to its blob digest (Modelfile DRAFT).
    draft_files: dict[str, str] | None = None
    # DraftQuantize would quantize the draft model; refused for GGUF drafts, as Ollama does.
    draft_quantize: str = ""
    template: str | None = None
    # License is a single license or a list of them.
    license: str | list[str] | None = None
    system: str | None = None
    parameters: dict[str, Any] | None = None
    messages: list[Message] | None = None
    renderer: str | None = None
    parser: str | None = None
    # Requires is the least Ollama version the model needs (a semver such as "0.14.0").
    requires: str | None = None
    # Modelfile is the whole Modelfile text (deprecated form).
    modelfile: str = ""
    # Path is where the Modelfile was read from (deprecated form).
    path: str = ""

    @property
    def model_name(self) -> str:
        """The model to create: `model`, or the deprecated `name`."""
        return self.model or self.name

    @property
    def quantize_type(self) -> str | None:
        """`quantize`, or the deprecated `quantization`; None when neither is set."""
        return self.quantize or self.quantization or None


class ProgressResponse(ReplyModel):
    """A progress line of create, pull or push."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


class ShowRequest(RequestModel):
    """The request passed to `Client.Show`."""

    model: str = ""
    # Name is deprecated, see Model.
    name: str = ""
    # System overrides the model's system prompt in the reply.
    system: str = ""
    # Template is deprecated.
    template: str = ""
    # Verbose returns the full GGUF arrays and the tensor list.
    verbose: bool = False
    # Options are merged over the model's parameters in the reply.
    options: dict[str, Any] | None = None

    @property
    def model_name(self) -> str:
        return self.model or self.name


class ModelDetails(ReplyModel):
    """Details about a model: its format, family, size and quantization."""

    parent_model: str = ""
    format: str = ""
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""


class Tensor(ReplyModel):
    """One tensor of the GGUF (`show` with `verbose`)."""

    name: str
    type: str
    shape: list[int]


class ShowResponse(ReplyModel):
    """The response returned from `Client.Show`."""

    license: str | None = None
    modelfile: str | None = None
    parameters: str | None = None
    template: str | None = None
    system: str | None = None
    details: ModelDetails = Field(default_factory=ModelDetails)
    messages: list[Message] | None = None
    # ModelInfo is the GGUF metadata; always an object (the ollama client requires it).
    model_info: dict[str, Any] = Field(default_factory=dict)
    projector_info: dict[str, Any] | None = None
    tensors: list[Tensor] | None = None
    capabilities: list[str] | None = None
    modified_at: GoTime | None = None


class ListModelResponse(ReplyModel):
    """A single model description in `ListResponse`."""

    name: str
    model: str
    modified_at: GoTime
    size: int
    digest: str
    details: ModelDetails = Field(default_factory=ModelDetails)
    capabilities: list[str] | None = None


class ListResponse(ReplyModel):
    """The response from `Client.List`: newest first."""

    models: list[ListModelResponse] = Field(default_factory=list)


class CopyRequest(RequestModel):
    """The request passed to `Client.Copy`."""

    source: str = ""
    destination: str = ""


class DeleteRequest(RequestModel):
    """The request passed to `Client.Delete`."""

    model: str = ""
    # Name is deprecated, see Model.
    name: str = ""

    @property
    def model_name(self) -> str:
        return self.model or self.name


class VersionResponse(ReplyModel):
    """`GET /api/version`."""

    version: str
