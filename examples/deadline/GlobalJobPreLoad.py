"""Deadline 10: point each render task at its farmvault job grant.

Install as ``<repository>/custom/plugins/GlobalJobPreLoad.py`` (Deadline runs its
``__main__`` before every task of every job), with the ``farmvault`` Python
package importable by the Worker (the manylinux wheel, ``pip install --target``
into a folder on ``PYTHONPATH``).

The whole flow, of which this is the middle step:

1. At submission, ``submit_with_grant.py`` (beside this file) issues a grant
   (``farmvault grant ENTRY --claim-within 72h --use-for 4h --label JOB --out
   /farm/grants/JOB.fvgrant``) and writes a job for Deadline's stock
   CommandLine plugin whose extra-info values are ``FarmvaultGrantFile`` (the
   bundle's path), ``FarmvaultGrantToken`` (its token: opaque, bound to the
   bundle and useless after the grant's window, so the Monitor shows no key)
   and, optionally, ``FarmvaultStateDir``.
2. Before each task this opens the grant: the first open on this Worker starts
   the use window (recorded under ``FarmvaultStateDir``, or the Worker's
   default), and a task that starts after the window fails at once, saying
   so, before the renderer starts half-equipped. Then it hands the render
   process the grant's path and token (never a key) as
   ``FARMVAULT_GRANT_FILE``, ``FARMVAULT_GRANT_TOKEN`` and
   ``FARMVAULT_STATE_DIR``.
3. The CommandLine plugin runs ``farmvault exec --sgtk-home --env VAR=ENTRY:FIELD
   ... -- RENDER...``, which reads the secrets through the grant into the
   render's environment only, masks them (``***``) in the task's log, gives
   tk-core a private ``SHOTGUN_HOME`` (0700, on tmpfs) for the session tokens
   it caches in plain text, and wipes that directory when the task ends; the
   tokens tk-core renewed go with it, since a grant cannot write to the vault.

A pre-load script cannot clean up after the render, which is why the private
``SHOTGUN_HOME`` is ``farmvault exec``'s, not this script's. Jobs of other
plugins get the same variables, for tools that read through
``farmvault.from_env()`` or run under ``farmvault exec`` themselves.

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
