"""One Vault shared by 8 Python threads (ctypes releases the GIL in every call)."""

from __future__ import annotations

import threading
from typing import List

import farmvault
from conftest import script_key

THREADS = 8
ROUNDS = 24


def test_eight_threads_share_one_vault(vault: farmvault.Vault) -> None:
    vault.put_credential("shared", script_key())
    errors: List[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(ROUNDS):
                name = f"t{t}/{i}"
                vault.put(name, f"secret-{t}-{i}".encode(), ttl=3600)
                assert vault.get(name).secret == f"secret-{t}-{i}"
                assert vault.get("shared").credential == script_key()
                if i % 4 == 0:
                    with vault.batch() as b:
                        b.put(f"{name}/b", b"batched")
                        b.delete(name)
                    try:
                        vault.get(name)
                        raise AssertionError("deleted in a batch")
                    except farmvault.NotFound:
                        pass
                assert len(vault.list(f"t{t}/")) > 0
            assert vault.shotgun_kwargs("shared")["script_name"] == "render_farm"
        except BaseException as e:  # reported below, with its thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    names = [e.name for e in vault.list("t")]
    assert len(names) == THREADS * ROUNDS
    assert vault.purge_expired() == 0


def test_errors_stay_on_their_own_thread(vault: farmvault.Vault) -> None:
    # fv_last_error_message is per thread: concurrent failures keep their messages.
    problems: List[str] = []
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        start.wait()
        for i in range(50):
            try:
                vault.get(f"missing-{t}-{i}")
            except farmvault.NotFound as e:
                if f"missing-{t}-{i}" not in str(e):
                    problems.append(str(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert problems == []


def test_closing_while_other_threads_read_is_safe(vault_path: object) -> None:
    from conftest import open_vault
    from pathlib import Path

    v = open_vault(Path(str(vault_path)))
    v.put("a", b"x")
    outcomes: List[str] = []
    start = threading.Barrier(THREADS + 1)

    def work() -> None:
        start.wait()
        for _ in range(200):
            try:
                v.get("a")
            except farmvault.InvalidArgument:
                outcomes.append("closed")
                return
        outcomes.append("done")

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for th in threads:
        th.start()
    start.wait()
    v.close()
    for th in threads:
        th.join(timeout=60)
    assert len(outcomes) == THREADS
