"""What a Modelfile's FROM and ADAPTER may name on the server's disk (README, "Limits"):
regular GGUF files, or folders of them; nothing else is opened, and nothing else is stored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pollama.create import create_from_modelfile
from pollama.errors import InvalidRequest, PollamaError
from pollama.store import Store


def _create(store: Store, modelfile: str, base_dir: Path) -> list[str]:
    return list(create_from_modelfile(store, "m", modelfile, base_dir=base_dir))


def test_a_relative_path_is_read_from_the_modelfiles_folder(
    tmp_path: Path, tiny_gguf: Path, isolated_store: Path
) -> None:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "model.gguf").symlink_to(tiny_gguf)
    store = Store(isolated_store)
    assert _create(store, "FROM ./weights/model.gguf\n", tmp_path)[-1] == "success"
    assert _create(store, "FROM weights\n", tmp_path)[-1] == "success"


@pytest.mark.parametrize("kind", ["fifo", "device", "socket-dir", "not-gguf", "empty-dir"])
def test_what_is_not_a_regular_gguf_is_refused_unread(
    tmp_path: Path, isolated_store: Path, kind: str
) -> None:
    if kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)  # opening it to read would block until a writer came
        said = "not a regular file"
    elif kind == "device":
        target, said = Path("/dev/zero"), "not a regular file"
    elif kind == "socket-dir":
        target = tmp_path / "folder"
        target.mkdir()
        os.mkfifo(target / "trap.gguf")
        said = "not a regular file"
    elif kind == "not-gguf":
        target = tmp_path / "secret.txt"
        target.write_text("password=hunter2\n")
        said = "not in GGUF format"
    else:
        target = tmp_path / "nothing"
        target.mkdir()
        said = "no Modelfile or safetensors files found"
    store = Store(isolated_store)
    for command in ("FROM", "ADAPTER"):
        modelfile = f"{command} {target}\n" if command == "FROM" else f"FROM x\nADAPTER {target}\n"
        with pytest.raises(InvalidRequest, match=said):
            _create(store, modelfile, tmp_path)
    assert (
        not any((isolated_store / "blobs").glob("*"))
        if (isolated_store / "blobs").exists()
        else True
    )


@pytest.mark.parametrize("arg", ["x\x00y", "../\x00", "a\x1bb", "model\x7f"])
def test_a_from_with_control_characters_is_a_client_error(
    tmp_path: Path, isolated_store: Path, arg: str
) -> None:
    with pytest.raises(PollamaError) as err:
        _create(Store(isolated_store), f'FROM "{arg}"\n', tmp_path)
    assert err.value.status_code in (400, 404)
