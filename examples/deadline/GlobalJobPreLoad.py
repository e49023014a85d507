"""Deadline 10: point each render task at its farmvault job grant.

Install as ``<repository>/custom/plugins/GlobalJobPreLoad.py`` (Deadline runs its
``__main__`` before every task of every job), with the ``farmvault`` Python
package importable by the Worker (the manylinux wheel, ``pip install --target``
into a folder on ``PYTHONPATH``).

At submission, the submitter issues a grant (``farmvault grant ENTRY
--claim-within 72h --use-for 4h --label JOB --out /farm/grants/JOB.fvgrant``)
and puts two of the job's extra-info values: ``FarmvaultGrantFile`` (the
bundle's path) and ``FarmvaultGrantToken`` (its token: opaque, bound to the
bundle and useless after the grant's window, so the Monitor shows no key).

Before each task this:

1. opens the grant: the first open on this Worker starts the use window
   (recorded under ``FarmvaultStateDir``, or the Worker's default), and a task
   that starts after the window fails at once, saying so, before the renderer
   starts half-equipped;
2. hands the render process the grant's path and token (never a key), so the
   renderer's tools read through ``farmvault.from_env()`` or ``farmvault exec``.

Nothing here writes a secret to the log.
"""

from __future__ import annotations

from typing import Any, Optional

import farmvault

GRANT_FILE = "FarmvaultGrantFile"
GRANT_TOKEN = "FarmvaultGrantToken"
STATE_DIR = "FarmvaultStateDir"


def _extra(job: Any, key: str) -> Optional[str]:
    value = job.GetJobExtraInfoKeyValue(key)
    return value or None


def __main__(deadlinePlugin: Any) -> None:  # noqa: N807 (Deadline's entry point)
    job = deadlinePlugin.GetJob()
    bundle = _extra(job, GRANT_FILE)
    if bundle is None:
        return  # a job without a grant
    token = _extra(job, GRANT_TOKEN)
    state = _extra(job, STATE_DIR)
    try:
        with farmvault.Grant.open(bundle, token, state_dir=state) as grant:
            until = grant.use_until
    except farmvault.Error as e:
        # The library's message names the grant and why (expired, wrong token,
        # another host), never a secret.
        deadlinePlugin.FailRender(f"farmvault: {e}")
        return
    deadlinePlugin.SetProcessEnvironmentVariable("FARMVAULT_GRANT_FILE", bundle)
    if token is not None:
        deadlinePlugin.SetProcessEnvironmentVariable("FARMVAULT_GRANT_TOKEN", token)
    if state is not None:
        deadlinePlugin.SetProcessEnvironmentVariable("FARMVAULT_STATE_DIR", state)
    deadlinePlugin.LogInfo(f"farmvault: job grant {bundle} readable until {until.isoformat()}")
