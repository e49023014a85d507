"""Every Vault call: open/create, entries, TTLs, batches, keys, handles."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import farmvault
from conftest import CHEAP, PW, T0, at, login_password, open_vault, script_key, session_token


def test_create_then_open_with_a_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "v"
    with farmvault.Vault.create(path, passphrase=PW, kdf=CHEAP) as v:
        v.put("a", b"alpha")
        assert not v.closed
        assert v.path == str(path)
    assert v.closed
    with farmvault.Vault.open(str(path), passphrase=PW.encode()) as v:
        assert v.get("a").secret == b"alpha"


def test_a_key_file_vault_and_key_slots(tmp_path: Path) -> None:
    key = tmp_path / "farm.key"
    farmvault.generate_key_file(key)
    assert key.stat().st_size == 32
    assert key.stat().st_mode & 0o077 == 0
    with pytest.raises(farmvault.IoError):
        farmvault.generate_key_file(key)  # never overwrites
    path = tmp_path / "v"
    with farmvault.Vault.create(path, key_file=key, kdf=CHEAP) as v:
        v.put("a", "alpha")
        v.change_passphrase(PW)  # adds a passphrase slot next to the key file
    with farmvault.Vault.open(path, passphrase=PW) as v:
        assert v.get("a").secret.text() == "alpha"
        other = tmp_path / "other.key"
        farmvault.generate_key_file(other)
        v.add_key_file(other)
    with farmvault.Vault.open(path, key_file=other) as v:
        v.remove_key_file(other)
    with pytest.raises(farmvault.WrongKey):
        farmvault.Vault.open(path, key_file=other)
    with farmvault.Vault.open(path, key_file=key) as v:
        assert v.get("a").secret == "alpha"


def test_exactly_one_unlock_is_required(tmp_path: Path) -> None:
    with pytest.raises(farmvault.InvalidArgument, match="exactly one"):
        farmvault.Vault.open(tmp_path / "v")
    with pytest.raises(farmvault.InvalidArgument, match="exactly one"):
        farmvault.Vault.open(tmp_path / "v", passphrase="x", key_file=tmp_path / "k")


def test_put_get_every_kind_round_trips(vault: farmvault.Vault) -> None:
    creds = {
        "opaque": farmvault.Opaque(b"\x00\x01binary\xff"),
        "script": script_key(proxy=True),
        "session": session_token(proxy=True, metadata=True),
        "session-bare": session_token(),
        "login": login_password(),
    }
    for name, cred in creds.items():
        vault.put_credential(name, cred)
    for name, cred in creds.items():
        entry = vault.get(name)
        assert entry.credential == cred, name
        assert entry.kind == cred.kind
        assert entry.name == name
        assert entry.host == (None if isinstance(cred, farmvault.Opaque) else cred.host)
    assert vault.get("session-bare").credential.http_proxy is None  # type: ignore[union-attr]


def test_put_accepts_bytes_bytearray_str_and_secret(vault: farmvault.Vault) -> None:
    vault.put("b", b"bytes")
    vault.put("ba", bytearray(b"bytearray"))
    vault.put("s", "str é")
    vault.put("sec", farmvault.Secret(b"secret"))
    vault.put("mv", memoryview(b"view"))
    assert vault.get("b").secret == b"bytes"
    assert vault.get("ba").secret == b"bytearray"
    assert vault.get("s").secret.text() == "str é"
    assert vault.get("sec").secret == b"secret"
    assert vault.get("mv").secret == b"view"
    assert isinstance(vault.get("b").credential, farmvault.Opaque)


def test_metadata_times_are_aware_utc(vault: farmvault.Vault) -> None:
    vault.put_credential("k", script_key(), ttl=timedelta(hours=8))
    info = vault.metadata("k")
    assert not isinstance(info, farmvault.Entry)  # no secret in metadata
    assert info.kind is farmvault.Kind.SCRIPT_KEY
    assert info.host == "https://mysite.shotgrid.autodesk.com"
    assert info.created == info.updated == at(T0)
    assert info.created.tzinfo is timezone.utc
    assert info.expires == at(T0 + 8 * 3600)
    assert not info.is_expired(at(T0))
    assert info.is_expired(at(T0 + 8 * 3600))
    assert info.time_left(at(T0)) == timedelta(hours=8)
    vault.put("forever", b"x")
    assert vault.metadata("forever").expires is None
    assert vault.metadata("forever").time_left() is None


def test_ttl_as_seconds_timedelta_and_fractions(vault: farmvault.Vault) -> None:
    vault.put("int", b"x", ttl=60)
    vault.put("float", b"x", ttl=0.2)  # rounded up to a whole second
    vault.put("delta", b"x", ttl=timedelta(minutes=2))
    assert vault.metadata("int").expires == at(T0 + 60)
    assert vault.metadata("float").expires == at(T0 + 1)
    assert vault.metadata("delta").expires == at(T0 + 120)


def test_list_with_and_without_prefix(vault: farmvault.Vault) -> None:
    for name in ["sg/b", "sg/a", "other", "sg2"]:
        vault.put(name, b"x")
    assert [e.name for e in vault.list()] == ["other", "sg/a", "sg/b", "sg2"]
    assert [e.name for e in vault.list("sg/")] == ["sg/a", "sg/b"]
    assert vault.list("nothing/") == []
    assert all(isinstance(e, farmvault.EntryInfo) for e in vault.list())


def test_delete(vault: farmvault.Vault) -> None:
    vault.put("a", b"x")
    vault.delete("a")
    with pytest.raises(farmvault.NotFound, match='"a"'):
        vault.get("a")
    with pytest.raises(farmvault.NotFound):
        vault.delete("a")


def test_overwrite_keeps_created_and_moves_updated(vault_path: Path) -> None:
    with open_vault(vault_path, T0) as v:
        v.put("a", b"one")
    with open_vault(vault_path, T0 + 10) as v:
        v.put_credential("a", script_key())
        info = v.metadata("a")
        assert v.get("a").kind is farmvault.Kind.SCRIPT_KEY
    assert info.updated == at(T0 + 10)


def test_expiry_renew_and_purge_on_a_pinned_clock(vault_path: Path) -> None:
    with open_vault(vault_path, T0) as v:
        v.put("short", b"x", ttl=60)
        v.put("renewed", b"x", ttl=60)
        v.put("purged", b"x", ttl=30)
        v.put("forever", b"x")
        v.renew("renewed", timedelta(hours=1))
        assert v.metadata("renewed").expires == at(T0 + 3600)
    with open_vault(vault_path, T0 + 120) as v:
        with pytest.raises(farmvault.Expired, match="short") as e:
            v.get("short")
        assert e.value.code == 2
        with pytest.raises(farmvault.Expired, match="short"):  # a read removes nothing
            v.get("short")
        with pytest.raises(farmvault.Expired):
            v.renew("purged", 60)
        with pytest.raises(farmvault.Expired):  # the refused renew left it as it was
            v.metadata("purged")
        assert v.get("renewed").secret == b"x"
        v.renew("renewed", None)
        assert v.metadata("renewed").expires is None
        v.put("late", b"x", ttl=1)
    with open_vault(vault_path, T0 + 200) as v:
        assert v.purge_expired() == 3  # "short", "purged" and "late"
        assert v.purge_expired() == 0
        with pytest.raises(farmvault.NotFound):
            v.get("short")
        assert [e.name for e in v.list()] == ["forever", "renewed"]


def test_two_handles_reading_one_expired_entry_are_both_told_expired(vault_path: Path) -> None:
    with open_vault(vault_path, T0) as v:
        v.put("shotgun/tok", b"t", ttl=60)
    with open_vault(vault_path, T0 + 60) as a, open_vault(vault_path, T0 + 60) as b:
        for _ in range(2):
            for reader in (a, b):
                with pytest.raises(farmvault.Expired, match="shotgun/tok"):
                    reader.get("shotgun/tok")
                with pytest.raises(farmvault.Expired, match="shotgun/tok"):
                    reader.metadata("shotgun/tok")
        listed = b.list()
        assert [e.name for e in listed] == ["shotgun/tok"]
        assert listed[0].is_expired(at(T0 + 60))
    # The reads changed nothing: on a clock before its expiry it still reads.
    with open_vault(vault_path, T0 + 59) as v:
        assert v.get("shotgun/tok").secret == b"t"


def test_a_fixed_time_handle_never_removes_entries_live_at_the_system_time(tmp_path: Path) -> None:
    path = tmp_path / "v"
    with farmvault.Vault.create(path, passphrase=PW, kdf=CHEAP) as real:
        real.put("job/a", b"a", ttl=3600)
    ahead = int(time.time()) + 7200
    with open_vault(path, ahead) as dry_run:
        with pytest.raises(farmvault.Expired):
            dry_run.get("job/a")
        with pytest.raises(farmvault.Expired):
            dry_run.get("job/a")
        assert dry_run.purge_expired() == 0  # live on the system clock: kept
    with farmvault.Vault.open(path, passphrase=PW, kdf=CHEAP) as real:
        assert real.get("job/a").secret == b"a"


def test_batch_applies_atomically_on_exit(vault: farmvault.Vault) -> None:
    vault.put("old", b"x")
    with vault.batch() as b:
        b.put("a", b"alpha", ttl=60)
        b.put_credential("k", script_key())
        b.delete("old")
        assert len(b) == 3
        assert "3 operations" in repr(b)
        assert [e.name for e in vault.list()] == ["old"]  # nothing applied yet
    assert b.closed
    assert [e.name for e in vault.list()] == ["a", "k"]
    assert vault.metadata("a").expires == at(T0 + 60)


def test_batch_is_not_applied_when_the_block_raises(vault: farmvault.Vault) -> None:
    with pytest.raises(RuntimeError):
        with vault.batch() as b:
            b.put("a", b"alpha")
            raise RuntimeError("job failed")
    assert vault.list() == []
    assert b.closed


def test_a_failing_batch_writes_nothing(vault: farmvault.Vault) -> None:
    with pytest.raises(farmvault.NotFound):
        with vault.batch() as b:
            b.put("a", b"alpha")
            b.delete("missing")
    assert vault.list() == []


def test_batch_apply_explicitly_and_use_after_close(vault: farmvault.Vault) -> None:
    b = vault.batch()
    b.put("a", b"1")
    b.apply()
    assert vault.get("a").secret == b"1"
    b.close()
    b.close()
    with pytest.raises(farmvault.InvalidArgument, match="batch is closed"):
        b.put("b", b"2")


def test_rotate_reencrypts_every_entry(tmp_path: Path) -> None:
    key = tmp_path / "k"
    farmvault.generate_key_file(key)
    path = tmp_path / "v"
    with farmvault.Vault.create(path, passphrase=PW, kdf=CHEAP) as v:
        v.put("a", b"alpha")
        v.put_credential("b", script_key())
        v.add_key_file(key)
        with pytest.raises(farmvault.InvalidArgument):
            v.rotate()  # the key-file slot cannot be rewrapped by this handle
        assert v.rotate(drop_other_slots=True) == 2
        assert v.get("a").secret == b"alpha"
    with pytest.raises(farmvault.WrongKey):
        farmvault.Vault.open(path, key_file=key)
    with farmvault.Vault.open(path, passphrase=PW) as v:
        assert v.get("b").credential == script_key()


def test_close_is_idempotent_and_use_after_close_is_a_value_error(vault_path: Path) -> None:
    v = open_vault(vault_path)
    v.close()
    v.close()
    assert "closed" in repr(v)
    for call in (
        lambda: v.get("a"),
        lambda: v.put("a", b"x"),
        lambda: v.list(),
        lambda: v.purge_expired(),
        lambda: v.batch(),
    ):
        with pytest.raises(ValueError, match="vault is closed") as e:
            call()
        assert isinstance(e.value, farmvault.InvalidArgument)
    with pytest.raises(farmvault.InvalidArgument):
        with v:
            pass


def test_a_vault_is_released_when_collected(vault_path: Path) -> None:
    v = open_vault(vault_path)
    v.put("a", b"x")
    del v  # __del__ closes it, releasing sled's lock, so it opens again at once
    with open_vault(vault_path, lock_timeout=0) as again:
        assert again.get("a").secret == b"x"


def test_library_info(library: farmvault.LibraryInfo) -> None:
    assert library.abi_version == farmvault.EXPECTED_ABI
    assert library.version == farmvault.__version__
    assert library.path.exists()
    assert farmvault.load_library() is library
    with pytest.raises(farmvault.LibraryError, match="already loaded"):
        farmvault.load_library(library.path.parent / "elsewhere.so")


def test_fixed_time_takes_aware_datetimes_only(tmp_path: Path) -> None:
    with pytest.raises(farmvault.InvalidArgument, match="aware"):
        farmvault.Vault.create(tmp_path / "v", passphrase=PW, kdf=CHEAP, fixed_time=datetime(2024, 1, 1))
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with farmvault.Vault.create(tmp_path / "v", passphrase=PW, kdf=CHEAP, fixed_time=when) as v:
        v.put("a", b"x")
        assert v.metadata("a").created == when


def test_the_library_refuses_names_hosts_and_logins_that_mislead_or_leak(vault: farmvault.Vault) -> None:
    # Refused by the library itself, so Python gets the same answers as the CLI.
    for name in ["invoice\u202efdp.exe", "a\u2066b", "a\u200fb", "a\u061cb"]:
        with pytest.raises(farmvault.InvalidArgument, match="bidi control character"):
            vault.put(name, b"x")
    bad_hosts = {
        "https://jdoe:hunter2-PW@mysite.shotgrid.autodesk.com": "holds credentials",
        "mysite.shotgrid.autodesk.com": "not a URL",
        "https://mysite\x1b[2J.shotgrid.autodesk.com": "U\\+001B",
    }
    for host, needle in bad_hosts.items():
        with pytest.raises(farmvault.InvalidArgument, match=needle) as e:
            cred = farmvault.ScriptKey(host=host, script_name="render_farm", api_key="k", http_proxy=None)
            vault.put_credential("k", cred)
        assert "hunter2-PW" not in str(e.value)
    with pytest.raises(farmvault.InvalidArgument, match="login contains"):
        cred = farmvault.SessionToken(
            host="https://mysite.shotgrid.autodesk.com", login="jdoe\x1b]0;x\x07", session_token="t"
        )
        vault.put_credential("s", cred)
    assert vault.list() == []


unix_only = pytest.mark.skipif(os.name != "posix", reason="owners, modes and symbolic links are checked on Unix only")


@unix_only
def test_a_vault_directory_open_to_others_is_refused_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "v"
    farmvault.Vault.create(path, passphrase=PW, kdf=CHEAP).close()
    path.chmod(0o777)
    with pytest.raises(farmvault.InvalidArgument) as e:
        open_vault(path)
    assert e.value.code == 7
    assert f"vault directory {path} is accessible by group or others (mode 0777)" in e.value.message
    assert f"chmod 700 {path}" in e.value.message
    with open_vault(path, allow_insecure_permissions=True) as v:
        assert v.list() == []
    # create refuses up front what open would refuse, in the same words.
    empty = tmp_path / "empty"
    empty.mkdir()
    empty.chmod(0o777)
    with pytest.raises(farmvault.InvalidArgument) as by_create:
        farmvault.Vault.create(empty, passphrase=PW, kdf=CHEAP)
    with pytest.raises(farmvault.InvalidArgument) as by_open:
        open_vault(empty)
    assert by_create.value.message == by_open.value.message
    assert list(empty.iterdir()) == []
    farmvault.Vault.create(empty, passphrase=PW, kdf=CHEAP, allow_insecure_permissions=True).close()
    with pytest.raises(farmvault.InvalidArgument, match="True or False"):
        open_vault(path, allow_insecure_permissions=1)


@unix_only
def test_a_vault_directory_or_key_file_behind_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "farm.key"
    farmvault.generate_key_file(key)
    path = tmp_path / "v"
    farmvault.Vault.create(path, key_file=key).close()
    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(farmvault.InvalidArgument) as e:
        farmvault.Vault.open(link, key_file=key)
    assert e.value.message.startswith(f"vault directory {link} is a symbolic link"), e.value.message
    key_link = tmp_path / "link.key"
    key_link.symlink_to(key)
    with pytest.raises(farmvault.InvalidArgument) as k:
        farmvault.Vault.open(path, key_file=key_link)
    assert k.value.message.startswith(f"key file {key_link} is a symbolic link"), k.value.message
    with farmvault.Vault.open(link, key_file=key_link, allow_insecure_permissions=True) as v:
        assert v.list() == []


@unix_only
def test_another_users_vault_directory_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a directory to another user (uid 65534)")
    path = tmp_path / "v"
    farmvault.Vault.create(path, passphrase=PW, kdf=CHEAP).close()
    os.chown(path, 65534, 65534)
    with pytest.raises(farmvault.InvalidArgument) as e:
        open_vault(path)
    assert f"vault directory {path} is owned by uid 65534, not by you (uid 0)" in e.value.message
    with open_vault(path, allow_insecure_permissions=True):
        pass


def test_an_upgrade_from_0_1_0_is_reported_once_and_the_clock_is_not_behind(tmp_path: Path) -> None:
    import tarfile

    fixture = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "vault-0.1.0.tar.gz"
    if not fixture.exists():
        pytest.skip("not run from a farmvault checkout (the 0.1.0 fixture is in tests/fixtures)")
    with tarfile.open(fixture) as tar:
        tar.extractall(tmp_path, filter="tar")  # keeps the vault directory 0700
    with farmvault.Vault.open(tmp_path / "vault", key_file=tmp_path / "farm.key") as v:
        assert v.upgraded_from == 1
        assert v.clock_behind is None
        assert v.get("opaque/blob").secret == b"opaque-secret-0.1.0"
    with farmvault.Vault.open(tmp_path / "vault", key_file=tmp_path / "farm.key") as v:
        assert v.upgraded_from is None


def test_compact_gives_back_space_and_keeps_every_entry(vault_path: Path) -> None:
    with open_vault(vault_path) as v:
        for i in range(300):
            v.put(f"e{i}", b"x" * 2048)
        for i in range(290):
            v.delete(f"e{i}")
        before = sum(p.stat().st_size for p in vault_path.rglob("*") if p.is_file())
        after = v.compact()
        assert after == sum(p.stat().st_size for p in vault_path.rglob("*") if p.is_file())
        assert after * 2 < before
        assert [i.name for i in v.list()] == [f"e{i}" for i in sorted(range(290, 300), key=str)]
    with open_vault(vault_path) as v:
        assert v.get("e299").secret == b"x" * 2048


def test_allow_network_filesystem_takes_a_bool(vault_path: Path) -> None:
    with pytest.raises(farmvault.InvalidArgument, match="allow_network_filesystem"):
        farmvault.Vault.open(vault_path, passphrase=PW, allow_network_filesystem="yes")  # type: ignore[arg-type]
    # Allowed on a local disk too: the option only lifts a refusal.
    farmvault.Vault.open(vault_path, passphrase=PW, kdf=CHEAP, allow_network_filesystem=True).close()
