"""Job grants from Python: farmvault.Grant.open and farmvault.from_env over grants the
real CLI issues (``farmvault grant``, beside the library under test), and the end to
end case of the issue: a job started with only its environment reads a script key
through a grant and builds its shotgun_api3 connection, the key never leaving it."""

from __future__ import annotations

import ctypes
import os
import re
import socket
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import shotgun_api3

import farmvault
from farmvault import _ffi, sgtk
from farmvault._vault import _Options
from conftest import open_vault, script_key

HOST = "https://mysite.shotgrid.autodesk.com"
KEY = "PYGRANT-KEY-4e1d9a77c3b2"
ENTRY = "shotgun/render_farm"
OUTSIDE = "other"
OUTSIDE_SECRET = "PYGRANT-OUTSIDE-0b5f"
#: A host pattern no machine running the tests matches.
NOWHERE = "farmvault-no-such-host-??"
#: The node configuration file that names this node's hostname for grants.
NODE_HOSTNAME_FILE = Path("/etc/farmvault/grant-hostname")


def here_pattern() -> Optional[str]:
    """A host pattern only this machine's hostname matches: the name itself, when
    written in the characters a pattern may hold."""
    name = socket.gethostname()
    return name if re.fullmatch(r"[A-Za-z0-9._-]{1,253}", name) else None


@dataclass(frozen=True)
class Issued:
    """The grants the CLI issued (72 h to claim, 4 h of use, entries under shotgun/;
    ``hosts_grant``: on hosts matching NOWHERE only; ``here_grant``: on this machine
    only, when its hostname can be a pattern; ``short_grant``: 2 s of use).
    ``issue(label, *args)`` issues another grant of shotgun/ and returns its bundle
    and token."""

    dir: Path
    vault: Path
    farm_id: Path
    other_id: Path
    token_grant: Path
    token: str
    rcpt_grant: Path
    both_grant: Path
    both_token: str
    hosts_grant: Path
    hosts_token: str
    here_grant: Optional[Path]
    here_token: str
    short_grant: Path
    short_token: str
    issue: Callable[..., Tuple[Path, str]]


def cli_path(library: farmvault.LibraryInfo) -> Path:
    """The farmvault binary of the build under test: beside the library (cargo puts
    both in target/<profile>/), else $FARMVAULT_CLI."""
    beside = library.path.parent / ("farmvault.exe" if os.name == "nt" else "farmvault")
    found = Path(os.environ.get("FARMVAULT_CLI", beside))
    if not found.is_file():
        pytest.fail(f"no farmvault binary at {found}: run `cargo build -p farmvault-cli` (scripts/test-python.sh does)")
    return found


