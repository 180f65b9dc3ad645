"""The ed25519 key Ollama signs registry challenges with: `~/.ollama/id_ed25519`.

Created on first use, as `ollama serve` creates it: an OpenSSH private key (mode 0600) and an
`authorized_keys` line in `id_ed25519.pub`. An existing Ollama key is read as it is, so a
user's account on a registry that knows the key keeps working.
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pollama.registry.errors import RegistryError

log = logging.getLogger(__name__)


class SigningKey:
    """The key at `path`, made when first needed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PrivateKey | None = None

    def _load(self) -> Ed25519PrivateKey:
        if self._key is None:
            if not self.path.exists():
                self.create()
            key = serialization.load_ssh_private_key(self.path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise RegistryError(f"{self.path} is not an ed25519 key")
            self._key = key
        return self._key

    def create(self) -> None:
        """Write a new key pair, unless one exists (`initializeKeypair`)."""
        if self.path.exists():
            return
        log.info("creating a new private key: %s", self.path)
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private)
        self.path.with_name(self.path.name + ".pub").write_bytes(public + b"\n")

    def public_key(self) -> str:
        """The base64 SSH wire form of the public key (the middle of its `.pub` line)."""
        line = (
            self._load()
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        )
        return line.split(b" ")[1].decode()

    def sign(self, data: bytes) -> str:
        """`<public key>:<base64 signature>`, the `Authorization` value of Ollama's `auth.Sign`."""
        signature = self._load().sign(data)
        return f"{self.public_key()}:{base64.b64encode(signature).decode()}"
