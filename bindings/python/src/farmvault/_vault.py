"""``Vault``: an open farmvault, its entries, and atomic batches; ``ReadCredentials``,
the reads a vault and a job grant (:mod:`farmvault._grant`) share."""

from __future__ import annotations

import ctypes
import struct
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any, Callable, ClassVar, Dict, Iterator, List, Optional, Tuple, Type, TypeVar, Union

from . import _ffi
from ._args import (
    TTL,
    SecretIn,
    name_arg,
    path_arg,
    prefix_arg,
    to_datetime,
    ttl_arg,
)
from ._credentials import (
    V_CREATED,
    V_EXPIRES,
    V_HOST,
    V_KIND,
    V_NAME,
    V_UPDATED,
    Credential,
    CredentialHandle,
    Kind,
    ShotgunKwargs,
    check_credential,
    credential_from_view,
    of_fields,
    shotgun_kwargs_from_view,
    view_text,
)
from ._admin import _Admin
from ._errors import Expired, InvalidArgument, NotFound
from ._options import Kdf, _Options, _unlock_args
from ._secret import Secret, SecretLike
from ._loader import PathArg

__all__ = ["ReadCredentials", "Vault", "Batch", "Entry", "EntryInfo", "Kdf", "generate_key_file"]


@dataclass(frozen=True)
class EntryInfo:
    """An entry's metadata: what ``metadata()`` and ``list()`` return. Nothing secret."""

    name: str
    kind: Kind
    #: The site URL of a typed credential (``None`` for opaque bytes).
    host: Optional[str]
    #: When the entry was first stored (aware, UTC).
    created: datetime
    #: When it was last written: put or renew (aware, UTC).
    updated: datetime
    #: When it expires (aware, UTC), or ``None`` if it never does.
    expires: Optional[datetime]

    def is_expired(self, now: Optional[datetime] = None) -> bool:
        """Whether the entry has expired at ``now`` (default: the system clock)."""
        if self.expires is None:
            return False
        return self.expires <= (now or datetime.now(timezone.utc))

    def time_left(self, now: Optional[datetime] = None) -> Optional[timedelta]:
        """How long until it expires (negative once expired), ``None`` if never."""
        if self.expires is None:
            return None
        return self.expires - (now or datetime.now(timezone.utc))


@dataclass(frozen=True)
class Entry(EntryInfo):
    """An entry read with its credential (``get()``). Its ``repr`` shows no secret."""

    credential: Credential

    @property
    def secret(self) -> Secret:
        """The credential's main secret: the bytes, API key, token or password."""
        return self.credential.secret

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """The keyword arguments of ``shotgun_api3.Shotgun`` for this credential."""
        return self.credential.shotgun_kwargs()

    def wipe(self) -> None:
        """Overwrites the credential's secrets with zeros."""
        self.credential.wipe()


#: Reads a whole ``fv_entry_view`` into a tuple of ints (see ``_ffi.VIEW_LAYOUT``)
#: in one call, where reading its members through ctypes costs a call each.
_unpack_view = struct.Struct(_ffi.VIEW_LAYOUT).unpack_from
_byref = ctypes.byref
_KINDS: Dict[int, Kind] = {int(k): k for k in Kind}
_times: Dict[int, datetime] = {}


def _time(unix_secs: int) -> datetime:
    """``to_datetime``, memoised: a ``datetime`` is immutable and costs about a
    microsecond to make, and an entry's created and updated times are often the
    same second (so are those of entries stored together, or of one entry read
    again and again by a job)."""
    t = _times.get(unix_secs)
    if t is None:
        if len(_times) >= 256:
            _times.clear()
        t = _times[unix_secs] = to_datetime(unix_secs)
    return t


