"""examples/opencue/farmvault_frame.py run as RQD runs a frame's command: a real
grant, the layer's environment (the grant's path and token, RQD's CUE_*
variables: the only OpenCue part, set by hand) and the farmvault CLI on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import farmvault
from test_grant import KEY, Issued, cli_path, issued  # noqa: F401 (the grants fixture, shared)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "opencue" / "farmvault_frame.py"


def frame(library: farmvault.LibraryInfo, bundle: Path, token: str, state: Path, frame_no: int) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    env: Dict[str, str] = {
        "PATH": f"{cli_path(library).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "FARMVAULT_LIB": str(library.path),
        "FARMVAULT_GRANT_FILE": str(bundle),
        "FARMVAULT_GRANT_TOKEN": token,
        "FARMVAULT_STATE_DIR": str(state),
        "CUE_JOB": "shot042-lighting",
        "CUE_FRAME": f"{frame_no:04d}-render",
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    script = 'echo "$CUE_FRAME renders with key $SG_KEY"; test "$SG_KEY" = "$EXPECTED"'
    env["EXPECTED"] = KEY
    return subprocess.run(
        [sys.executable, str(EXAMPLE), "SG_KEY=shotgun/render_farm:api_key", "--", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_frame_reads_its_key_masked_and_a_frame_after_the_window_fails(
    issued: Issued, library: farmvault.LibraryInfo, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    r = frame(library, issued.short_grant, issued.short_token, state, 1)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0001-render renders with key ***\n"
    assert "reads through a grant until" in r.stderr
    for text in (r.stdout, r.stderr):
        assert KEY not in text and issued.short_token not in text
    time.sleep(2.5)  # the short grant reads for 2 s from its first open
    r = frame(library, issued.short_grant, issued.short_token, state, 2)
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert "expired" in r.stderr and r.stdout == ""
    assert KEY not in r.stderr and issued.short_token not in r.stderr
