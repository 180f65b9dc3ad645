"""Why a GGUF failed to load, when it is one of the layouts only Ollama's engine reads.

Ollama's library ships some models in layouts of its own, which its patched llama.cpp (and
its Go engine) load and stock llama.cpp refuses: gemma3 and qwen3.5 with the vision encoder
packed into the model file, qwen3.5 with three rope sections where llama.cpp reads four,
gpt-oss under the architecture name `gptoss`. llama.cpp's own words for these ("wrong number
of tensors; expected 883, got 434") do not say what is wrong with the file, or what to do.

The header is read only after a load has failed, so loads that work pay nothing for it
(walking a 150k-token vocabulary takes most of a second). The explanation comes first;
llama.cpp's reason (or the runner's exit status, had llama.cpp crashed) is kept after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pollama.errors import PollamaError
from pollama.gguf import GGUFInfo, read_gguf

log = logging.getLogger(__name__)

# Tensors Ollama packs beside the text weights, by name prefix, and what they are.
_BUNDLED = {
    "v.": "vision encoder",
    "mm.": "vision projector",
    "a.": "audio encoder",
    "mtp.": "multi-token prediction",
}
# Architectures Ollama names differently from llama.cpp: Ollama's name -> llama.cpp's.
_RENAMED = {"gptoss": "gpt-oss"}
_FOUR_ROPE_SECTIONS = ("qwen35", "qwen35moe")


def _renamed_architecture(info: GGUFInfo) -> str | None:
    theirs = _RENAMED.get(info.architecture)
    if theirs is None:
        return None
    return f"its architecture is '{info.architecture}', which llama.cpp calls '{theirs}'"


def _bundled_tensors(info: GGUFInfo) -> str | None:
    if info.architecture == "clip":  # a projector file of its own: llama.cpp says so itself
        return None
    found = {prefix: sum(t.name.startswith(prefix) for t in info.tensors) for prefix in _BUNDLED}
    found = {prefix: count for prefix, count in found.items() if count}
    if not found:
        return None
    kinds = " and ".join(_BUNDLED[prefix] for prefix in found)
    names = ", ".join(f"{prefix}*" for prefix in found)
    return (
        f"the model file also holds the {kinds} ({sum(found.values())} tensors named "
        f"{names}), which llama.cpp expects in a separate projector file"
    )


def _short_rope_sections(info: GGUFInfo) -> str | None:
    if info.architecture not in _FOUR_ROPE_SECTIONS:
        return None
    sections = info.metadata.get(f"{info.architecture}.rope.dimension_sections")
    if not isinstance(sections, list) or len(sections) >= 4:
        return None
    return f"it has {len(sections)} rope.dimension_sections where llama.cpp reads 4"


_LAYOUTS: tuple[Callable[[GGUFInfo], str | None], ...] = (
    _renamed_architecture,
    _bundled_tensors,
    _short_rope_sections,
)


def ollama_layout(path: Path) -> tuple[str, str] | None:
    """(architecture, what makes it so) if the GGUF at `path` is one only Ollama's engine
    loads, else None."""
    try:
        info = read_gguf(path)
    except (PollamaError, OSError, ValueError) as exc:
        log.debug("could not read the GGUF header of %s: %s", path, exc)
        return None
    details = [detail for layout in _LAYOUTS if (detail := layout(info))]
    return (info.architecture, "; ".join(details)) if details else None


def explain_load_failure(path: Path, reason: str) -> str:
    """`reason`, with the cause in front when the file is in one of Ollama's own layouts."""
    found = ollama_layout(path)
    if found is None:
        return reason
    arch, layout = found
    return (
        f"this {arch} GGUF is in a layout only Ollama's patched llama.cpp loads ({layout}); "
        f"pollama runs stock llama.cpp, so use a GGUF converted by llama.cpp instead ({reason})"
    )
