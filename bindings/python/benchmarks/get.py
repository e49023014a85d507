"""The cost of one Vault.get from Python, against the bare C calls underneath.

    cargo build --release --lib
    FARMVAULT_LIB=target/release/libfarmvault.so .venv/bin/python bindings/python/benchmarks/get.py

Compare with the Rust API's Vault::get on the same machine:
    cargo test --release --test ffi -- --ignored --nocapture per_call_overhead
"""

from __future__ import annotations

import ctypes
import sys
import tempfile
import timeit
from pathlib import Path

import farmvault
from farmvault import _ffi

N = 20_000


def per_call_us(stmt: "object", number: int = N) -> float:
    best = min(timeit.repeat(stmt, number=number, repeat=5))  # type: ignore[arg-type]
    return best / number * 1e6


def main() -> None:
    info = farmvault.load_library()
    print(f"library: {info.path} ({info.version}); Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as d:
        with farmvault.Vault.create(Path(d) / "v", passphrase="pw", kdf=farmvault.Kdf(8, 1, 1)) as v:
            v.put("bench", b"0123456789abcdef0123456789abcdef")
            v.put_credential(
                "sg", farmvault.ScriptKey("https://mysite.shotgrid.autodesk.com", "render_farm", "0123456789abcdef")
            )
            for _ in range(1000):
                v.get("bench")
            raw = v._get()

            def bare() -> None:
                out = ctypes.POINTER(_ffi.fv_entry)()
                _ffi.fv_vault_get(raw, b"bench", ctypes.byref(out))
                _ffi.fv_entry_free(out)

            def view_declared() -> None:
                out, view = _ffi.ENTRY(), _ffi.fv_entry_view()
                _ffi.fv_vault_get_view(raw, b"bench", out, view, _ffi.VIEW_SIZE)
                _ffi.fv_entry_free(out)

            def view_unchecked() -> None:
                out, view = _ffi.ENTRY(), _ffi.fv_entry_view()
                r = _ffi.unchecked_vault_get_view(
                    raw, b"bench", ctypes.byref(out), ctypes.byref(view), _ffi.VIEW_SIZE_ARG
                )
                assert r == 0
                _ffi.unchecked_entry_free(out)

            rows = [
                ("fv_vault_get + fv_entry_free through ctypes", per_call_us(bare)),
                ("fv_vault_get_view + fv_entry_free, declared argtypes", per_call_us(view_declared)),
                ("the same, unchecked (what Vault.get calls)", per_call_us(view_unchecked)),
                ("Vault.get (opaque, 32 B)", per_call_us(lambda: v.get("bench"))),
                ("Vault.get (script key)", per_call_us(lambda: v.get("sg"))),
                ("Vault.shotgun_kwargs (script key)", per_call_us(lambda: v.shotgun_kwargs("sg"))),
                ("Vault.metadata", per_call_us(lambda: v.metadata("bench"))),
            ]
    for what, us in rows:
        print(f"{us:8.2f} us  {what}")


if __name__ == "__main__":
    main()
