"""`pollama serve`."""

from __future__ import annotations

import click

from pollama import config


def _env_help() -> str:
    lines = ["Environment Variables:"]
    for name, _value, text in config.as_map():
        lines.append(f"  {name:<26} {text}")
    return "\n".join(lines)


@click.command(epilog=_env_help(), context_settings={"max_content_width": 120})
def serve() -> None:
    """Start pollama"""
    from pollama.server import serve as run_server

    run_server()


def register(cli: click.Group) -> None:
    """Add `serve` to `cli`."""
    cli.add_command(serve)
