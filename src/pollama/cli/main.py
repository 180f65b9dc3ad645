"""The `pollama` command group; each verb group lives in its own module."""

from __future__ import annotations

import click

from pollama import __version__
from pollama.cli import models, ps, run, serve, transfer, translate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-v", "--version", message="pollama version is %(version)s")
def cli() -> None:
    """Large language model runner"""


for _module in (serve, models, run, ps, transfer, translate):
    _module.register(cli)


def main() -> None:
    cli()
