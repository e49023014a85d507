"""Wheel tagging only: every piece of metadata is in pyproject.toml.

The package is pure Python over ctypes, so by default setuptools tags every wheel
``py3-none-any``. That is right for a wheel without a library (a plain
``pip install ./bindings/python`` from a checkout, which loads the checkout's
target/ build) and wrong for one that carries libfarmvault in ``farmvault/_lib/``
(scripts/build-wheel.sh): that library runs on one OS and architecture only, and an
``any`` wheel would let pip install a Linux .so on a Mac. So when ``_lib/`` holds a
library when the wheel is built:

- the distribution says it has binary content (``has_ext_modules``), which makes
  bdist_wheel write a platlib wheel (``Root-Is-Purelib: false``) tagged for this
  platform, e.g. ``linux_x86_64``;
- the tag stays ``py3-none`` rather than this interpreter's ``cp311-cp311``: nothing
  in the wheel is built against the Python ABI, so one wheel serves every CPython
  3.9+ on that platform.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Tuple

from setuptools import setup
from setuptools.dist import Distribution

try:  # setuptools >= 70.1 has its own bdist_wheel
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the one of the wheel package
    from wheel.bdist_wheel import bdist_wheel

LIB_DIR = Path(__file__).resolve().parent / "src" / "farmvault" / "_lib"
# The same patterns as the package data of pyproject.toml.
LIB_PATTERNS = ("*.so", "*.so.*", "*.dylib", "*.dll")


def ships_library() -> bool:
    """Whether ``farmvault/_lib/`` holds a shared library to put in the wheel."""
    return any(p.is_file() for pattern in LIB_PATTERNS for p in LIB_DIR.glob(pattern))


class FarmvaultDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return ships_library()


class FarmvaultBdistWheel(bdist_wheel):
    def get_tag(self) -> Tuple[str, str, str]:
        impl, abi, plat = super().get_tag()
        if self.root_is_pure:
            return impl, abi, plat
        # A universal2 interpreter would tag the wheel universal2, but cargo builds
        # the library for this machine's architecture only (an explicit --plat-name
        # is left alone).
        if not self.plat_name_supplied and plat.startswith("macosx_") and plat.endswith("_universal2"):
            plat = plat[: -len("universal2")] + platform.machine()
        return "py3", "none", plat


setup(distclass=FarmvaultDistribution, cmdclass={"bdist_wheel": FarmvaultBdistWheel})
