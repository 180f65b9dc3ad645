"""What every wire type shares: Go's time format, and how requests treat unknown fields.

Requests ignore unknown fields and log each unknown name once, because clients send fields
from newer or older Ollamas (and from OpenAI's and Anthropic's newer APIs). A field a family
defines but pollama cannot honour is declared `Refused`: a value it cannot honour is a 400
that names the field and says why, never silently ignored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError

from pollama import limits

log = logging.getLogger(__name__)

_logged_unknown: set[tuple[str, str]] = set()


def now() -> str:
    """The current UTC time as Go writes `time.Time` (RFC 3339 with a `Z`)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


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


def messages_field() -> Any:
    """The `messages` of a chat request in any family: at most `MAX_MESSAGES` of them."""
    return Field(default_factory=list, max_length=limits.MAX_MESSAGES)


# The error type of a refused field, which the error handlers report as OpenAI's
# `unsupported_parameter` with the field's path as `param`.
REFUSED = "refused"


def refused(why: str, *allowed: object) -> AfterValidator:
    """A field pollama cannot honour: any value but null and the `allowed` ones (those it
    honours already, such as `false` for `background`) is refused, saying `why`.

    Use as `Annotated[<type>, refused("...")]`; `why` must not contain braces.
    """

    def check(value: object) -> object:
        if value is not None and value not in allowed:
            raise PydanticCustomError(REFUSED, why)
        return value

    return AfterValidator(check)


class RequestModel(BaseModel):
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


class ReplyModel(BaseModel):
    """A reply body (aliases such as `from` are accepted by name too)."""

    model_config = ConfigDict(populate_by_name=True)
