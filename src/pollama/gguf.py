"""GGUF metadata for `show`, `create` and the prompt builder, read from the header alone.

The `gguf` package's reader parses every array into numpy and takes seconds on a 151k-token
vocabulary; this reader walks the header once, keeps scalars and short arrays, and records
only the length of long ones (Ollama's `/api/show` prints those as `null` anyway).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pollama.errors import InvalidRequest

GGUF_MAGIC = b"GGUF"
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY, _FLOAT32 = 8, 9, 6
MAX_KEPT_ARRAY = 128

# llama.cpp's `llama_ftype` names, as Ollama's `FileType.String()` prints them.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
}


@dataclass(frozen=True)
class LongArray:
    """An array too long to keep: its length is known, its items are not read."""

    length: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type: int

    @property
    def elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(frozen=True)
class GGUFInfo:
    """The header of a GGUF file: key/values and tensor descriptions."""

    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def parameter_count(self) -> int:
        """Ollama's count: the sum of all tensor element counts."""
        return sum(t.elements for t in self.tensors)

    @property
    def file_type(self) -> str:
        """The quantization name (`Q4_K_M`); `unknown` for ALL_F32 or none, as Ollama says."""
        value = self.metadata.get("general.file_type")
        if not value:
            return "unknown"
        return FILE_TYPES.get(int(value), "unknown")


class _Cursor:
    def __init__(self, data: mmap.mmap | bytes, max_array: int) -> None:
        self.data = data
        self.pos = 0
        self.max_array = max_array

    def unpack(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        raw = bytes(self.data[self.pos : self.pos + length])
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            return self.array()
        if kind not in _SCALARS:
            raise InvalidRequest(f"invalid GGUF value type {kind}")
        if kind == _FLOAT32:  # its shortest spelling, as Go writes a float32: 1e-06
            return float(str(np.float32(self.unpack("<f"))))
        return self.unpack(_SCALARS[kind])

    def array(self) -> Any:
        kind, length = self.unpack("<I"), self.unpack("<Q")
        if length > self.max_array:
            if kind in _SCALARS:
                self.pos += struct.calcsize(_SCALARS[kind]) * length
            else:
                for _ in range(length):
                    self.value(kind)
            return LongArray(length)
        return [self.value(kind) for _ in range(length)]


def _parse(data: mmap.mmap | bytes, max_array: int) -> GGUFInfo:
    cursor = _Cursor(data, max_array)
    if bytes(data[:4]) != GGUF_MAGIC:
        raise InvalidRequest("supplied file was not in GGUF format")
    cursor.pos = 4
    version = cursor.unpack("<I")
    if version < 2:
        raise InvalidRequest(f"unsupported GGUF version {version}")
    n_tensors, n_kv = cursor.unpack("<Q"), cursor.unpack("<Q")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.unpack("<I"))
    tensors = []
    for _ in range(n_tensors):
        name = cursor.string()
        dims = tuple(cursor.unpack("<Q") for _ in range(cursor.unpack("<I")))
        kind = cursor.unpack("<I")
        cursor.unpack("<Q")
        tensors.append(TensorInfo(name, dims, kind))
    return GGUFInfo(metadata, tuple(tensors))


def is_gguf(path: Path) -> bool:
    """Whether `path` starts with the GGUF magic."""
    with path.open("rb") as f:
        return f.read(4) == GGUF_MAGIC


@lru_cache(maxsize=32)
def _read_cached(path: Path, _mtime_ns: int, _size: int, max_array: int) -> GGUFInfo:
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            raise InvalidRequest("supplied file was not in GGUF format")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                return _parse(data, max_array)
            except (struct.error, IndexError, ValueError) as exc:
                raise InvalidRequest(f"invalid GGUF file: {exc}") from exc


def read_gguf(path: Path, *, full_arrays: bool = False) -> GGUFInfo:
    """The header of the GGUF at `path`, cached by path, mtime and size.

    Arrays longer than `MAX_KEPT_ARRAY` come back as `LongArray` unless `full_arrays`.
    """
    stat = path.stat()
    limit = 1 << 62 if full_arrays else MAX_KEPT_ARRAY
    return _read_cached(Path(path), stat.st_mtime_ns, stat.st_size, limit)


def read_metadata(path: Path, *, full_arrays: bool = False) -> dict[str, Any]:
    """The key/values of the GGUF at `path` (long arrays as `LongArray` unless `full_arrays`)."""
    return read_gguf(path, full_arrays=full_arrays).metadata


def human_number(count: int) -> str:
    """Ollama's `format.HumanNumber`: 494032768 -> "494.03M", 7e9 -> "7B"."""
    for scale, unit, digits in ((1e12, "T", 1), (1e9, "B", 1), (1e6, "M", 2), (1e3, "K", 0)):
        if count >= scale:
            value = count / scale
            if value == int(value) or unit == "K":
                return f"{value:.0f}{unit}"
            return f"{value:.{digits}f}{unit}"
    return str(count)
