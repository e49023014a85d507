"""_ffi.py declares every function of include/farmvault.h, each with the header's
exact prototype as its comment (wasmtime-py's table checked against the header)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

import pytest

from farmvault import _ffi, _loader

CHECKOUT = _loader.find_checkout(Path(__file__))
HEADER = CHECKOUT / "include" / "farmvault.h" if CHECKOUT else None
FFI = Path(__file__).resolve().parents[1] / "src" / "farmvault" / "_ffi.py"


def normalize(proto: str) -> str:
    proto = re.sub(r"\bFV_MUST_USE\b", "", proto)
    proto = re.sub(r"\s+", " ", proto).strip()
    return proto.replace("( ", "(").replace(" )", ")").replace(" ,", ",")


def header_prototypes() -> Dict[str, str]:
    assert HEADER is not None
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    text = text.split('extern "C" {', 1)[1]
    text = re.sub(r"//[^\n]*", "", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    protos = {}
    for m in re.finditer(r"([A-Za-z_][^;{}#]*?\b(fv_\w+)\s*\([^;]*?\))\s*;", text):
        protos[m.group(2)] = normalize(m.group(1)) + ";"
    return protos


def ffi_prototypes() -> Dict[str, str]:
    protos = {}
    for m in re.finditer(r"^# (.*\b(fv_\w+)\(.*\);)$", FFI.read_text(), flags=re.MULTILINE):
        protos[m.group(2)] = normalize(m.group(1))
    return protos


@pytest.mark.skipif(HEADER is None or not HEADER.exists(), reason="not run from a farmvault checkout")
def test_every_header_function_is_declared_with_its_prototype() -> None:
    header = header_prototypes()
    ours = ffi_prototypes()
    assert len(header) >= 69
    undeclared = sorted(set(header) - set(ours))
    assert not undeclared, (
        f"include/farmvault.h has functions _ffi.py does not declare: {undeclared}; add each "
        "to bindings/python/src/farmvault/_ffi.py (its prototype as a comment, then a stub)"
    )
    assert not set(ours) - set(header), f"not in the header: {sorted(set(ours) - set(header))}"
    for name, proto in header.items():
        assert ours[name] == proto, f"{name}: the header says\n  {proto}\n_ffi.py says\n  {ours[name]}"
    declared = {d.name for d in _ffi._DECLS}
    assert declared == set(header)


def test_every_declaration_is_bound() -> None:
    _ffi.load()
    for d in _ffi._DECLS:
        fn = getattr(_ffi, d.name)
        assert list(fn.argtypes) == list(d.argtypes), d.name
        assert fn.restype == d.restype, d.name
