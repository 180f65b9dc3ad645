"""Import llama.cpp's ctypes bindings without llama-cpp-python's high-level package.

`import llama_cpp` runs the package's `__init__`, which imports the high-level `Llama` class,
its chat formats, jinja and more: about 200 ms of a runner's cold start, none of it used here.
The runner process registers a bare package object first, so `llama_cpp.llama_cpp` (and the
helper modules it imports) load on their own. Only the runner process does this: a process
that later wants `from llama_cpp import Llama` must import the real package.
"""

from __future__ import annotations

import importlib.util
import sys
import types


def install_light_package() -> None:
    """Make `import llama_cpp.llama_cpp` skip the package `__init__` in this process."""
    if "llama_cpp" in sys.modules:
        return
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.submodule_search_locations is None:
        return
    package = types.ModuleType("llama_cpp")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules["llama_cpp"] = package
