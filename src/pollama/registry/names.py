"""Where a model lives on its registry: a name turned into the distribution API's URLs.

`registry.ollama.ai/library/llama3.2:latest` is the repository `library/llama3.2` at
`https://registry.ollama.ai`; `hf.co/user/repo:Q4_K_M` is `user/repo` at `https://hf.co`;
`host:5000/ns/model:tag` keeps its port. As in Ollama, a scheme written in the name is ignored
(the name parser drops it) and only `insecure` selects plain HTTP; insecure never means
"skip TLS verification".
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from pollama.store import ModelName


@dataclass(frozen=True)
class Repository:
    """One model's repository on one registry, and the URLs of the endpoints used."""

    host: str
    path: str  # `<namespace>/<model>`, Ollama's `DisplayNamespaceModel`
    tag: str
    insecure: bool = False

    @classmethod
    def of(cls, name: ModelName, *, insecure: bool = False) -> Repository:
        return cls(name.host, f"{name.namespace}/{name.model}", name.tag, insecure)

    @property
    def base_url(self) -> str:
        return f"{'http' if self.insecure else 'https'}://{self.host}"

    def manifest_url(self) -> str:
        return f"{self.base_url}/v2/{self.path}/manifests/{quote(self.tag)}"

    def blob_url(self, digest: str) -> str:
        return f"{self.base_url}/v2/{self.path}/blobs/{digest}"

    def uploads_url(self) -> str:
        return f"{self.base_url}/v2/{self.path}/blobs/uploads/"


def go_query(values: list[tuple[str, str]]) -> str:
    """`url.Values.Encode()`: keys sorted (a key's values kept in order), query-escaped."""
    return "&".join(
        f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}"
        for k, v in sorted(values, key=lambda kv: kv[0])
    )


def with_query(url: str, values: list[tuple[str, str]]) -> str:
    """`url` with `values` added to its query, re-encoded as Go encodes it."""
    parts = urlsplit(url)
    query = go_query([*parse_qsl(parts.query, keep_blank_values=True), *values])
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{query}"
