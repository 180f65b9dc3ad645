"""Jump-forward drafting of a JSON answer's forced text, on the tiny GGUF: what it drafts, and
that greedy answers come out the same with drafts on and off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import pytest

from pollama.api.pipeline.plan import grammar_for, json_keys
from pollama.engine.runner import ProcessRunner
from pollama.engine.runner.jump_forward import FORCED, JumpDrafter
from pollama.engine.runner.model import Vocab
from pollama.engine.runner.speculate import Drafter
from pollama.engine.types import CompletionRequest, SamplingOptions
from tests.fixtures.tiny_runner import tiny_runner

SHORT = {"type": "string", "pattern": "^[a-e ]{1,4}$"}


def _schema(*keys: str, value: dict[str, Any] = SHORT) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: value for key in keys},
        "required": list(keys),
        "additionalProperties": False,
    }


@pytest.fixture(scope="module")
def vocab(tiny_gguf: Path) -> Iterator[Vocab]:
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=64, n_threads=1, verbose=False)
    yield Vocab(llm._model.model)
    llm.close()


def _write(drafter: JumpDrafter, vocab: Vocab, text: str) -> None:
    """Generate `text` byte by byte (a token per byte, as the tiny vocabulary spells it)."""
    for byte in text.encode():
        drafter.append(vocab.tokenize(chr(byte), False)[-1])


def _drafted(drafter: JumpDrafter, vocab: Vocab) -> str | None:
    """The forced text the drafter proposes now (None: a prompt-lookup draft instead)."""
    kind, tokens = drafter.propose(16)
    return b"".join(vocab.piece(t) for t in tokens).decode() if kind == FORCED else None


def test_once_a_value_closes_the_separator_and_next_key_are_drafted(vocab: Vocab) -> None:
    drafter = JumpDrafter(Drafter([]), ("a", "b", "c"), vocab)
    _write(drafter, vocab, "{")
    assert _drafted(drafter, vocab) == '"a":"'
    _write(drafter, vocab, '"a": "x\\"y')  # an escaped quote does not close the value
    assert _drafted(drafter, vocab) is None
    _write(drafter, vocab, '"')
    assert _drafted(drafter, vocab) == ',"b": "'  # spaced as the model spaced its opening
    _write(drafter, vocab, ' , "b" :"z"')  # the model spaces this one otherwise
    assert _drafted(drafter, vocab) == ' , "c" :"'
    _write(drafter, vocab, " ,")
    assert _drafted(drafter, vocab) == ' "c" :"'  # the rest, after what was written
    _write(drafter, vocab, '"c":"w"')
    assert _drafted(drafter, vocab) == "}"
    _write(drafter, vocab, "}")
    assert _drafted(drafter, vocab) is None


def test_only_an_object_of_required_strings_has_its_keys_drafted() -> None:
    assert json_keys(_schema("2", "1", "10")) == ("2", "1", "10")
    optional = {**_schema("a", "b"), "required": ["a"]}
    number = _schema("a", value={"type": "number"})
    for fmt in ("json", None, optional, number, {**_schema("a"), "additionalProperties": True}):
        assert json_keys(fmt) == ()


@pytest.fixture
async def runner(tiny_gguf: Path) -> AsyncIterator[ProcessRunner]:
    async with tiny_runner(tiny_gguf, num_ctx=512, num_parallel=2) as r:
        yield r


async def _answer(runner: ProcessRunner, keys: tuple[str, ...], drafts: int) -> str:
    schema = _schema(*keys)
    request = CompletionRequest(
        prompt=f"Fill in {', '.join(keys)}:",
        grammar=grammar_for(schema),
        json_keys=json_keys(schema),
        sampling=SamplingOptions(temperature=0.0, num_predict=200, draft_num_predict=drafts),
    )
    return "".join([chunk.text async for chunk in runner.completion(request)])


async def test_greedy_json_answers_are_the_same_with_forced_text_drafted(
    runner: ProcessRunner,
) -> None:
    for keys in [("1", "2", "3", "4", "5"), ("name", "place", "a b")]:
        plain = await _answer(runner, keys, drafts=0)
        before = (await runner.stats())["draft_accepted"]
        drafted = await _answer(runner, keys, drafts=16)
        assert drafted == plain
        assert plain.endswith("}") and all(f'"{key}"' in plain for key in keys)
        # The forced text was drafted and kept: at least a token per separator.
        assert (await runner.stats())["draft_accepted"] - before >= len(keys)
