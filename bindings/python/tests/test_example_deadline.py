"""examples/deadline/: GlobalJobPreLoad.py with real grants and a stand-in for
Deadline's own objects (the plugin and the job: the only things mocked), and
submit_with_grant.py end to end: a grant issued from a real vault, the job files
it writes, then a Worker imitated (the pre-load, then the CommandLine plugin's
command, split as .NET splits it) running a render that writes tk-core's
session cache."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Optional

import pytest

import farmvault
from test_grant import ENTRY, KEY, Issued, cli_path, issued  # noqa: F401 (the grants fixture, shared)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "deadline" / "GlobalJobPreLoad.py"
SUBMIT = EXAMPLE.parent / "submit_with_grant.py"


def load_example(path: Path = EXAMPLE) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where its dataclasses look themselves up
    spec.loader.exec_module(module)
    return module


class FakeJob:
    """What the pre-load reads of Deadline's Job: its extra-info values."""

    def __init__(self, extra: Dict[str, str]) -> None:
        self.extra = extra

    def GetJobExtraInfoKeyValue(self, key: str) -> str:  # noqa: N802 (Deadline's name)
        return self.extra.get(key, "")


class FakePlugin:
    """What the pre-load calls of Deadline's DeadlinePlugin, recorded."""

    def __init__(self, job: FakeJob) -> None:
        self.job = job
        self.env: Dict[str, str] = {}
        self.logged: List[str] = []
        self.failed: Optional[str] = None

    def GetJob(self) -> FakeJob:  # noqa: N802
        return self.job

    def SetProcessEnvironmentVariable(self, name: str, value: str) -> None:  # noqa: N802
        self.env[name] = value

    def LogInfo(self, message: str) -> None:  # noqa: N802
        self.logged.append(message)

    def FailRender(self, message: str) -> None:  # noqa: N802
        self.failed = message


def run(extra: Dict[str, str]) -> FakePlugin:
    plugin = FakePlugin(FakeJob(extra))
    load_example().__main__(plugin)
    return plugin


def test_a_task_gets_the_grant_not_the_key(issued: Issued, tmp_path: Path) -> None:
    plugin = run(
        {
            "FarmvaultGrantFile": str(issued.token_grant),
            "FarmvaultGrantToken": issued.token,
            "FarmvaultStateDir": str(tmp_path / "state"),
        }
    )
    assert plugin.failed is None
    assert plugin.env == {
        "FARMVAULT_GRANT_FILE": str(issued.token_grant),
        "FARMVAULT_GRANT_TOKEN": issued.token,
        "FARMVAULT_STATE_DIR": str(tmp_path / "state"),
    }
    assert all(KEY not in v for v in plugin.env.values())
    assert len(plugin.logged) == 1 and "readable until" in plugin.logged[0]
    assert all(issued.token not in m and KEY not in m for m in plugin.logged)


def test_a_task_after_the_window_fails_before_the_renderer_starts(issued: Issued, tmp_path: Path) -> None:
    extra = {
        "FarmvaultGrantFile": str(issued.short_grant),
        "FarmvaultGrantToken": issued.short_token,
        "FarmvaultStateDir": str(tmp_path / "state"),
    }
    assert run(extra).failed is None  # the first task claims it: 2 s of use
    time.sleep(2.5)
    plugin = run(extra)
    assert plugin.failed is not None and "expired" in plugin.failed, plugin.failed
    assert issued.short_token not in plugin.failed and KEY not in plugin.failed
    assert plugin.env == {}


def test_a_wrong_token_fails_the_task_and_a_job_without_a_grant_is_left_alone(
    issued: Issued, tmp_path: Path
) -> None:
    plugin = run(
        {
            "FarmvaultGrantFile": str(issued.token_grant),
            "FarmvaultGrantToken": issued.token[:-4] + "AAAA",
            "FarmvaultStateDir": str(tmp_path / "state"),
        }
    )
    assert plugin.failed is not None and plugin.failed.startswith("farmvault: ")
    assert plugin.env == {}
    untouched = run({})
    assert untouched.failed is None and untouched.env == {} and untouched.logged == []


# submit_with_grant.py, and a Worker imitated.

#: The session token the imitation of tk-core caches in SHOTGUN_HOME (in two
#: parts in the render's source, so only what it writes holds it whole).
SESSION_PARTS = ("DEADLINE-SESSION", "7c41e0b2")
SESSION = "-".join(SESSION_PARTS)

