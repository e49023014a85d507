"""What only a :class:`~farmvault.Vault` opened on the vault itself does beyond
reading and writing entries: issuing job grants, and backups and repair (the C
ABI's ``fv_vault_grant``, ``fv_vault_backup``, ``fv_vault_verify_backup``,
``fv_vault_restore``, ``fv_vault_repair``). A mixin of ``Vault``."""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Type, TypeVar, Union

from . import _ffi
from ._args import TTL, SecretIn, path_arg, seconds_arg, text_arg
from ._credentials import take_secret
from ._errors import InvalidArgument
from ._loader import PathArg
from ._options import Kdf, _Options, _unlock_args
from ._secret import Secret, SecretLike

_A = TypeVar("_A", bound="_Admin")


class _UnlockIn:
    """A passphrase (wiped on exit) or a key file's path, as the recovery calls of
    the C ABI take them: ``(passphrase, passphrase_len, key_file_path)``."""

    def __init__(self, passphrase: Optional[SecretLike], key_file: Optional[PathArg]) -> None:
        self.secret = None if passphrase is None else SecretIn(passphrase, "passphrase")
        self.key_file = None if key_file is None else path_arg(key_file, "key_file")

    def __enter__(self) -> Tuple[Any, int, Optional[bytes]]:
        if self.secret is None:
            return None, 0, self.key_file
        p, n = self.secret.__enter__()
        return p, n, None

    def __exit__(self, *exc: object) -> None:
        if self.secret is not None:
            self.secret.wipe()


@dataclass(frozen=True)
class IssuedGrant:
    """What :meth:`Vault.grant` issued. Its ``repr`` shows no token."""

    #: The bundle file written.
    path: str
    #: The grant's id, 32 hex digits (``farmvault grants``, ``grant-revoke``).
    id: str
    #: The bearer token (``fvg1_…``), or ``None`` for a grant farm identities alone open.
    token: Optional[Secret]


