#!/usr/bin/env python3
"""Deadline 10: submit a render that reads its credentials through a farmvault
job grant, run by the stock CommandLine plugin under ``farmvault exec --sgtk-home``.

A TD runs this on the workstation, where the vault opens (``FARMVAULT_PATH``
and ``FARMVAULT_KEY_FILE``, the agent, or the passphrase prompt, as for any
``farmvault`` command)::

    python3 submit_with_grant.py shotgun/render_farm --label shot042_lighting \\
        --bundle /farm/grants/shot042_lighting.fvgrant --frames 1-100 \\
        --env SG_KEY=shotgun/render_farm:api_key --env SG_HOST=shotgun/render_farm:host \\
        -- /opt/render/bin/render --frame "<STARTFRAME>" /shots/042/lighting.scene

The whole flow:

1. Here: ``farmvault grant ENTRY... --label JOB --out BUNDLE`` issues the grant
   (the bundle on shared storage the Workers read; the token on its stdout,
   read from the pipe, never printed and never on a command line, where other
   users would see it in the process list). Then two Deadline submission files
   for the CommandLine plugin, and the ``deadlinecommand JOBINFO PLUGININFO``
   line that submits them.
2. Before each task, ``GlobalJobPreLoad.py`` (beside this file) opens the
   grant: a task that starts after the grant's window fails at once, saying so,
   before the renderer starts half-equipped; otherwise it hands the render
   process the grant's path and token (``FARMVAULT_GRANT_FILE``,
   ``FARMVAULT_GRANT_TOKEN``, ``FARMVAULT_STATE_DIR``).
3. The CommandLine plugin runs ``farmvault exec --sgtk-home --env ... --
   RENDER...``: it reads the secrets through the grant into the render's
   environment only, masks them (``***``) in the task's output, and gives
   tk-core a private ``SHOTGUN_HOME`` (0700, on tmpfs), so the session tokens
   tk-core caches in plain text never reach a lasting disk. The directory is
   wiped when the task ends, also on SIGINT or SIGTERM; a task killed outright
   leaves it until the next ``--sgtk-home`` run on that Worker removes it.
   Tokens tk-core renewed go with it: a grant cannot write to the vault.

The job info file carries the grant as extra info
(``ExtraInfoKeyValueN=FarmvaultGrantFile=...`` and ``FarmvaultGrantToken``,
optionally ``FarmvaultStateDir``), which is how Deadline hands a job's own
values to its pre-load script. So the token is written to that file only
(mode 0600, in a new private directory unless ``--out-dir`` names one), and
Deadline keeps it in its database with the job, where the Monitor shows it. The
token is opaque, bound to this bundle and useless after the grant's window: it
is never a key. Delete the job info file once the job is submitted. The plugin
info file holds no secret: the command line names entries, never values.

How the CommandLine plugin runs the command: it reads ``Executable`` and
``Arguments`` from the plugin info file, replaces Deadline's tokens in the
argument string (``<STARTFRAME>``, ``<ENDFRAME>``, ``<STARTFRAME%4>``,
``<QUOTE>``, ``<AUXFILE0>``; typographic quotes become ``"``), applies path
mapping, and with ``ShellExecute=False`` (written here) starts the executable
with that one string. Thinkbox documents the tokens, not how the string is
then split; this assumes the Worker's .NET process start splits it, by the
Microsoft C runtime's rules: spaces and tabs separate; double quotes group;
backslashes are literal except before a double quote, where ``2n`` of them
give ``n`` and ``2n+1`` give ``n`` and a literal quote. Single quotes are not
special and nothing is expanded: this is not a shell. The arguments here are
quoted for those rules. (A Worker on Mono splits like a shell without
expansions; it reads these quotes the same, except a backslash followed by
another backslash, ``$`` or a backquote.) Deadline's frame tokens in the render
command are kept, so ``"<STARTFRAME>"`` becomes each task's frame; an argument
that holds ``<QUOTE>`` or a typographic quote, which Deadline would rewrite, is
refused, as is a line break (each file is one ``Key=Value`` a line).

Needs Python 3.9+ and the ``farmvault`` command; nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional, Sequence, Tuple

#: The job extra-info keys GlobalJobPreLoad.py reads.
GRANT_FILE = "FarmvaultGrantFile"
GRANT_TOKEN = "FarmvaultGrantToken"
STATE_DIR = "FarmvaultStateDir"

#: Exit status for a command line this refuses (as farmvault's usage errors).
USAGE = 2

#: What an argument is quoted for: .NET's separators and quote, and what a
#: shell-like splitter would read otherwise (a quote, a backslash, a comment).
_NEEDS_QUOTES = re.compile(r"[\s\"'\\]|^#")
#: What Deadline rewrites in the argument string before splitting it.
_REWRITTEN = re.compile(r"<quote>|[\u201c\u201d]", re.IGNORECASE)
#: `farmvault exec --env`'s VAR=NAME[:field], as far as the submit side can check it.
_ENV_SPEC = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.+", re.DOTALL)


class Refused(Exception):
    """A command line or value this will not write into a Deadline job."""


def quote_argument(arg: str) -> str:
    """``arg`` as one argument for .NET's splitter (the Microsoft C runtime's
    rules): bare when nothing in it is special; else in double quotes,
    with each ``"`` as ``\\"`` and the backslashes before a ``"`` (the closing
    one included) doubled, so they stay literal."""
    if arg and not _NEEDS_QUOTES.search(arg):
        return arg
    out = ['"']
    backslashes = 0
    for c in arg:
        if c == "\\":
            backslashes += 1
            continue
        if c == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + c)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def check_argument(arg: str) -> None:
    """Refuses what cannot travel in the Arguments line unchanged."""
    if any(c in arg for c in "\r\n\0"):
        raise Refused(f"{arg!r}: a line break or NUL cannot be part of a Deadline plugin info value")
    if _REWRITTEN.search(arg):
        raise Refused(
            f"{arg!r}: Deadline turns <QUOTE> and typographic quotes into \" before splitting "
            "the arguments; give the argument as it should arrive (this script quotes it)"
        )


def join_arguments(args: Sequence[str]) -> str:
    """The CommandLine plugin's ``Arguments`` value for ``args``."""
    for a in args:
        check_argument(a)
    return " ".join(quote_argument(a) for a in args)