@pytest.fixture(scope="session")
def issued(library: farmvault.LibraryInfo, tmp_path_factory: pytest.TempPathFactory) -> Issued:
    d = tmp_path_factory.mktemp("grants")
    d.chmod(0o700)
    cli = cli_path(library)
    passphrase = d / "passphrase"
    passphrase.write_text("python grant fixtures\n")
    passphrase.chmod(0o600)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(d),
        "FARMVAULT_PATH": str(d / "vault"),
        "FARMVAULT_PASSPHRASE_FILE": str(passphrase),
        "FARMVAULT_INSECURE_KDF_FOR_TESTS": "1",
    }

    def run(*args: str, stdin: str = "") -> str:
        r = subprocess.run([str(cli), *args], env=env, cwd=d, input=stdin, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"farmvault {' '.join(args)}: {r.stderr}"
        return r.stdout.strip()

    def grant(*args: str) -> str:
        return run("grant", "shotgun/", "--claim-within", "72h", "--use-for", "4h", *args)

    run("init")
    run("put", ENTRY, "--kind", "script_key", "--host", HOST, "--script-name", "render_farm", stdin=KEY)
    run("put", OUTSIDE, stdin=OUTSIDE_SECRET)
    public = run("farm-keygen", "--identity", str(d / "farm.id"))
    run("farm-keygen", "--identity", str(d / "other.id"))
    token = grant("--label", "py-token", "--out", str(d / "token.fvgrant"))
    no_token = grant("--label", "py-rcpt", "--to", public, "--no-token", "--out", str(d / "rcpt.fvgrant"))
    assert no_token == "", "a --no-token grant printed a token"
    both_token = grant("--label", "py-both", "--to", public, "--require-both", "--out", str(d / "both.fvgrant"))
    hosts_token = grant("--label", "py-hosts", "--hosts", NOWHERE, "--out", str(d / "hosts.fvgrant"))
    pattern = here_pattern()
    here_token = "" if pattern is None else grant("--label", "py-here", "--hosts", pattern, "--out", str(d / "here.fvgrant"))
    short = ("--label", "py-short", "--out", str(d / "short.fvgrant"))
    short_token = run("grant", "shotgun/", "--claim-within", "72h", "--use-for", "2s", *short)

    def issue(label: str, *args: str) -> Tuple[Path, str]:
        bundle = d / f"{label}.fvgrant"
        return bundle, run("grant", "shotgun/", "--label", label, "--out", str(bundle), *args)
    return Issued(
        dir=d,
        vault=d / "vault",
        farm_id=d / "farm.id",
        other_id=d / "other.id",
        token_grant=d / "token.fvgrant",
        token=token,
        rcpt_grant=d / "rcpt.fvgrant",
        both_grant=d / "both.fvgrant",
        both_token=both_token,
        hosts_grant=d / "hosts.fvgrant",
        hosts_token=hosts_token,
        here_grant=None if pattern is None else d / "here.fvgrant",
        here_token=here_token,
        short_grant=d / "short.fvgrant",
        short_token=short_token,
        issue=issue,
    )


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "grant-state"


@pytest.fixture
def grant(issued: Issued, state: Path) -> Iterator[farmvault.Grant]:
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state) as g:
        yield g


def now() -> int:
    return int(time.time())


def test_a_token_grant_reads_like_a_vault(grant: farmvault.Grant, issued: Issued) -> None:
    assert isinstance(grant, farmvault.ReadCredentials) and not isinstance(grant, farmvault.Vault)
    entry = grant.get(ENTRY)
    assert isinstance(entry.credential, farmvault.ScriptKey)
    assert entry.credential.host == HOST and entry.credential.script_name == "render_farm"
    assert entry.credential.api_key == KEY
    assert entry.host == HOST and entry.kind is farmvault.Kind.SCRIPT_KEY
    # Inside a grant an entry expires with the use window (4 h from the first open).
    assert entry.expires is not None
    assert abs(entry.expires.timestamp() - (now() + 4 * 3600)) < 120
    info = grant.metadata(ENTRY)
    assert info.expires == entry.expires and info.name == ENTRY
    assert [e.name for e in grant.list()] == [ENTRY]
    assert grant.list("nothing/") == []
    assert repr(grant) == f"<farmvault.Grant {str(issued.token_grant)!r} (open)>"
    assert issued.token not in repr(grant)
    entry.wipe()


def test_entries_outside_the_grant_are_not_found(grant: farmvault.Grant) -> None:
    with pytest.raises(farmvault.NotFound, match=OUTSIDE):
        grant.get(OUTSIDE)
    with pytest.raises(farmvault.NotFound):
        grant.metadata(OUTSIDE)
    with pytest.raises(farmvault.NotFound):
        grant.shotgun_kwargs(OUTSIDE)


def test_shotgun_kwargs_make_a_script_user_shotgun(grant: farmvault.Grant) -> None:
    kwargs = grant.shotgun_kwargs(ENTRY)
    assert set(kwargs) == {"base_url", "script_name", "api_key"}
    sg = shotgun_api3.Shotgun(**kwargs, connect=False)
    assert sg.base_url == HOST
    assert sg.config.script_name == "render_farm"
    assert sg.config.api_key == KEY
    assert sg.config.session_token is None


