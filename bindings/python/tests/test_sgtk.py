"""farmvault.sgtk: tk-core's formats (from the literal samples of docs/TOOLKIT.md and
from what tk-core's own code writes), the session-cache import and the
DefaultsManager adapter."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

import farmvault
from farmvault import sgtk
from conftest import T0, at, login_password, open_vault, script_key, session_token

HOST = "https://mysite.shotgrid.autodesk.com"

# The literal output of serialize_user(user, use_json=True), from docs/TOOLKIT.md.
SESSION_JSON = '{"type": "SessionUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "login": "jdoe", "session_token": "abc123sessiontoken"}}'
SESSION_FULL_JSON = '{"type": "SessionUser", "data": {"http_proxy": "user:pass@proxy.local:8080", "host": "https://mysite.shotgrid.autodesk.com", "login": "jdoe", "session_token": "abc123sessiontoken", "session_metadata": "c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw"}}'
SCRIPT_JSON = '{"type": "ScriptUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "api_script": "render_farm", "api_key": "0123456789abcdef"}}'
# The literal default (pickle) output, from docs/TOOLKIT.md.
SCRIPT_PICKLE = "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nNsVhost\np6\nVhttps://mysite.shotgrid.autodesk.com\np7\nsVapi_script\np8\nVrender_farm\np9\nsVapi_key\np10\nV0123456789abcdef\np11\nss."


def tk_core_pickle(data: Dict[str, Any]) -> str:
    """What tk-core's util/pickle.py dumps() returns for ``data`` on Python 3: a
    protocol-0 pickle decoded as UTF-8, or, when it is not UTF-8, re-pickled with
    ``_payload_encoding`` and decoded as Latin-1. (Used only to make expected text:
    nothing here ever unpickles.)"""
    raw = pickle.dumps(data, protocol=0)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        data = dict(data)
        data["_payload_encoding"] = "ISO-8859-1"
        return pickle.dumps(data, protocol=0).decode("ISO-8859-1")


def session_dict(login: str, proxy: Optional[str] = None, metadata: Optional[str] = None) -> Dict[str, Any]:
    data: Dict[str, Any] = {"http_proxy": proxy, "host": HOST, "login": login, "session_token": "tok-" + "x"}
    if metadata is not None:
        data["session_metadata"] = metadata
    return {"type": "SessionUser", "data": data}


def test_the_literal_json_samples_round_trip_byte_for_byte() -> None:
    bare = sgtk.deserialize_user(SESSION_JSON)
    assert bare == session_token()
    full = sgtk.deserialize_user(SESSION_FULL_JSON)
    assert full == session_token(proxy=True, metadata=True)
    script = sgtk.deserialize_user(SCRIPT_JSON)
    assert script == script_key()
    for text, cred in [(SESSION_JSON, bare), (SESSION_FULL_JSON, full), (SCRIPT_JSON, script)]:
        out = sgtk.serialize_user(cred, use_json=True)
        assert out == text
        assert out == json.dumps(json.loads(text))  # what Python's json.dumps writes


def test_the_literal_pickle_sample_round_trips() -> None:
    cred = sgtk.deserialize_user(SCRIPT_PICKLE)
    assert cred == script_key()
    assert sgtk.serialize_user(cred) == SCRIPT_PICKLE  # tk-core's default is the pickle
    assert sgtk.serialize_user(cred, use_json=False) == tk_core_pickle(json.loads(SCRIPT_JSON))


@pytest.mark.parametrize(
    "login",
    ["jdoe", "josé", "Łukasz", "名前", "emoji😀", "back\\slash", "line\u2028separator", "o'brien\"q\""],
)
def test_non_ascii_logins_match_tk_core_in_both_forms(login: str) -> None:
    for data in (session_dict(login), session_dict(login, proxy="p:q@proxy:3128", metadata="bWV0YQ==")):
        cred = farmvault.SessionToken(
            HOST,
            login,
            data["data"]["session_token"],
            http_proxy=data["data"]["http_proxy"],
            session_metadata=data["data"].get("session_metadata"),
        )
        as_json = sgtk.serialize_user(cred, use_json=True)
        assert as_json == json.dumps(data)
        assert as_json.isascii()
        as_pickle = sgtk.serialize_user(cred)
        assert as_pickle == tk_core_pickle(data)
        assert sgtk.deserialize_user(as_json) == cred
        assert sgtk.deserialize_user(as_pickle) == cred
        # What tk-core wrote reads back too (not only what farmvault wrote).
        assert sgtk.deserialize_user(tk_core_pickle(data)) == cred


def test_latin1_pickles_carry_the_payload_encoding() -> None:
    text = sgtk.serialize_user(farmvault.SessionToken(HOST, "josé", "tok"))
    assert '_payload_encoding' in text and "ISO-8859-1" in text
    assert "jos\xe9" in text  # the raw Latin-1 character, as tk-core writes it


def test_the_user_of_a_tank_context(monkeypatch: pytest.MonkeyPatch) -> None:
    context = json.dumps({"project": {"type": "Project", "id": 70}, "_current_user": SCRIPT_JSON})
    assert sgtk.user_from_tank_context(context) == script_key()
    monkeypatch.setenv("TANK_CONTEXT", json.dumps({"_current_user": SCRIPT_PICKLE}))
    assert sgtk.user_from_tank_context() == script_key()
    monkeypatch.delenv("TANK_CONTEXT")
    with pytest.raises(sgtk.FormatError, match="TANK_CONTEXT is not set"):
        sgtk.user_from_tank_context()
    with pytest.raises(sgtk.FormatError, match="no user"):
        sgtk.user_from_tank_context(json.dumps({"project": None}))
    with pytest.raises(sgtk.FormatError):
        sgtk.user_from_tank_context("not json")


def test_a_stored_credential_exports_as_tk_core_json(vault: farmvault.Vault) -> None:
    vault.put_credential("sg/jdoe", sgtk.deserialize_user(SESSION_FULL_JSON), ttl=3600)
    stored = vault.get("sg/jdoe").credential
    assert isinstance(stored, farmvault.SessionToken)
    assert sgtk.serialize_user(stored, use_json=True) == SESSION_FULL_JSON


MARKER = Path("/tmp/farmvault-pickle-was-executed")

BAD_PAYLOADS = [
    ('{"type": "AdminUser", "data": {"host": "h"}}', "unknown type"),
    ('{"data": {}}', "type"),
    ('{"type": "ScriptUser", "data": {"http_proxy": null, "host": "h", "api_script": "s"}}', "api_key"),
    ('{"type": "SessionUser", "data": {"host": "", "login": "l", "session_token": "t"}}', "host"),
    ('{"type": "SessionUser", "data": {"host": "h", "session_token": "t"}}', "login"),
    ('{"type": "ScriptUser", "data": 5}', "data"),
    ('{"type": "ScriptUser",', "JSON"),
    (' {"type": "ScriptUser"}', "whitespace"),
    (SCRIPT_PICKLE[:40], "truncated"),
    (f"cposix\nsystem\n(V touch {MARKER}\ntR.", "opcode"),
    (pickle.dumps({"type": "ScriptUser"}, protocol=2).decode("latin-1"), "binary pickle"),
    ("(lp0\n.", "opcode"),
    ("", "empty"),
]


@pytest.mark.parametrize("payload,needle", BAD_PAYLOADS)
def test_bad_payloads_are_format_errors(payload: str, needle: str) -> None:
    with pytest.raises(sgtk.FormatError) as e:
        sgtk.deserialize_user(payload)
    assert isinstance(e.value, farmvault.InvalidArgument)
    assert isinstance(e.value, farmvault.Error)
    assert needle.lower() in e.value.message.lower()
    assert not MARKER.exists(), "the pickle was executed"


def test_non_str_payloads_are_format_errors() -> None:
    for payload in (SCRIPT_JSON.encode(), None, 42):
        with pytest.raises(sgtk.FormatError, match="must be a str"):
            sgtk.deserialize_user(payload)  # type: ignore[arg-type]


def test_kinds_without_a_toolkit_user_type_cannot_be_serialized() -> None:
    for cred in (login_password(), farmvault.Opaque(b"x")):
        with pytest.raises(sgtk.FormatError, match="no user type"):
            sgtk.serialize_user(cred)  # type: ignore[arg-type]
    with pytest.raises(farmvault.InvalidArgument):
        sgtk.serialize_user("not a credential")  # type: ignore[arg-type]


# -- the session cache --------------------------------------------------------------

SITE_CACHE = """current_user: jdoe
method: qt_web_login
recent_users:
- jdoe
users:
- login: jdoe
  session_metadata: bWV0YQ==
  session_token: tok1
