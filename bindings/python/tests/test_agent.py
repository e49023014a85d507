"""The Python package as a client of a real farmvault agent (started with the CLI
beside the library under test): reads and writes through it, the same exceptions
as a direct handle, and a child made by ``multiprocessing`` (``fork`` and
``spawn``) that reads and writes through its own connection."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

import farmvault
from conftest import PW, run_in_child
from test_grant import cli_path


@pytest.fixture
def agent(tmp_path: Path, library: farmvault.LibraryInfo) -> Iterator[Path]:
    """An agent serving a new vault (passphrase file unlock); yields its socket."""
    cli = cli_path(library)
    os.chmod(tmp_path, 0o700)
    pw = tmp_path / "pw"
    pw.write_text(PW + "\n")
    pw.chmod(0o600)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "FARMVAULT_PATH": str(tmp_path / "vault"),
        "FARMVAULT_PASSPHRASE_FILE": str(pw),
        "FARMVAULT_INSECURE_KDF_FOR_TESTS": "1",
        "HOME": str(tmp_path),
    }
    subprocess.run([str(cli), "init"], env=env, check=True, capture_output=True)
    socket = tmp_path / "run" / "agent.sock"
    subprocess.run(
        [str(cli), "agent", "start", "--socket", str(socket)], env=env, check=True, capture_output=True
    )
    try:
        yield socket
    finally:
        subprocess.run([str(cli), "agent", "stop", "--socket", str(socket)], env=env, capture_output=True)


def test_a_connected_vault_reads_and_writes_through_the_agent(agent: Path) -> None:
    with farmvault.Vault.connect(agent) as v:
        assert v.access == "agent"
        v.put("a/b", b"s3cret", ttl=3600)
        assert v.get("a/b").secret == "s3cret"
        assert [m.name for m in v.list("a/")] == ["a/b"]
        with pytest.raises(farmvault.NotFound):
            v.get("missing")
        # Key changes need the vault itself: the agent holds it.
        with pytest.raises(farmvault.Locked, match="agent stop"):
            v.change_passphrase("new")


def test_open_with_the_passphrase_goes_through_the_agent(agent: Path) -> None:
    vault_path = agent.parent.parent / "vault"
    with farmvault.Vault.open(vault_path, passphrase=PW) as v:
        assert v.access == "agent"
        v.put("via-open", b"x")
    with pytest.raises(farmvault.WrongKey):
        farmvault.Vault.open(vault_path, passphrase="not it")
    with pytest.raises(farmvault.Locked, match="farmvault agent"):
        farmvault.Vault.open(vault_path, passphrase=PW, use_agent=False)


def test_no_agent_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(farmvault.AgentError, match="no agent is running there"):
        farmvault.Vault.connect(tmp_path / "none.sock")


def _child_uses_inherited_handle(v: farmvault.Vault, results: Any) -> None:
    try:
        v.put(f"child/{os.getpid()}", b"from-child")
        results.put(f"read: {v.get('parent').secret == 'p'}")
    except farmvault.Error as e:
        results.put(f"{type(e).__name__}: {e}")


def _child_connects(socket: str, results: Any) -> None:
    with farmvault.Vault.connect(socket) as v:
        v.put("spawned", b"s")
        results.put(f"read: {v.get('parent').secret == 'p'}")


def test_forked_and_spawned_children_use_the_agent(agent: Path) -> None:
    with farmvault.Vault.connect(agent) as v:
        v.put("parent", b"p")
        # A forked child keeps using its parent's handle: it connects anew.
        assert run_in_child("fork", _child_uses_inherited_handle, v) == "read: True"
        assert run_in_child("spawn", _child_connects, str(agent)) == "read: True"
        names = {m.name for m in v.list("")}
        assert "spawned" in names and any(n.startswith("child/") for n in names)
        # The parent's own connection is untouched by the child's.
        assert v.get("parent").secret == "p"