def test_every_write_raises_read_only(grant: farmvault.Grant, tmp_path: Path) -> None:
    key = tmp_path / "k"
    farmvault.generate_key_file(key)
    home = tmp_path / "shotgun_home"
    home.mkdir()
    writes = [
        lambda: grant.put("x", b"y"),
        lambda: grant.put_credential("x", script_key()),
        lambda: grant.delete(ENTRY),
        lambda: grant.renew(ENTRY, 60),
        lambda: grant.purge_expired(),
        lambda: grant.change_passphrase("new"),
        lambda: grant.add_key_file(key),
        lambda: grant.remove_key_file(key),
        lambda: grant.rotate(),
        lambda: sgtk.import_session_cache(grant, home),  # type: ignore[arg-type]
    ]
    for write in writes:
        with pytest.raises(farmvault.ReadOnly, match="job grant .* only reads") as e:
            write()
        assert e.value.code == 12 and "py-token" in e.value.message
    with pytest.raises(farmvault.ReadOnly):
        with grant.batch() as b:
            b.put("x", b"y")
    # Nothing changed, and the grant still reads.
    assert grant.get(ENTRY).credential.secret == KEY


def test_wrong_or_missing_material(issued: Issued, state: Path) -> None:
    wrong = issued.token[:-1] + ("B" if issued.token.endswith("A") else "A")
    with pytest.raises(farmvault.WrongKey) as e:
        farmvault.Grant.open(issued.token_grant, wrong, state_dir=state)
    assert e.value.code == 3 and "token.fvgrant" in e.value.message
    assert "token or farm identity" in e.value.message and "passphrase" not in e.value.message
    assert "fvg1_" not in e.value.message and issued.token[5:20] not in e.value.message
    with pytest.raises(farmvault.WrongKey):
        farmvault.Grant.open(issued.token_grant, issued.both_token, state_dir=state)
    with pytest.raises(farmvault.InvalidArgument, match="malformed") as m:
        farmvault.Grant.open(issued.token_grant, "fvg1_LOOKS-SECRET", state_dir=state)
    assert "LOOKS-SECRET" not in m.value.message
    with pytest.raises(farmvault.InvalidArgument, match="neither"):
        farmvault.Grant.open(issued.token_grant, state_dir=state)
    with pytest.raises(farmvault.InvalidArgument, match="token must not be empty"):
        farmvault.Grant.open(issued.token_grant, "", state_dir=state)
    with pytest.raises(farmvault.InvalidArgument):
        farmvault.Grant.open(issued.token_grant, 42, state_dir=state)  # type: ignore[arg-type]
    with pytest.raises(farmvault.InvalidArgument):
        farmvault.Grant.open(None, issued.token, state_dir=state)  # type: ignore[arg-type]
    with pytest.raises(farmvault.IoError, match="missing.fvgrant"):
        farmvault.Grant.open(issued.dir / "missing.fvgrant", issued.token, state_dir=state)
    assert not state.exists(), "no refused open records a first open"


def test_the_token_may_be_bytes_a_bytearray_or_a_secret(issued: Issued, state: Path) -> None:
    buf = bytearray(issued.token, "ascii")
    for token in (issued.token.encode(), buf, farmvault.Secret(issued.token)):
        with farmvault.Grant.open(issued.token_grant, token, state_dir=state) as g:
            assert g.get(ENTRY).credential.secret == KEY
    assert buf == bytearray(issued.token, "ascii"), "the caller's own buffer is left as it was"


def test_identity_and_require_both(issued: Issued, state: Path) -> None:
    with farmvault.Grant.open(issued.rcpt_grant, identity=issued.farm_id, state_dir=state) as g:
        assert g.get(ENTRY).credential.secret == KEY
    with pytest.raises(farmvault.WrongKey):
        farmvault.Grant.open(issued.rcpt_grant, identity=issued.other_id, state_dir=state)
    with pytest.raises(farmvault.WrongKey):
        farmvault.Grant.open(issued.both_grant, issued.both_token, state_dir=state)
    with pytest.raises(farmvault.WrongKey):
        farmvault.Grant.open(issued.both_grant, identity=issued.farm_id, state_dir=state)
    with farmvault.Grant.open(issued.both_grant, issued.both_token, issued.farm_id, state_dir=state) as g:
        assert [e.name for e in g.list()] == [ENTRY]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and modes are checked on Unix only")