def _info_fields(v: Tuple[int, ...], name: Optional[str]) -> Dict[str, Any]:
    """The ``EntryInfo`` fields of an entry's view (``name``: the name it was read
    by, if known)."""
    kind = _KINDS.get(v[V_KIND])
    if kind is None:
        raise InvalidArgument(f"the library returned credential kind {v[V_KIND]}, unknown to this package")
    times = _times
    created, updated, expires = v[V_CREATED], v[V_UPDATED], v[V_EXPIRES]
    return {
        "name": name if name is not None else view_text(v, V_NAME),
        "kind": kind,
        "host": view_text(v, V_HOST) if v[V_HOST] else None,
        "created": times.get(created) or _time(created),
        "updated": times.get(updated) or _time(updated),
        "expires": (times.get(expires) or _time(expires)) if expires else None,
    }


def _view(entry: _ffi.EntryP) -> Tuple[int, ...]:
    """The view of an entry, unpacked (one C call for every member)."""
    view = _ffi.fv_entry_view()
    _ffi.fv_entry_get_view(entry, view, _ffi.VIEW_SIZE)
    return _unpack_view(view)


def _entry_info(v: Tuple[int, ...], name: Optional[str] = None) -> EntryInfo:
    return of_fields(EntryInfo, _info_fields(v, name))


def _put(call: Callable[..., None], handle: Callable[[], Any], name: str, secret: SecretLike, ttl: Optional[TTL]) -> None:
    """``fv_vault_put`` or ``fv_batch_put`` with checked arguments."""
    raw = name_arg(name)
    secs = ttl_arg(ttl)
    with SecretIn(secret, "secret") as (p, n):
        call(handle(), raw, p, n, secs)


def _put_credential(
    call: Callable[..., None], handle: Callable[[], Any], name: str, credential: Credential, ttl: Optional[TTL]
) -> None:
    """``fv_vault_put_credential`` or ``fv_batch_put_credential`` with checked arguments."""
    raw = name_arg(name)
    secs = ttl_arg(ttl)
    with CredentialHandle(check_credential(credential)) as c:
        call(handle(), raw, c, secs)


_H = TypeVar("_H", bound="_Handle")


class _Handle:
    """An owned library handle, freed exactly once: by ``close()``, by leaving a
    ``with`` block, or at garbage collection. Using it after that raises
    :class:`~farmvault.InvalidArgument` (a ``ValueError``)."""

    _what: ClassVar[str] = "handle"

    def __init__(self, ptr: Any, free: Callable[[Any], None]) -> None:
        self._ptr: Any = ptr
        self._free = free
        self._close_lock = threading.Lock()

    def _get(self) -> Any:
        ptr = self._ptr
        if ptr is None:
            raise InvalidArgument(f"this {self._what} is closed")
        return ptr

    @property
    def closed(self) -> bool:
        """Whether the handle has been closed."""
        return self._ptr is None

    def close(self) -> None:
        """Releases the handle. Idempotent."""
        with self._close_lock:
            ptr, self._ptr = self._ptr, None
        if ptr is not None:
            self._free(ptr)

    def __enter__(self: _H) -> _H:
        self._get()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            try:
                self.close()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass


