"""A Vault across processes made by ``multiprocessing``.

With the ``fork`` start method the child inherits the parent's open handle: every
call there raises :class:`farmvault.Forked` at once (a hang would fail the join's
timeout), closing it there is safe, and the parent's handle goes on working. With
``spawn`` the child opens the vault itself: while the parent holds it the child is
told who does (``Locked``, naming the parent's pid), and once the parent closed it
the child reads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import farmvault
from conftest import open_vault, run_in_child


def _use_parent_handle(vault: farmvault.Vault, results: Any) -> None:
    for name, call in (
        ("get", lambda: vault.get("before")),
        ("put", lambda: vault.put("from-child", b"x")),
    ):
        try:
            call()
            results.put(f"{name}: no error")
        except farmvault.Forked as e:
            results.put(f"{name}: Forked: {e}")
        except farmvault.Error as e:
            results.put(f"{name}: {type(e).__name__}: {e}")
    vault.close()


def _open_own_handle(path: str, results: Any) -> None:
    try:
        with open_vault(Path(path), lock_timeout=0.2) as v:
            results.put(f"read: {v.get('before').secret == '1'}")
    except farmvault.Locked as e:
        results.put(f"Locked: {e}")


def test_a_forked_child_is_refused_at_once_and_the_parent_goes_on(vault: farmvault.Vault) -> None:
    vault.put("before", b"1")
    out = run_in_child("fork", _use_parent_handle, vault)
    assert "get: Forked: " in out and "put: Forked: " in out, out
    assert "forked" in out
    vault.put("after", b"2")
    assert vault.get("before").secret == "1"
    try:
        vault.get("from-child")
        raise AssertionError("the child wrote through the parent's handle")
    except farmvault.NotFound:
        pass


def test_a_spawned_child_opens_its_own_handle(vault_path: Path) -> None:
    with open_vault(vault_path) as v:
        v.put("before", b"1")
        out = run_in_child("spawn", _open_own_handle, str(vault_path))
        # The parent holds the vault: the child is told by whom.
        assert "Locked: " in out and f"process {os.getpid()} (" in out, out
    out = run_in_child("spawn", _open_own_handle, str(vault_path))
    assert out == "read: True", out
