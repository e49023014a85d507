"""``Grant``: a job grant opened read-only, and ``from_env``: whatever credential
source a farm job's environment names."""

from __future__ import annotations

import ctypes
import os
from datetime import datetime
from typing import Iterable, Mapping, Optional, Tuple

from . import _ffi
from ._args import SecretIn, path_arg, to_datetime
from ._errors import InvalidArgument
from ._loader import PathArg
from ._secret import SecretLike
from ._options import _Options
from ._vault import ReadCredentials, Vault, _Store

__all__ = [
    "Grant",
    "from_env",
    "GRANT_FILE_ENV",
    "GRANT_TOKEN_ENV",
    "IDENTITY_ENV",
    "STATE_DIR_ENV",
    "VAULT_PATH_ENV",
    "KEY_FILE_ENV",
]

#: The grant bundle a job reads through (what ``farmvault grant --out`` wrote).
GRANT_FILE_ENV = "FARMVAULT_GRANT_FILE"
#: The grant's bearer token (``fvg1_…``, what ``farmvault grant`` printed).
GRANT_TOKEN_ENV = "FARMVAULT_GRANT_TOKEN"
#: The render node's farm identity file (``farmvault farm-keygen``).
IDENTITY_ENV = "FARMVAULT_IDENTITY"
#: Where a grant's first open on this machine is recorded, when ``state_dir=`` is not
#: given (the library reads it; :func:`from_env` reads it from its mapping).
STATE_DIR_ENV = "FARMVAULT_STATE_DIR"
#: A vault directory, for jobs given a vault instead of a grant.
VAULT_PATH_ENV = "FARMVAULT_PATH"
#: The key file that opens the vault at ``FARMVAULT_PATH``.
KEY_FILE_ENV = "FARMVAULT_KEY_FILE"
#: A render node's agent (``farmvault agent node``): when the process environment
#: names one, every grant opens through it (the library reads it), with the
#: agent's farm identity, so a job needs neither token nor identity of its own.
NODE_AGENT_ENV = "FARMVAULT_NODE_AGENT"


class Grant(_Store):
    """A job grant opened read-only: the few credentials a submit script granted one
    farm job (``farmvault grant``), until the grant's use window ends.

    It reads exactly as a :class:`~farmvault.Vault` does (:meth:`get`,
    :meth:`metadata`, :meth:`list`, :meth:`shotgun_kwargs`; both are
    :class:`~farmvault.ReadCredentials`); entries outside the grant are
    :class:`~farmvault.NotFound`, and every read past the use window is
    :class:`~farmvault.Expired`. It also has every write method of a vault, so code
    written for a vault runs on it, and each raises :class:`~farmvault.ReadOnly`.
    :attr:`first_opened` and :attr:`use_until` say when the use window started and
    when it ends. Thread-safe, like a vault; close it (or use a ``with`` block) when
    done.
    """

    _what = "grant"

    @classmethod
    def open(
        cls,
        bundle: PathArg,
        token: Optional[SecretLike] = None,
        identity: Optional[PathArg] = None,
        *,
        state_dir: Optional[PathArg] = None,
        allow_insecure_permissions: bool = False,
        issuers: Optional[Iterable[str]] = None,
    ) -> Grant:
        """Opens the grant bundle at ``bundle`` with its ``token`` (the ``fvg1_…``
        text ``farmvault grant`` printed: ``str``, ``bytes``, ``bytearray`` or
        :class:`~farmvault.Secret`), with the farm ``identity`` file, or with both
        (a grant issued with ``--require-both`` needs both).

        The token is passed to the library for this call only; any copy made of it
        here is wiped before this returns, and no message shows it.

        The first open on a machine starts the use window and is recorded in
        ``state_dir`` (default: the directory ``FARMVAULT_STATE_DIR`` names, else the
        per-user state directory, ``$XDG_STATE_HOME/farmvault/grants`` or
        ``~/.local/state/farmvault/grants``). A job started without ``HOME`` needs
        ``state_dir`` or ``FARMVAULT_STATE_DIR``; keep it on the machine and the same
        for every job there, or each open starts the use window again.

        The claim-by deadline and the use window are measured against the system
        clock, and the host pattern is checked against the hostname the node's
        administrator wrote in ``/etc/farmvault/grant-hostname`` (root's), else the
        one the OS reports: neither is the caller's to choose, so unlike
        :meth:`Vault.open <farmvault.Vault.open>` this takes no ``fixed_time``.

        ``issuers`` pins the vaults whose grants this opens: their issuer keys
        (``fvi1_…``, as ``farmvault grant-issuer`` prints them). A grant that is
        unsigned, signed by another vault or changed after signing is then
        :class:`~farmvault.Tampered`, before anything in it is decrypted. The node's
        pins (``/etc/farmvault/issuers``) and ``FARMVAULT_ISSUERS`` apply too: each
        list must name the signer.

        A farm ``identity`` file that is not yours, that group or others can
        access, or that is a symbolic link is refused
        (:class:`~farmvault.InvalidArgument`, naming the file and the fix);
        ``allow_insecure_permissions=True`` is the explicit way past.

        Raises :class:`~farmvault.WrongKey` (wrong token or identity, or half of a
        ``--require-both`` grant missing), :class:`~farmvault.Expired` (first opened
        here after the claim-by deadline, or past the use window),
        :class:`~farmvault.HostNotAllowed`, :class:`~farmvault.Tampered`,
        :class:`~farmvault.Corrupt`, :class:`~farmvault.IoError`,
        :class:`~farmvault.InvalidArgument` (a malformed token; neither given; an
        identity refused as insecure; no state directory: no ``state_dir``, no
        ``FARMVAULT_STATE_DIR`` and no ``HOME``, the message naming
        ``FARMVAULT_STATE_DIR``).
        """
        raw_bundle = path_arg(bundle, "bundle")
        if token is None and identity is None and not os.environ.get(NODE_AGENT_ENV):
            raise InvalidArgument(
                "a grant opens with token=, identity= or both (or through the node agent "
                f"{NODE_AGENT_ENV} names); neither was given"
            )
        raw_identity = None if identity is None else path_arg(identity, "identity")
        options = _Options(
            None,
            None,
            None,
            state_dir=state_dir,
            allow_insecure_permissions=allow_insecure_permissions,
            issuers=None if issuers is None else (issuers if isinstance(issuers, str) else ",".join(issuers)),
        )
        secret = None if token is None else SecretIn(token, "token", c_string=True)
        out = ctypes.POINTER(_ffi.fv_vault)()
        try:
            with options as opts:
                ptr = None if secret is None else secret.pointer()
                _ffi.fv_grant_open(raw_bundle, ptr, raw_identity, opts, ctypes.byref(out))
        finally:
            if secret is not None:
                secret.wipe()
        return cls(out, raw_bundle.decode("utf-8", "surrogateescape"))

    @property
    def first_opened(self) -> datetime:
        """When the grant's use window started (an aware UTC ``datetime``): at its
        first open on this machine, as recorded in the state directory, so every
        later open here reports the same time."""
        return to_datetime(self._use_window()[0])

    @property
    def use_until(self) -> datetime:
        """When the grant's use window ends (an aware UTC ``datetime``): every read
        from then on raises :class:`~farmvault.Expired`. It still answers after
        that, so a job can report when its access ended, and before, so it can warn
        or fail fast::

            left = grant.use_until - datetime.now(timezone.utc)
            if left < timedelta(minutes=10):
                log.warning("farm credentials end in %s", left)

        (An entry with a shorter TTL of its own expires sooner: see
        :attr:`~farmvault.EntryInfo.expires`.)
        """
        return to_datetime(self._use_window()[1])

    def _use_window(self) -> Tuple[int, int]:
        """``fv_grant_use_window``: (first opened, use until) in Unix seconds. Not a
        read, so it answers past the window too; a closed grant raises
        :class:`~farmvault.InvalidArgument`."""
        first = ctypes.c_uint64()
        until = ctypes.c_uint64()
        _ffi.fv_grant_use_window(self._get(), ctypes.byref(first), ctypes.byref(until))
        return int(first.value), int(until.value)


