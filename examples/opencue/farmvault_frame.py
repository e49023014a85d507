#!/usr/bin/env python3
"""OpenCue: run a frame's command with the secrets of its job grant.

OpenCue's RQD runs each frame's command with the layer's environment, which
OpenCue stores with the job (and shows in CueGUI): put only the grant there,
never a key. At submission, issue a grant (``farmvault grant ENTRY
--claim-within 72h --use-for 4h --label JOB --out /farm/grants/JOB.fvgrant``)
and set the layer's environment: ``FARMVAULT_GRANT_FILE`` (the bundle's path)
and ``FARMVAULT_GRANT_TOKEN`` (its token: opaque, bound to the bundle, useless
after the window). Then make the frame's command::

    python3 farmvault_frame.py SG_KEY=shotgun/render_farm:api_key -- render.sh #IFRAME#

For each frame this opens the grant (its first open on the host starts the use
window; a frame after the window fails at once, with the grant's message and
exit status 4, before the command starts), then replaces itself with
``farmvault exec`` (which reads the secrets again, puts them in the command's
environment only, and masks them in its output, RQD's frame log), with a
private ``SHOTGUN_HOME`` when ``FARMVAULT_SGTK_HOME=1``. RQD's own variables
(``CUE_JOB``, ``CUE_FRAME``, ...) are passed through untouched.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import List

import farmvault

#: Exit statuses, as farmvault's command line documents them.
EXPIRED = 4
USAGE = 2


def main(argv: List[str]) -> int:
    if "--" not in argv:
        print("usage: farmvault_frame.py VAR=NAME[:field]... -- COMMAND [ARGS...]", file=sys.stderr)
        return USAGE
    split = argv.index("--")
    specs, command = argv[:split], argv[split + 1 :]
    if not specs or not command:
        print("farmvault_frame.py: give at least one VAR=NAME[:field] and a command", file=sys.stderr)
        return USAGE
    try:
        with farmvault.from_env() as source:
            frame = os.environ.get("CUE_FRAME", "?")
            if isinstance(source, farmvault.Grant):
                print(f"farmvault: frame {frame} reads through a grant until {source.use_until.isoformat()}", file=sys.stderr)
    except farmvault.Expired as e:
        print(f"farmvault: {e}", file=sys.stderr)
        return EXPIRED
    except farmvault.Error as e:
        print(f"farmvault: {e}", file=sys.stderr)
        return 1
    cli = shutil.which("farmvault")
    if cli is None:
        print("farmvault_frame.py: no farmvault command on PATH", file=sys.stderr)
        return 127
    args = [cli, "exec"]
    if os.environ.get("FARMVAULT_SGTK_HOME") == "1":
        args.append("--sgtk-home")
    for spec in specs:
        args += ["--env", spec]
    sys.stdout.flush()
    os.execv(cli, args + ["--", *command])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
