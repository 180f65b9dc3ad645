"""Model names, parsed and validated as Ollama's `types/model/name.go` does.

Grammar (cuts at the last separators, so `host:port/ns/model:tag` works):

    name  := [[host "/"] namespace "/"] model [":" tag]
    host  := [A-Za-z0-9_] [A-Za-z0-9_.:-]{0,349}
    ns    := [A-Za-z0-9_] [A-Za-z0-9_-]{0,79}
    model := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,79}
    tag   := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,79}

Defaults are `registry.ollama.ai`, `library` and `latest`. The character sets keep every part
a single safe path component: no `/`, no `..` at the start, nothing outside ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from pollama.errors import InvalidModelName

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

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
        """Parse `text`, filling defaults; raise `InvalidModelName` unless every part is valid."""
        rest = text.strip()
        if "://" in rest:
            rest = rest.split("://", 1)[1]
        tag = DEFAULT_TAG
        if rest.rfind(":") > rest.rfind("/"):
            rest, tag = rest.rsplit(":", 1)
        host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
        if "/" in rest:
            rest, model = rest.rsplit("/", 1)
            namespace = rest
            if "/" in rest:
                host, namespace = rest.rsplit("/", 1)
        else:
            model = rest
        name = cls(host, namespace, model, tag)
        for part, pattern in _PARTS.items():
            if not pattern.fullmatch(getattr(name, part)):
                raise InvalidModelName()
        return name

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
        """The name of a manifest at `manifests/<parts>`, or None if it is not a valid one."""
        if len(parts) != 4:
            return None
        try:
            return cls.parse(f"{parts[0]}/{parts[1]}/{parts[2]}:{parts[3]}")
        except InvalidModelName:
            return None
