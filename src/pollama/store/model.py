"""A model as the rest of pollama sees it: the manifest's layers, read and typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pollama.gguf import read_metadata
from pollama.store.name import ModelName


@dataclass(frozen=True)
class Model:
    """Everything a manifest says about one model."""

    name: ModelName
    digest: str
    size: int
    modified_at: datetime
    model_path: Path | None = None
    adapters: tuple[Path, ...] = ()
    projectors: tuple[Path, ...] = ()
    draft_path: Path | None = None
    template: str | None = None
    system: str | None = None
    license: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    parent_model: str = ""

    @property
    def short_name(self) -> str:
        return self.name.display_shortest()

    def gguf_metadata(self) -> dict[str, Any]:
        return read_metadata(self.model_path) if self.model_path else {}
