"""farmvault.keyring against the real keyring package from PyPI: round trips through
keyring's own API, which entries and services it answers, its priority, its
discovery through the ``keyring.backends`` entry point of the installed package,
and the package without keyring."""

from __future__ import annotations

import importlib.metadata
import os
import socket
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Dict, Iterator, Tuple

import keyring
import keyring.backends.null
import keyring.errors
import pytest

import farmvault
import farmvault.keyring
from farmvault.keyring import REACHABLE_PRIORITY, UNREACHABLE_PRIORITY, FarmvaultKeyring
from conftest import T0, login_password, script_key, session_token
from test_agent import agent  # noqa: F401 - a fixture
from test_grant import ENTRY, KEY, Issued, issued  # noqa: F401 - a fixture

NAME = "shotgun/render_farm"
SECRET = "kr-5ecret-0f-the-farm"
ENV_VARS = (
    "FARMVAULT_GRANT_FILE",
    "FARMVAULT_GRANT_TOKEN",
    "FARMVAULT_IDENTITY",
    "FARMVAULT_STATE_DIR",
    "FARMVAULT_PATH",
    "FARMVAULT_KEY_FILE",
    "FARMVAULT_PASSPHRASE_FILE",
    "FARMVAULT_AGENT",
    "KEYRING_PROPERTY_TTL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No farmvault variable from the caller's environment, and keyring's own
    backend put back after each test."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    keyring.set_keyring(keyring.backends.null.Keyring())


@pytest.fixture
def key_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tuple[Path, Path]:
    """A key-file vault that FARMVAULT_PATH and FARMVAULT_KEY_FILE name."""
    key = tmp_path / "farm.key"
    farmvault.generate_key_file(key)
    path = tmp_path / "vault"
    farmvault.Vault.create(path, key_file=key).close()
    monkeypatch.setenv("FARMVAULT_PATH", str(path))
    monkeypatch.setenv("FARMVAULT_KEY_FILE", str(key))
    return path, key


@pytest.fixture
def backend(key_vault: Tuple[Path, Path]) -> FarmvaultKeyring:
    b = FarmvaultKeyring()
    keyring.set_keyring(b)
    return b


def test_a_password_round_trips_through_keyring(backend: FarmvaultKeyring, key_vault: Tuple[Path, Path]) -> None:
    assert keyring.get_password("farmvault", NAME) is None
    keyring.set_password("farmvault", NAME, SECRET)
    assert keyring.get_password("farmvault", NAME) == SECRET
    cred = keyring.get_credential("farmvault", NAME)
    assert cred is not None and cred.username == NAME and cred.password == SECRET
    path, key = key_vault
    with farmvault.Vault.open(path, key_file=key) as v:
        entry = v[NAME]
        assert entry.kind is farmvault.Kind.OPAQUE and entry.secret == SECRET
        assert entry.expires is None
    keyring.set_password("farmvault", NAME, "replaced")
    assert keyring.get_password("farmvault", NAME) == "replaced"
    keyring.delete_password("farmvault", NAME)
    assert keyring.get_password("farmvault", NAME) is None
    with pytest.raises(keyring.errors.PasswordDeleteError, match=NAME) as e:
        keyring.delete_password("farmvault", NAME)
    assert isinstance(e.value.__cause__, farmvault.NotFound)


def test_a_typed_credential_gives_its_main_secret(backend: FarmvaultKeyring, key_vault: Tuple[Path, Path]) -> None:
    path, key = key_vault
    with farmvault.Vault.open(path, key_file=key) as v:
        v.put_credential("sg/script", script_key(proxy=True))
        v.put_credential("sg/session", session_token(proxy=True, metadata=True))
        v.put_credential("sg/login", login_password())
        v.put_credential("flow", farmvault.FlowToken("app", "default", "access-tok", "refresh-tok"))
        v.put("binary", b"\xff\xfe not text")
    assert keyring.get_password("farmvault", "sg/script") == "0123456789abcdef"
    assert keyring.get_password("farmvault", "sg/session") == "abc123sessiontoken"
    assert keyring.get_password("farmvault", "sg/login") == "hunter2-pat-linked"
    assert keyring.get_password("farmvault", "flow") == "access-tok"
    with pytest.raises(keyring.errors.KeyringError, match="not UTF-8") as e:
        keyring.get_password("farmvault", "binary")
    assert "\\xff" not in str(e.value) and "not text" not in str(e.value)


def test_an_expired_entry_is_no_password(backend: FarmvaultKeyring, key_vault: Tuple[Path, Path]) -> None:
    path, key = key_vault
    # Stored on a clock pinned in 2023 with a minute to live: expired by now.
    with farmvault.Vault.open(path, key_file=key, fixed_time=T0) as v:
        v.put(NAME, SECRET, ttl="1m")
    assert keyring.get_password("farmvault", NAME) is None


def test_the_ttl_of_stored_passwords(key_vault: Tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path, key = key_vault
    FarmvaultKeyring(ttl="8h").set_password("farmvault", "a", SECRET)
    monkeypatch.setenv("KEYRING_PROPERTY_TTL", "90m")
    FarmvaultKeyring().set_password("farmvault", "b", SECRET)
    with farmvault.Vault.open(path, key_file=key) as v:
        a, b = v.metadata("a"), v.metadata("b")
    assert a.expires is not None and a.expires - a.updated == timedelta(hours=8)
    assert b.expires is not None and b.expires - b.updated == timedelta(minutes=90)
    monkeypatch.setenv("KEYRING_PROPERTY_TTL", "soon")
    with pytest.raises(keyring.errors.PasswordSetError, match="'soon'"):
        FarmvaultKeyring().set_password("farmvault", "c", SECRET)


def test_other_services_are_not_farmvault_s(backend: FarmvaultKeyring, key_vault: Tuple[Path, Path]) -> None:
    keyring.set_password("farmvault", "__token__", SECRET)
    assert keyring.get_password("pypi", "__token__") is None
    assert keyring.get_credential("pypi", "__token__") is None
    with pytest.raises(keyring.errors.PasswordSetError) as e:
        keyring.set_password("pypi", "__token__", "other")
    # keyring's chainer passes a NotImplementedError on to the next backend.
    assert isinstance(e.value, NotImplementedError)
    with pytest.raises(keyring.errors.PasswordDeleteError) as d:
        keyring.delete_password("pypi", "__token__")
    assert isinstance(d.value, NotImplementedError)
    assert keyring.get_password("farmvault", "__token__") == SECRET


def test_errors_are_keyring_s_with_farmvault_s_as_cause(backend: FarmvaultKeyring) -> None:
    with pytest.raises(keyring.errors.PasswordSetError) as e:
        keyring.set_password("farmvault", "bad\x07name", SECRET)
    assert isinstance(e.value.__cause__, farmvault.InvalidArgument)
    with pytest.raises(keyring.errors.KeyringError) as g:
        keyring.get_password("farmvault", "bad\x07name")
    assert isinstance(g.value.__cause__, farmvault.Error)


def test_without_a_vault_it_is_never_chosen_and_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY < 0
    with pytest.raises(keyring.errors.InitError, match="FARMVAULT_PATH"):
        FarmvaultKeyring().get_password("farmvault", NAME)
    # Half a source, or one that is not there, is not reachable either.
    monkeypatch.setenv("FARMVAULT_PATH", str(tmp_path / "vault"))
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY
    monkeypatch.setenv("FARMVAULT_KEY_FILE", str(tmp_path / "missing.key"))
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY
    monkeypatch.delenv("FARMVAULT_PATH")
    monkeypatch.delenv("FARMVAULT_KEY_FILE")
    monkeypatch.setenv("FARMVAULT_GRANT_FILE", str(tmp_path / "missing.fvgrant"))
    monkeypatch.setenv("FARMVAULT_GRANT_TOKEN", "fvg1_x")
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY


def test_an_agent_socket_counts_only_while_something_listens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    monkeypatch.setenv("FARMVAULT_AGENT", str(path))
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY  # nothing there
    path.write_text("")
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY  # not a socket
    path.unlink()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
        assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY  # a socket nobody listens on
        s.listen(1)
        assert FarmvaultKeyring.priority == REACHABLE_PRIORITY
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY  # a stale socket file


def test_priority_never_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(path: str) -> bool:
        raise RuntimeError("anything at all")

    monkeypatch.setattr(farmvault.keyring, "_agent_listens", broken)
    monkeypatch.setenv("FARMVAULT_AGENT", str(tmp_path / "agent.sock"))
    assert FarmvaultKeyring.priority == UNREACHABLE_PRIORITY
    assert FarmvaultKeyring.viable


def test_a_vault_with_its_key_file_is_reachable(key_vault: Tuple[Path, Path]) -> None:
    assert FarmvaultKeyring.priority == REACHABLE_PRIORITY
    # Above the desktop keyrings (5), below keyring's chainer (10).
    assert 5 < REACHABLE_PRIORITY < 10


def test_through_the_agent(agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("FARMVAULT_AGENT", str(agent))
    assert FarmvaultKeyring.priority == REACHABLE_PRIORITY
    keyring.set_keyring(FarmvaultKeyring())
    keyring.set_password("farmvault", NAME, SECRET)
    assert keyring.get_password("farmvault", NAME) == SECRET
    with farmvault.Vault.connect(agent) as v:
        assert v[NAME].secret == SECRET
    keyring.delete_password("farmvault", NAME)
    assert keyring.get_password("farmvault", NAME) is None


def test_through_a_job_grant(issued: Issued, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # noqa: F811
    monkeypatch.setenv("FARMVAULT_GRANT_FILE", str(issued.token_grant))
    monkeypatch.setenv("FARMVAULT_GRANT_TOKEN", issued.token)
    monkeypatch.setenv("FARMVAULT_STATE_DIR", str(tmp_path / "state"))
    # The grant comes first, even with a vault and an agent named too.
    monkeypatch.setenv("FARMVAULT_AGENT", str(tmp_path / "no-agent.sock"))
    assert FarmvaultKeyring.priority == REACHABLE_PRIORITY
    keyring.set_keyring(FarmvaultKeyring())
    assert keyring.get_password("farmvault", ENTRY) == KEY
    with pytest.raises(keyring.errors.PasswordSetError, match="only reads") as e:
        keyring.set_password("farmvault", ENTRY, "x")
    assert isinstance(e.value.__cause__, farmvault.ReadOnly)
    assert issued.token not in str(e.value)


def test_the_installed_package_registers_the_backend() -> None:
    eps = importlib.metadata.entry_points(group="keyring.backends")
    ours = [ep for ep in eps if ep.name == "farmvault"]
    assert [ep.value for ep in ours] == ["farmvault.keyring"], (
        "no keyring.backends entry point: is the package installed (pip install ./bindings/python)?"
    )
    assert ours[0].load().FarmvaultKeyring is FarmvaultKeyring


def _child_env(tmp_path: Path, extra: Dict[str, str]) -> Dict[str, str]:
    """A child's environment: no desktop keyring, no keyring configuration, and
    what finds the library and the package here."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    for var in ("FARMVAULT_LIB", "PYTHONPATH"):
        if var in os.environ:
            env[var] = os.environ[var]
    env.update(extra)
    return env


def test_keyring_chooses_it_by_itself_where_a_vault_is_set_up(
    key_vault: Tuple[Path, Path], tmp_path: Path
) -> None:
    path, key = key_vault
    with farmvault.Vault.open(path, key_file=key) as v:
        v.put_credential(NAME, script_key())
    env = _child_env(tmp_path, {"FARMVAULT_PATH": str(path), "FARMVAULT_KEY_FILE": str(key)})
    listed = subprocess.run(
        [sys.executable, "-m", "keyring", "--list-backends"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert "farmvault.keyring.FarmvaultKeyring (priority: 9)" in listed.stdout, listed.stdout
    got = subprocess.run(
        [sys.executable, "-m", "keyring", "get", "farmvault", NAME], env=env, capture_output=True, text=True, timeout=60
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "0123456789abcdef"
    # Without a vault it is listed, and never the one chosen.
    env = _child_env(tmp_path, {})
    chosen = subprocess.run(
        [sys.executable, "-c", "import keyring; print(type(keyring.get_keyring()).__module__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.strip() != "farmvault.keyring"


def test_the_package_imports_without_keyring(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys

        class NoKeyring:
            def find_spec(self, name, path=None, target=None):
                if name == "keyring" or name.startswith("keyring."):
                    raise ImportError(f"No module named {name!r} (hidden by the test)")
                return None

        sys.meta_path.insert(0, NoKeyring())
        import farmvault, farmvault.sgtk
        assert not any(m == "keyring" or m.startswith("keyring.") for m in sys.modules), sorted(sys.modules)
        assert "farmvault.keyring" not in sys.modules
        try:
            import farmvault.keyring
        except ImportError as e:
            print(e)
        else:
            raise AssertionError("farmvault.keyring imported without keyring")
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", script], env=_child_env(tmp_path, {}), capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert "farmvault.keyring needs the keyring package" in r.stdout
