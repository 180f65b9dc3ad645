"""The OCI distribution client: names to registry URLs, auth, pull and push."""

from __future__ import annotations

from pollama.registry.errors import (
    DigestMismatch,
    RegistryError,
    RegistryNotFound,
    TransferFailed,
    Unauthorized,
)
from pollama.registry.progress import Progress
from pollama.registry.service import Registry, RegistrySettings

__all__ = [
    "DigestMismatch",
    "Progress",
    "Registry",
    "RegistryError",
    "RegistryNotFound",
    "RegistrySettings",
    "TransferFailed",
    "Unauthorized",
]
