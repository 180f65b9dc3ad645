"""The README stays true to the code it documents."""

from __future__ import annotations

from pathlib import Path

from pollama import config

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_environment_variable() -> None:
    missing = [name for name, _, _ in config.as_map() if f"`{name}`" not in README]
    assert missing == []


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines()[0].startswith("make serve")
    assert first_block.splitlines()[1].startswith("make test")
