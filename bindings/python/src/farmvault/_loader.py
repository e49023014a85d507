"""Finding the farmvault shared library.

Lookup order (the first library that loads and has this package's ABI wins):

1. the ``path`` given to :func:`farmvault.load_library`, else ``$FARMVAULT_LIB``;
   either one is authoritative: nothing else is tried when it is set;
2. a copy inside the installed package, ``farmvault/_lib/``;
3. the farmvault checkout this package sits in (found by walking up from this file
   to a ``Cargo.toml`` whose package is ``farmvault``): ``$CARGO_TARGET_DIR`` when
   set, else its ``target/``, profile ``release`` then ``debug``.

File names: ``libfarmvault.so`` and ``libfarmvault.so.<abi>`` (Linux and other
Unixes), ``libfarmvault.dylib`` and ``libfarmvault.<abi>.dylib`` (macOS),
``farmvault.dll`` (Windows). A library whose ``fv_abi_version()`` differs from
:data:`EXPECTED_ABI` is refused; when none fits, :class:`~farmvault.LibraryError`
lists every path tried with why it was not used (missing, not loadable, which ABI
and version it has).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import List, Optional, Union

#: The ABI version of the C library this package is written against
#: (``FV_ABI_VERSION`` in include/farmvault.h, the number in the SONAME).
EXPECTED_ABI = 1

PathArg = Union[str, "os.PathLike[str]"]


def library_file_names() -> List[str]:
    """The file names the library has on this platform, preferred first."""
    if sys.platform == "win32":
        return ["farmvault.dll"]
    if sys.platform == "darwin":
        return ["libfarmvault.dylib", f"libfarmvault.{EXPECTED_ABI}.dylib"]
    return ["libfarmvault.so", f"libfarmvault.so.{EXPECTED_ABI}"]


def _is_farmvault_checkout(directory: Path) -> bool:
    cargo = directory / "Cargo.toml"
    try:
        text = cargo.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r'^\s*name\s*=\s*"farmvault"\s*$', text, re.MULTILINE) is not None


def find_checkout(start: Optional[Path] = None) -> Optional[Path]:
    """The farmvault checkout that holds ``start`` (default: this file), if any."""
    here = (start or Path(__file__)).resolve()
    for parent in here.parents:
        if _is_farmvault_checkout(parent):
            return parent
    return None


def candidates(explicit: Optional[PathArg] = None) -> List[Path]:
    """Every path to try, in order (see the module documentation)."""
    if explicit is not None:
        return [Path(explicit)]
    env = os.environ.get("FARMVAULT_LIB")
    if env:
        return [Path(env)]
    names = library_file_names()
    paths = [Path(__file__).resolve().parent / "_lib" / n for n in names]
    checkout = find_checkout()
    if checkout is not None:
        target_env = os.environ.get("CARGO_TARGET_DIR")
        # Cargo reads a relative CARGO_TARGET_DIR from its working directory.
        target = Path(target_env).resolve() if target_env else checkout / "target"
        for profile in ("release", "debug"):
            paths.extend(target / profile / n for n in names)
    return paths