def exec_arguments(env_specs: Sequence[str], command: Sequence[str]) -> List[str]:
    """``farmvault exec``'s arguments on the Worker: the secrets through the
    grant the pre-load named, tk-core's cache in a private SHOTGUN_HOME."""
    args = ["exec", "--sgtk-home"]
    for spec in env_specs:
        args += ["--env", spec]
    return args + ["--", *command]


def check_value(key: str, value: str) -> str:
    """``value`` for one ``Key=Value`` line of a submission file."""
    if any(c in value for c in "\r\n\0"):
        raise Refused(f"{key}: a line break or NUL cannot be part of a Deadline submission value")
    return value


@dataclasses.dataclass(frozen=True)
class Job:
    """What goes into Deadline's two submission files."""

    name: str
    frames: str
    chunk_size: Optional[int]
    bundle: str
    token: Optional[str]
    state_dir: Optional[str]
    executable: str
    arguments: str


def job_info_lines(job: Job) -> List[str]:
    """The job info file: the CommandLine plugin, the job's name and frames,
    and the grant as extra info for GlobalJobPreLoad.py."""
    lines = [
        "Plugin=CommandLine",
        f"Name={check_value('Name', job.name)}",
        f"Frames={check_value('Frames', job.frames)}",
    ]
    if job.chunk_size is not None:
        lines.append(f"ChunkSize={job.chunk_size}")
    extra = [(GRANT_FILE, job.bundle)]
    if job.token is not None:
        extra.append((GRANT_TOKEN, job.token))
    if job.state_dir is not None:
        extra.append((STATE_DIR, job.state_dir))
    for n, (key, value) in enumerate(extra):
        lines.append(f"ExtraInfoKeyValue{n}={key}={check_value(key, value)}")
    return lines


def plugin_info_lines(job: Job) -> List[str]:
    """The plugin info file: no secret, only what the CommandLine plugin runs."""
    return [
        f"Executable={check_value('Executable', job.executable)}",
        f"Arguments={job.arguments}",
        # The string goes to the process start's splitter, not to a shell.
        "ShellExecute=False",
    ]


def write_private(path: str, lines: Sequence[str]) -> None:
    """Writes ``lines`` to a new file only its owner reads: never over an
    existing file or through a link (O_EXCL), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            fd = -1
            f.write("".join(line + "\n" for line in lines))
    finally:
        if fd >= 0:
            os.close(fd)


def issue_grant(cli: str, opts: argparse.Namespace, bundle: str) -> Optional[str]:
    """Runs ``farmvault grant`` and returns its token (None for --no-token).

    The vault's unlock comes from the environment, or the prompt on this
    terminal (stdin and stderr are the user's); the token comes back on a pipe
    and goes nowhere but the job info file."""
    args = [cli, "grant", *opts.entries, "--claim-within", opts.claim_within, "--use-for", opts.use_for]
    args += ["--label", opts.label, "--out", bundle]
    if opts.hosts is not None:
        args += ["--hosts", opts.hosts]
    for to in opts.to:
        args += ["--to", to]
    if opts.require_both:
        args.append("--require-both")
    if opts.no_token:
        args.append("--no-token")
    r = subprocess.run(args, stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        # farmvault said why on stderr (never with a secret).
        raise SystemExit(r.returncode)
    token = r.stdout.strip()
    if opts.no_token:
        return None
    if not token or any(c.isspace() for c in token):
        raise SystemExit("submit_with_grant.py: `farmvault grant` printed no single token on stdout")
    return token


def safe_name(label: str) -> str:
    """``label`` as a file-name stem."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", label)[:100].lstrip(".")
    return stem or "job"