#: A render that does what tk-core does with a session (docs/TOOLKIT.md: the
#: site's authentication.yml, in plain text), then reports where SHOTGUN_HOME
#: was and its mode, prints the injected key as tools that log their settings
#: do, and its own arguments.
TOOLKIT_RENDER = textwrap.dedent(
    f"""\
    import json, os, stat, sys
    home, session = os.environ["SHOTGUN_HOME"], "-".join({SESSION_PARTS!r})
    os.makedirs(os.path.join(home, "mysite"), exist_ok=True)
    with open(os.path.join(home, "authentication.yml"), "w") as f:
        f.write("current_host: https://mysite.shotgrid.autodesk.com\\n")
    with open(os.path.join(home, "mysite", "authentication.yml"), "w") as f:
        f.write("current_user: jdoe\\nusers:\\n- login: jdoe\\n  session_token: " + session + "\\n")
    print("home=" + home)
    print("mode=" + oct(stat.S_IMODE(os.stat(home).st_mode)))
    print("key=" + os.environ["SG_KEY"])
    print("argv=" + json.dumps(sys.argv[1:]))
    """
)

#: Arguments that need every quoting rule of the CommandLine plugin's string.
AWKWARD = ["two words", 'a "quoted" word', "it's", "tab\there", "C:\\dir\\", 'end\\"', "", "#not-a-comment", "é"]


