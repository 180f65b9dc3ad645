"""Wire types of model management (`/api/create|show|tags|copy|delete|blobs`), as in `api/types.go`.

Field names, JSON keys and omit-when-empty follow types.go: `None` fields are left out when a
reply is written (`pollama.api.streaming.dump`), as Go's `omitempty` leaves out zero values;
fields Go always writes default to their zero value instead of `None`. Requests ignore unknown
fields and log each unknown name once, because clients send fields from newer or older
Ollamas. This module imports nothing from `engine/` or `store/`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from pollama.api.schemas.generate import Message

log = logging.getLogger(__name__)

_logged_unknown: set[tuple[str, str]] = set()


def go_time(value: datetime) -> str:
    """`value` as Go marshals a `time.Time`: RFC 3339, fraction without trailing zeros, `Z` for UTC.

    A naive datetime is taken as local time, as Ollama writes `modified_at` in local time.
    """
    if value.tzinfo is None:
        value = value.astimezone()
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{value.microsecond:06d}".rstrip("0")
    if fraction:
        text += "." + fraction
    offset = value.strftime("%z")
    if not offset or offset == "+0000":
        return text + "Z"
    return f"{text}{offset[:3]}:{offset[3:5]}"


# A timestamp written the way Go writes one.
GoTime = Annotated[datetime, PlainSerializer(go_time, return_type=str)]


class _Request(BaseModel):
    """A request body: unknown fields are ignored, and each unknown name is logged once."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _note_unknown(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values()}
            for key in sorted(k for k in data if k not in known):
                if (cls.__name__, key) not in _logged_unknown:
                    _logged_unknown.add((cls.__name__, key))
                    log.info("%s: field %r present but ignored", cls.__name__, key)
        return data


class _Reply(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class CreateRequest(_Request):
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
    # From is the name of an existing model to build on.
    from_: str = Field("", alias="from")
    # Files maps file names in the request to the digests of blobs uploaded beforehand.
    files: dict[str, str] | None = None
    # Adapters maps LoRA adapter file names to blob digests.
    adapters: dict[str, str] | None = None
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


class ProgressResponse(_Reply):
    """A progress line of create, pull or push."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


class ShowRequest(_Request):
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


class ModelDetails(_Reply):
    """Details about a model: its format, family, size and quantization."""

    parent_model: str = ""
    format: str = ""
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""


class Tensor(_Reply):
    """One tensor of the GGUF (`show` with `verbose`)."""

    name: str
    type: str
    shape: list[int]


class ShowResponse(_Reply):
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


class ListModelResponse(_Reply):
    """A single model description in `ListResponse`."""

    name: str
    model: str
    modified_at: GoTime
    size: int
    digest: str
    details: ModelDetails = Field(default_factory=ModelDetails)
    capabilities: list[str] | None = None


class ListResponse(_Reply):
    """The response from `Client.List`: newest first."""

    models: list[ListModelResponse] = Field(default_factory=list)


class CopyRequest(_Request):
    """The request passed to `Client.Copy`."""

    source: str = ""
    destination: str = ""


class DeleteRequest(_Request):
    """The request passed to `Client.Delete`."""

    model: str = ""
    # Name is deprecated, see Model.
    name: str = ""

    @property
    def model_name(self) -> str:
        return self.model or self.name


class VersionResponse(_Reply):
    """`GET /api/version`."""

    version: str