def from_env(environ: Optional[Mapping[str, str]] = None) -> ReadCredentials:
    """Opens whatever credential source a farm job's environment names
    (``environ``, default ``os.environ``), first match wins:

    1. ``FARMVAULT_GRANT_FILE`` (a grant bundle) with ``FARMVAULT_GRANT_TOKEN``
       and/or ``FARMVAULT_IDENTITY`` (a farm identity file): a :class:`Grant`,
       its first open recorded in ``FARMVAULT_STATE_DIR`` when that is set (else
       the per-user state directory);
    2. ``FARMVAULT_PATH`` (a vault directory) with ``FARMVAULT_KEY_FILE``: a
       :class:`~farmvault.Vault`.

    Either reads the same way::

        source = farmvault.from_env()
        sg = shotgun_api3.Shotgun(**source.shotgun_kwargs("shotgun/render_farm"))

    Empty variables count as unset. When the environment names neither, or only
    half of one, :class:`~farmvault.InvalidArgument` says what it looked for. The
    open's own errors (:class:`~farmvault.WrongKey`, :class:`~farmvault.Expired`,
    ...) pass through.
    """
    env = os.environ if environ is None else environ

    def var(name: str) -> Optional[str]:
        value = env.get(name)
        return value if value else None

    bundle = var(GRANT_FILE_ENV)
    if bundle is not None:
        token, identity = var(GRANT_TOKEN_ENV), var(IDENTITY_ENV)
        if token is None and identity is None and not os.environ.get(NODE_AGENT_ENV):
            raise InvalidArgument(
                f"{GRANT_FILE_ENV} is set, but neither {GRANT_TOKEN_ENV} (the grant's token) "
                f"nor {IDENTITY_ENV} (a farm identity file) is: the job cannot open its grant"
            )
        return Grant.open(bundle, token, identity, state_dir=var(STATE_DIR_ENV))
    vault = var(VAULT_PATH_ENV)
    if vault is not None:
        key_file = var(KEY_FILE_ENV)
        if key_file is None:
            raise InvalidArgument(
                f"{VAULT_PATH_ENV} is set, but {KEY_FILE_ENV} (the key file that opens the "
                "vault) is not"
            )
        return Vault.open(vault, key_file=key_file)
    raise InvalidArgument(
        "the environment names no credential source: farmvault.from_env looked for "
        f"{GRANT_FILE_ENV} with {GRANT_TOKEN_ENV} and/or {IDENTITY_ENV} (a job grant), "
        f"then {VAULT_PATH_ENV} with {KEY_FILE_ENV} (a vault); none is set"
    )
