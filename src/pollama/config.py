"""Environment variables and their defaults, in one place (Ollama's `envconfig`).

Every `OLLAMA_*` variable pollama reads has one accessor here; nothing else in the package
reads the environment. Values are trimmed of whitespace and quotes, as Ollama's `Var` does.
`as_map()` describes them for `pollama serve --help` and the README.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORT = 11434


def _var(name: str) -> str:
    return os.environ.get(name, "").strip().strip("\"'")


@dataclass(frozen=True)
class Host:
    """Where the server listens and the client connects."""

    scheme: str
    host: str
    port: int
    path: str = ""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def host() -> Host:
    """`OLLAMA_HOST`, parsed as Ollama does: bare host -> port 11434, http -> 80, https -> 443."""
    raw = _var("OLLAMA_HOST") or "127.0.0.1"
    scheme, sep, rest = raw.partition("://")
    if not sep:
        scheme, rest = "http", raw
    default_port = DEFAULT_PORT
    if sep and scheme == "http":
        default_port = 80
    elif scheme == "https":
        default_port = 443
    parts = urlsplit(f"//{rest}")
    try:
        port = parts.port or default_port
    except ValueError:
        port = DEFAULT_PORT
    return Host(scheme, parts.hostname or "127.0.0.1", port, parts.path.rstrip("/"))


def models_dir() -> Path:
    """`OLLAMA_MODELS`: the model store, `~/.ollama/models` by default."""
    value = _var("OLLAMA_MODELS")
    return Path(value).expanduser() if value else Path.home() / ".ollama" / "models"


def keep_alive() -> str:
    """`OLLAMA_KEEP_ALIVE`: how long a model stays loaded after its last request."""
    return _var("OLLAMA_KEEP_ALIVE") or "5m"


def _int(name: str, default: int) -> int:
    value = _var(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return default


def context_length() -> int:
    """`OLLAMA_CONTEXT_LENGTH`: the default `num_ctx` (4096 on a CPU machine, as Ollama's)."""
    return _int("OLLAMA_CONTEXT_LENGTH", 0) or 4096


def num_parallel() -> int:
    """`OLLAMA_NUM_PARALLEL`: sequences decoded together per model.

    Ollama defaults to 1. pollama defaults to 4: on a 2-core CPU llama.cpp's batched decode
    of 4 streams gives about 1.6x the throughput of one, and a slot costs only its KV cache.
    """
    return max(1, _int("OLLAMA_NUM_PARALLEL", 0) or 4)


KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")


def flash_attention() -> str:
    """`OLLAMA_FLASH_ATTENTION`: "on" (1, true), "off" (0, false) or, unset, "auto" (llama.cpp
    decides: on where the backend supports it, as llama-server's default)."""
    value = _var("OLLAMA_FLASH_ATTENTION").lower()
    if value in {"1", "true", "on"}:
        return "on"
    if value in {"0", "false", "off"}:
        return "off"
    return "auto"


def kv_cache_type() -> str:
    """`OLLAMA_KV_CACHE_TYPE`: f16 (default), q8_0 (about half the memory) or q4_0 (about a
    quarter); any other value means f16. Quantized caches need flash attention, so with
    `OLLAMA_FLASH_ATTENTION=0` they fall back to f16, as in Ollama."""
    value = _var("OLLAMA_KV_CACHE_TYPE").lower()
    if value not in KV_CACHE_TYPES or flash_attention() == "off":
        return "f16"
    return value


def max_loaded_models() -> int:
    """`OLLAMA_MAX_LOADED_MODELS`: 0 means 3 (3 per GPU; a CPU counts as one)."""
    return _int("OLLAMA_MAX_LOADED_MODELS", 0) or 3


def max_queue() -> int:
    """`OLLAMA_MAX_QUEUE`: requests waiting for a runner before the server answers 503."""
    return _int("OLLAMA_MAX_QUEUE", 512) or 512


def origins() -> list[str]:
    """`OLLAMA_ORIGINS` plus the local origins Ollama always allows."""
    extra = [o.strip() for o in _var("OLLAMA_ORIGINS").split(",") if o.strip()]
    local = []
    for h in ("localhost", "127.0.0.1", "0.0.0.0"):
        local += [f"http://{h}", f"https://{h}", f"http://{h}:*", f"https://{h}:*"]
    return [
        *extra,
        *local,
        "app://*",
        "file://*",
        "tauri://*",
        "vscode-webview://*",
        "vscode-file://*",
    ]


def debug() -> bool:
    """`OLLAMA_DEBUG`: log at debug level."""
    return _var("OLLAMA_DEBUG").lower() in {"1", "true", "2"}


def noprune() -> bool:
    """`OLLAMA_NOPRUNE`: keep unreferenced blobs."""
    return _var("OLLAMA_NOPRUNE").lower() in {"1", "true"}


def load_timeout() -> str:
    """`OLLAMA_LOAD_TIMEOUT`: how long a model load may stall."""
    return _var("OLLAMA_LOAD_TIMEOUT") or "5m"


def nohistory() -> bool:
    """`OLLAMA_NOHISTORY`: the interactive `run` keeps no history file."""
    return _var("OLLAMA_NOHISTORY").lower() in {"1", "true"}


def no_peers() -> bool:
    """`OLLAMA_NO_PEERS`: do not serve the model store to peers under `/v2/` (pollama's own)."""
    return _var("OLLAMA_NO_PEERS").lower() in {"1", "true"}


def history_file() -> Path:
    """Where the interactive `run` keeps its line history, as Ollama: `~/.ollama/history`."""
    return Path.home() / ".ollama" / "history"


_SPEED = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmg]?)(i?)b?(?:/s)?$", re.IGNORECASE)


