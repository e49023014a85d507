"""Backups and repair from Python: Vault.backup, verify_backup, restore and
repair, over the C ABI calls the CLI's backup, restore and repair use."""

from __future__ import annotations

from pathlib import Path

import pytest

import farmvault
from conftest import CHEAP, PW, script_key


def test_backup_verify_restore_and_repair(vault_path: Path, tmp_path: Path) -> None:
    with farmvault.Vault.open(vault_path, passphrase=PW, kdf=CHEAP) as v:
        v.put_credential("shotgun/render_farm", script_key())
        backup = tmp_path / "vault.fvbk"
        assert v.backup(backup) == 1
        assert backup.stat().st_mode & 0o777 == 0o600
        with pytest.raises(farmvault.IoError):
            v.backup(backup)
        assert v.verify_backup(passphrase=PW) == 1
        with pytest.raises(farmvault.WrongKey):
            v.verify_backup(passphrase="not the passphrase")
        with pytest.raises(farmvault.InvalidArgument, match="exactly one"):
            v.verify_backup()
    restored_path = tmp_path / "restored"
    with farmvault.Vault.restore(restored_path, backup, passphrase=PW, kdf=CHEAP) as r:
        assert r.get("shotgun/render_farm").credential.api_key == script_key().api_key.text()
    with pytest.raises(farmvault.AlreadyExists):
        farmvault.Vault.restore(restored_path, backup, passphrase=PW)
    repaired, done = farmvault.Vault.repair(vault_path, passphrase=PW)
    with repaired:
        assert not done, "a healthy store is left as it is"
    repaired, done = farmvault.Vault.repair(vault_path, passphrase=PW, force=True)
    with repaired:
        assert done
        assert "shotgun/render_farm" in repaired
