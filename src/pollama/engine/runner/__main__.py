"""`python -m pollama.engine.runner`: the runner process (see `process.py`)."""

from __future__ import annotations

import importlib

from pollama.engine.runner.bindings import install_light_package

install_light_package()
importlib.import_module("pollama.engine.runner.process").main()
