"""farmvault.sgtk: tk-core's formats (from the literal samples of docs/TOOLKIT.md and
from what tk-core's own code writes), the session-cache import and the
DefaultsManager adapter."""

from __future__ import annotations

import base64
import json
import os
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional

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
    ("(lp0\n.", "holds a list, not a dict"),
    ("(dp0\nVa\np1\nF1.5\ns.", "'F' (FLOAT) at offset 11"),
    ("zzz", "not JSON"),
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


def test_payloads_other_than_str_or_bytes_are_format_errors() -> None:
    for payload in (None, 42, ["x"]):
        with pytest.raises(sgtk.FormatError, match="must be a str or bytes"):
            sgtk.deserialize_user(payload)  # type: ignore[arg-type]


def test_bytes_are_read_as_tk_core_reads_them() -> None:
    data = session_dict("josé")
    text = tk_core_pickle(data)
    cred = farmvault.SessionToken(HOST, "josé", data["data"]["session_token"])
    # The text, its UTF-8 bytes, and its raw Latin-1 bytes (the pickle's own).
    for payload in (text, text.encode("utf-8"), text.encode("latin-1"), bytearray(text.encode("latin-1"))):
        assert sgtk.deserialize_user(payload) == cred
    assert sgtk.deserialize_user(SCRIPT_JSON.encode()) == script_key()
    # A UTF-8 byte order mark before JSON is skipped, as str and as bytes.
    assert sgtk.deserialize_user("\ufeff" + SCRIPT_JSON) == script_key()
    assert sgtk.deserialize_user(b"\xef\xbb\xbf" + SCRIPT_JSON.encode()) == script_key()


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


# -- TANK_CONTEXT, both forms -------------------------------------------------------


def tk_core_context(login: str, project: str, use_json: bool) -> str:
    """What tk-core's ``Context.serialize(use_json=...)`` returns for a context with a
    project, a shot and an additional entity (entity dicts rebuilt from server-like
    results, as its ``to_dict`` does), ``_pc_path`` and ``_current_user``."""
    sg = json.loads

    def cleanup(e: Dict[str, Any]) -> Dict[str, Any]:
        return {"type": e["type"], "id": e["id"], "name": e["name"]}

    data: Dict[str, Any] = {
        "project": cleanup(sg(json.dumps({"type": "Project", "id": 65, "name": project}))),
        "entity": cleanup(sg('{"type": "Shot", "id": 1184, "name": "ABC_0010"}')),
        "user": None,
        "step": None,
        "task": None,
        "additional_entities": [cleanup(sg('{"type": "Asset", "id": 1200, "name": "tree"}'))],
        "source_entity": None,
        "flow_project_id": None,
        "flow_draft_id": None,
        "flow_schema_version": None,
    }
    data["_pc_path"] = json.loads('"/studio/configs/demo"')
    user = session_dict(login)
    data["_current_user"] = json.dumps(user) if use_json else tk_core_pickle(user)
    return json.dumps(data) if use_json else tk_core_pickle(data)


@pytest.mark.parametrize("use_json", [False, True])
@pytest.mark.parametrize("login,project", [("jdoe", "demo"), ("josé", "Café")])
def test_contexts_are_kept_whole_and_come_back_as_they_came(
    vault: farmvault.Vault, use_json: bool, login: str, project: str
) -> None:
    text = tk_core_context(login, project, use_json)
    user = farmvault.SessionToken(HOST, login, "tok-x")
    forms: List[sgtk.Payload] = [text, text.encode("utf-8")]
    if not use_json and not text.isascii():
        forms.append(text.encode("latin-1"))  # tk-core's text written out raw
    for i, payload in enumerate(forms):
        ctx = sgtk.parse(payload)
        assert isinstance(ctx, farmvault.TankContext)
        assert ctx.user == user and ctx.host == HOST
        assert sgtk.user_from_tank_context(payload) == user
        raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        assert sgtk.export(ctx) == raw
        try:
            assert ctx.value() == raw.decode("utf-8") == text
        except UnicodeDecodeError:
            assert ctx.value() == raw
        assert "tok-x" not in repr(ctx)
        vault.put_credential(f"ctx/{i}", ctx, ttl=3600)
        stored = vault.get(f"ctx/{i}").credential
        assert stored == ctx
        assert sgtk.export(stored) == raw
        assert sgtk.serialize_user(stored, use_json=True) == json.dumps(session_dict(login))
        assert vault.shotgun_kwargs(f"ctx/{i}") == {"base_url": HOST, "session_token": "tok-x"}
    # The Toolkit takes the context's user from the vault.
    assert sgtk.VaultDefaultsManager(vault, "ctx/0").get_login() == login
    # Made from its bytes directly, too.
    assert farmvault.TankContext(text).user == user
    with pytest.raises(farmvault.InvalidArgument, match="not a TANK_CONTEXT"):
        farmvault.TankContext(SCRIPT_JSON)


