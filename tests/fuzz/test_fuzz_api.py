"""The whole HTTP API, fuzzed from its own OpenAPI schema (schemathesis, in-process ASGI):
no answer is a 5xx, and the server still answers afterwards.

The store holds one tiny model, so the names schemathesis makes up mostly miss it; routes that
reach other machines (pull, push) are left out, as the fuzz must stay on this one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from pollama.api import create_app
from pollama.create import create_from_modelfile
from pollama.engine.scheduler import Scheduler
from pollama.store import Store
from tests.fixtures.tiny_gguf import write_tiny_gguf

# Cases per operation (positive and negative, plus schemathesis's coverage cases): about 25
# operations, so a few thousand in all.
EXAMPLES = 100
CASES_AT_LEAST = 2000
_answers: dict[int, int] = {}


def _app(root: Path) -> object:
    store = Store(root / "models")
    gguf = write_tiny_gguf(root / "tiny.gguf")
    list(create_from_modelfile(store, "tiny", f"FROM {gguf}\n"))
    # Starlette's test client calls itself `testserver`: a name a loopback server refuses.
    return create_app(store, Scheduler(), listen_host="0.0.0.0")


# Built at collection, as schemathesis reads the schema then; removed when the session ends.
_ROOT = tempfile.TemporaryDirectory(prefix="pollama-fuzz-")
APP = _app(Path(_ROOT.name))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(
    path_regex=r"^/api/(pull|push)"
)


@pytest.fixture(scope="module")
def app() -> object:
    return APP


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_no_request_the_schema_allows_or_refuses_gets_a_5xx(
    case: schemathesis.Case, app: object
) -> None:
    response = case.call()
    _answers[response.status_code] = _answers.get(response.status_code, 0) + 1
    case.validate_response(response, checks=[not_a_server_error])


def test_the_server_still_answers_after_the_fuzz(app: object) -> None:
    print(f"fuzz: {sum(_answers.values())} requests, by status {dict(sorted(_answers.items()))}")
    assert sum(_answers.values()) >= CASES_AT_LEAST
    assert not [status for status in _answers if status >= 500]
    with TestClient(app) as client:  # type: ignore[arg-type]
        assert client.get("/api/version").status_code == 200
        assert [m["name"] for m in client.get("/api/tags").json()["models"]] == ["tiny:latest"]
