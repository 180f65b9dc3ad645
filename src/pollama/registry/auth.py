"""Answering a registry's `WWW-Authenticate` challenge.

Three ways in, tried in this order for the registry's host:

1. credentials of the kind container tools use: `~/.docker/config.json` `auths` (`auth` =
   base64 `user:password`, or `username`/`password`, or a `registrytoken`), else
   `OLLAMA_REGISTRY_USERNAME`/`OLLAMA_REGISTRY_PASSWORD` or `OLLAMA_REGISTRY_TOKEN`. A Basic
   challenge is answered with them directly; a Bearer challenge by asking the realm for a
   token with them (the Docker token flow);
2. otherwise, a Bearer challenge is answered as Ollama answers it: the token URL (realm plus
   `service`, each `scope`, `ts`, `nonce`, encoded as Go's `url.Values.Encode`) is signed with
   `~/.ollama/id_ed25519`; the realm must be on the registry's own host, so the signature is
   never shown to anyone else;
3. with neither, a Basic challenge fails with a clear `unauthorized` error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pollama.registry.errors import RegistryError, Unauthorized, map_httpx_errors
from pollama.registry.keys import SigningKey
from pollama.registry.names import with_query

log = logging.getLogger(__name__)

_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Challenge:
    """A parsed `WWW-Authenticate` header."""

    scheme: str  # lower case: "bearer" or "basic"
    realm: str = ""
    service: str = ""
    scope: str = ""

    @classmethod
    def parse(cls, header: str) -> Challenge:
        scheme, _, rest = header.strip().partition(" ")
        params = dict(_PARAM.findall(rest))
        return cls(
            scheme.lower(),
            params.get("realm", ""),
            params.get("service", ""),
            params.get("scope", ""),
        )

    def token_url(self, *, now: float | None = None, nonce: str | None = None) -> str:
        """The realm with Ollama's query, as `registryChallenge.URL` builds and signs it."""
        values = [("service", self.service)]
        values += [("scope", scope) for scope in self.scope.split(" ")]
        values.append(("ts", str(int(time.time() if now is None else now))))
        if nonce is None:
            nonce = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
        values.append(("nonce", nonce))
        return with_query(self.realm, values)


@dataclass(frozen=True)
class Credentials:
    """A username and password, or a ready bearer token, for one registry."""

    username: str = ""
    password: str = ""
    token: str = ""


def _host_of(key: str) -> str:
    """`https://host:5000/v1/` and `host:5000` both name the host `host:5000`."""
    return urlsplit(key if "://" in key else f"//{key}").netloc.lower()


class CredentialStore:
    """Credentials by registry host: Docker's config file first, then one set from the env."""

    def __init__(self, docker_config: Path | None, fallback: Credentials | None = None) -> None:
        self.docker_config = docker_config
        self.fallback = fallback

    def for_host(self, host: str) -> Credentials | None:
        return self._from_docker_config(host.lower()) or self.fallback

    def _from_docker_config(self, host: str) -> Credentials | None:
        if self.docker_config is None:
            return None
        try:
            auths = json.loads(self.docker_config.read_text()).get("auths") or {}
        except (OSError, ValueError, AttributeError):
            return None
        for key, entry in auths.items():
            if _host_of(key) != host or not isinstance(entry, dict):
                continue
            if entry.get("registrytoken"):
                return Credentials(token=str(entry["registrytoken"]))
            if entry.get("auth"):
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                return Credentials(user, password)
            if entry.get("username"):
                return Credentials(str(entry["username"]), str(entry.get("password", "")))
        return None


class Authenticator:
    """Turns a challenge into the `Authorization` value that answers it."""

    def __init__(self, credentials: CredentialStore, key: SigningKey) -> None:
        self.credentials = credentials
        self.key = key

    async def answer(self, http: httpx.AsyncClient, header: str, host: str) -> str:
        challenge = Challenge.parse(header)
        creds = self.credentials.for_host(host)
        if creds and creds.token:
            return f"Bearer {creds.token}"
        if challenge.scheme == "basic":
            if not (creds and creds.username):
                raise Unauthorized(
                    f"unauthorized: access denied: {host} wants a username and password; "
                    "log in with `docker login` (~/.docker/config.json) or set "
                    "OLLAMA_REGISTRY_USERNAME and OLLAMA_REGISTRY_PASSWORD"
                )
            return _basic(creds)
        if challenge.scheme != "bearer" or not challenge.realm:
            raise Unauthorized()
        url = challenge.token_url()
        if creds and creds.username:
            headers = {"Authorization": _basic(creds)}
        else:
            realm_host = urlsplit(url).netloc
            if realm_host != host:
                raise RegistryError(
                    f'realm host "{realm_host}" does not match original host "{host}"'
                )
            empty = base64.b64encode(hashlib.sha256(b"").hexdigest().encode()).decode()
            headers = {"Authorization": self.key.sign(f"GET,{url},{empty}".encode())}
        return f"Bearer {await _fetch_token(http, url, headers)}"


def _basic(creds: Credentials) -> str:
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


async def _fetch_token(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> str:
    with map_httpx_errors():
        response = await http.get(url, headers=headers)
    if response.status_code in (401, 403):
        raise Unauthorized()
    if response.status_code >= 400:
        raise RegistryError(f"{response.status_code}: {response.text.strip()}")
    try:
        body = response.json()
        token = body.get("token") or body.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise RegistryError(f"the token endpoint {url.split('?')[0]} sent no token")
    return token
