"""Finding the library: lookup order, and the error that lists every path tried."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

import pytest

import farmvault
from farmvault import _loader


def run(code: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "FARMVAULT_LIB"}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=full, capture_output=True, text=True, timeout=60
    )


def test_lookup_order_without_an_explicit_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FARMVAULT_LIB", raising=False)
    monkeypatch.delenv("CARGO_TARGET_DIR", raising=False)
    paths = _loader.candidates()
    names = _loader.library_file_names()
    assert paths[0].parent.name == "_lib" and paths[0].parent.parent.name == "farmvault"
    assert [p.name for p in paths[: len(names)]] == names
    checkout = _loader.find_checkout()
    if checkout is not None:
        rest = paths[len(names) :]
        assert [p.parent for p in rest] == [checkout / "target" / "release"] * len(names) + [
            checkout / "target" / "debug"
        ] * len(names)


def test_an_explicit_path_or_farmvault_lib_is_the_only_candidate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FARMVAULT_LIB", str(tmp_path / "env.so"))
    assert _loader.candidates() == [tmp_path / "env.so"]
    assert _loader.candidates(tmp_path / "arg.so") == [tmp_path / "arg.so"]


def test_a_missing_library_lists_what_was_tried(tmp_path: Path) -> None:
    missing = tmp_path / "libfarmvault.so"
    r = run(
        f"""
        import farmvault
        try:
            farmvault.load_library({str(missing)!r})
        except farmvault.LibraryError as e:
            print(type(e).__mro__[1].__name__, e.tried)
            print(e)
        """
    )
    assert r.returncode == 0, r.stderr
    assert "ImportError" in r.stdout
    assert f"{missing}: not found" in r.stdout
    assert "FARMVAULT_LIB" in r.stdout


def test_a_library_of_another_abi_is_refused_with_its_version(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a stand-in library")
    src = tmp_path / "fake.c"
    src.write_text(
        'unsigned int fv_abi_version(void) { return 2; }\n'
        'const char *fv_version(void) { return "9.0.0"; }\n'
    )
    lib = tmp_path / "libfarmvault.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    r = run(
        """
        import farmvault
        try:
            farmvault.Vault.open("/nonexistent", passphrase="x")
        except farmvault.LibraryError as e:
            print(e)
        """,
        {"FARMVAULT_LIB": str(lib)},
    )
    assert r.returncode == 0, r.stderr
    assert f"{lib}: has ABI version 2 (library 9.0.0); this package needs ABI 1" in r.stdout


def test_a_file_that_is_not_a_library(tmp_path: Path) -> None:
    bogus = tmp_path / "libfarmvault.so"
    bogus.write_text("not an ELF file")
    r = run(
        f"""
        import farmvault
        try:
            farmvault.load_library({str(bogus)!r})
        except farmvault.LibraryError as e:
            print(e)
        """
    )
    assert "cannot be loaded" in r.stdout, r.stdout + r.stderr


def test_the_package_copy_is_found_first(tmp_path: Path, library: farmvault.LibraryInfo) -> None:
    # A copy in farmvault/_lib/ of a scratch install of the package is what loads.
    site = tmp_path / "site"
    pkg = Path(farmvault.__file__).parent
    shutil.copytree(pkg, site / "farmvault", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(library.path, site / "farmvault" / "_lib" / _loader.library_file_names()[0])
    r = run(
        """
        import farmvault
        print(farmvault.load_library().path)
        """,
        {"PYTHONPATH": str(site)},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str((site / "farmvault" / "_lib" / _loader.library_file_names()[0]).resolve())