def test_a_linked_identity_is_refused_unless_allowed(issued: Issued, state: Path, tmp_path: Path) -> None:
    link = tmp_path / "linked.id"
    link.symlink_to(issued.farm_id)
    with pytest.raises(farmvault.InvalidArgument) as e:
        farmvault.Grant.open(issued.rcpt_grant, identity=link, state_dir=state)
    assert e.value.message.startswith(f"farm identity {link} is a symbolic link"), e.value.message
    assert not state.exists(), "no refused open records a first open"
    with farmvault.Grant.open(
        issued.rcpt_grant, identity=link, state_dir=state, allow_insecure_permissions=True
    ) as g:
        assert g.get(ENTRY).credential.secret == KEY


def test_the_two_clocks(issued: Issued, state: Path, tmp_path: Path) -> None:
    """On the system clock: 2 s to claim, 4 h of use. A machine that opened it in time
    goes on reading past the claim-by deadline; one that did not is refused."""
    bundle, token = issued.issue("py-claim", "--claim-within", "2s", "--use-for", "4h")
    issued_by = now()
    with farmvault.Grant.open(bundle, token, state_dir=state) as g:
        assert g.use_until == g.first_opened + timedelta(hours=4)
    # The claim-by deadline is at most 2 s after the issue time (whole seconds).
    while now() < issued_by + 2:
        time.sleep(0.05)
    with farmvault.Grant.open(bundle, token, state_dir=state) as g:
        assert g.get(ENTRY).credential.secret == KEY
    late = tmp_path / "late-state"
    with pytest.raises(farmvault.Expired, match="py-claim"):
        farmvault.Grant.open(bundle, token, state_dir=late)
    assert not late.exists()


def test_the_use_window(issued: Issued, state: Path) -> None:
    before = datetime.fromtimestamp(now(), tz=timezone.utc)
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state) as g:
        after = datetime.fromtimestamp(now(), tz=timezone.utc)
        first = g.first_opened
        assert before <= first <= after and first.tzinfo == timezone.utc
        assert g.use_until == first + timedelta(hours=4) and g.use_until.tzinfo == timezone.utc
        assert g.metadata(ENTRY).expires == g.use_until
    # A later open on this machine reports the window its first open started.
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state) as g:
        assert (g.first_opened, g.use_until) == (first, first + timedelta(hours=4))
        for name in ("first_opened", "use_until"):
            with pytest.raises(AttributeError):
                setattr(g, name, first)
    assert g.closed
    for name in ("first_opened", "use_until"):
        with pytest.raises(farmvault.InvalidArgument, match="this grant is closed"):
            getattr(g, name)


def test_the_clock_and_hostname_are_not_the_callers(issued: Issued, state: Path) -> None:
    """Grant.open takes neither a fixed time nor a hostname, and the library under
    test refuses options that carry one for a grant, saying why."""
    for knob in ({"fixed_time": now() - 3600}, {"hostname": "render07"}):
        with pytest.raises(TypeError):
            farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state, **knob)
    for setting, why in (
        ("fixed", "a pinned clock is refused for job grants: their windows are measured against the system clock"),
        ("hostname", f"a hostname is refused for job grants: their host pattern is checked against the hostname in the node configuration file {NODE_HOSTNAME_FILE}"),
    ):
        out = ctypes.POINTER(_ffi.fv_vault)()
        with _Options(None, None, None, state_dir=state) as opts:
            assert opts is not None, "options with a state directory are made"
            if setting == "fixed":
                _ffi.fv_options_set_fixed_time(opts, now() - 3600)
            else:
                _ffi.fv_options_set_hostname(opts, b"render07")
            with pytest.raises(farmvault.InvalidArgument) as e:
                _ffi.fv_grant_open(os.fsencode(issued.token_grant), issued.token.encode(), None, opts, ctypes.byref(out))
        assert why in e.value.message and issued.token not in e.value.message
        assert not out
    assert not state.exists(), "a refused open records no first open"


