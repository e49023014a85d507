"""Reads through the entry view (``fv_vault_get_view``, ``fv_entry_get_view``): the
package's get, metadata, list and shotgun_kwargs make as few C calls as they can (each
ctypes call costs about a microsecond, issue 6), and read exactly what the
one-field accessors read."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Dict, Iterator, List

import pytest

import farmvault
from conftest import login_password, script_key, session_token
from farmvault import _credentials, _ffi

CREDENTIALS: Dict[str, farmvault.Credential] = {
    "opaque": farmvault.Opaque(b"\x00\x01binary\xff"),
    "script": script_key(proxy=True),
    "script-bare": script_key(),
    "session": session_token(proxy=True, metadata=True),
    "session-bare": session_token(),
    "login": login_password(proxy=True),
}


@pytest.fixture
def filled(vault: farmvault.Vault) -> farmvault.Vault:
    for name, cred in CREDENTIALS.items():
        vault.put_credential(name, cred, ttl=3600 if name.endswith("bare") else None)
    return vault


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[List[str]]:
    """The names of the C functions called, in order (every declaration wrapped)."""
    seen: List[str] = []
    _ffi.load()

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            seen.append(name)
            return fn(*args)

        return counted

    for name in [d.name for d in _ffi._DECLS] + ["unchecked_vault_get_view", "unchecked_entry_free"]:
        monkeypatch.setattr(_ffi, name, wrap(name, getattr(_ffi, name)))
    yield seen


GET = ["unchecked_vault_get_view", "unchecked_entry_free"]


def test_a_get_is_two_c_calls_and_metadata_three(filled: farmvault.Vault, calls: List[str]) -> None:
    for name in CREDENTIALS:
        calls.clear()
        filled.get(name).wipe()
        assert calls == GET, name
        calls.clear()
        filled.metadata(name)
        assert calls == ["fv_vault_metadata", "fv_entry_get_view", "fv_entry_free"], name
    for name in ("script", "session", "login"):
        calls.clear()
        filled.shotgun_kwargs(name)
        assert calls == GET, name
    calls.clear()
    assert len(filled.list()) == len(CREDENTIALS)
    per_entry = ["fv_list_get", "fv_entry_get_view"]
    assert calls == ["fv_vault_list", "fv_list_len"] + per_entry * len(CREDENTIALS) + ["fv_list_free"]


def _read_by_fields(vault: farmvault.Vault, name: str) -> farmvault.Credential:
    """The credential as the one-field accessors read it (the package's old way)."""
    out = _ffi.ENTRY()
    _ffi.fv_vault_get(vault._get(), name.encode(), ctypes.byref(out))
    try:

        def read(field: int, secret_out: Any) -> None:
            _ffi.fv_entry_field(out, field, secret_out)

        host = _ffi.fv_entry_host(out)
        return _credentials.read_credential(
            _ffi.fv_entry_kind(out), read, None if host is None else host.decode()
        )
    finally:
        _ffi.fv_entry_free(out)


def test_the_view_reads_what_the_field_accessors_read(filled: farmvault.Vault) -> None:
    for name, cred in CREDENTIALS.items():
        entry = filled.get(name)
        assert entry.credential == cred == _read_by_fields(filled, name), name
        info = filled.metadata(name)
        assert (info.name, info.kind, info.host, info.created, info.updated, info.expires) == (
            entry.name,
            entry.kind,
            entry.host,
            entry.created,
            entry.updated,
            entry.expires,
        )
        assert (entry.expires is None) == (not name.endswith("bare")), name
        assert entry.created.tzinfo is not None and entry.created == entry.updated
        # Secrets are wipeable bytearrays, as before.
        assert isinstance(entry.secret.buffer(), bytearray)
        assert "<redacted>" in repr(entry)
        assert entry.secret.to_bytes().decode("latin-1") not in repr(entry)
        buf = entry.secret.buffer()
        entry.wipe()
        assert not any(buf) and len(entry.secret) == 0
    by_name = {e.name: e for e in filled.list()}
    assert set(by_name) == set(CREDENTIALS)
    assert by_name["script"] == filled.metadata("script")


def test_shotgun_kwargs_from_the_view_are_the_credential_s(filled: farmvault.Vault) -> None:
    for name in ("script", "script-bare", "session", "session-bare", "login"):
        entry = filled.get(name)
        assert filled.shotgun_kwargs(name) == entry.shotgun_kwargs(), name
        assert list(filled.shotgun_kwargs(name)) == list(entry.shotgun_kwargs()), name
    with pytest.raises(farmvault.InvalidArgument, match="opaque"):
        filled.shotgun_kwargs("opaque")


def test_the_unchecked_get_functions_are_twins_of_the_declared_ones() -> None:
    _ffi.load()
    for name, twin in (
        ("fv_vault_get_view", _ffi.unchecked_vault_get_view),
        ("fv_entry_free", _ffi.unchecked_entry_free),
    ):
        declared = getattr(_ffi, name)
        assert twin is not declared and getattr(twin, "argtypes", None) is None, name
        assert twin.restype == declared.restype and declared.argtypes, name  # type: ignore[attr-defined]
    assert _ffi.VIEW_SIZE_ARG.value == _ffi.VIEW_SIZE == ctypes.sizeof(_ffi.fv_entry_view)


def test_a_failed_get_raises_the_code_s_exception_with_the_message(filled: farmvault.Vault) -> None:
    with pytest.raises(farmvault.NotFound, match='"missing"'):
        filled.get("missing")
    with pytest.raises(farmvault.NotFound, match='"missing"'):
        filled.shotgun_kwargs("missing")
    filled.close()
    with pytest.raises(farmvault.InvalidArgument, match="closed"):
        filled.get("script")


def test_view_arguments_are_checked_by_the_library(filled: farmvault.Vault) -> None:
    view = _ffi.fv_entry_view()
    out = _ffi.ENTRY()
    with pytest.raises(farmvault.InvalidArgument, match="view_size is 8"):
        _ffi.fv_vault_get_view(filled._get(), b"script", out, view, 8)
    assert not out, "nothing is written on failure"
    with pytest.raises(farmvault.NotFound, match="missing"):
        _ffi.fv_vault_get_view(filled._get(), b"missing", out, view, _ffi.VIEW_SIZE)
    _ffi.fv_vault_get_view(filled._get(), b"script", out, view, _ffi.VIEW_SIZE)
    try:
        assert view.size == _ffi.VIEW_SIZE and view.kind == farmvault.Kind.SCRIPT_KEY
        assert ctypes.string_at(view.script_name.data, view.script_name.len) == b"render_farm"
        with pytest.raises(farmvault.InvalidArgument, match="view_size is"):
            _ffi.fv_entry_get_view(out, view, _ffi.VIEW_SIZE - 1)
        with pytest.raises(farmvault.InvalidArgument, match="view_out is NULL"):
            _ffi.fv_entry_get_view(out, None, _ffi.VIEW_SIZE)  # type: ignore[arg-type]
    finally:
        _ffi.fv_entry_free(out)
    with pytest.raises(farmvault.InvalidArgument, match="closed or invalid"):
        _ffi.fv_entry_get_view(out, view, _ffi.VIEW_SIZE)
