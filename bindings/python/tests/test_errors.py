"""Every exception class, each produced for real where the library can produce it,
and every bad Python argument refused before it reaches C."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, List

import pytest

import farmvault
from farmvault import _ffi
from conftest import CHEAP, PW, T0, open_vault, script_key
import _sled

ALL_CLASSES = [
    farmvault.NotFound,
    farmvault.Expired,
    farmvault.WrongKey,
    farmvault.Tampered,
    farmvault.Corrupt,
    farmvault.Locked,
    farmvault.InvalidArgument,
    farmvault.IoError,
    farmvault.Panic,
    farmvault.NoVault,
    farmvault.AlreadyExists,
    farmvault.ReadOnly,
    farmvault.HostNotAllowed,
    farmvault.Forked,
    farmvault.AgentLocked,
    farmvault.AgentError,
]


def test_one_class_per_result_code_named_as_the_library_names_it() -> None:
    codes = sorted(c.CODE for c in ALL_CLASSES if c.CODE is not None)
    assert codes == list(range(1, 17))
    for cls in ALL_CLASSES:
        assert issubclass(cls, farmvault.Error)
        assert cls.CODE is not None
        assert _ffi.fv_result_name(cls.CODE).decode() == cls.NAME
        err = farmvault._errors.error_for_code(cls.CODE, "the message")
        assert type(err) is cls and err.code == cls.CODE and str(err) == "the message"
    unknown = farmvault._errors.error_for_code(99, "")
    assert type(unknown) is farmvault.Error and unknown.code == 99 and "99" in str(unknown)
    assert _ffi.fv_result_name(99) == b"FV_UNKNOWN_RESULT"


def test_wrong_passphrase_is_wrong_key(vault_path: Path) -> None:
    with pytest.raises(farmvault.WrongKey, match="wrong passphrase or key file") as e:
        farmvault.Vault.open(vault_path, passphrase="not it")
    assert e.value.code == 3 and str(vault_path) in e.value.message
    assert "not it" not in e.value.message


def test_wrong_key_file_is_wrong_key(vault_path: Path, tmp_path: Path) -> None:
    key = tmp_path / "k"
    farmvault.generate_key_file(key)
    with pytest.raises(farmvault.WrongKey):
        farmvault.Vault.open(vault_path, key_file=key)


def test_a_record_whose_expiry_was_extended_on_disk_is_tampered(vault_path: Path) -> None:
    with open_vault(vault_path) as v:
        v.put("keep", b"keepme")
        v.put_credential("victim", script_key(), ttl=60)
    # An attacker with write access extends the entry's expiry in the sled log (and
    # fixes sled's own checksum): the AEAD's associated data binds the expiry.
    edited = _sled.patch(
        vault_path, _sled.record_prefix(T0, T0, T0 + 60), _sled.record_prefix(T0, T0, T0 + 10**6)
    )
    assert edited >= 1
    with open_vault(vault_path, T0 + 30) as v:
        with pytest.raises(farmvault.Tampered, match='"victim"') as e:
            v.get("victim")
        assert e.value.code == 4
        with pytest.raises(farmvault.Tampered):
            v.metadata("victim")
        assert v.get("keep").secret == b"keepme"  # the others are untouched
        assert [i.name for i in v.list()] == ["keep"]
        v.delete("victim")  # a damaged entry can still be removed


def test_flipped_ciphertext_is_tampered(vault_path: Path) -> None:
    with open_vault(vault_path) as v:
        v.put("victim", b"bravo" * 10, ttl=77)
    prefix = _sled.record_prefix(T0, T0, T0 + 77)
    db = (_sled.data_dir(vault_path) / "db").read_bytes()
    at = db.find(prefix)
    assert at > 0
    # Bytes 24.. of the prefix are the nonce and ciphertext: flip one well inside.
    start = at + len(prefix) + 30
    original = db[start : start + 1]
    assert _sled.patch(vault_path, db[at : start + 1], db[at:start] + bytes([original[0] ^ 0x20])) == 1
    with open_vault(vault_path) as v:
        with pytest.raises(farmvault.Tampered):
            v.get("victim")


def test_a_damaged_header_is_corrupt(vault_path: Path) -> None:
    assert _sled.patch(vault_path, b"FVLT", b"FVLX") == 1
    with pytest.raises(farmvault.Corrupt, match="corrupt") as e:
        farmvault.Vault.open(vault_path, passphrase=PW)
    assert e.value.code == 5


def test_a_vault_held_by_another_process_is_locked(vault_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, farmvault
                v = farmvault.Vault.open({str(vault_path)!r}, passphrase={PW!r})
                print("held", flush=True)
                sys.stdin.read()
                v.close()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # The message names the holder: the Python process above.
        with pytest.raises(farmvault.Locked, match=f"in use by process {holder.pid} ") as e:
            farmvault.Vault.open(vault_path, passphrase=PW, lock_timeout=0.2)
        assert e.value.code == 6 and str(vault_path) in e.value.message
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with farmvault.Vault.open(vault_path, passphrase=PW, lock_timeout=5):
        pass  # released: nothing was lost


def test_no_vault_and_already_exists(tmp_path: Path, vault_path: Path) -> None:
    with pytest.raises(farmvault.NoVault) as e:
        farmvault.Vault.open(tmp_path / "nothing", passphrase=PW)
    assert e.value.code == 10
    with pytest.raises(farmvault.AlreadyExists) as e2:
        farmvault.Vault.create(vault_path, passphrase=PW, kdf=CHEAP)
    assert e2.value.code == 11


def test_an_unreadable_key_file_is_an_io_error(vault_path: Path, tmp_path: Path) -> None:
    with pytest.raises(farmvault.IoError) as e:
        farmvault.Vault.open(vault_path, key_file=tmp_path / "missing.key")
    assert e.value.code == 8 and "missing.key" in e.value.message


def test_invalid_arguments_the_library_catches(vault: farmvault.Vault) -> None:
    with pytest.raises(farmvault.InvalidArgument, match="100-year") as e:
        vault.put("a", b"x", ttl=200 * 365 * 24 * 3600)
    assert e.value.code == 7
    with pytest.raises(farmvault.InvalidArgument):
        vault.put("bad\x07name", b"x")  # control characters are refused by the core
    with pytest.raises(farmvault.InvalidArgument):
        farmvault.Vault.create("/tmp/never", passphrase=PW, kdf=farmvault.Kdf(1, 0, 0))


def test_panic_maps_to_its_class() -> None:
    # No call can make the library panic (that would be a bug); its code still maps
    # to its class. (ReadOnly and HostNotAllowed come for real in test_grant.py.)
    for cls in (farmvault.Panic,):
        assert cls.CODE is not None
        err = farmvault._errors.error_for_code(cls.CODE, "m")
        assert isinstance(err, cls) and isinstance(err, farmvault.Error)


def test_errors_are_catchable_as_the_base_class(vault: farmvault.Vault) -> None:
    with pytest.raises(farmvault.Error):
        vault.get("missing")
    with pytest.raises(ValueError):
        vault.get(b"bytes name")  # type: ignore[arg-type]


BAD_CALLS: List[Callable[[farmvault.Vault], Any]] = [
    lambda v: v.put(b"bytes", b"x"),  # type: ignore[arg-type]
    lambda v: v.put(None, b"x"),  # type: ignore[arg-type]
    lambda v: v.put(42, b"x"),  # type: ignore[arg-type]
    lambda v: v.put("", b"x"),
    lambda v: v.put("nul\0name", b"x"),
    lambda v: v.put("x" * 1025, b"x"),
    lambda v: v.put("\ud800", b"x"),
    lambda v: v.put("a", None),  # type: ignore[arg-type]
    lambda v: v.put("a", 42),  # type: ignore[arg-type]
    lambda v: v.put("a", b""),
    lambda v: v.put("a", b"x" * (1024 * 1024 + 1)),
    lambda v: v.put("a", b"x", ttl=0),
    lambda v: v.put("a", b"x", ttl=-5),
    lambda v: v.put("a", b"x", ttl=float("nan")),
    lambda v: v.put("a", b"x", ttl=True),  # type: ignore[arg-type]
    lambda v: v.put("a", b"x", ttl="1.5h"),  # text, but not a duration the command line takes
    lambda v: v.put("a", b"x", ttl=2**70),
    lambda v: v.get(None),  # type: ignore[arg-type]
    lambda v: v.get(""),
    lambda v: v.get("a\0b"),
    lambda v: v.get("\ud800"),
    lambda v: v.get("n" * 1025),
    lambda v: v.shotgun_kwargs("a\0b"),
    lambda v: v.metadata(b"a"),  # type: ignore[arg-type]
    lambda v: v.delete(""),
    lambda v: v.renew("a", 0),
    lambda v: v.list(None),  # type: ignore[arg-type]
    lambda v: v.list(b"sg/"),  # type: ignore[arg-type]
    lambda v: v.put_credential("a", b"not a credential"),  # type: ignore[arg-type]
    lambda v: v.put_credential("a", None),  # type: ignore[arg-type]
    lambda v: v.shotgun_kwargs(None),  # type: ignore[arg-type]
    lambda v: v.change_passphrase(""),
    lambda v: v.add_key_file(None),  # type: ignore[arg-type]
    lambda v: v.add_key_file(b"/tmp/k"),  # type: ignore[arg-type]
    lambda v: farmvault.Vault.open("", passphrase=PW),
    lambda v: farmvault.Vault.open("a\0b", passphrase=PW),
    lambda v: farmvault.Vault.open("x" * 5000, passphrase=PW),
    lambda v: farmvault.Vault.open("/tmp/v", passphrase=None, key_file=None),
    lambda v: farmvault.Vault.open("/tmp/v", passphrase=12345),  # type: ignore[arg-type]
    lambda v: farmvault.Vault.open("/tmp/v", passphrase=PW, kdf=(8, 1)),  # type: ignore[arg-type]
    lambda v: farmvault.Vault.open("/tmp/v", passphrase=PW, lock_timeout=-1),
    lambda v: farmvault.Vault.open("/tmp/v", passphrase=PW, fixed_time=0),
    lambda v: farmvault.ScriptKey("", "s", "k"),
    lambda v: farmvault.ScriptKey("h", None, "k"),  # type: ignore[arg-type]
    lambda v: farmvault.ScriptKey("h", "s", ""),
    lambda v: farmvault.ScriptKey("h", "s", None),  # type: ignore[arg-type]
    lambda v: farmvault.SessionToken("h", "login", 42),  # type: ignore[arg-type]
    lambda v: farmvault.LoginPassword("h", b"login", "pw"),  # type: ignore[arg-type]
    lambda v: farmvault.Opaque(b""),
    lambda v: farmvault.Secret(None),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("call", BAD_CALLS, ids=[f"bad{i}" for i in range(len(BAD_CALLS))])
def test_bad_python_arguments_raise_invalid_argument_before_c(
    vault: farmvault.Vault, call: Callable[[farmvault.Vault], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python's checks come first: with every entry point that writes or opens
    # replaced by a tripwire, a bad argument must still raise InvalidArgument.
    def tripwire(*args: object) -> None:
        raise AssertionError("a bad argument reached the C library")

    for name in (
        "fv_vault_put",
        "fv_vault_get",
        "fv_vault_get_view",
        "unchecked_vault_get_view",
        "fv_vault_metadata",
        "fv_vault_delete",
        "fv_vault_renew",
        "fv_vault_list",
        "fv_vault_put_credential",
        "fv_vault_open_passphrase",
        "fv_vault_open_key_file",
        "fv_vault_change_passphrase",
        "fv_vault_add_key_file",
        "fv_credential_new_script_key",
    ):
        monkeypatch.setattr(_ffi, name, tripwire)
    with pytest.raises(farmvault.InvalidArgument) as e:
        call(vault)
    assert isinstance(e.value, ValueError)
    assert e.value.code == 7


def test_not_found_is_a_key_error_that_reads_as_the_library_wrote_it(vault: farmvault.Vault) -> None:
    with pytest.raises(KeyError) as e:
        vault.get("missing")
    err = e.value
    assert isinstance(err, farmvault.NotFound) and isinstance(err, farmvault.Error)
    # KeyError's own str() would quote the message; the library's text stays as is.
    assert str(err) == err.message and not str(err).startswith(("'", '"'))
    assert "missing" in str(err)
    assert repr(err) == f"NotFound(code=1, message={err.message!r})"


def test_io_error_is_an_os_error_with_the_os_code(vault_path: Path, tmp_path: Path) -> None:
    with pytest.raises(OSError) as e:
        farmvault.Vault.open(vault_path, key_file=tmp_path / "missing.key")
    err = e.value
    assert isinstance(err, farmvault.IoError) and isinstance(err, farmvault.Error)
    assert err.errno == errno.ENOENT and err.strerror == os.strerror(errno.ENOENT)
    assert str(err) == err.message and "missing.key" in str(err)
    assert repr(err) == f"IoError(code=8, message={err.message!r})"
    # Without an OS code in the message, errno stays unset.
    bare = farmvault._errors.error_for_code(8, "the message")
    assert isinstance(bare, OSError) and bare.errno is None and str(bare) == "the message"


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_every_error_pickles_with_its_class_code_and_message(cls: Any) -> None:
    err = farmvault._errors.error_for_code(cls.CODE, 'reading "x": No such file or directory (os error 2)')
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and back.code == err.code and back.message == err.message
    assert str(back) == str(err) and repr(back) == repr(err)
    if isinstance(err, OSError):
        assert isinstance(back, OSError) and back.errno == errno.ENOENT
