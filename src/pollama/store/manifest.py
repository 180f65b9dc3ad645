"""Manifests and layers: Ollama's OCI image manifest, serialised as Go writes it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pollama.store import gojson

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"

_IMAGE = "application/vnd.ollama.image."
MODEL = _IMAGE + "model"
PROJECTOR = _IMAGE + "projector"
ADAPTER = _IMAGE + "adapter"
DRAFT = _IMAGE + "draft"  # a small model of the same vocabulary, for speculative decoding
TEMPLATE = _IMAGE + "template"
PROMPT = _IMAGE + "prompt"  # legacy name of TEMPLATE
SYSTEM = _IMAGE + "system"
PARAMS = _IMAGE + "params"
MESSAGES = _IMAGE + "messages"
LICENSE = _IMAGE + "license"


@dataclass(frozen=True)
class Layer:
    """A blob the manifest points at (`from` and `name` are omitted when empty)."""

    media_type: str
    digest: str
    size: int
    from_: str = ""
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.from_:
            out["from"] = self.from_
        if self.name:
            out["name"] = self.name
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layer:
        return cls(
            media_type=str(data.get("mediaType", "")),
            digest=str(data.get("digest", "")),
            size=int(data.get("size", 0)),
            from_=str(data.get("from", "") or ""),
            name=str(data.get("name", "") or ""),
        )


@dataclass(frozen=True)
class Manifest:
    """A model: its config blob and its layers, in order."""

    config: Layer
    layers: tuple[Layer, ...] = field(default_factory=tuple)

    def to_bytes(self) -> bytes:
        """The bytes `WriteManifest` writes (compact, HTML-escaped, trailing newline)."""
        return gojson.encode_line(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": self.config.to_json(),
                "layers": [layer.to_json() for layer in self.layers],
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        return cls(
            config=Layer.from_json(data.get("config") or {}),
            layers=tuple(Layer.from_json(layer) for layer in data.get("layers") or []),
        )

    def digests(self) -> set[str]:
        """Every blob this manifest references, config included."""
        return {self.config.digest, *(layer.digest for layer in self.layers)}

    @property
    def size(self) -> int:
        return self.config.size + sum(layer.size for layer in self.layers)


def config_json(
    *,
    model_format: str,
    model_family: str,
    model_families: list[str] | None,
    model_type: str,
    file_type: str,
    diff_ids: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The config blob's object in `model.ConfigV2` field order.

    With `diff_ids` (the layer digests) it ends in `rootfs`, as every Ollama release up to
    2026-08 writes it and as the digests in Ollama's create tests pin it; without, it is the
    newest, rootfs-less form. Readers accept both.
    """
    out: dict[str, Any] = {
        "model_format": model_format,
        "model_family": model_family,
        "model_families": model_families,
        "model_type": model_type,
        "file_type": file_type,
    }
    for key in ("renderer", "parser", "requires", "capabilities", "context_length"):
        if extra and extra.get(key):
            out[key] = extra[key]
    out["architecture"] = "amd64"
    out["os"] = "linux"
    if diff_ids is not None:
        out["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    return out