class ReadCredentials(_Handle):
    """The reads a :class:`Vault` and a :class:`~farmvault.Grant` share, so plugin code
    reads the same way from either (type a parameter with it to take both)::

        def connect(source: farmvault.ReadCredentials) -> shotgun_api3.Shotgun:
            return shotgun_api3.Shotgun(**source.shotgun_kwargs("shotgun/render_farm"))

    Not instantiated itself: :meth:`Vault.open`, :meth:`~farmvault.Grant.open` and
    :func:`~farmvault.from_env` make one.

    It reads like a mapping of names to entries, as far as a vault is one:
    ``source["name"]`` is :meth:`get` (:class:`~farmvault.NotFound` is a
    ``KeyError``), ``"name" in source`` says whether :meth:`get` would return the
    entry now, and ``for name in source`` goes over the stored names. There is no
    ``len()``: counting means listing every entry, and a handle that is false
    when empty would turn ``if vault:`` into a question about its contents.
    """

    def __init__(self, ptr: _ffi.VaultP, path: str) -> None:
        """Use :meth:`Vault.open`, :meth:`~farmvault.Grant.open` or :func:`~farmvault.from_env`."""
        super().__init__(ptr, _ffi.fv_vault_close)
        #: The vault directory, or the grant bundle.
        self.path: str = path

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<farmvault.{type(self).__name__} {self.path!r} ({state})>"

    def get(self, name: str) -> Entry:
        """Reads the entry ``name`` with its credential.

        Raises :class:`~farmvault.NotFound`; :class:`~farmvault.Expired` when its
        TTL has run out (refresh it and store it again; a read never removes an
        entry, so every reader gets :class:`~farmvault.Expired` until
        :meth:`purge_expired` or a put removes or replaces it) or, through a grant,
        when the grant's use window is over;
        :class:`~farmvault.Tampered` when it fails authentication.
        """
        # _get_view, inlined: a Python call is a tenth of what the package adds to the
        # library's get.
        raw = name_arg(name)
        out = _ffi.ENTRY()
        view = _ffi.fv_entry_view()
        result = _ffi.unchecked_vault_get_view(self._get(), raw, _byref(out), _byref(view), _ffi.VIEW_SIZE_ARG)
        if result:
            _ffi.raise_for(result)
        try:
            v = _unpack_view(view)
            fields = _info_fields(v, name)
            fields["credential"] = credential_from_view(v, fields["host"], out)
            return of_fields(Entry, fields)
        finally:
            _ffi.unchecked_entry_free(out)

    def __getitem__(self, name: str) -> Entry:
        """``source["name"]``: :meth:`get`, with the same exceptions;
        :class:`~farmvault.NotFound` is a ``KeyError``."""
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        """``"name" in source``: whether ``name`` can be read now, that is whether
        :meth:`get` would return it. An expired entry is still stored (:meth:`list`
        and iteration show it until :meth:`purge_expired` removes it) but reads
        raise :class:`~farmvault.Expired`, so it is not ``in``; through a grant,
        nothing is once the use window is over. Reads metadata only: the secret
        is not decrypted. Any other error raises (a closed handle, an agent that
        cannot be reached), and so does a name that cannot be one
        (:class:`~farmvault.InvalidArgument`, as for every call here)."""
        if not isinstance(name, str):
            raise InvalidArgument(f"name must be a str, not {type(name).__name__}")
        try:
            self.metadata(name)
        except (NotFound, Expired):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        """``for name in source``: the names :meth:`list` gives when iteration
        starts, sorted, expired entries included (see ``in`` for which of them
        :meth:`get` still reads). Later writes do not change an iteration under
        way."""
        return iter([info.name for info in self.list()])

    def _get_view(self, name: str) -> Tuple[Tuple[int, ...], _ffi.EntryP]:
        """Reads ``name``: its view, unpacked, and the entry that owns what the view
        points at (the caller frees it with ``_ffi.unchecked_entry_free``).

        One C call reads the entry and fills its view, one frees it: each ctypes call
        costs about a microsecond, as much as the library spends outside the read
        itself, so a get makes two (see the unchecked functions in ``_ffi``)."""
        raw = name_arg(name)
        out = _ffi.ENTRY()
        view = _ffi.fv_entry_view()
        result = _ffi.unchecked_vault_get_view(self._get(), raw, _byref(out), _byref(view), _ffi.VIEW_SIZE_ARG)
        if result:
            _ffi.raise_for(result)
        return _unpack_view(view), out

    def metadata(self, name: str) -> EntryInfo:
        """The entry's metadata (kind, host, times), without decrypting its secret
        into Python. Raises the same errors as :meth:`get`."""
        raw = name_arg(name)
        out = _ffi.ENTRY()
        _ffi.fv_vault_metadata(self._get(), raw, ctypes.byref(out))
        try:
            return _entry_info(_view(out), name)
        finally:
            _ffi.fv_entry_free(out)

    def list(self, prefix: str = "") -> List[EntryInfo]:
        """The entries whose name starts with ``prefix``, sorted by name, expired
        ones included until :meth:`purge_expired` removes them (see
        :meth:`EntryInfo.is_expired`: those :meth:`get` raises
        :class:`~farmvault.Expired` for)."""
        raw = prefix_arg(prefix)
        out = ctypes.POINTER(_ffi.fv_list)()
        _ffi.fv_vault_list(self._get(), raw or None, ctypes.byref(out))
        return _take_list(out)

    def shotgun_kwargs(self, name: str) -> ShotgunKwargs:
        """The keyword arguments of ``shotgun_api3.Shotgun`` for the credential
        stored as ``name``: ``base_url`` plus ``script_name``/``api_key``, or
        ``session_token``, or ``login``/``password``, plus ``http_proxy`` when set::

            sg = shotgun_api3.Shotgun(**vault.shotgun_kwargs("sg/render_farm"))

        The values are ``str`` (``shotgun_api3`` needs them so); the vault's copy of
        the credential is wiped once they are made.
        """
        v, out = self._get_view(name)
        try:
            # The secrets go from the library's memory straight into the str values
            # (no Secret in between to wipe); the library wipes its copy on free.
            return shotgun_kwargs_from_view(v)
        finally:
            _ffi.unchecked_entry_free(out)


