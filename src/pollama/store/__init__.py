"""The model store: names, manifests and blobs in Ollama's on-disk layout."""

from __future__ import annotations

from pollama.store.blobs import normalize_digest
from pollama.store.manifest import Layer, Manifest
from pollama.store.model import Model
from pollama.store.name import ModelName
from pollama.store.store import Store

__all__ = ["Layer", "Manifest", "Model", "ModelName", "Store", "normalize_digest"]
