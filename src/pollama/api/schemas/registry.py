"""Wire types of `/api/pull` and `/api/push`, as `api.PullRequest` and `api.PushRequest`."""

from __future__ import annotations

from pollama.api.schemas.base import RequestModel


class PullRequest(RequestModel):
    """The request passed to `Client.Pull`.

    `username` and `password` exist in Ollama's type, which ignores them; pollama refuses a
    request that sets them (credentials come from `~/.docker/config.json` or the environment).
    """

    model: str = ""
    # Name is deprecated, see Model.
    name: str = ""
    insecure: bool = False
    username: str = ""
    password: str = ""
    stream: bool | None = None

    @property
    def model_name(self) -> str:
        return self.model or self.name


class PushRequest(PullRequest):
    """The request passed to `Client.Push` (the same fields as a pull)."""