def test_users_and_contexts_are_told_apart_by_structure() -> None:
    # A user whose values hold "_current_user" is a user, not a context.
    tricky = farmvault.SessionToken(HOST, "jdoe", "tok", session_metadata='"_current_user": "_pc_path"')
    for payload in (sgtk.serialize_user(tricky, use_json=True), sgtk.serialize_user(tricky)):
        assert sgtk.parse(payload) == tricky
    with pytest.raises(sgtk.FormatError, match="no user"):
        sgtk.parse(json.dumps({"_pc_path": "/p", "project": None}))
    with pytest.raises(sgtk.FormatError, match="neither a serialized user"):
        sgtk.parse(json.dumps({"project": None}))


# -- Flow tokens --------------------------------------------------------------------

APP = "8QyoQKXZ7HDuQFmptJGrzsp2GwpATmyV"


def jwt(exp: int) -> str:
    """A JWT whose payload carries ``exp`` (the signature is not read)."""

    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return ".".join([enc({"alg": "RS256"}), enc({"sub": "jdoe", "exp": exp}), enc("sig")])


def test_flow_tokens_move_into_the_vault_expiring_with_their_access_token(
    vault: farmvault.Vault, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    tokens = home / "adsk_flow_tokens.json"
    data = {
        f"adsk.flow.{APP}.access_token": {"jdoe": jwt(T0 + 3600), "old": jwt(T0 - 5)},
        f"adsk.flow.{APP}.refresh_token": {"jdoe": "rt-jdoe", "old": "rt-old"},
        "adsk.flow.Other.access_token": {"jdoe": jwt(T0 + 60)},
    }
    tokens.write_text(json.dumps(data))  # as tk-core's json.dump writes it
    report = sgtk.import_flow_tokens(vault, home, remove=True)
    assert [e.name for e in report.imported] == [f"flow/{APP}/jdoe", "flow/Other/jdoe"]
    assert [e.expires for e in report.imported] == [at(T0 + 3600), at(T0 + 60)]
    assert all(e.kind is farmvault.Kind.FLOW_TOKEN and e.host is None for e in report.imported)
    assert (report.removed, report.skipped) == (2, 1)
    # The file keeps everything else, as tk-core's delete_tokens leaves it.
    after = json.loads(tokens.read_text())
    del data[f"adsk.flow.{APP}.access_token"]["jdoe"]
    del data[f"adsk.flow.{APP}.refresh_token"]["jdoe"]
    del data["adsk.flow.Other.access_token"]["jdoe"]
    assert after == data
    assert tokens.read_text() == json.dumps(data)
    assert os.stat(tokens).st_mode & 0o077 == 0

    pair = vault.get(f"flow/{APP}/jdoe").credential
    assert pair == farmvault.FlowToken(APP, "jdoe", jwt(T0 + 3600), "rt-jdoe")
    assert sgtk.flow_token_expiry(pair) == at(T0 + 3600)
    assert sgtk.export(pair).decode() == json.dumps(
        {f"adsk.flow.{APP}.access_token": {"jdoe": jwt(T0 + 3600)}, f"adsk.flow.{APP}.refresh_token": {"jdoe": "rt-jdoe"}}
    )
    assert "rt-jdoe" not in repr(pair)
    with pytest.raises(farmvault.InvalidArgument, match="not a Shotgun credential"):
        pair.shotgun_kwargs()
    with pytest.raises(sgtk.FormatError, match="no user type"):
        sgtk.serialize_user(pair)  # type: ignore[arg-type]


def test_a_flow_pair_made_by_hand(vault: farmvault.Vault) -> None:
    pair = farmvault.FlowToken("APP", "jdoe", "not-a-jwt")
    vault.put_credential("flow/hand", pair)
    assert vault.get("flow/hand").credential == pair
    with pytest.raises(farmvault.NotFound, match="expiry"):
        sgtk.flow_token_expiry(pair)
    with pytest.raises(farmvault.InvalidArgument):
        farmvault.FlowToken("", "jdoe", "t")
    with pytest.raises(farmvault.InvalidArgument):
        sgtk.flow_token_expiry(script_key())  # type: ignore[arg-type]


def test_session_cache_removal_leaves_metadata_tk_core_overwrites(
    vault: farmvault.Vault, shotgun_home: Path
) -> None:
    sgtk.import_session_cache(vault, shotgun_home, remove=True)
    # The metadata is in the vault; the YAML keeps a non-empty placeholder, which
    # tk-core's cache (docs/TOOLKIT.md) replaces with the next SSO login's metadata,
    # as it replaces only a non-empty value.
    assert (shotgun_home / "mysite" / "authentication.yml").read_text() == SITE_CACHE.replace(
        "  session_metadata: bWV0YQ==\n  session_token: tok1\n",
        "  session_metadata: moved-to-farmvault\n  session_token: null\n",
    ).replace("  session_token: tok2\n", "  session_token: null\n")
    jdoe = vault.get("shotgun/mysite/jdoe").credential
    assert isinstance(jdoe, farmvault.SessionToken) and jdoe.session_metadata == "bWV0YQ=="
