"""One `Vault.get` through the Python package, timed with timeit (docs/PERFORMANCE.md).

It reads the 64 B entries of the 100,000-entry vault that `cargo bench` builds
and caches under target/tmp/farmvault-bench/ (run `cargo bench --bench vault -- get`
once first), in random key order, and prints microseconds per get against the
3 us target. The library is the release build of this checkout:

    cargo build --release --lib
    PYTHONPATH=bindings/python/src python3 benches/python_get.py

(or with FARMVAULT_LIB pointing at another libfarmvault). A get is two C calls,
fv_vault_get_view and fv_entry_free; the second line times those two alone (the
library's get plus what ctypes costs per call), on the same names, so the rest
is what the package does in Python. For the cost of each layer underneath, see
bindings/python/benchmarks/get.py.
"""

from __future__ import annotations

import os
import random
import sys
import timeit
from pathlib import Path

import ctypes

import farmvault
from farmvault import _ffi

ROOT = Path(__file__).resolve().parent.parent
TARGET_US = 3.0
N = 20_000


def fixture() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    found = sorted((target / "tmp" / "farmvault-bench").glob("big-v*-f*/complete"))
    if not found:
        sys.exit("no bench fixture: run `cargo bench --bench vault -- get` first")
    return found[-1].parent


def key_file(directory: Path) -> Path:
    """The fixture's key (32 bytes of 0x5a, see benches/common/mod.rs) as a 0600 file."""
    path = directory / "python-bench.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(b"\x5a" * 32)
    return path


def main() -> None:
    fx = fixture()
    info = farmvault.load_library()
    print(f"library: {info.path} ({info.version}); Python {sys.version.split()[0]}")
    # The 64 B class: every index but those ending in 50 (1 KiB) or 500 (64 KiB).
    names = [f"shotgun/render_farm/job-{i:06}" for i in range(100_000) if i % 100 != 50 and i % 1000 != 500]
    random.Random(6).shuffle(names)
    with farmvault.Vault.open(fx / "vault", key_file=key_file(fx)) as vault:
        assert len(vault.get(names[0]).secret) == 64
        it = iter(names * (N * 5 // len(names) + 2))
        get = vault.get
        best = min(timeit.repeat(lambda: get(next(it)), number=N, repeat=5)) / N * 1e6
        loop = min(timeit.repeat(lambda: next(it), number=N, repeat=5)) / N * 1e6
        raw, size, byref = vault._get(), _ffi.VIEW_SIZE_ARG, ctypes.byref
        encoded = iter([n.encode() for n in names] * (N * 5 // len(names) + 2))

        def c_calls() -> None:
            out, view = _ffi.ENTRY(), _ffi.fv_entry_view()
            if _ffi.unchecked_vault_get_view(raw, next(encoded), byref(out), byref(view), size):
                raise RuntimeError(_ffi.fv_last_error_message())
            _ffi.unchecked_entry_free(out)

        c_us = min(timeit.repeat(c_calls, number=N, repeat=5)) / N * 1e6 - loop
    us = best - loop
    verdict = "meets" if us <= TARGET_US else "misses"
    print(f"{us:.2f} us per Vault.get (64 B secret, 100,000-entry vault); {verdict} the {TARGET_US} us target")
    print(f"{c_us:.2f} us of it in its two C calls (the library's get, and ctypes); {us - c_us:.2f} us in Python")


if __name__ == "__main__":
    main()
