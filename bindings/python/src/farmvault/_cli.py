"""The ``farmvault`` command of an installed package.

A wheel or a source install carries the command line next to the library
(``farmvault/_bin/farmvault``, built from the same checkout); the console script
``farmvault`` and ``python -m farmvault`` run it with the arguments given. On
POSIX the binary replaces the Python process (``execv``), so its exit status,
signals and ``farmvault exec``'s own hand-over to a child are exactly the
binary's, and no interpreter stays around while it holds secrets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional


def binary() -> Path:
    """Where the installed package keeps the ``farmvault`` binary."""
    name = "farmvault.exe" if sys.platform == "win32" else "farmvault"
    return Path(__file__).resolve().parent / "_bin" / name


def main(argv: Optional[List[str]] = None) -> None:
    """Runs the bundled ``farmvault`` with ``argv`` (default: this process's arguments)."""
    args = sys.argv[1:] if argv is None else argv
    exe = binary()
    if not exe.is_file():
        sys.stderr.write(
            f"farmvault: this installation has no command line at {exe} "
            "(reinstall the package from a wheel or with `pip install` from a checkout)\n"
        )
        raise SystemExit(127)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(exe, [str(exe), *args])
    raise SystemExit(subprocess.call([str(exe), *args]))
