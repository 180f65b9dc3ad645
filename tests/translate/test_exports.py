"""`from pollama.translate import ...` offers exactly the names its `__all__` lists."""

from __future__ import annotations

import pollama.translate as translate


def test_the_public_names_are_the_exported_ones() -> None:
    public = {name for name in vars(translate) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(translate, name)).__name__ == "module"}
    assert set(translate.__all__) == public - modules - {"annotations"}
