"""shotgun_kwargs() against the real shotgun_api3 from PyPI (connect=False: no network)."""

from __future__ import annotations

import inspect

import pytest
import shotgun_api3

import farmvault
from conftest import login_password, script_key, session_token

PROXY = "user:pass@proxy.local:8080"


@pytest.mark.parametrize("proxy", [False, True])
def test_a_script_key_makes_a_script_user_shotgun(vault: farmvault.Vault, proxy: bool) -> None:
    vault.put_credential("sg/farm", script_key(proxy=proxy))
    kwargs = vault.shotgun_kwargs("sg/farm")
    assert set(kwargs) == {"base_url", "script_name", "api_key"} | ({"http_proxy"} if proxy else set())
    sg = shotgun_api3.Shotgun(**kwargs, connect=False)
    assert sg.base_url == "https://mysite.shotgrid.autodesk.com"
    assert sg.config.script_name == "render_farm"
    assert sg.config.api_key == "0123456789abcdef"
    assert sg.config.session_token is None
    assert sg.config.user_login is None and sg.config.user_password is None
    assert sg.config.raw_http_proxy == (PROXY if proxy else None)


@pytest.mark.parametrize("proxy", [False, True])
def test_a_session_token_makes_a_session_shotgun(vault: farmvault.Vault, proxy: bool) -> None:
    vault.put_credential("sg/jdoe", session_token(proxy=proxy, metadata=True))
    kwargs = vault.shotgun_kwargs("sg/jdoe")
    assert set(kwargs) == {"base_url", "session_token"} | ({"http_proxy"} if proxy else set())
    sg = shotgun_api3.Shotgun(**kwargs, connect=False)
    assert sg.config.session_token == "abc123sessiontoken"
    assert sg.config.script_name is None and sg.config.api_key is None
    assert sg.config.user_login is None and sg.config.user_password is None
    assert sg.config.raw_http_proxy == (PROXY if proxy else None)


@pytest.mark.parametrize("proxy", [False, True])
def test_a_login_password_makes_a_user_shotgun(vault: farmvault.Vault, proxy: bool) -> None:
    vault.put_credential("sg/pat", login_password(proxy=proxy))
    sg = shotgun_api3.Shotgun(**vault.shotgun_kwargs("sg/pat"), connect=False)
    assert sg.config.user_login == "jdoe@example.com"
    assert sg.config.user_password == "hunter2-pat-linked"
    assert sg.config.session_token is None and sg.config.api_key is None
    assert sg.config.raw_http_proxy == (PROXY if proxy else None)


def test_the_credential_and_entry_give_the_same_kwargs(vault: farmvault.Vault) -> None:
    vault.put_credential("k", script_key())
    entry = vault.get("k")
    assert entry.shotgun_kwargs() == entry.credential.shotgun_kwargs() == vault.shotgun_kwargs("k")


def test_opaque_bytes_are_not_a_shotgun_credential(vault: farmvault.Vault) -> None:
    vault.put("blob", b"x")
    with pytest.raises(farmvault.InvalidArgument, match="opaque"):
        vault.shotgun_kwargs("blob")


def test_shotgun_kwargs_of_a_missing_entry(vault: farmvault.Vault) -> None:
    with pytest.raises(farmvault.NotFound):
        vault.shotgun_kwargs("nope")


def test_every_shotgun_kwargs_key_is_a_parameter_of_shotgun() -> None:
    keys = farmvault.ShotgunKwargs.__required_keys__ | farmvault.ShotgunKwargs.__optional_keys__
    assert farmvault.ShotgunKwargs.__required_keys__ == frozenset({"base_url"})
    assert keys == {"base_url", "script_name", "api_key", "session_token", "login", "password", "http_proxy"}
    params = inspect.signature(shotgun_api3.Shotgun).parameters
    assert keys <= set(params), f"not parameters of shotgun_api3.Shotgun: {sorted(keys - set(params))}"
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    assert all(params[k].kind in keyword for k in keys)


def test_every_credential_gives_only_the_typed_keys(vault: farmvault.Vault) -> None:
    keys = farmvault.ShotgunKwargs.__required_keys__ | farmvault.ShotgunKwargs.__optional_keys__
    for i, cred in enumerate([script_key(True), session_token(True, True), login_password(True)]):
        vault.put_credential(f"sg/{i}", cred)
        kwargs = vault.shotgun_kwargs(f"sg/{i}")
        assert "base_url" in kwargs and set(kwargs) <= keys
        assert cred.shotgun_kwargs() == kwargs
