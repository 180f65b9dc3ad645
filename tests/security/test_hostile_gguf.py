"""Truncated, hostile and lying GGUF files: the reader refuses each before allocating for it;
one that llama.cpp cannot load fails its runner, and the server lives on."""

from __future__ import annotations

import struct
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest

from pollama.errors import InvalidRequest
from pollama.gguf import read_gguf
from tests.fixtures.app_server import app_server
from tests.fixtures.tiny_gguf import write_tiny_gguf

U8, U32, STRING, ARRAY = 0, 4, 8, 9


def _str(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, kind: int, payload: bytes) -> bytes:
    return _str(key) + struct.pack("<I", kind) + payload


def gguf(kvs: list[bytes], tensors: list[bytes] = (), *, n_kv: int | None = None,
         n_tensors: int | None = None, tail: bytes = b"\0" * 64) -> bytes:  # fmt: skip
    """A GGUF v3 file from raw key/value and tensor-info records, counts as claimed."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors) if n_tensors is None else n_tensors,
                                 len(kvs) if n_kv is None else n_kv)  # fmt: skip
    return head + b"".join(kvs) + b"".join(tensors) + tail


def tensor_info(name: str, dims: tuple[int, ...], kind: int = 0, offset: int = 0) -> bytes:
    shape = b"".join(struct.pack("<Q", d) for d in dims)
    return _str(name) + struct.pack("<I", len(dims)) + shape + struct.pack("<IQ", kind, offset)


ARCH = _kv("general.architecture", STRING, _str("llama"))
HOSTILE = {
    "huge key count": gguf([ARCH], n_kv=1 << 62),
    "huge tensor count": gguf([ARCH], n_tensors=1 << 40),
    "string longer than the file": gguf([_kv("k", STRING, struct.pack("<Q", 1 << 60))]),
    "key longer than the file": gguf([struct.pack("<Q", (1 << 64) - 1)]),
    "array longer than the file": gguf([_kv("k", ARRAY, struct.pack("<IQ", U8, 1 << 50))]),
    "string array longer than the file": gguf(
        [_kv("k", ARRAY, struct.pack("<IQ", STRING, 1 << 40))]
    ),
    "arrays nested deep": gguf(
        [_kv("k", ARRAY, struct.pack("<IQ", ARRAY, 1) * 64 + struct.pack("<IQ", U8, 0))]
    ),
    "unknown value type": gguf([_kv("k", 99, b"\0" * 8)]),
    "unknown array item type": gguf([_kv("k", ARRAY, struct.pack("<IQ", 77, 1))]),
    "too many dimensions": gguf([ARCH], [tensor_info("t", (1,) * 9)]),
    "unknown tensor type": gguf([ARCH], [tensor_info("t", (4,), kind=999)]),
    "tensor past the end": gguf([ARCH], [tensor_info("t", (1 << 40,))]),
    "misaligned tensor": gguf([ARCH], [tensor_info("t", (4,), offset=3)]),
    "bad alignment": gguf([ARCH, _kv("general.alignment", U32, struct.pack("<I", 3))]),
    "block shape": gguf([ARCH], [tensor_info("t", (5,), kind=2)]),
    "version 1": b"GGUF" + struct.pack("<I", 1) + b"\0" * 32,
    "magic only": b"GGUF",
    "not a gguf": b"\x7fELF" + b"\0" * 60,
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_lying_header_is_refused_before_anything_is_allocated(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(InvalidRequest) as err:
            read_gguf(path, full_arrays=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 2
    assert peak < 4 << 20
    assert err.value.status_code == 400
    assert "GGUF" in err.value.message


def test_a_truncated_model_is_refused_wherever_it_is_cut(tmp_path: Path, tiny_gguf: Path) -> None:
    data = tiny_gguf.read_bytes()
    for cut in (5, 24, 100, 1000, 5000, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut-{cut}.gguf"
        path.write_bytes(data[:cut])
        with pytest.raises(InvalidRequest, match="GGUF"):
            read_gguf(path)


def test_a_hostile_upload_is_a_400_from_create(tmp_path: Path, isolated_store: Path) -> None:
    data = HOSTILE["huge key count"]
    digest = "sha256:" + __import__("hashlib").sha256(data).hexdigest()
    with app_server(isolated_store) as url:
        assert httpx.post(f"{url}/api/blobs/{digest}", content=data).status_code == 201
        reply = httpx.post(
            f"{url}/api/create",
            json={"model": "hostile", "files": {"m.gguf": digest}, "stream": False},
        )
        assert reply.status_code == 400
        assert "more than the file holds" in reply.json()["error"]
        assert httpx.get(url + "/api/tags").json() == {"models": []}


def test_a_model_llama_cpp_cannot_load_fails_its_runner_not_the_server(
    tmp_path: Path, isolated_store: Path
) -> None:
    """A header that reads well but names tensors llama.cpp does not expect."""
    good = write_tiny_gguf(tmp_path / "good.gguf")
    data = bytearray(good.read_bytes())
    at = data.index(b"blk.0.ffn_up.weight")
    data[at : at + 19] = b"blk.0.ffn_XX.weight"
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(bytes(data))
    read_gguf(broken)  # the header itself is honest
    with app_server(isolated_store) as url:
        for name, path in (("broken", broken), ("good", good)):
            modelfile = f"FROM {path}\n"
            reply = httpx.post(
                f"{url}/api/create",
                json={"model": name, "modelfile": modelfile, "stream": False},
                timeout=60,
            )
            assert reply.status_code == 200, reply.text
        request = {"prompt": "hi", "stream": False, "options": {"num_predict": 4}}
        failed = httpx.post(f"{url}/api/generate", json={"model": "broken", **request}, timeout=60)
        assert failed.status_code == 500
        assert "error" in failed.json()
        served = httpx.post(f"{url}/api/generate", json={"model": "good", **request}, timeout=60)
        assert served.status_code == 200
        assert served.json()["done"] is True