def max_download_speed() -> int:
    """`OLLAMA_MAX_DOWNLOAD_SPEED`: bytes a second all pulls together may take (0: no limit).

    A number of bytes, or with a unit: `500K`, `10MB`, `1.5G` (powers of 1000), `10MiB`
    (powers of 1024); a trailing `/s` is allowed. Anything else means no limit.
    """
    match = _SPEED.match(_var("OLLAMA_MAX_DOWNLOAD_SPEED"))
    if not match:
        return 0
    number, prefix, binary = match.groups()
    base = 1024 if binary else 1000
    return int(float(number) * base ** " kmg".index(prefix.lower() or " "))


def signing_key_path() -> Path:
    """The ed25519 key registry challenges are signed with (Ollama's `~/.ollama/id_ed25519`)."""
    return Path.home() / ".ollama" / "id_ed25519"


def docker_config_path() -> Path:
    """Docker's credentials file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`."""
    folder = _var("DOCKER_CONFIG")
    return (Path(folder).expanduser() if folder else Path.home() / ".docker") / "config.json"


def registry_credentials() -> tuple[str, str, str]:
    """(`OLLAMA_REGISTRY_USERNAME`, `OLLAMA_REGISTRY_PASSWORD`, `OLLAMA_REGISTRY_TOKEN`): used
    for registries `~/.docker/config.json` has no entry for."""
    return (
        _var("OLLAMA_REGISTRY_USERNAME"),
        _var("OLLAMA_REGISTRY_PASSWORD"),
        _var("OLLAMA_REGISTRY_TOKEN"),
    )


def as_map() -> list[tuple[str, str, str]]:
    """(name, current value, help) for every variable, for `serve --help` and the README."""
    return [
        ("OLLAMA_DEBUG", str(debug()), "Show additional debug information (e.g. OLLAMA_DEBUG=1)"),
        ("OLLAMA_HOST", host().url, "IP Address for the pollama server (default 127.0.0.1:11434)"),
        ("OLLAMA_CONTEXT_LENGTH", str(context_length()), "Context length to use (default 4096)"),
        ("OLLAMA_KEEP_ALIVE", keep_alive(), "Duration models stay loaded (default 5m)"),
        ("OLLAMA_MAX_LOADED_MODELS", str(max_loaded_models()), "Maximum loaded models"),
        ("OLLAMA_MAX_QUEUE", str(max_queue()), "Maximum number of queued requests"),
        ("OLLAMA_MODELS", str(models_dir()), "The path to the models directory"),
        ("OLLAMA_NUM_PARALLEL", str(num_parallel()), "Maximum parallel requests per model"),
        ("OLLAMA_FLASH_ATTENTION", flash_attention(), "Flash attention: 1 on, 0 off, unset auto"),
        ("OLLAMA_KV_CACHE_TYPE", kv_cache_type(), "KV cache type: f16, q8_0 or q4_0"),
        ("OLLAMA_NOPRUNE", str(noprune()), "Do not prune model blobs on startup"),
        ("OLLAMA_ORIGINS", ",".join(origins()), "A comma separated list of allowed origins"),
        ("OLLAMA_LOAD_TIMEOUT", load_timeout(), "How long to allow model loads to stall"),
        ("OLLAMA_NOHISTORY", str(nohistory()), "Do not preserve readline history"),
        (
            "OLLAMA_MAX_DOWNLOAD_SPEED",
            str(max_download_speed()),
            "Limit pulls to this many bytes a second, e.g. 10MB (default: no limit)",
        ),
        ("OLLAMA_REGISTRY_USERNAME", registry_credentials()[0], "Registry user for pull/push"),
        ("OLLAMA_REGISTRY_PASSWORD", "***" if registry_credentials()[1] else "", "Its password"),
        ("OLLAMA_REGISTRY_TOKEN", "***" if registry_credentials()[2] else "", "A bearer token"),
        ("OLLAMA_NO_PEERS", str(no_peers()), "Do not serve models to peers under /v2/"),
    ]