@pytest.mark.skipif(NODE_HOSTNAME_FILE.exists(), reason=f"{NODE_HOSTNAME_FILE} names this node's hostname for grants, not the OS")
def test_the_host_pattern_against_this_machines_hostname(issued: Issued, state: Path) -> None:
    with pytest.raises(farmvault.HostNotAllowed) as e:
        farmvault.Grant.open(issued.hosts_grant, issued.hosts_token, state_dir=state)
    assert e.value.code == 13
    assert f'"{socket.gethostname()}" does not match' in e.value.message, e.value.message
    assert f'"{NOWHERE}"' in e.value.message, e.value.message
    assert not state.exists(), "a refused host does not start the clock"
    if issued.here_grant is None:
        pytest.skip(f"this machine's hostname {socket.gethostname()!r} cannot be a host pattern")
    with farmvault.Grant.open(issued.here_grant, issued.here_token, state_dir=state) as g:
        assert g.get(ENTRY).credential.secret == KEY


def test_the_use_window_answers_after_it_is_over(issued: Issued, state: Path) -> None:
    # A grant outlives its window only on the system clock (a pinned clock stands
    # still): this one has 2 s of use from its first open, here.
    before = now()
    with farmvault.Grant.open(issued.short_grant, issued.short_token, state_dir=state) as g:
        after = now()
        first, until = g.first_opened, g.use_until
        assert before <= first.timestamp() <= after
        assert until - first == timedelta(seconds=2)
        while time.time() < until.timestamp():
            time.sleep(0.05)
        with pytest.raises(farmvault.Expired, match="py-short"):
            g.get(ENTRY)
        # Nothing is readable, so nothing is in it.
        assert ENTRY not in g
        # Not a read: the window is still there to report.
        assert (g.first_opened, g.use_until) == (first, until)


def test_a_closed_grant(issued: Issued, state: Path) -> None:
    g = farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state)
    g.close()
    g.close()
    assert g.closed and "closed" in repr(g)
    with pytest.raises(farmvault.InvalidArgument, match="this grant is closed"):
        g.get(ENTRY)


def test_the_toolkit_adapter_reads_through_a_grant(grant: farmvault.Grant) -> None:
    defaults = sgtk.VaultDefaultsManager(grant, ENTRY)
    assert defaults.get_host() == HOST
    assert defaults.get_user_credentials() == {"api_script": "render_farm", "api_key": KEY, "host": HOST}


# -- from_env -----------------------------------------------------------------------


