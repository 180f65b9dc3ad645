"""Model names, parsed and validated as Ollama's `types/model/name.go` does.

`ParseNameBare` cuts at the last separators (so `host:port/ns/model:tag` works): the tag at
the last `:` if it comes after the last `/`, then the model, the namespace, and what is left is
the host (minus any `scheme://`). A separator with nothing beside it promises a part that is
then `!MISSING!`, which never validates. Every part must then match:

    host  := [A-Za-z0-9_] [A-Za-z0-9_.:-]{0,349}
    ns    := [A-Za-z0-9_] [A-Za-z0-9_-]{0,79}
    model := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,79}
    tag   := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,79}

Defaults are `registry.ollama.ai`, `library` and `latest`. The character sets keep every part
a single safe path component: no `/`, no leading `.`, nothing outside ASCII. (Ollama's newest
`kind` part, `ns/skill/model`, is not supported.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from pollama.errors import InvalidModelName

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
# What a part promised by a separator but left empty becomes: never valid.
MISSING_PART = "!MISSING!"

_PARTS = {
    "host": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}"),
    "namespace": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,79}"),
    "model": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}"),
    "tag": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}"),
}


@dataclass(frozen=True)
class ModelName:
    """A fully qualified model name: host, namespace, model and tag."""

    host: str
    namespace: str
    model: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> ModelName:
        """Parse `text` as `ParseName` does, filling defaults; `InvalidModelName` unless every
        part is valid (the check `IsValid` makes)."""
        bare = _parse_bare(text)
        name = cls(
            bare["host"] or DEFAULT_HOST,
            bare["namespace"] or DEFAULT_NAMESPACE,
            bare["model"],
            bare["tag"] or DEFAULT_TAG,
        )
        if not name.is_valid():
            raise InvalidModelName()
        return name

    def is_valid(self) -> bool:
        return all(pattern.fullmatch(getattr(self, part)) for part, pattern in _PARTS.items())

    def __str__(self) -> str:
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    def display_shortest(self) -> str:
        """`model:tag`, `ns/model:tag` or `host/ns/model:tag`, as Ollama prints names."""
        if self.host.lower() != DEFAULT_HOST:
            return str(self)
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def path(self) -> PurePosixPath:
        """The manifest's path below `manifests/`."""
        return PurePosixPath(self.host, self.namespace, self.model, self.tag)

    def matches(self, other: ModelName) -> bool:
        """Case-insensitive equality, as Ollama looks up existing models."""
        return str(self).lower() == str(other).lower()

    @classmethod
    def from_path(cls, parts: tuple[str, ...]) -> ModelName | None:
        """The name of a manifest at `manifests/<parts>` (`ParseNameFromFilepath`), or None
        unless it is exactly four valid parts."""
        if len(parts) != 4:
            return None
        name = cls(*parts)
        return name if name.is_valid() else None


def _cut_promised(text: str, sep: str) -> tuple[str, str, bool]:
    """Cut at the last `sep`; an empty side of a present separator becomes `!MISSING!`."""
    index = text.rfind(sep)
    if index < 0:
        return text, "", False
    return text[:index] or MISSING_PART, text[index + len(sep) :] or MISSING_PART, True


def _parse_bare(text: str) -> dict[str, str]:
    """`ParseNameBare`: split at the last separators, no defaults, no validation."""
    parts = {"host": "", "namespace": "", "model": "", "tag": ""}
    if text.rfind(":") > text.rfind("/"):
        text, parts["tag"], _ = _cut_promised(text, ":")
    text, parts["model"], promised = _cut_promised(text, "/")
    if not promised:
        parts["model"] = text
        return parts
    text, parts["namespace"], promised = _cut_promised(text, "/")
    if not promised:
        parts["namespace"] = text
        return parts
    scheme, sep, host = text.partition("://")
    parts["host"] = host if sep else scheme
    return parts
