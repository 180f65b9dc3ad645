"""How every verb fails: Ollama's `Error: <message>` on stderr, and exit status 1."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

import click

from pollama.client import ClientError
from pollama.errors import PollamaError

P = ParamSpec("P")


def reports_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Turn a client, Modelfile or file error into `Error: <message>` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except (ClientError, PollamaError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            click.echo(f"Error: {message}", err=True)
            raise SystemExit(1) from None

    return wrapper