class _Store(ReadCredentials):
    """The writes of a :class:`Vault`. A :class:`~farmvault.Grant` has them too, so code
    written for a vault runs on one, and the library refuses each of them there with
    :class:`~farmvault.ReadOnly`."""

    # -- entries ------------------------------------------------------------------

    def put(self, name: str, secret: SecretLike, ttl: Optional[TTL] = None) -> None:
        """Stores ``secret`` (1 byte to 1 MiB; a ``str`` is stored as UTF-8) as the
        opaque entry ``name``, replacing what was there. On disk when it returns."""
        _put(_ffi.fv_vault_put, self._get, name, secret, ttl)

    def put_credential(self, name: str, credential: Credential, ttl: Optional[TTL] = None) -> None:
        """Stores a typed credential as the entry ``name``, replacing what was there."""
        _put_credential(_ffi.fv_vault_put_credential, self._get, name, credential, ttl)

    def delete(self, name: str) -> None:
        """Deletes the entry ``name``; :class:`~farmvault.NotFound` if there is none."""
        raw = name_arg(name)
        _ffi.fv_vault_delete(self._get(), raw)

    def __delitem__(self, name: str) -> None:
        """``del vault["name"]``: :meth:`delete`; :class:`~farmvault.NotFound` (a
        ``KeyError``, as for a ``dict``) if there is no such entry."""
        self.delete(name)

    def renew(self, name: str, ttl: Optional[TTL]) -> None:
        """Gives the entry ``name`` a new TTL from now (``None``: never expires).
        Raises :class:`~farmvault.Expired` if it has already expired, and leaves it
        as it was: renewal extends a live credential, one whose TTL ran out needs a
        fresh value (:meth:`put` it again)."""
        raw = name_arg(name)
        secs = ttl_arg(ttl)
        _ffi.fv_vault_renew(self._get(), raw, secs)

    def purge_expired(self) -> int:
        """Removes every expired entry, without decrypting any; returns how many.
        The only call that removes an entry because it expired. On a handle opened
        with ``fixed_time`` it removes only entries expired at both that time and
        the system's, so a pinned clock never removes what others still read."""
        removed = ctypes.c_uint64()
        _ffi.fv_vault_purge_expired(self._get(), ctypes.byref(removed))
        return int(removed.value)

    def compact(self) -> int:
        """Rewrites the vault with its live entries only, giving back the space of
        removed and overwritten ones; returns the size in bytes of the vault's
        files after. Entries, keys and keyslots are unchanged, and a crash at
        any point leaves the vault as it was before or after.
        :meth:`purge_expired` runs it by itself after removing at least 1,000
        entries and at least as many as remain."""
        size = ctypes.c_uint64()
        _ffi.fv_vault_compact(self._get(), ctypes.byref(size))
        return int(size.value)

    @property
    def access(self) -> str:
        """How this handle reaches its vault: ``"direct"`` (this process has it
        open) or ``"agent"`` (through a farmvault agent, :meth:`connect`)."""
        value = ctypes.c_uint32()
        _ffi.fv_vault_access(self._get(), ctypes.byref(value))
        return {0: "direct", 1: "agent"}.get(int(value.value), "grant")

    @property
    def upgraded_from(self) -> Optional[int]:
        """The vault format version this handle's open upgraded the vault from (1:
        written by farmvault 0.1, which can no longer open it), or None."""
        version = ctypes.c_uint16()
        _ffi.fv_vault_upgraded_from(self._get(), ctypes.byref(version))
        return int(version.value) or None

    @property
    def clock_behind(self) -> Optional[timedelta]:
        """How far the system clock is behind the latest time the vault has seen,
        when more than five minutes (the clock was set back; expiry is judged at
        that later time), or None."""
        secs = ctypes.c_uint64()
        _ffi.fv_vault_clock_behind(self._get(), ctypes.byref(secs))
        return timedelta(seconds=secs.value) if secs.value else None

    def batch(self) -> Batch:
        """A batch of puts and deletes applied atomically (all or none, flushed
        once) when its ``with`` block ends without an exception::

            with vault.batch() as b:
                b.put("a", b"...")
                b.put_credential("sg/farm", key, ttl=3600)
                b.delete("old")

        Nothing is written if the block raises.
        """
        return Batch(self)

    # -- keys ---------------------------------------------------------------------

    def change_passphrase(self, passphrase: SecretLike) -> None:
        """Rewraps the data key under a new passphrase (entries are untouched)."""
        with SecretIn(passphrase, "passphrase") as (p, n):
            _ffi.fv_vault_change_passphrase(self._get(), p, n)

    def add_key_file(self, key_file: PathArg) -> None:
        """Adds a keyslot so that the key file at ``key_file`` opens the vault too."""
        _ffi.fv_vault_add_key_file(self._get(), path_arg(key_file, "key_file"))

    def remove_key_file(self, key_file: PathArg) -> None:
        """Removes the keyslot the key file at ``key_file`` opens."""
        _ffi.fv_vault_remove_key_file(self._get(), path_arg(key_file, "key_file"))

    def rotate(self, *, drop_other_slots: bool = False) -> int:
        """Replaces the data key and re-encrypts every entry atomically; returns how
        many entries were re-encrypted. Other keyslots make it refuse unless
        ``drop_other_slots``."""
        count = ctypes.c_uint64()
        flags = _ffi.FV_ROTATE_DROP_OTHER_SLOTS if drop_other_slots else 0
        _ffi.fv_vault_rotate(self._get(), flags, ctypes.byref(count))
        return int(count.value)


