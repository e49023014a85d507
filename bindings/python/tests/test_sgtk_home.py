"""farmvault.sgtk.private_shotgun_home: tk-core's session cache in a private
directory for the length of a ``with`` block, and the tokens it renewed brought
back into the vault. What tk-core writes is written here by hand, in its format
(docs/TOOLKIT.md)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import farmvault
from farmvault import sgtk

HOST = "https://mysite.shotgrid.autodesk.com"
OLD = "sess-old-py-51c0e9"
NEW = "sess-renewed-py-a7d342"


def toolkit_caches(home: Path, token: str) -> None:
    """What tk-core's ``_try_save`` leaves for jdoe at HOST."""
    (home / "mysite").mkdir(exist_ok=True)
    (home / "authentication.yml").write_text(f"current_host: {HOST}\n")
    (home / "mysite" / "authentication.yml").write_text(
        f"current_user: jdoe\nusers:\n- login: jdoe\n  session_token: {token}\n"
    )


def test_renewed_tokens_come_home_and_the_directory_goes(vault: farmvault.Vault) -> None:
    vault.put_credential("shotgun/mysite/jdoe", farmvault.SessionToken(HOST, "jdoe", OLD))
    os.environ.pop("SHOTGUN_HOME", None)
    with sgtk.private_shotgun_home(vault, ["shotgun/mysite/jdoe"]) as home:
        assert os.environ["SHOTGUN_HOME"] == str(home.path)
        assert stat.S_IMODE(home.path.stat().st_mode) == 0o700
        toolkit_caches(home.path, OLD)  # the session it was handed
        toolkit_caches(home.path, NEW)  # the one it renewed
    assert "SHOTGUN_HOME" not in os.environ
    assert not home.path.exists()
    assert home.brought_home == 1
    entry = vault.get("shotgun/mysite/jdoe")
    assert isinstance(entry.credential, farmvault.SessionToken)
    assert entry.credential.session_token == NEW
    assert entry.expires is not None


def test_nothing_renewed_writes_nothing_and_an_error_still_cleans_up(vault: farmvault.Vault) -> None:
    vault.put_credential("shotgun/mysite/jdoe", farmvault.SessionToken(HOST, "jdoe", OLD))
    os.environ["SHOTGUN_HOME"] = "/before"
    try:
        with pytest.raises(RuntimeError):
            with sgtk.private_shotgun_home(vault, ["shotgun/mysite/jdoe"]) as home:
                toolkit_caches(home.path, OLD)
                raise RuntimeError("the tool failed")
        assert os.environ["SHOTGUN_HOME"] == "/before"
    finally:
        os.environ.pop("SHOTGUN_HOME", None)
    assert not home.path.exists()
    assert home.brought_home == 0
    assert vault.get("shotgun/mysite/jdoe").credential.session_token == OLD  # type: ignore[union-attr]


def test_a_directory_left_by_a_dead_process_is_removed(vault: farmvault.Vault) -> None:
    with sgtk.private_shotgun_home(vault) as first:
        base = first.path.parent
    # No process has this pid here.
    left = base / "sgtk-home-2147483600-leftover"
    left.mkdir(mode=0o700)
    toolkit_caches(left, NEW)
    with sgtk.private_shotgun_home(vault):
        pass
    assert not left.exists()
