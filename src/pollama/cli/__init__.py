"""The `pollama` command."""