class Vault(_Admin, _Store):
    """An open vault. Thread-safe: one ``Vault`` may be used from any number of
    threads at once (the library releases the GIL during each call).

    Open or create one with :meth:`open` / :meth:`create`, preferably in a ``with``
    block; :meth:`close` is idempotent and a closed vault raises
    :class:`~farmvault.InvalidArgument` (a ``ValueError``) when used.

    TTLs are ``datetime.timedelta``, seconds, or text as ``farmvault put --ttl``
    takes it (``"8h"``, ``"90m"``, ``"1h30m"``, ``"7d"``, ``"2w"``; ``"none"``),
    rounded up to whole seconds; ``None`` for no expiry. A TTL that is not one
    (``"0s"``, ``"-1h"``, ``"8 hours"``) raises :class:`~farmvault.InvalidArgument`
    naming it. Times are aware UTC ``datetime`` objects.
    """

    _what = "vault"

    @classmethod
    def _open(
        cls,
        create: bool,
        path: PathArg,
        passphrase: Optional[SecretLike],
        key_file: Optional[PathArg],
        kdf: Optional[Union[Kdf, Tuple[int, int, int]]],
        lock_timeout: Optional[TTL],
        fixed_time: Optional[Union[datetime, int, float]],
        allow_insecure_permissions: bool,
        allow_network_filesystem: bool,
        use_agent: bool = True,
    ) -> Vault:
        raw_path = path_arg(path, "path")
        _unlock_args(passphrase, key_file)
        options = _Options(
            kdf,
            lock_timeout,
            fixed_time,
            allow_insecure_permissions=allow_insecure_permissions,
            allow_network_filesystem=allow_network_filesystem,
            use_agent=use_agent,
        )
        out = ctypes.POINTER(_ffi.fv_vault)()
        with options as opts:
            if passphrase is not None:
                fn = _ffi.fv_vault_create_passphrase if create else _ffi.fv_vault_open_passphrase
                with SecretIn(passphrase, "passphrase") as (p, n):
                    fn(raw_path, p, n, opts, ctypes.byref(out))
            else:
                fn_kf = _ffi.fv_vault_create_key_file if create else _ffi.fv_vault_open_key_file
                fn_kf(raw_path, path_arg(key_file, "key_file"), opts, ctypes.byref(out))
        return cls(out, raw_path.decode("utf-8", "surrogateescape"))

    @classmethod
    def connect(cls, socket: Optional[PathArg] = None) -> Vault:
        """Reaches the vault a farmvault agent serves on the Unix socket ``socket``;
        ``None`` for the socket ``FARMVAULT_AGENT`` names, else this user's
        default (``$XDG_RUNTIME_DIR/farmvault/agent.sock``). No passphrase or key
        file: the agent holds the keys and serves only its own user's processes.
        The handle does what one from :meth:`open` does, with the same exceptions.
        It also works in a child made by ``fork`` (``multiprocessing``): the child
        connects anew on its first call.

        Raises :class:`~farmvault.AgentError` (no agent there, it refused this
        process, or it stopped) and :class:`~farmvault.AgentLocked`."""
        raw = None if socket is None else path_arg(socket, "socket")
        out = ctypes.POINTER(_ffi.fv_vault)()
        _ffi.fv_vault_connect(raw, ctypes.byref(out))
        shown = "agent" if raw is None else "agent:" + raw.decode("utf-8", "surrogateescape")
        return cls(out, shown)

    @classmethod
    def open(
        cls,
        path: PathArg,
        *,
        passphrase: Optional[SecretLike] = None,
        key_file: Optional[PathArg] = None,
        kdf: Optional[Union[Kdf, Tuple[int, int, int]]] = None,
        lock_timeout: Optional[TTL] = None,
        fixed_time: Optional[Union[datetime, int, float]] = None,
        allow_insecure_permissions: bool = False,
        allow_network_filesystem: bool = False,
        use_agent: bool = True,
    ) -> Vault:
        """Opens the vault in directory ``path`` with a passphrase or a key file.

        ``kdf``: Argon2id costs of passphrase slots this handle makes
        (:meth:`change_passphrase`). ``lock_timeout``: how long to wait for another
        process holding the vault (default 10 s; a ``timedelta``, seconds or text
        such as ``"30s"``) before :class:`~farmvault.Locked`.
        ``fixed_time``: pins the handle's clock (an aware ``datetime`` or Unix
        seconds) for tests and dry runs ("is this entry still valid at the job's
        start time?"). It changes what the handle answers, never what is stored:
        reads never remove an entry, and :meth:`purge_expired` removes only what is
        expired at the system's time too; TTLs of its puts and renewals count from
        the pinned time.

        A vault directory or key file another user could read or replace is
        refused with :class:`~farmvault.InvalidArgument` naming the path, what is
        wrong and the fix: a directory or key file that is not yours, that group or
        others can access (``chmod 700`` / ``chmod 600``), that is a symbolic link,
        or a directory in a folder everyone may write to without the sticky bit.
        ``allow_insecure_permissions=True`` accepts them anyway: the explicit way
        past, for callers with their own reason to trust those files.

        A vault directory on a network filesystem (NFS, SMB, sshfs) is refused
        with :class:`~farmvault.InvalidArgument` saying so: locks, fsync and
        rename there do not keep a vault safe. ``allow_network_filesystem=True``
        accepts it, for a vault used from one host at a time.

        When a farmvault agent holds the vault, the passphrase or key file is
        checked against the vault's header (:class:`~farmvault.WrongKey` as ever)
        and the handle goes through the agent (:attr:`access` is ``"agent"``);
        ``use_agent=False`` opens only the vault itself, and an agent holding it
        is :class:`~farmvault.Locked` at once, naming the agent.

        Raises :class:`~farmvault.WrongKey`, :class:`~farmvault.NoVault`,
        :class:`~farmvault.Locked`, :class:`~farmvault.Corrupt`,
        :class:`~farmvault.IoError`, :class:`~farmvault.InvalidArgument`.
        """
        return cls._open(
            False,
            path,
            passphrase,
            key_file,
            kdf,
            lock_timeout,
            fixed_time,
            allow_insecure_permissions,
            allow_network_filesystem,
            use_agent,
        )

    @classmethod
    def create(
        cls,
        path: PathArg,
        *,
        passphrase: Optional[SecretLike] = None,
        key_file: Optional[PathArg] = None,
        kdf: Optional[Union[Kdf, Tuple[int, int, int]]] = None,
        lock_timeout: Optional[TTL] = None,
        fixed_time: Optional[Union[datetime, int, float]] = None,
        allow_insecure_permissions: bool = False,
        allow_network_filesystem: bool = False,
    ) -> Vault:
        """Creates a vault in directory ``path`` (absent or empty), unlocked by a
        passphrase or by a key file (see :func:`generate_key_file`); the options are
        those of :meth:`open`, and a directory :meth:`open` would refuse is refused
        here first, in the same words. Raises :class:`~farmvault.AlreadyExists` if
        a vault is there."""
        return cls._open(
            True,
            path,
            passphrase,
            key_file,
            kdf,
            lock_timeout,
            fixed_time,
            allow_insecure_permissions,
            allow_network_filesystem,
        )


