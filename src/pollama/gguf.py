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

from pollama import limits
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


# ggml tensor types: (elements per block, bytes per block), as the gguf package lists them;
# written out so reading a header does not import that package (a second at start-up).
_BLOCKS = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 40),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
    40: (64, 36),  # NVFP4
    41: (128, 18),  # Q1_0
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
    """Reads a GGUF header, believing no count or length the file has not room for.

    Every length is checked against the bytes left before anything is allocated or looped
    over, so a lying header fails at once with the field at fault, never after gigabytes.
    """

    def __init__(self, data: mmap.mmap | bytes, max_array: int) -> None:
        self.data = data
        self.pos = 0
        self.max_array = max_array
        self.nesting = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def room(self, count: int, item_size: int, what: str) -> None:
        """Refuse `count` items of at least `item_size` bytes if the file cannot hold them."""
        if count < 0 or count * item_size > self.left:
            raise InvalidRequest(
                f"invalid GGUF file: {what} claims {count} entries, more than the file holds"
            )

    def unpack(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        self.room(length, 1, "a string")
        if length > limits.GGUF_MAX_STRING_BYTES:
            raise InvalidRequest(f"invalid GGUF file: a string of {length} bytes")
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
        if kind not in (*_SCALARS, _STRING, _ARRAY):
            raise InvalidRequest(f"invalid GGUF value type {kind}")
        # The least an item can take: a scalar's size, a string's or array's length field.
        self.room(length, struct.calcsize(_SCALARS[kind]) if kind in _SCALARS else 8, "an array")
        self.nesting += 1
        if self.nesting > limits.GGUF_MAX_ARRAY_NESTING:
            raise InvalidRequest("invalid GGUF file: arrays nest too deeply")
        try:
            if length > self.max_array:
                if kind in _SCALARS:
                    self.pos += struct.calcsize(_SCALARS[kind]) * length
                else:
                    for _ in range(length):
                        self.value(kind)
                return LongArray(length)
            return [self.value(kind) for _ in range(length)]
        finally:
            self.nesting -= 1


def _parse(data: mmap.mmap | bytes, max_array: int) -> GGUFInfo:
    cursor = _Cursor(data, max_array)
    if bytes(data[:4]) != GGUF_MAGIC:
        raise InvalidRequest("supplied file was not in GGUF format")
    cursor.pos = 4
    version = cursor.unpack("<I")
    if version < 2:
        raise InvalidRequest(f"unsupported GGUF version {version}")
    n_tensors, n_kv = cursor.unpack("<Q"), cursor.unpack("<Q")
    # A key/value takes at least 12 bytes (key length, value type), a tensor 24.
    cursor.room(n_kv, 12, "the key/value count")
    cursor.room(n_tensors, 24, "the tensor count")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.unpack("<I"))
    tensors = []
    offsets = []
    for _ in range(n_tensors):
        name = cursor.string()
        n_dims = cursor.unpack("<I")
        if n_dims > limits.GGUF_MAX_DIMS:
            raise InvalidRequest(f"invalid GGUF file: tensor {name!r} has {n_dims} dimensions")
        dims = tuple(cursor.unpack("<Q") for _ in range(n_dims))
        kind = cursor.unpack("<I")
        offsets.append(cursor.unpack("<Q"))
        tensors.append(TensorInfo(name, dims, kind))
    _check_tensor_data(metadata, tensors, offsets, cursor.pos, len(data))
    return GGUFInfo(metadata, tuple(tensors))


def _check_tensor_data(
    metadata: dict[str, Any],
    tensors: list[TensorInfo],
    offsets: list[int],
    header_end: int,
    file_size: int,
) -> None:
    """Every tensor has a known type and lies, aligned, inside the file (as llama.cpp checks
    before it maps the data, but with the tensor named)."""
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise InvalidRequest(f"invalid GGUF file: alignment {alignment!r}")
    data_start = -(-header_end // alignment) * alignment
    for tensor, offset in zip(tensors, offsets, strict=True):
        if tensor.type not in _BLOCKS:
            raise InvalidRequest(
                f"invalid GGUF file: tensor {tensor.name!r} has unknown type {tensor.type}"
            )
        block, block_bytes = _BLOCKS[tensor.type]
        if tensor.shape and tensor.shape[0] % block:
            raise InvalidRequest(f"invalid GGUF file: tensor {tensor.name!r} has a bad shape")
        size = tensor.elements // block * block_bytes
        if offset % alignment or data_start + offset + size > file_size:
            raise InvalidRequest(f"invalid GGUF file: tensor {tensor.name!r} lies outside the file")


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

    Arrays longer than `MAX_KEPT_ARRAY` come back as `LongArray` unless `full_arrays`
    (then only those longer than `GGUF_MAX_FULL_ARRAY`, far more than any vocabulary).
    """
    stat = path.stat()
    limit = limits.GGUF_MAX_FULL_ARRAY if full_arrays else MAX_KEPT_ARRAY
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
