"""What a model can do, decided in one place: Ollama's `Model.Capabilities` and
`CheckCapabilities`.

A capability comes from the model's files (GGUF metadata, projectors, its config) or from the
template pollama renders its prompts with (the Modelfile TEMPLATE, else the GGUF's chat
template), so one is claimed exactly when the template can express it. The store only reads
models; this module, above both the store and the prompt package, joins the two.

`require` refuses a request that needs a capability the model lacks, with Ollama's messages:
the name as requested, quoted, for completion and thinking (`"bert" does not support chat`),
the full name for the rest (`registry.ollama.ai/library/m:latest does not support tools`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Literal

from pollama.errors import MissingCapability
from pollama.prompt import PromptTemplate, TemplateError
from pollama.store.model import Model

log = logging.getLogger(__name__)

Capability = Literal["completion", "tools", "insert", "vision", "embedding", "thinking"]

# Encoder-only architectures: embedding models even without a `pooling_type` key.
_EMBEDDING_ARCHES = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2"})
_THINKING_FAMILIES = frozenset({"gptoss", "gpt-oss"})


def capabilities(model: Model) -> list[str]:
    """The model's capabilities, in Ollama's order (a config may name others, kept as given)."""
    meta = model.gguf_metadata()
    arch = str(meta.get("general.architecture", ""))
    caps: list[str] = []
    if model.model_path is not None:
        embedding = f"{arch}.pooling_type" in meta or arch in _EMBEDDING_ARCHES
        caps.append("embedding" if embedding else "completion")
        if f"{arch}.vision.block_count" in meta:
            caps.append("vision")
    else:
        caps += list(model.config.get("capabilities") or [])
    jinja = meta.get("tokenizer.chat_template")
    template = _template_capabilities(model.template, jinja if isinstance(jinja, str) else None)
    caps += [c for c in ("tools", "insert") if c in template]
    if model.projectors:
        caps.append("vision")
    if "thinking" in template or str(model.config.get("model_family", "")) in _THINKING_FAMILIES:
        caps.append("thinking")
    return list(dict.fromkeys(caps))


@functools.lru_cache(maxsize=64)
def _template_capabilities(go_template: str | None, jinja: str | None) -> frozenset[Capability]:
    """What the template the model renders with can express (parsing costs, so cached)."""
    try:
        tmpl = PromptTemplate.from_model(go_template, jinja)
    except TemplateError as exc:
        log.warning("model template contains errors: %s", exc)
        return frozenset()
    found: dict[Capability, bool] = {
        "tools": tmpl.supports_tools,
        "insert": tmpl.supports_insert,
        "thinking": tmpl.supports_thinking,
    }
    return frozenset(c for c, has in found.items() if has)


def require(
    model: Model, have: Sequence[str], requested: str, needed: Sequence[Capability], *, verb: str
) -> None:
    """Refuse, with Ollama's message, a request needing what the model cannot do (the first
    of `needed` it lacks). `have` is `capabilities(model)`; `requested` is the name the
    request used; `verb` ("generate", "chat") names the completion it asked for."""
    for cap in needed:
        if cap in have:
            continue
        if cap == "completion":
            raise MissingCapability(f'"{requested}" does not support {verb}')
        if cap == "thinking":
            raise MissingCapability(f'"{requested}" does not support thinking')
        raise MissingCapability(f"{model.name} does not support {cap}")