@pytest.fixture
def job_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """from_env uses the default state directory: point it into tmp_path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    return tmp_path / "xdg-state" / "farmvault" / "grants"


def test_from_env_opens_a_grant_by_token_or_identity(issued: Issued, job_state: Path) -> None:
    env = {"FARMVAULT_GRANT_FILE": str(issued.token_grant), "FARMVAULT_GRANT_TOKEN": issued.token}
    with farmvault.from_env(env) as source:
        assert isinstance(source, farmvault.Grant)
        assert source.get(ENTRY).credential.secret == KEY
    assert len(list(job_state.iterdir())) == 1, "the first open is recorded in the per-user state"
    env = {"FARMVAULT_GRANT_FILE": str(issued.rcpt_grant), "FARMVAULT_IDENTITY": str(issued.farm_id)}
    with farmvault.from_env(env) as source:
        assert source.shotgun_kwargs(ENTRY)["script_name"] == "render_farm"
    env = {
        "FARMVAULT_GRANT_FILE": str(issued.both_grant),
        "FARMVAULT_GRANT_TOKEN": issued.both_token,
        "FARMVAULT_IDENTITY": str(issued.farm_id),
        # A grant wins over a vault the environment also names.
        "FARMVAULT_PATH": str(issued.vault),
        "FARMVAULT_KEY_FILE": "/nonexistent",
    }
    with farmvault.from_env(env) as source:
        assert isinstance(source, farmvault.Grant)


def test_from_env_opens_a_vault_by_key_file(tmp_path: Path) -> None:
    key = tmp_path / "farm.key"
    farmvault.generate_key_file(key)
    with farmvault.Vault.create(tmp_path / "v", key_file=key) as v:
        v.put_credential(ENTRY, script_key())
    env = {"FARMVAULT_PATH": str(tmp_path / "v"), "FARMVAULT_KEY_FILE": str(key), "FARMVAULT_GRANT_FILE": ""}
    with farmvault.from_env(env) as source:
        assert isinstance(source, farmvault.Vault)
        assert source.shotgun_kwargs(ENTRY)["script_name"] == "render_farm"


def test_from_env_says_what_it_looked_for(issued: Issued, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(farmvault.InvalidArgument) as e:
        farmvault.from_env({"FARMVAULT_GRANT_TOKEN": issued.token, "HOME": "/home/x"})
    for name in ("FARMVAULT_GRANT_FILE", "FARMVAULT_GRANT_TOKEN", "FARMVAULT_IDENTITY", "FARMVAULT_PATH", "FARMVAULT_KEY_FILE"):
        assert name in e.value.message
    assert issued.token not in e.value.message
    with pytest.raises(farmvault.InvalidArgument, match="neither FARMVAULT_GRANT_TOKEN"):
        farmvault.from_env({"FARMVAULT_GRANT_FILE": str(issued.token_grant), "FARMVAULT_GRANT_TOKEN": ""})
    with pytest.raises(farmvault.InvalidArgument, match="FARMVAULT_KEY_FILE"):
        farmvault.from_env({"FARMVAULT_PATH": str(issued.vault)})
    # The default is os.environ.
    for var in list(os.environ):
        if var.startswith("FARMVAULT_") and var != "FARMVAULT_LIB":
            monkeypatch.delenv(var)
    with pytest.raises(farmvault.InvalidArgument, match="names no credential source"):
        farmvault.from_env()


# -- without HOME --------------------------------------------------------------------


def private_state(directory: Path) -> List[str]:
    """The names in a state directory, after checking it is 0700 and each file 0600."""
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    names = sorted(p.name for p in directory.iterdir())
    for name in names:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name
    return names


@pytest.mark.skipif(os.name == "nt", reason="the per-user default there is LOCALAPPDATA, and modes differ")
def test_a_grant_opens_without_home_by_state_dir_or_farmvault_state_dir(
    issued: Issued, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A job started with an empty environment (``env -i``): no HOME, no
    XDG_STATE_HOME. The open says what to set, then records where it is told."""
    for var in ("HOME", "XDG_STATE_HOME", "FARMVAULT_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(farmvault.InvalidArgument, match="FARMVAULT_STATE_DIR") as e:
        farmvault.Grant.open(issued.token_grant, issued.token)
    assert issued.token not in e.value.message

    by_arg = tmp_path / "by-arg"
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=by_arg) as g:
        assert g.get(ENTRY).credential.secret == KEY
    recorded = private_state(by_arg)
    assert len(recorded) == 1, "the first open is recorded in state_dir"

    by_env = tmp_path / "by-env"
    monkeypatch.setenv("FARMVAULT_STATE_DIR", str(by_env))
    with farmvault.Grant.open(issued.token_grant, issued.token) as g:
        assert g.get(ENTRY).credential.secret == KEY
    assert private_state(by_env) == recorded, "the same grant's record, in FARMVAULT_STATE_DIR"
    # state_dir= wins over the variable.
    by_both = tmp_path / "by-both"
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=by_both):
        pass
    assert private_state(by_both) == recorded and private_state(by_env) == recorded

    # from_env reads the variable from the mapping it is given.
    monkeypatch.delenv("FARMVAULT_STATE_DIR")
    by_mapping = tmp_path / "by-mapping"
    env = {
        "FARMVAULT_GRANT_FILE": str(issued.token_grant),
        "FARMVAULT_GRANT_TOKEN": issued.token,
        "FARMVAULT_STATE_DIR": str(by_mapping),
    }
    with farmvault.from_env(env) as source:
        assert source.get(ENTRY).credential.secret == KEY
    assert private_state(by_mapping) == recorded


# -- end to end ---------------------------------------------------------------------

JOB = """\
import farmvault
import shotgun_api3

source = farmvault.from_env()
sg = shotgun_api3.Shotgun(**source.shotgun_kwargs("shotgun/render_farm"), connect=False)
print("source:", type(source).__name__)
print("host:", sg.base_url)
print("script:", sg.config.script_name)
"""


