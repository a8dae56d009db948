"""Which criteria modules this interpreter runs compiled.

Installs are pure Python unless built with ``TRIALSCOUT_COMPILE=1``, which compiles the
parser's hot modules with mypyc (``setup.py``, ``[tool.trialscout] compiled-modules`` in
pyproject.toml); editable installs always run them as Python. Output is the same either
way; throughput is not, so benchmarks and the reparse report say which build ran.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import pkgutil
from functools import lru_cache

import trialscout.criteria as _package


@lru_cache(maxsize=1)
def compiled_modules() -> tuple[str, ...]:
    """Names of the ``trialscout.criteria`` modules loaded from extension modules."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    out = []
    for info in pkgutil.iter_modules(_package.__path__):
        spec = importlib.util.find_spec(f"{_package.__name__}.{info.name}")
        if spec is not None and spec.origin and spec.origin.endswith(suffixes):
            out.append(info.name)
    return tuple(sorted(out))


def parser_build() -> str:
    """``"compiled"`` (every hot module), ``"pure Python"`` or ``"partly compiled"``."""
    names = compiled_modules()
    if not names:
        return "pure Python"
    return "compiled" if "parser" in names and "mentions" in names else "partly compiled"
