"""Jump-forward drafting: the text a JSON-schema answer must hold next, drafted for free.

A `format` schema for an object of required strings (`CompletionRequest.json_keys`) leaves the
model a choice only inside the strings: between two values the grammar forces the separator,
the next key and its opening quote (`","3":"`), and after the last value the closing brace.
Decoded one token at a time, that forced text costs a step per token, about 40 % of the tokens
of a batch of short translations. `JumpDrafter` follows the answer through its bytes, and as
soon as a value's closing quote is sampled it drafts what the grammar forces until the next
value opens, spaced as the model spaced its last separator (the grammar lets it put a space
around each `,` and `:`). The engine verifies the draft like any other, so a wrong guess (other
spacing, another tokenization) is only rejected: the text is what plain decoding gives.

Inside a value, prompt lookup (`speculate.Drafter`) drafts as usual.
"""

from __future__ import annotations

import json
from typing import Protocol

from pollama.engine.runner.speculate import Drafter, DraftScore

FORCED = 1  # the kind of a forced-text draft (prompt lookup's kinds are 0 and its n-gram sizes)
# Forced text is accepted unless the model spaces or splits it otherwise: start from 90 %.
PRIOR = (9.0, 1.0)


class TextVocab(Protocol):
    """What the drafter needs of a vocabulary (`model.Vocab`)."""

    def tokenize(self, text: str, add_special: bool) -> list[int]: ...

    def piece(self, token: int) -> bytes: ...


class JumpDrafter(DraftScore):
    """Drafts the forced text of a JSON object of string values with the given keys, in order;
    prompt lookup inside the values."""

    __slots__ = ("_draft", "_escaped", "_gap", "_keys", "_lookup", "_next", "_vocab", "_written")

    def __init__(self, lookup: Drafter, keys: tuple[str, ...], vocab: TextVocab) -> None:
        super().__init__((FORCED,), {FORCED: list(PRIOR)})
        self._lookup, self._keys, self._vocab = lookup, keys, vocab
        self._next = 0  # the index of the value that opens next (len(keys): the brace)
        # The forced text the model wrote last (the opening `{"1":"`, then each separator);
        # before it has written any, the opening with compact JSON's spacing.
        self._written = b"{" + json.dumps(keys[0]).encode() + b':"' if keys else b""
        self._gap: bytes | None = b""  # forced bytes written so far; None: inside a value
        self._escaped = False  # inside a value, after a backslash
        self._draft: list[int] | None = None  # the tokens drafted from `_gap`, once made

    # -- following the answer --------------------------------------------------------------

    def append(self, token: int) -> None:
        """`token` was generated: score an unsent forced proposal, follow the text."""
        self._score_unsent(token)
        self._lookup.append(token)
        for byte in self._vocab.piece(token):
            self._follow(byte)

    def _follow(self, byte: int) -> None:
        if self._gap is None:  # inside a value: only an unescaped quote ends it
            if self._escaped:
                self._escaped = False
            elif byte == 0x5C:  # backslash
                self._escaped = True
            elif byte == 0x22:  # the closing quote: the forced text begins
                self._gap, self._draft = b"", None
            return
        self._gap += bytes((byte,))
        self._draft = None
        if byte != 0x22 or self._next == len(self._keys):
            return
        # The key's quotes (and any escaped in it), then the value's opening one.
        if self._gap.count(b'"') == json.dumps(self._keys[self._next]).count('"') + 1:
            self._written, self._gap = self._gap, None
            self._next += 1

    def _expected(self) -> bytes:
        """The whole forced text of the current gap, as the model would likely write it."""
        if self._next == 0:
            return self._written
        if self._next == len(self._keys):
            return b"}"
        # The last gap with the next key: the first separator is the opening's, after a comma.
        text = b"," + self._written[1:] if self._next == 1 else self._written
        old = json.dumps(self._keys[self._next - 1]).encode()
        return text.replace(old, json.dumps(self._keys[self._next]).encode(), 1)

    def _remainder(self) -> bytes:
        """What is left of the expected forced text after the bytes already written (matched
        with spaces ignored, so a space the model added or left out does not lose track)."""
        rest = self._expected()
        for byte in self._gap.replace(b" ", b""):
            rest = rest.lstrip(b" ")
            if not rest or rest[0] != byte:
                return b""
            rest = rest[1:]
        return rest.lstrip(b" ") if self._gap.endswith(b" ") else rest

    def _tokens(self, text: bytes) -> list[int]:
        """`text` as tokens that spell exactly it ([] if none do): a tokenizer that puts a
        space before a text's first word (SentencePiece) has it taken off again."""
        try:
            tokens = self._vocab.tokenize(text.decode(), False) if text else []
        except UnicodeDecodeError:  # the gap ended half-way through a character of a key
            return []
        spelled = b"".join(self._vocab.piece(t) for t in tokens)
        if spelled == b" " + text and self._vocab.piece(tokens[0]) == b" ":
            return tokens[1:]
        return tokens if spelled == text else []

    # -- the Proposer interface ------------------------------------------------------------

    def propose(self, limit: int) -> tuple[int, list[int]]:
        """The rest of the forced text while between values; else prompt lookup's draft."""
        if self._gap is None or not self._keys:
            return self._lookup.propose(limit)
        if self._draft is None:
            self._draft = self._tokens(self._remainder())
        if not self._draft:
            return self._lookup.propose(limit)
        return FORCED, self._draft[: max(0, limit)]

    def acceptance(self, kind: int) -> float:
        return super().acceptance(kind) if kind == FORCED else self._lookup.acceptance(kind)

    def verified(self, kind: int, drafted: int, accepted: int) -> None:
        if kind == FORCED:
            super().verified(kind, drafted, accepted)
        else:
            self._lookup.verified(kind, drafted, accepted)

    def skipped(self, kind: int, token: int) -> None:
        if kind == FORCED:
            super().skipped(kind, token)
        else:
            self._lookup.skipped(kind, token)
