"""Type-checks the README's Python examples with mypy --strict, as a TD would
paste them: each ```python block becomes a module of its own, after a preamble
that declares what the prose around it provides (an open `vault`, a `token`,
an `api_key`). Run by scripts/test-python.sh with the venv that has the package,
shotgun_api3 and mypy installed; tk-core is not on PyPI, so its modules are
taken as untyped.

Usage: python3 scripts/check-readme-python.py [README.md]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

PREAMBLE = '''\
from __future__ import annotations
import logging
import farmvault
import farmvault.sgtk
vault: farmvault.Vault
token: str
api_key: str
'''


def main() -> int:
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "README.md")
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    if not blocks:
        print(f"no ```python block in {readme}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, block in enumerate(blocks):
            f = Path(tmp) / f"readme_example_{i}.py"
            f.write_text(PREAMBLE + block)
            files.append(str(f))
        r = subprocess.run(
            [
                sys.executable, "-m", "mypy", "--strict",
                # tk-core is not on PyPI: its classes are Any, and mixing
                # VaultDefaultsManager into its DefaultsManager subclasses Any.
                "--ignore-missing-imports", "--allow-subclassing-any",
                # shotgun_api3 exports Shotgun by import, as many packages do.
                "--implicit-reexport",
                "--no-incremental", *files,
            ],
            capture_output=True,
            text=True,
        )
    print(r.stdout.replace(tmp + "/", ""), end="")
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr, end="")
        print(f"the README's Python examples do not pass mypy --strict ({len(blocks)} blocks)", file=sys.stderr)
        return 1
    print(f"ok: the README's {len(blocks)} Python examples pass mypy --strict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
