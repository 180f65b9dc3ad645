"""What an interrupted run had translated, so `--resume` asks for nothing twice.

The state is a JSON file beside the output: the source's sha256, the languages and model,
and each finished part's translation by key. It is rewritten atomically (temp file, fsync,
rename) after every batch, so a kill at any moment leaves the last good state; it is
removed once the output is written. A state made for other text, languages or model is
not used.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from pollama.translate._files import write_atomically

log = logging.getLogger(__name__)


class _Saved(BaseModel):
    source_sha256: str
    source: str
    target: str
    model: str
    done: dict[str, str] = Field(default_factory=dict)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResumeState:
    """The finished translations of one job, saved to `path` as they come."""

    def __init__(self, path: Path, text: str, source: str, target: str, model: str) -> None:
        self.path = path
        self._saved = _Saved(source_sha256=digest(text), source=source, target=target, model=model)

    @property
    def done(self) -> dict[str, str]:
        return self._saved.done

    def load(self) -> int:
        """Take the translations saved by an earlier run of the same job; how many."""
        try:
            saved = _Saved.model_validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return 0
        except (OSError, ValidationError) as exc:
            log.warning("ignoring unreadable resume state %s: %s", self.path, exc)
            return 0
        if saved.model_dump(exclude={"done"}) != self._saved.model_dump(exclude={"done"}):
            log.warning("resume state %s is for another text, language or model", self.path)
            return 0
        self._saved.done.update(saved.done)
        return len(saved.done)

    def record(self, translations: dict[str, str]) -> None:
        """Add `translations` and save at once."""
        self._saved.done.update(translations)
        write_atomically(self.path, self._saved.model_dump_json().encode("utf-8"))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