def job_environment(library: farmvault.LibraryInfo, home: Path, grant_vars: Dict[str, str]) -> Dict[str, str]:
    """What a farm job gets: PATH, LD_LIBRARY_PATH, FARMVAULT_LIB, a HOME (where its
    first open is recorded) and the grant variables. No vault, no key file."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "FARMVAULT_LIB": str(library.path)}
    if "LD_LIBRARY_PATH" in os.environ:
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    # Only when the package is not installed (tests run from a source tree).
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(grant_vars)
    return env


def test_end_to_end_a_job_with_only_its_environment(
    issued: Issued, library: farmvault.LibraryInfo, tmp_path: Path
) -> None:
    script = tmp_path / "job.py"
    script.write_text(JOB)
    home = tmp_path / "job-home"
    home.mkdir()
    argv: List[str] = [sys.executable, str(script)]
    env = job_environment(
        library, home, {"FARMVAULT_GRANT_FILE": str(issued.token_grant), "FARMVAULT_GRANT_TOKEN": issued.token}
    )
    assert not any(k in env for k in ("FARMVAULT_PATH", "FARMVAULT_KEY_FILE", "FARMVAULT_PASSPHRASE_FILE"))
    r = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["source: Grant", f"host: {HOST}", "script: render_farm"]
    for secret in (KEY, issued.token, OUTSIDE_SECRET):
        assert secret not in r.stdout and secret not in r.stderr
        assert not any(secret in a for a in argv)
    assert list((home / ".local" / "state" / "farmvault" / "grants").iterdir()), "first open recorded in HOME"

    # A wrong token fails with WrongKey in the job, and still shows no secret.
    wrong = issued.token[:-1] + ("B" if issued.token.endswith("A") else "A")
    env["FARMVAULT_GRANT_TOKEN"] = wrong
    r = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "farmvault._errors.WrongKey" in r.stderr, r.stderr
    for secret in (KEY, issued.token, wrong):
        assert secret not in r.stdout and secret not in r.stderr


@pytest.mark.skipif(os.name == "nt", reason="a job without HOME is a Unix farm's case")
def test_a_job_without_home_reads_with_farmvault_state_dir(
    issued: Issued, library: farmvault.LibraryInfo, tmp_path: Path
) -> None:
    script = tmp_path / "job.py"
    script.write_text(JOB)
    env = job_environment(
        library, tmp_path, {"FARMVAULT_GRANT_FILE": str(issued.token_grant), "FARMVAULT_GRANT_TOKEN": issued.token}
    )
    del env["HOME"]
    argv: List[str] = [sys.executable, str(script)]
    r = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "farmvault._errors.InvalidArgument" in r.stderr, r.stderr
    assert "FARMVAULT_STATE_DIR" in r.stderr and issued.token not in r.stderr + r.stdout
    state = tmp_path / "job-state"
    env["FARMVAULT_STATE_DIR"] = str(state)
    r = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["source: Grant", f"host: {HOST}", "script: render_farm"]
    assert len(private_state(state)) == 1, "first open recorded in FARMVAULT_STATE_DIR"


def test_a_job_script_shows_no_secret_in_a_failure(issued: Issued, library: farmvault.LibraryInfo, tmp_path: Path) -> None:
    code = textwrap.dedent(
        """\
        import farmvault
        try:
            farmvault.from_env().get("other")
        except farmvault.NotFound as e:
            print("not found:", e)
        """
    )
    home = tmp_path / "home"
    home.mkdir()
    env = job_environment(
        library, home, {"FARMVAULT_GRANT_FILE": str(issued.token_grant), "FARMVAULT_GRANT_TOKEN": issued.token}
    )
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("not found:"), r.stderr
    assert OUTSIDE_SECRET not in r.stdout + r.stderr and issued.token not in r.stdout + r.stderr


def test_a_grant_reads_like_a_mapping(grant: farmvault.Grant) -> None:
    assert ENTRY in grant and OUTSIDE not in grant
    assert list(grant) == [ENTRY]
    assert grant[ENTRY].credential.secret == KEY
    with pytest.raises(KeyError):
        grant[OUTSIDE]
    with pytest.raises(farmvault.ReadOnly):
        del grant[ENTRY]
    assert ENTRY in grant


def issuer_key(cli: Path, vault: Path, passphrase: Path) -> str:
    """The issuer key of the vault at ``vault``, as ``farmvault grant-issuer`` prints it."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "FARMVAULT_PATH": str(vault),
        "FARMVAULT_PASSPHRASE_FILE": str(passphrase),
        "FARMVAULT_INSECURE_KDF_FOR_TESTS": "1",
    }
    if not vault.exists():
        subprocess.run([str(cli), "init"], env=env, check=True, capture_output=True, timeout=60)
    r = subprocess.run([str(cli), "grant-issuer"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_pinned_issuers_take_only_their_own_grants(
    issued: Issued, library: farmvault.LibraryInfo, tmp_path: Path
) -> None:
    cli = cli_path(library)
    ours = issuer_key(cli, issued.vault, issued.dir / "passphrase")
    theirs = issuer_key(cli, tmp_path / "other-vault", issued.dir / "passphrase")
    assert ours.startswith("fvi1_") and theirs.startswith("fvi1_") and ours != theirs
    state = tmp_path / "state"
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state, issuers=[ours]) as g:
        assert g.get(ENTRY).credential.api_key == KEY
    with farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state, issuers=[theirs, ours]) as g:
        assert ENTRY in g
    with pytest.raises(farmvault.Tampered, match="not from a trusted issuer"):
        farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state, issuers=[theirs])
    with pytest.raises(farmvault.InvalidArgument, match="keys, line 1") as bad:
        farmvault.Grant.open(issued.token_grant, issued.token, state_dir=state, issuers=["fvi1_nope"])
    assert "nope" not in str(bad.value)