- login: asmith
  session_token: tok2
"""


@pytest.fixture
def shotgun_home(tmp_path: Path) -> Path:
    home = tmp_path / "shotgun_home"
    (home / "mysite").mkdir(parents=True)
    (home / "mysite" / "authentication.yml").write_text(SITE_CACHE)
    (home / "authentication.yml").write_text(f"current_host: {HOST}\n")
    return home


def test_session_cache_import_keeps_the_cache_by_default(vault: farmvault.Vault, shotgun_home: Path) -> None:
    report = sgtk.import_session_cache(vault, shotgun_home)
    assert [e.name for e in report.imported] == ["shotgun/mysite/jdoe", "shotgun/mysite/asmith"]
    assert report.removed == 0
    assert all(e.kind is farmvault.Kind.SESSION_TOKEN and e.host == HOST for e in report.imported)
    assert all(e.expires == at(T0) + sgtk.session_ttl() for e in report.imported)
    assert sgtk.session_ttl().total_seconds() == 24 * 3600
    jdoe = vault.get("shotgun/mysite/jdoe").credential
    assert jdoe == farmvault.SessionToken(HOST, "jdoe", "tok1", session_metadata="bWV0YQ==")
    assert vault.shotgun_kwargs("shotgun/mysite/asmith") == {"base_url": HOST, "session_token": "tok2"}
    assert (shotgun_home / "mysite" / "authentication.yml").read_text() == SITE_CACHE


def test_session_cache_import_with_remove_takes_tokens_off_disk(
    vault: farmvault.Vault, shotgun_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOTGUN_HOME", str(shotgun_home))  # the default root
    report = sgtk.import_session_cache(vault, prefix="sg/", ttl=None, remove=True)
    assert [e.name for e in report.imported] == ["sg/mysite/jdoe", "sg/mysite/asmith"]
    assert report.removed == 2
    assert all(e.expires is None for e in report.imported)
    text = (shotgun_home / "mysite" / "authentication.yml").read_text()
    for gone in ("tok1", "tok2", "bWV0YQ=="):
        assert gone not in text
    for kept in ("current_user: jdoe", "method: qt_web_login", "recent_users", "login: asmith"):
        assert kept in text
    assert os.stat(shotgun_home / "mysite" / "authentication.yml").st_mode & 0o077 == 0
    assert vault.get("sg/mysite/asmith").secret == "tok2"
    again = sgtk.import_session_cache(vault, shotgun_home, remove=True)
    assert again.imported == [] and again.removed == 0


def test_session_cache_import_errors(vault: farmvault.Vault, tmp_path: Path, shotgun_home: Path) -> None:
    with pytest.raises(farmvault.IoError):
        sgtk.import_session_cache(vault, tmp_path / "nowhere")
    (shotgun_home / "mysite" / "authentication.yml").write_text("users: 5\n")
    with pytest.raises(farmvault.InvalidArgument):
        sgtk.import_session_cache(vault, shotgun_home)
    assert vault.list() == []
    with pytest.raises(farmvault.InvalidArgument):
        sgtk.import_session_cache("not a vault", shotgun_home)  # type: ignore[arg-type]
    with pytest.raises(farmvault.InvalidArgument):
        sgtk.import_session_cache(vault, shotgun_home, ttl=-1)


# -- the DefaultsManager adapter ----------------------------------------------------


class FakeDefaultsManager:
    """The shape of tk-core's DefaultsManager.__init__ (its real one reads user
    settings), to check the adapter mixes in cooperatively."""

    def __init__(self, fixed_host: Optional[str] = None) -> None:
        self.fixed_host_seen = fixed_host

    def get_host(self) -> Optional[str]:
        return "from the base class"

    def extra(self) -> str:
        return "inherited"


def test_the_adapter_gives_a_script_user(vault: farmvault.Vault) -> None:
    vault.put_credential("sg/farm", script_key(proxy=True))
    dm = sgtk.VaultDefaultsManager(vault, "sg/farm")
    assert dm.is_host_fixed()
    assert dm.get_host() == HOST
    assert dm.get_http_proxy() == "user:pass@proxy.local:8080"
    assert dm.get_login() is None
    assert dm.get_user_credentials() == {
        "api_script": "render_farm",
        "api_key": "0123456789abcdef",
        "host": HOST,
        "http_proxy": "user:pass@proxy.local:8080",
    }
    dm.set_host("elsewhere")
    dm.set_login("someone")
    assert dm.get_host() == HOST


def test_the_adapter_gives_a_session_user(vault: farmvault.Vault) -> None:
    vault.put_credential("sg/jdoe", session_token(metadata=True))
    dm = sgtk.VaultDefaultsManager(vault, "sg/jdoe")
    assert dm.get_http_proxy() is None
    assert dm.get_login() == "jdoe"
    assert dm.get_user_credentials() == {
        "login": "jdoe",
        "session_token": "abc123sessiontoken",
        "host": HOST,
        "session_metadata": "c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw",
    }


def test_the_adapter_mixes_into_a_defaults_manager(vault: farmvault.Vault) -> None:
    class FarmDefaults(sgtk.VaultDefaultsManager, FakeDefaultsManager):
        pass

    vault.put_credential("sg/farm", script_key())
    dm = FarmDefaults(vault, "sg/farm")
    assert isinstance(dm, FakeDefaultsManager)
    assert dm.fixed_host_seen is None and dm.extra() == "inherited"
    assert dm.get_host() == HOST  # the vault's answer wins


def test_the_adapter_refuses_other_kinds_and_reports_expiry(vault_path: Path) -> None:
    with open_vault(vault_path, T0) as v:
        v.put_credential("pat", login_password())
        v.put_credential("soon", session_token(), ttl=60)
        with pytest.raises(farmvault.InvalidArgument, match="LoginPassword"):
            sgtk.VaultDefaultsManager(v, "pat").get_user_credentials()
        with pytest.raises(farmvault.NotFound):
            sgtk.VaultDefaultsManager(v, "missing").get_user_credentials()
        with pytest.raises(farmvault.InvalidArgument):
            sgtk.VaultDefaultsManager(v, None)  # type: ignore[arg-type]
    with open_vault(vault_path, T0 + 120) as v:
        with pytest.raises(farmvault.Expired):
            sgtk.VaultDefaultsManager(v, "soon").get_user_credentials()