def _take_list(out: _ffi.ListP) -> List[EntryInfo]:
    """Reads and frees an owned ``fv_list``."""
    try:
        return [_entry_info(_view(_ffi.fv_list_get(out, i))) for i in range(_ffi.fv_list_len(out))]
    finally:
        _ffi.fv_list_free(out)


class Batch(_Handle):
    """Puts and deletes applied atomically by the vault; see :meth:`Vault.batch`.

    Inputs are copied into the library at once (so a ``Secret`` may be wiped right
    after ``put``). The batch is freed (its copies wiped) when the ``with`` block
    ends, applied or not.
    """

    _what = "batch"

    def __init__(self, vault: _Store) -> None:
        out = ctypes.POINTER(_ffi.fv_batch)()
        vault._get()
        _ffi.fv_batch_new(ctypes.byref(out))
        super().__init__(out, _ffi.fv_batch_free)
        self._vault = vault

    def put(self, name: str, secret: SecretLike, ttl: Optional[TTL] = None) -> None:
        """Adds a put of opaque bytes (see :meth:`Vault.put`)."""
        _put(_ffi.fv_batch_put, self._get, name, secret, ttl)

    def put_credential(self, name: str, credential: Credential, ttl: Optional[TTL] = None) -> None:
        """Adds a put of a typed credential (see :meth:`Vault.put_credential`)."""
        _put_credential(_ffi.fv_batch_put_credential, self._get, name, credential, ttl)

    def delete(self, name: str) -> None:
        """Adds a delete (applying fails with :class:`~farmvault.NotFound`, writing
        nothing, if the entry does not exist by then)."""
        _ffi.fv_batch_delete(self._get(), name_arg(name))

    def __len__(self) -> int:
        return int(_ffi.fv_batch_len(self._get()))

    def apply(self) -> None:
        """Applies the batch now (all or nothing); it can then be applied again."""
        _ffi.fv_vault_apply(self._vault._get(), self._get())

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        try:
            if exc_type is None:
                self.apply()
        finally:
            self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<farmvault.Batch (closed)>"
        return f"<farmvault.Batch of {len(self)} operations>"


def generate_key_file(path: PathArg) -> None:
    """Writes a new random key file at ``path`` (mode 0600 on Unix); never
    overwrites (an existing file is :class:`~farmvault.IoError`)."""
    _ffi.fv_key_file_generate(path_arg(path, "path"))
