"""examples/deadline/GlobalJobPreLoad.py with real grants and a stand-in for
Deadline's own objects (the plugin and the job: the only things mocked)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Optional

import pytest

from test_grant import KEY, Issued, issued  # noqa: F401 (the grants fixture, shared)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "deadline" / "GlobalJobPreLoad.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("GlobalJobPreLoad", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
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


@pytest.fixture(autouse=True)
def _example_exists() -> None:
    assert EXAMPLE.is_file(), EXAMPLE