class _Admin:
    """Grant issuing, backups and repair, for ``Vault``."""

    if TYPE_CHECKING:

        def __init__(self, ptr: _ffi.VaultP, path: str) -> None: ...

        def _get(self) -> _ffi.VaultP: ...

    def grant(
        self,
        out: PathArg,
        label: str,
        entries: Union[str, List[str], Tuple[str, ...]],
        *,
        claim_within: TTL,
        use_for: TTL,
        hosts: Optional[str] = None,
        recipients: Union[str, List[str], Tuple[str, ...]] = (),
        token: bool = True,
        require_both: bool = False,
    ) -> "IssuedGrant":
        """Issues a job grant, as ``farmvault grant`` does: writes the new bundle file
        ``out`` (0600; an existing file is refused) holding copies of ``entries``
        (names, or prefixes ending in ``/`` for every live entry under them), labelled
        ``label`` (the job's name, stored in the clear), signed with this vault's
        issuer key. The job must first open it within ``claim_within``, then reads for
        ``use_for`` (durations: a ``timedelta``, seconds or text such as ``"4h"``; both
        capped by the vault's grant policy). ``hosts``: a glob the opening machine's
        hostname must match. ``recipients``: farm public keys (``age1…``) or files of
        them to encrypt the grant to; ``token=False`` issues a grant they alone open,
        ``require_both=True`` one that needs the token and a farm identity together.

        Returns the bundle's path, the grant's id (hex, what ``farmvault
        grant-revoke`` takes) and its token (a :class:`~farmvault.Secret`; ``None``
        with ``token=False``): give the token to the job in its environment, never on
        a command line. Raises :class:`~farmvault.NotFound` or
        :class:`~farmvault.Expired` for a missing or expired entry (nothing is
        written), :class:`~farmvault.InvalidArgument` for a bad argument or a window
        over the policy."""
        names = [entries] if isinstance(entries, str) else list(entries)
        keys = [recipients] if isinstance(recipients, str) else list(recipients)
        for n in names + keys:
            if not isinstance(n, str) or any(c in n for c in ",\n"):
                raise InvalidArgument(f"entry names and recipients are text without commas or line breaks: {n!r}")
        claim = math.ceil(seconds_arg(claim_within, "claim_within", allow_zero=False))
        use = math.ceil(seconds_arg(use_for, "use_for", allow_zero=False))
        flags = (0 if token else _ffi.FV_GRANT_NO_TOKEN) | (_ffi.FV_GRANT_REQUIRE_BOTH if require_both else 0)
        raw_out = path_arg(out, "out")
        secret = ctypes.POINTER(_ffi.fv_secret)()
        grant_id = (ctypes.c_uint8 * 16)()
        _ffi.fv_vault_grant(
            self._get(),
            raw_out,
            text_arg(label, "label"),
            text_arg("\n".join(names), "entries"),
            claim,
            use,
            None if hosts is None else text_arg(hosts, "hosts"),
            text_arg("\n".join(keys), "recipients") if keys else None,
            flags,
            ctypes.byref(secret) if token else None,
            ctypes.byref(grant_id),
        )
        return IssuedGrant(
            path=raw_out.decode("utf-8", "surrogateescape"),
            id=bytes(grant_id).hex(),
            token=Secret._adopt(take_secret(secret)) if token else None,
        )

    @classmethod
    def restore(
        cls: Type[_A],
        path: PathArg,
        backup: PathArg,
        *,
        passphrase: Optional[SecretLike] = None,
        key_file: Optional[PathArg] = None,
        kdf: Optional[Union[Kdf, Tuple[int, int, int]]] = None,
        allow_insecure_permissions: bool = False,
    ) -> _A:
        """Creates the vault in directory ``path`` (which must hold none) from the
        file ``backup`` that :meth:`backup` or ``farmvault backup`` wrote, unlocked
        by a passphrase or key file valid when it was written; returns it open.
        Raises :class:`~farmvault.AlreadyExists`, :class:`~farmvault.WrongKey`,
        :class:`~farmvault.Corrupt` (a damaged backup), :class:`~farmvault.IoError`."""
        raw_path = path_arg(path, "path")
        raw_backup = path_arg(backup, "backup")
        _unlock_args(passphrase, key_file)
        out = ctypes.POINTER(_ffi.fv_vault)()
        options = _Options(kdf, None, None, allow_insecure_permissions=allow_insecure_permissions)
        with options as opts, _UnlockIn(passphrase, key_file) as (p, n, kf):
            _ffi.fv_vault_restore(raw_path, raw_backup, p, n, kf, opts, ctypes.byref(out))
        return cls(out, raw_path.decode("utf-8", "surrogateescape"))

    @classmethod
    def repair(
        cls: Type[_A],
        path: PathArg,
        *,
        passphrase: Optional[SecretLike] = None,
        key_file: Optional[PathArg] = None,
        force: bool = False,
        allow_insecure_permissions: bool = False,
    ) -> Tuple[_A, bool]:
        """Rebuilds the vault in directory ``path`` from its own backup when its
        storage will not open or read whole, as ``farmvault repair`` does (the
        damaged files are moved into a ``damaged-<time>`` folder, not deleted; a
        wrong key changes nothing; ``force`` rebuilds a store that opens too).
        Returns the open vault and whether anything was rebuilt."""
        raw_path = path_arg(path, "path")
        _unlock_args(passphrase, key_file)
        out = ctypes.POINTER(_ffi.fv_vault)()
        repaired = ctypes.c_bool(False)
        options = _Options(None, None, None, allow_insecure_permissions=allow_insecure_permissions)
        with options as opts, _UnlockIn(passphrase, key_file) as (p, n, kf):
            _ffi.fv_vault_repair(raw_path, p, n, kf, bool(force), opts, ctypes.byref(out), ctypes.byref(repaired))
        return cls(out, raw_path.decode("utf-8", "surrogateescape")), repaired.value

    def backup(self, dest: PathArg) -> int:
        """Writes a backup of the whole vault to the new file ``dest`` (0600; an
        existing file is refused and left as it was), as encrypted as the vault;
        :meth:`restore` reads it back. Returns how many entries it holds."""
        entries = ctypes.c_uint64(0)
        _ffi.fv_vault_backup(self._get(), path_arg(dest, "dest"), ctypes.byref(entries))
        return entries.value

    def verify_backup(self, *, passphrase: Optional[SecretLike] = None, key_file: Optional[PathArg] = None) -> int:
        """Reads the vault's own backup back as a repair would (unlocked with the
        passphrase or key file given) and checks it holds exactly what the store
        holds; returns how many entries it holds. :class:`~farmvault.Corrupt`,
        naming the backup file, when it does not."""
        _unlock_args(passphrase, key_file)
        entries = ctypes.c_uint64(0)
        with _UnlockIn(passphrase, key_file) as (p, n, kf):
            _ffi.fv_vault_verify_backup(self._get(), p, n, kf, ctypes.byref(entries))
        return entries.value