def dotnet_split(arguments: str) -> List[str]:
    """.NET's ParseArgumentsIntoList (Process.Unix.cs), rule for rule: how the
    Worker's process start splits the CommandLine plugin's argument string."""
    out: List[str] = []
    i, n = 0, len(arguments)
    while i < n:
        while i < n and arguments[i] in " \t":
            i += 1
        if i == n:
            break
        arg: List[str] = []
        quoted = False
        while i < n:
            slashes = 0
            while i < n and arguments[i] == "\\":
                i, slashes = i + 1, slashes + 1
            if slashes:
                if i < n and arguments[i] == '"':
                    arg.append("\\" * (slashes // 2))
                    if slashes % 2:
                        arg.append('"')
                        i += 1
                else:
                    arg.append("\\" * slashes)
                continue
            c = arguments[i]
            if c == '"':
                if quoted and i + 1 < n and arguments[i + 1] == '"':
                    arg.append('"')
                    i += 1
                else:
                    quoted = not quoted
                i += 1
                continue
            if c in " \t" and not quoted:
                break
            arg.append(c)
            i += 1
        out.append("".join(arg))
    return out


def deadline_arguments(plugin_info: Dict[str, str], frame: int) -> List[str]:
    """The CommandLine plugin's command for one task: Executable, and Arguments
    with Deadline's tokens replaced, then split."""
    args = plugin_info["Arguments"].strip()
    args = re.sub(r"<STARTFRAME>|<ENDFRAME>", str(frame), args, flags=re.IGNORECASE)
    args = re.sub(r"<(?:START|END)FRAME%([0-9]+)>", lambda m: str(frame).zfill(int(m[1])), args, flags=re.IGNORECASE)
    args = re.sub(r"<QUOTE>", '"', args, flags=re.IGNORECASE).replace("\u201c", '"').replace("\u201d", '"')
    assert plugin_info.get("ShellExecute") == "False"
    return [plugin_info["Executable"], *dotnet_split(args)]


def read_info(path: Path) -> Dict[str, str]:
    """A Deadline submission file: Key=Value lines."""
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())


def files_containing(root: Path, needle: bytes) -> List[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and needle in p.read_bytes()]


def test_arguments_survive_the_plugins_splitting_and_what_deadline_rewrites_is_refused() -> None:
    submit = load_example(SUBMIT)
    command = ["render", "--frame", "<STARTFRAME%4>", *AWKWARD]
    line = submit.join_arguments(command)
    assert dotnet_split(line) == command
    assert deadline_arguments({"Executable": "farmvault", "Arguments": line, "ShellExecute": "False"}, 7)[3] == "0007"
    for bad in ("say <quote>hi<QUOTE>", "\u201ccurly\u201d", "two\nlines", "nul\0"):
        with pytest.raises(submit.Refused):
            submit.join_arguments(["render", bad])


def test_a_refused_command_issues_no_grant(tmp_path: Path) -> None:
    bundle = tmp_path / "never.fvgrant"
    r = subprocess.run(
        [sys.executable, str(SUBMIT), "shotgun/", "--label", "x", "--bundle", str(bundle), "--env", "K=shotgun/a"]
        + ["--farmvault", str(tmp_path / "no-such-farmvault"), "--out-dir", str(tmp_path), "--", "render", "<QUOTE>"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "<QUOTE>" in r.stderr, r.stderr
    assert not bundle.exists() and sorted(tmp_path.iterdir()) == []


def test_submit_then_a_worker_runs_the_render_under_exec_with_a_private_shotgun_home(
    issued: Issued, library: farmvault.LibraryInfo, tmp_path: Path
) -> None:
    cli = str(cli_path(library))
    home, out, render = tmp_path / "home", tmp_path / "submit", tmp_path / "render.py"
    for d in (home, out):
        d.mkdir(mode=0o700)
    render.write_text(TOOLKIT_RENDER)
    bundle, state = tmp_path / "shot042.fvgrant", tmp_path / "grant-state"
    label = "shot042 lighting"

    # The workstation: the vault of the grants fixture, unlocked by its passphrase file.
    workstation = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "FARMVAULT_PATH": str(issued.vault),
        "FARMVAULT_PASSPHRASE_FILE": str(issued.dir / "passphrase"),
        "FARMVAULT_INSECURE_KDF_FOR_TESTS": "1",
    }
    submitted = subprocess.run(
        [sys.executable, str(SUBMIT), "shotgun/", "--label", label, "--bundle", str(bundle), "--state-dir", str(state)]
        + ["--frames", "1-2", "--env", f"SG_KEY={ENTRY}:api_key", "--env", f"SG_HOST={ENTRY}:host"]
        + ["--farmvault", cli, "--executable", cli, "--out-dir", str(out)]
        + ["--", sys.executable, str(render), "<STARTFRAME>", *AWKWARD],
        env=workstation,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert submitted.returncode == 0, submitted.stderr
    deadlinecommand, job_file, plugin_file = shlex.split(submitted.stdout)
    assert deadlinecommand == "deadlinecommand" and submitted.stdout.count("\n") == 1
    job, plugin = read_info(Path(job_file)), read_info(Path(plugin_file))
    assert {k: v for k, v in job.items() if k != "ExtraInfoKeyValue1"} == {
        "Plugin": "CommandLine",
        "Name": label,
        "Frames": "1-2",
        "ExtraInfoKeyValue0": f"FarmvaultGrantFile={bundle}",
        "ExtraInfoKeyValue2": f"FarmvaultStateDir={state}",
    }
    token_key, token = job["ExtraInfoKeyValue1"].split("=", 1)
    assert token_key == "FarmvaultGrantToken" and token.startswith("fvg1_")
    assert set(plugin) == {"Executable", "Arguments", "ShellExecute"} and plugin["Executable"] == cli
    for f in (job_file, plugin_file):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    # The token is in the job info file and nowhere else: not in the plugin
    # info, not in what the submit printed.
    assert files_containing(tmp_path, token.encode()) == [Path(job_file)]
    assert token not in submitted.stdout + submitted.stderr

    # The Worker, task for frame 1: the pre-load (with Deadline's objects
    # imitated) checks the grant and gives the process its variables; the
    # CommandLine plugin runs Executable with the split Arguments.
    extra = dict(v.split("=", 1) for k, v in job.items() if k.startswith("ExtraInfoKeyValue"))
    preload = run(extra)
    assert preload.failed is None, preload.failed
    worker = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **preload.env}
    if "XDG_RUNTIME_DIR" in os.environ:
        worker["XDG_RUNTIME_DIR"] = os.environ["XDG_RUNTIME_DIR"]
    task = subprocess.run(
        deadline_arguments(plugin, 1), env=worker, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert task.returncode == 0, task.stderr
    report = dict(line.split("=", 1) for line in task.stdout.splitlines())
    assert report["key"] == "***", task.stdout
    assert json.loads(report["argv"]) == ["1", *AWKWARD]
    for secret in (KEY, token, SESSION):
        assert secret not in task.stdout + task.stderr

    # tk-core's cache was private, on memory, not in HOME, and is gone.
    shotgun_home = Path(report["home"])
    assert report["mode"] == "0o700"
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        assert shotgun_home.parent == Path(xdg) / "farmvault", shotgun_home
    else:
        assert shotgun_home.parent == Path(f"/dev/shm/farmvault-{os.geteuid()}"), shotgun_home
    assert home not in shotgun_home.parents
    assert not shotgun_home.exists()
    assert files_containing(home, SESSION.encode()) == []
    assert files_containing(tmp_path, SESSION.encode()) == []


@pytest.fixture(autouse=True)
def _example_exists() -> None:
    assert EXAMPLE.is_file(), EXAMPLE
    assert SUBMIT.is_file(), SUBMIT
