"""`python -m pollama` is the `pollama` command."""

from pollama.cli.main import main

main()