def test_vault_grant_issues_what_a_job_opens(vault_path: Path, issued: Issued, tmp_path: Path) -> None:
    # On the system clock: a grant's windows are, so its issuer's must be too.
    vault = open_vault(vault_path, fixed_time=None)  # type: ignore[arg-type]
    vault.put_credential(ENTRY, script_key())
    g = vault.grant(tmp_path / "py.fvgrant", "py-issued", "shotgun/", claim_within="1h", use_for=600)
    assert g.path == str(tmp_path / "py.fvgrant") and re.fullmatch(r"[0-9a-f]{32}", g.id)
    assert g.token is not None and g.token.text().startswith("fvg1_")
    assert g.token.text() not in repr(g)
    with farmvault.Grant.open(g.path, g.token, state_dir=tmp_path / "state") as opened:
        assert opened.get(ENTRY).credential.api_key == script_key().api_key.text()
        assert list(opened) == [ENTRY]
    # To the farm identity alone: the token-less grant opens with the identity.
    public = next(
        line.split(": ", 1)[1] for line in issued.farm_id.read_text().splitlines() if line.startswith("# public key: ")
    )
    r = vault.grant(tmp_path / "rcpt.fvgrant", "py-rcpt", [ENTRY], claim_within="1h", use_for="10m",
                    recipients=[public], token=False)
    assert r.token is None
    with farmvault.Grant.open(r.path, identity=issued.farm_id, state_dir=tmp_path / "state") as opened:
        assert ENTRY in opened
    # Refused, writing nothing: an existing bundle, a missing entry, no token and no recipient.
    with pytest.raises(farmvault.InvalidArgument, match="already exists"):
        vault.grant(g.path, "again", "shotgun/", claim_within="1h", use_for="10m")
    with pytest.raises(farmvault.NotFound):
        vault.grant(tmp_path / "x.fvgrant", "x", "shotgun/nope", claim_within="1h", use_for="10m")
    with pytest.raises(farmvault.InvalidArgument):
        vault.grant(tmp_path / "y.fvgrant", "y", "shotgun/", claim_within="1h", use_for="10m", token=False)
    assert not (tmp_path / "x.fvgrant").exists() and not (tmp_path / "y.fvgrant").exists()
    vault.close()
