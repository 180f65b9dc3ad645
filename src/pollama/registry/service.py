"""The registry side of a server: one client, one download table, one bandwidth budget.

`Registry` is what the `/api/pull` and `/api/push` routes call. It lives on `app.state` for
the server's lifetime, so downloads are shared between requests and outlive any one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from pollama import config
from pollama.registry.auth import Authenticator, Credentials, CredentialStore
from pollama.registry.client import RegistryClient
from pollama.registry.download import BlobDownload, DownloadSettings
from pollama.registry.keys import SigningKey
from pollama.registry.names import Repository
from pollama.registry.progress import Progress
from pollama.registry.pull import pull
from pollama.registry.push import UploadSettings, push
from pollama.registry.throttle import Throttle
from pollama.registry.transfers import Transfers
from pollama.store import Layer, ModelName, Store, normalize_digest


@dataclass(frozen=True)
class RegistrySettings:
    """Everything about transfers a test may want smaller or faster than the defaults."""

    download: DownloadSettings = field(default_factory=DownloadSettings)
    upload: UploadSettings = field(default_factory=UploadSettings)
    stall_s: float = 30.0
    max_download_speed: int = 0


class Registry:
    """Pulls into and pushes from one store (see the module doc)."""

    def __init__(
        self,
        store: Store,
        *,
        key_path: Path,
        credentials: CredentialStore,
        settings: RegistrySettings | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or RegistrySettings()
        self.key = SigningKey(key_path)
        self.client = RegistryClient(
            Authenticator(credentials, self.key), stall_s=self.settings.stall_s
        )
        self.transfers = Transfers()
        self.throttle = Throttle(self.settings.max_download_speed)

    @classmethod
    def from_config(cls, store: Store) -> Registry:
        """The registry of `pollama serve`: keys, credentials and speed from the environment."""
        username, password, token = config.registry_credentials()
        fallback = Credentials(username, password, token) if username or token else None
        return cls(
            store,
            key_path=config.signing_key_path(),
            credentials=CredentialStore(config.docker_config_path(), fallback),
            settings=RegistrySettings(max_download_speed=config.max_download_speed()),
        )

    def pull(self, name: ModelName, *, insecure: bool = False) -> AsyncIterator[Progress]:
        return pull(
            self.client, self.store, self.transfers, self._download, name, insecure=insecure
        )

    def push(self, name: ModelName, *, insecure: bool = False) -> AsyncIterator[Progress]:
        return push(self.client, self.store, name, insecure=insecure, settings=self.settings.upload)

    def _download(self, repo: Repository, layer: Layer) -> BlobDownload:
        return BlobDownload(
            self.client,
            self.store,
            repo,
            normalize_digest(layer.digest),
            layer.size,
            throttle=self.throttle,
            settings=self.settings.download,
        )

    async def aclose(self) -> None:
        await self.transfers.aclose()  # their threads read through the client
        await self.client.aclose()