def job_files(out_dir: str, label: str) -> Tuple[str, str]:
    """Where the job info and plugin info files of job ``label`` go."""
    stem = os.path.join(out_dir, safe_name(label))
    return f"{stem}_job_info.job", f"{stem}_plugin_info.job"


def split_command(argv: Sequence[str]) -> Tuple[List[str], List[str]]:
    """This script's options, and the render command after ``--``."""
    if "--" not in argv:
        return list(argv), []
    i = list(argv).index("--")
    return list(argv[:i]), list(argv[i + 1 :])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="submit_with_grant.py",
        usage="%(prog)s ENTRY... --label JOB --bundle FILE --env VAR=NAME[:field]... [options] -- COMMAND [ARGS...]",
        description="Issue a farmvault job grant and write Deadline CommandLine job files that run "
        "COMMAND under `farmvault exec --sgtk-home`.",
    )
    p.add_argument("entries", nargs="+", metavar="ENTRY", help="entries (or prefixes ending in /) to grant")
    p.add_argument("--label", required=True, help="the grant's label and the job's default name (no secrets)")
    p.add_argument("--bundle", required=True, help="where the grant bundle goes: shared storage the Workers read")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        required=True,
        metavar="VAR=NAME[:field]",
        help="farmvault exec --env: a secret in the render's environment; repeatable",
    )
    p.add_argument("--claim-within", default="72h", help="the grant's claim window (default 72h: time in the queue)")
    p.add_argument("--use-for", default="4h", help="how long it reads after its first open on a Worker (default 4h)")
    p.add_argument("--hosts", help="only Workers whose hostname matches this glob may open it")
    p.add_argument("--to", action="append", default=[], help="a farm public key (age1...) or a file of them")
    p.add_argument("--require-both", action="store_true", help="need the token and a farm identity")
    p.add_argument("--no-token", action="store_true", help="only a farm identity opens the grant")
    p.add_argument("--state-dir", help="FarmvaultStateDir: where Workers record the grant's first open")
    p.add_argument("--name", help="the Deadline job's name (default: the label)")
    p.add_argument("--frames", default="0", help="Deadline's Frames (default 0: one task)")
    p.add_argument("--chunk-size", type=int, help="Deadline's ChunkSize")
    p.add_argument(
        "--executable",
        default="farmvault",
        help="the farmvault command on the Workers (default: farmvault; an absolute path is safest)",
    )
    p.add_argument("--farmvault", help="the farmvault command here (default: the one on PATH)")
    p.add_argument("--out-dir", help="where the two job files go (default: a new private directory)")
    return p


def main(argv: Sequence[str]) -> int:
    own, command = split_command(argv)
    p = parser()
    opts = p.parse_args(own)
    if not command:
        p.error("give the render command after --")
    for spec in opts.env:
        if not _ENV_SPEC.fullmatch(spec):
            p.error(f"--env {spec!r} is not VAR=NAME[:field]")
    cli = opts.farmvault or shutil.which("farmvault")
    if cli is None:
        p.error("no farmvault command on PATH: pass --farmvault")
    bundle = os.path.abspath(opts.bundle)
    state_dir = None if opts.state_dir is None else os.path.abspath(opts.state_dir)
    try:
        # Everything that can be refused is refused before the grant exists.
        arguments = join_arguments(exec_arguments(opts.env, command))
        draft = Job(
            name=opts.name or opts.label,
            frames=opts.frames,
            chunk_size=opts.chunk_size,
            bundle=bundle,
            token=None,
            state_dir=state_dir,
            executable=opts.executable,
            arguments=arguments,
        )
        job_info_lines(draft)
        plugin_info_lines(draft)
    except Refused as e:
        print(f"submit_with_grant.py: {e}", file=sys.stderr)
        return USAGE
    if opts.out_dir is not None:
        if not os.path.isdir(opts.out_dir):
            print(f"submit_with_grant.py: --out-dir {opts.out_dir} is not a directory", file=sys.stderr)
            return USAGE
        for path in job_files(opts.out_dir, opts.label):
            if os.path.lexists(path):
                print(f"submit_with_grant.py: {path} exists; pick another --out-dir or --label", file=sys.stderr)
                return USAGE

    token = issue_grant(cli, opts, bundle)
    job = dataclasses.replace(draft, token=token)
    try:
        # A new directory only its owner reads, unless --out-dir names one.
        out_dir = opts.out_dir or tempfile.mkdtemp(prefix="farmvault-deadline-")
        job_info, plugin_info = job_files(out_dir, opts.label)
        write_private(job_info, job_info_lines(job))
        write_private(plugin_info, plugin_info_lines(job))
    except OSError as e:
        print(
            f"submit_with_grant.py: the grant {bundle} was issued, but writing the job files failed: {e}; "
            "remove the bundle and submit again",
            file=sys.stderr,
        )
        return 1
    print(f"job info (holds the grant's token; delete it once submitted): {job_info}", file=sys.stderr)
    print(f"deadlinecommand {shlex.quote(job_info)} {shlex.quote(plugin_info)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
