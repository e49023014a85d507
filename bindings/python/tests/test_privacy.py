"""No secret in any repr, str or error message, nor anywhere in the vault's files."""

from __future__ import annotations

import copy
import ctypes
import pickle
from pathlib import Path
from typing import List

import pytest

import farmvault
from farmvault import _ffi, sgtk
from conftest import T0, open_vault

KEY = "KEY-5f4dcc3b5aa765d61d8327deb882cf99"
TOKEN = "TOKEN-7c6a180b36896a0a8c02787eeafb0e4c"
PASSWORD = "PASSWORD-6cb75f652a9b52798eb6cf2201057c73"
PROXY_PW = "PROXYPW-819b0643d6b89dc9b579fdfc9094f28e"
META = "META-34819d7beeabb9260a5c854bc85b3e44"
OPAQUE = b"OPAQUE-\x00\x01\x02-e10adc3949ba59abbe56e057f20f883e"
NAME = "entry-name-that-must-not-be-on-disk"
SECRETS: List[bytes] = [s.encode() for s in (KEY, TOKEN, PASSWORD, PROXY_PW, META)] + [OPAQUE]


def credentials() -> List[farmvault.Credential]:
    proxy = f"farm:{PROXY_PW}@proxy.local:8080"
    return [
        farmvault.ScriptKey("https://mysite.shotgrid.autodesk.com", "render_farm", KEY, http_proxy=proxy),
        farmvault.SessionToken("https://mysite.shotgrid.autodesk.com", "jdoe", TOKEN, proxy, META),
        farmvault.LoginPassword("https://mysite.shotgrid.autodesk.com", "jdoe", PASSWORD, proxy),
        farmvault.Opaque(OPAQUE),
    ]


def assert_clean(text: str, what: str) -> None:
    for s in SECRETS:
        assert s.decode("latin-1") not in text, f"a secret is in {what}: {text!r}"
    assert "PROXYPW" not in text and "KEY-" not in text and "TOKEN-" not in text, what


def test_no_secret_in_any_repr_or_str(vault_path: Path) -> None:
    shown: List[object] = []
    with open_vault(vault_path) as v:
        shown.append(v)
        for i, cred in enumerate(credentials()):
            shown.append(cred)
            v.put_credential(f"{NAME}/{i}", cred, ttl=60)
        with v.batch() as b:
            b.put_credential("batched", credentials()[0])
            shown.append(b)
        for i in range(4):
            entry = v.get(f"{NAME}/{i}")
            shown += [entry, entry.credential, entry.secret, v.metadata(f"{NAME}/{i}")]
        shown += v.list()
        shown.append(sgtk.VaultDefaultsManager(v, f"{NAME}/0"))
        shown.append(farmvault.Secret(KEY))
        try:
            v.put(f"{NAME}/bad", KEY, ttl=-1)
        except farmvault.Error as e:
            shown.append(e)
    with open_vault(vault_path, T0 + 3600) as v:
        with pytest.raises(farmvault.Expired) as expired:
            v.get(f"{NAME}/0")
        shown.append(expired.value)
    for obj in shown:
        for text in (repr(obj), str(obj), f"{obj}", f"{obj!r}"):
            assert_clean(text, type(obj).__name__)


def test_secrets_refuse_pickling_and_copies_are_independent() -> None:
    s = farmvault.Secret(KEY)
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        pickle.dumps(credentials()[0])
    c = copy.deepcopy(s)
    s.wipe()
    assert len(s) == 0 and c == KEY
    with farmvault.Secret(TOKEN) as t:
        buf = t.buffer()
    assert bytes(buf) == b"" and len(t) == 0


def test_wiping_a_credential_zeroes_its_buffers(vault: farmvault.Vault) -> None:
    vault.put_credential("k", credentials()[1])
    entry = vault.get("k")
    cred = entry.credential
    assert isinstance(cred, farmvault.SessionToken)
    buffers = [cred.session_token.buffer()]
    assert cred.http_proxy is not None and cred.session_metadata is not None
    buffers += [cred.http_proxy.buffer(), cred.session_metadata.buffer()]
    entry.wipe()
    assert all(not any(b) for b in buffers)


def test_a_wipe_zeroes_the_secret_s_own_storage() -> None:
    # A memoryview pins the bytearray's storage: what it shows after the wipe is what
    # the wipe did to that memory, not to a copy (the same for a collected secret).
    s = farmvault.Secret(KEY)
    pinned = memoryview(s.buffer())
    s.wipe()
    assert len(pinned) == len(KEY) and not any(pinned)
    pinned.release()
    t = farmvault.Secret(TOKEN)
    pinned = memoryview(t.buffer())
    del t
    assert len(pinned) == len(TOKEN) and not any(pinned)


def test_fv_wipe_zeroes_a_buffer_of_the_caller_s() -> None:
    # The C ABI's fv_wipe, as declared in _ffi.py, on a ctypes view of a bytearray:
    # the bytes it is given become zeros, the ones around them do not.
    buf = bytearray(b"<" + KEY.encode() + b">")
    view = (ctypes.c_char * len(buf)).from_buffer(buf)
    _ffi.fv_wipe(ctypes.byref(view, 1), len(KEY))
    del view
    assert buf == b"<" + bytes(len(KEY)) + b">"
    _ffi.fv_wipe(None, 0)


def test_error_messages_of_bad_payloads_hold_no_secret() -> None:
    payloads = [
        f'{{"type": "ScriptUser", "data": {{"host": "h", "api_script": "s", "api_key": 5, "x": "{KEY}"}}}}',
        f'{{"type": "SessionUser", "data": {{"host": "h", "login": "", "session_token": "{TOKEN}"}}}}',
        f'{{"type": "SessionUser", "data": {{"host": "h", "session_token": "{TOKEN}"',
        f"(dp0\nVtype\np1\nVSessionUser\np2\nsVdata\n(dp3\nVsession_token\nV{TOKEN}\nq",
    ]
    for p in payloads:
        with pytest.raises(sgtk.FormatError) as e:
            sgtk.deserialize_user(p)
        assert TOKEN not in str(e.value) and "5f4dcc3b" not in str(e.value), str(e.value)


def test_nothing_secret_reaches_the_vault_directory(vault_path: Path, tmp_path: Path) -> None:
    with open_vault(vault_path) as v:
        for i, cred in enumerate(credentials()):
            v.put_credential(f"{NAME}/{i}", cred, ttl=3600)
        with v.batch() as b:
            b.put(f"{NAME}/batched", OPAQUE)
        v.rotate()
        v.change_passphrase(PASSWORD)
    files = [p for p in vault_path.rglob("*") if p.is_file()]
    assert files
    for f in files:
        data = f.read_bytes()
        for s in SECRETS + [NAME.encode(), b"render_farm", b"jdoe"]:
            assert s not in data, f"{s!r} found in {f}"
