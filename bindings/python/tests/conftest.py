"""Shared fixtures: cheap-KDF vaults on a pinned clock, in pytest's tmp_path.

The library is whatever farmvault.load_library() finds: scripts/test-python.sh sets
FARMVAULT_LIB to the debug build; from a checkout the lookup finds target/ anyway.
"""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

import farmvault

#: Where the pinned clock of fixture vaults stands (2023-11-14T22:13:20Z).
T0 = 1_700_000_000
#: The passphrase of fixture vaults.
PW = "correct horse battery staple"
#: Argon2id costs cheap enough for tests (never for real vaults).
CHEAP = farmvault.Kdf(8, 1, 1)


def at(unix_secs: int) -> datetime:
    return datetime.fromtimestamp(unix_secs, tz=timezone.utc)


def open_vault(path: Path, fixed_time: int = T0, **kwargs: object) -> farmvault.Vault:
    """Opens the fixture vault at ``path`` with its passphrase and the pinned clock."""
    return farmvault.Vault.open(path, passphrase=PW, kdf=CHEAP, fixed_time=fixed_time, **kwargs)  # type: ignore[arg-type]


#: Long enough for a slow machine, short enough that a hang fails the run.
JOIN_TIMEOUT = 30


def run_in_child(method: str, target: Any, *args: Any) -> str:
    """Runs ``target(*args, results)`` in a ``multiprocessing`` child made with the
    start method ``method``; returns what it put on ``results``, one line each. A
    child that hangs is killed and fails the test; so does one that exits non-zero."""
    ctx = multiprocessing.get_context(method)
    results = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, results))  # type: ignore[attr-defined]
    p.start()
    p.join(JOIN_TIMEOUT)
    if p.is_alive():
        p.kill()
        p.join()
        raise AssertionError(f"the {method} child hung")
    assert p.exitcode == 0, f"the {method} child exited with {p.exitcode}"
    out = []
    while not results.empty():
        out.append(results.get())
    return "\n".join(out)


@pytest.fixture(scope="session", autouse=True)
def library() -> farmvault.LibraryInfo:
    return farmvault.load_library()


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    """A new (closed) vault with passphrase PW."""
    path = tmp_path / "vault"
    farmvault.Vault.create(path, passphrase=PW, kdf=CHEAP, fixed_time=T0).close()
    return path


@pytest.fixture
def vault(vault_path: Path) -> Iterator[farmvault.Vault]:
    """The vault at vault_path, open on the pinned clock T0."""
    with open_vault(vault_path) as v:
        yield v


def script_key(proxy: bool = False) -> farmvault.ScriptKey:
    return farmvault.ScriptKey(
        host="https://mysite.shotgrid.autodesk.com",
        script_name="render_farm",
        api_key="0123456789abcdef",
        http_proxy="user:pass@proxy.local:8080" if proxy else None,
    )


def session_token(proxy: bool = False, metadata: bool = False) -> farmvault.SessionToken:
    return farmvault.SessionToken(
        host="https://mysite.shotgrid.autodesk.com",
        login="jdoe",
        session_token="abc123sessiontoken",
        http_proxy="user:pass@proxy.local:8080" if proxy else None,
        session_metadata="c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw" if metadata else None,
    )


def login_password(proxy: bool = False) -> farmvault.LoginPassword:
    return farmvault.LoginPassword(
        host="https://mysite.shotgrid.autodesk.com",
        login="jdoe@example.com",
        password="hunter2-pat-linked",
        http_proxy="user:pass@proxy.local:8080" if proxy else None,
    )
