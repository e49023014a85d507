"""The Toolkit (tk-core) side of farmvault, without importing tk-core.

Everything here goes through the Rust core, which CLI, C and Python share:

- :func:`deserialize_user` reads what tk-core's ``serialize_user`` writes: the JSON
  (``use_json=True``) and the default protocol-0 pickle, which is parsed as data
  only (dicts, lists, strings, integers, None; ``_payload_encoding`` honoured),
  never with ``pickle.loads``. :func:`user_from_tank_context` takes the user out of
  a ``TANK_CONTEXT`` (either form); :func:`parse` reads either a user or a whole
  context (a :class:`~farmvault.TankContext`), told apart by structure. Each takes
  a ``str`` or ``bytes`` (a pickle's raw bytes, as tk-core's ``loads`` takes them).
- :func:`serialize_user` writes a credential as tk-core's ``deserialize_user`` reads
  it, the JSON byte for byte what ``json.dumps`` gives; :func:`export` gives the
  exact bytes of any kind tk-core reads (a context as it came in, a Flow pair as
  ``adsk_flow_tokens.json``).
- :func:`import_session_cache` and :func:`import_flow_tokens` move the tokens of
  tk-core's plaintext session cache and Flow token file into a vault, optionally
  removing them from the files afterwards.
- :class:`VaultDefaultsManager` gives a Toolkit its user from a vault entry.

Bad input (neither JSON nor a pickle, an unsupported pickle opcode, an unknown
``type``, a missing field) raises :class:`FormatError`, an
:class:`~farmvault.InvalidArgument` whose message names what is wrong and never a
secret value.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

from . import _ffi
from ._args import TTL, SecretIn, name_arg, path_arg, prefix_arg, ttl_arg
from ._credentials import (
    Credential,
    CredentialHandle,
    FlowToken,
    LoginPassword,
    Opaque,
    ScriptKey,
    SessionToken,
    TankContext,
    check_credential,
    credential_from_handle,
    take_secret,
)
from ._errors import InvalidArgument
from ._loader import PathArg
from ._secret import Secret
from ._grant import Grant
from ._vault import EntryInfo, ReadCredentials, Vault, _take_list

__all__ = [
    "FormatError",
    "ToolkitUser",
    "Payload",
    "deserialize_user",
    "user_from_tank_context",
    "parse",
    "serialize_user",
    "export",
    "session_ttl",
    "ImportReport",
    "import_session_cache",
    "private_shotgun_home",
    "PrivateShotgunHome",
    "flow_token_expiry",
    "FlowImportReport",
    "import_flow_tokens",
    "VaultDefaultsManager",
]

#: What tk-core's ``loads`` takes: text, or a pickle's bytes.
Payload = Union[str, bytes, bytearray]

#: The credentials tk-core has a user type for: ``ScriptUser`` and ``SessionUser``.
ToolkitUser = Union[ScriptKey, SessionToken]


class FormatError(InvalidArgument):
    """A serialized user, ``TANK_CONTEXT`` or credential the Toolkit formats cannot
    hold: malformed JSON or pickle, an unknown ``type``, a missing field, or a
    login/password or opaque credential to serialize."""


def _parse(fn: Any, payload: object, what: str) -> Credential:
    if not isinstance(payload, (str, bytes, bytearray)):
        raise FormatError(f"{what} must be a str or bytes, not {type(payload).__name__}")
    out = ctypes.POINTER(_ffi.fv_credential)()
    try:
        with SecretIn(payload, what) as (p, n):
            fn(p, n, ctypes.byref(out))
    except FormatError:
        raise
    except InvalidArgument as e:
        raise FormatError(e.message, e.code) from None
    try:
        return credential_from_handle(out)
    finally:
        _ffi.fv_credential_free(out)


def _user(fn: Any, payload: object, what: str) -> ToolkitUser:
    cred = _parse(fn, payload, what)
    assert isinstance(cred, (ScriptKey, SessionToken))
    return cred


def deserialize_user(payload: Payload) -> ToolkitUser:
    """Parses what tk-core's ``serialize_user(user)`` or
    ``serialize_user(user, use_json=True)`` returned: a :class:`~farmvault.ScriptKey`
    for a ``ScriptUser``, a :class:`~farmvault.SessionToken` for a ``SessionUser``.

    As in tk-core, a ``str`` is JSON only when its first character is ``{`` (after a
    UTF-8 byte order mark, which is skipped); anything else is read as a protocol-0
    pickle (data only, never executed), its ``_payload_encoding`` honoured. ``bytes``
    that are UTF-8 are read as the text they encode; other bytes are the pickle's own
    (tk-core's text written out as ISO-8859-1), as tk-core's ``loads`` reads bytes.
    """
    return _user(_ffi.fv_sgtk_parse, payload, "payload")


def user_from_tank_context(tank_context: Optional[Payload] = None) -> ToolkitUser:
    """The user a ``TANK_CONTEXT`` carries under ``_current_user``, in either form tk-core
    writes it (the default pickle or JSON); by default ``os.environ["TANK_CONTEXT"]``."""
    if tank_context is None:
        tank_context = os.environ.get("TANK_CONTEXT")
        if not tank_context:
            raise FormatError("TANK_CONTEXT is not set")
    return _user(_ffi.fv_sgtk_parse_tank_context, tank_context, "tank_context")


def parse(payload: Payload) -> Union[ScriptKey, SessionToken, TankContext]:
    """Whatever tk-core serialized, told apart by the keys of its dict (a context has
    ``_pc_path``, a user ``type``), never by searching the text: a serialized user gives
    a :class:`~farmvault.ScriptKey` or :class:`~farmvault.SessionToken`, a context a
    :class:`~farmvault.TankContext` holding its exact bytes and its user. ``payload`` is
    read as :func:`deserialize_user` reads it."""
    cred = _parse(_ffi.fv_sgtk_parse_payload, payload, "payload")
    assert isinstance(cred, (ScriptKey, SessionToken, TankContext))
    return cred


def serialize_user(credential: Union[ToolkitUser, TankContext], use_json: bool = False) -> str:
    """What tk-core's ``serialize_user(user, use_json)`` returns for this user (a
    context's user for a :class:`~farmvault.TankContext`): with ``use_json`` the JSON
    (``json.dumps`` output byte for byte), else the protocol-0 pickle text that every
    core reads, as in tk-core. The result holds the secret.

    Raises :class:`FormatError` for a login/password, opaque or Flow credential, for
    which tk-core has no user type.
    """
    check_credential(credential)
    if isinstance(credential, (LoginPassword, Opaque, FlowToken)):
        raise FormatError(
            f"tk-core has no user type for a {type(credential).__name__} credential; only "
            "ScriptKey (ScriptUser), SessionToken (SessionUser) and the user of a TankContext "
            "can be serialized"
        )
    if not isinstance(use_json, bool):
        raise InvalidArgument(f"use_json must be a bool, not {type(use_json).__name__}")
    fn = _ffi.fv_sgtk_to_json if use_json else _ffi.fv_sgtk_to_pickle
    out = ctypes.POINTER(_ffi.fv_secret)()
    with CredentialHandle(credential) as c:
        fn(c, ctypes.byref(out))
    text = take_secret(out)
    try:
        return text.decode("utf-8")
    finally:
        Secret._adopt(text).wipe()


def export(credential: Credential) -> bytes:
    """The exact bytes tk-core reads for ``credential``, with no newline (what
    ``farmvault export-sgtk --no-newline`` prints): a script key or session token as
    ``serialize_user(user, use_json=True)``; a :class:`~farmvault.TankContext` exactly
    as it came in (:meth:`~farmvault.TankContext.value` gives it as ``str`` when it is
    text); a :class:`~farmvault.FlowToken` as ``adsk_flow_tokens.json`` holding that
    application and profile. The result holds the secret: wipe what you copy it into.

    Raises :class:`FormatError` for a login/password or opaque credential.
    """
    check_credential(credential)
    if isinstance(credential, (LoginPassword, Opaque)):
        raise FormatError(f"tk-core has no format for a {type(credential).__name__} credential")
    out = ctypes.POINTER(_ffi.fv_secret)()
    with CredentialHandle(credential) as c:
        _ffi.fv_sgtk_export(c, ctypes.byref(out))
    raw = take_secret(out)
    try:
        return bytes(raw)
    finally:
        Secret._adopt(raw).wipe()


def session_ttl() -> timedelta:
    """How long a session lasts on the server by default (24 hours of inactivity):
    the TTL :func:`import_session_cache` gives imported tokens by default."""
    return timedelta(seconds=_ffi.fv_sgtk_session_ttl_secs())


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_session_cache` did."""

    #: The entries written (cache order: sites by name, users in file order).
    imported: List[EntryInfo]
    #: How many users' tokens were removed from the cache files.
    removed: int


class _Default:
    def __repr__(self) -> str:
        return "session_ttl()"


_DEFAULT_TTL: Any = _Default()


def import_session_cache(
    vault: Vault,
    shotgun_home: Optional[PathArg] = None,
    *,
    prefix: str = "shotgun/",
    ttl: Optional[TTL] = _DEFAULT_TTL,
    remove: bool = False,
) -> ImportReport:
    """Moves the session tokens in tk-core's plaintext session cache
    (``<shotgun_home>/<site>/authentication.yml``) into ``vault`` as
    :class:`~farmvault.SessionToken` entries named ``<prefix><site>/<login>``.

    ``shotgun_home`` defaults to tk-core's own choice (``$SHOTGUN_HOME``, else
    ``~/.shotgun`` on Linux). ``ttl`` defaults to :func:`session_ttl` (24 hours);
    ``None`` for no expiry. With ``remove``, once every token is safely in the vault
    (one atomic write), they are removed from the YAML files: each token set to null
    and a non-empty ``session_metadata`` (now in the vault) replaced by a placeholder
    tk-core overwrites at the user's next login, every other key kept. So a token is
    always in the vault, the cache, or both.
    """
    # A Grant goes through to the library, which refuses the write (farmvault.ReadOnly).
    if not isinstance(vault, (Vault, Grant)):
        raise InvalidArgument(f"vault must be a farmvault.Vault, not {type(vault).__name__}")
    home = None if shotgun_home is None else path_arg(shotgun_home, "shotgun_home")
    raw_prefix = prefix_arg(prefix)
    secs = _ffi.fv_sgtk_session_ttl_secs() if ttl is _DEFAULT_TTL else ttl_arg(ttl)
    if not isinstance(remove, bool):
        raise InvalidArgument(f"remove must be a bool, not {type(remove).__name__}")
    flags = _ffi.FV_SGTK_REMOVE_FROM_CACHE if remove else 0
    imported = ctypes.POINTER(_ffi.fv_list)()
    removed = ctypes.c_uint64()
    _ffi.fv_sgtk_import_session_cache(
        vault._get(), home, raw_prefix, secs, flags, ctypes.byref(imported), ctypes.byref(removed)
    )
    return ImportReport(imported=_take_list(imported), removed=int(removed.value))


def flow_token_expiry(token: FlowToken) -> datetime:
    """When a Flow pair's access token expires: its JWT ``exp`` claim (UTC), read
    without checking the signature, as tk-core reads it. Raises
    :class:`~farmvault.NotFound` when the token has no readable ``exp``."""
    if not isinstance(token, FlowToken):
        raise InvalidArgument(f"token must be a farmvault.FlowToken, not {type(token).__name__}")
    expires = ctypes.c_uint64()
    with CredentialHandle(token) as c:
        _ffi.fv_sgtk_flow_token_expiry(c, ctypes.byref(expires))
    return datetime.fromtimestamp(expires.value, tz=timezone.utc)


@dataclass(frozen=True)
class FlowImportReport:
    """What :func:`import_flow_tokens` did."""

    #: The entries written, in file order; each expires with its access token.
    imported: List[EntryInfo]
    #: How many profiles were removed from the file.
    removed: int
    #: How many profiles were skipped (an access token expired, unreadable or missing);
    #: they stay in the file.
    skipped: int


def import_flow_tokens(
    vault: Vault,
    shotgun_home: Optional[PathArg] = None,
    *,
    prefix: str = "flow/",
    remove: bool = False,
) -> FlowImportReport:
    """Moves tk-core 0.24's Flow (Autodesk Platform Services) OAuth tokens from
    ``<shotgun_home>/adsk_flow_tokens.json`` into ``vault`` as
    :class:`~farmvault.FlowToken` entries named ``<prefix><app_id>/<profile>``, each
    expiring when its access token does (the JWT's ``exp``).

    ``shotgun_home`` defaults to tk-core's own choice (``$SHOTGUN_HOME``, else
    ``~/.shotgun`` on Linux). With ``remove``, once every token is safely in the vault
    (one atomic write), those profiles are removed from the file as tk-core removes
    one, every other key, application and profile keeping its bytes.
    """
    if not isinstance(vault, (Vault, Grant)):
        raise InvalidArgument(f"vault must be a farmvault.Vault, not {type(vault).__name__}")
    home = None if shotgun_home is None else path_arg(shotgun_home, "shotgun_home")
    raw_prefix = prefix_arg(prefix)
    if not isinstance(remove, bool):
        raise InvalidArgument(f"remove must be a bool, not {type(remove).__name__}")
    flags = _ffi.FV_SGTK_REMOVE_FROM_CACHE if remove else 0
    imported = ctypes.POINTER(_ffi.fv_list)()
    removed = ctypes.c_uint64()
    skipped = ctypes.c_uint64()
    _ffi.fv_sgtk_import_flow_tokens(
        vault._get(),
        home,
        raw_prefix,
        flags,
        ctypes.byref(imported),
        ctypes.byref(removed),
        ctypes.byref(skipped),
    )
    return FlowImportReport(
        imported=_take_list(imported), removed=int(removed.value), skipped=int(skipped.value)
    )


class VaultDefaultsManager:
    """A ``DefaultsManager``-shaped adapter: the Toolkit takes its user from the
    vault entry ``name`` (a :class:`~farmvault.ScriptKey`, a
    :class:`~farmvault.SessionToken`, or the user of a :class:`~farmvault.TankContext`),
    read afresh on every call so its TTL holds.

    tk-core's ``ShotgunAuthenticator`` only calls the methods below, so an instance
    can be passed as it is. To be a real ``DefaultsManager`` (an ``isinstance``
    check, or the methods this class does not define), mix it in first::

        import sgtk
        from sgtk.authentication import DefaultsManager, ShotgunAuthenticator
        import farmvault
        from farmvault.sgtk import VaultDefaultsManager

        class FarmDefaults(VaultDefaultsManager, DefaultsManager):
            pass

        vault = farmvault.Vault.open("/secure/vault", key_file="/secure/farm.key")
        authenticator = ShotgunAuthenticator(FarmDefaults(vault, "sg/render_farm"))
        user = authenticator.get_default_user()
        sgtk.set_authenticated_user(user)

    On a render node, pass the job's grant instead of a vault (any
    :class:`~farmvault.ReadCredentials`; :func:`~farmvault.from_env` opens either)::

        authenticator = ShotgunAuthenticator(FarmDefaults(farmvault.from_env(), "sg/render_farm"))

    An entry that has expired or is missing raises :class:`~farmvault.Expired` /
    :class:`~farmvault.NotFound` rather than letting tk-core fall back to an
    interactive login on a farm node.
    """

    def __init__(self, vault: ReadCredentials, name: str, *args: Any, **kwargs: Any) -> None:
        if not isinstance(vault, ReadCredentials):
            raise InvalidArgument(
                f"vault must be a farmvault.Vault or farmvault.Grant, not {type(vault).__name__}"
            )
        name_arg(name)
        # Cooperative: with DefaultsManager mixed in after this class, its
        # __init__(fixed_host=None) runs too.
        super().__init__(*args, **kwargs)
        self._vault = vault
        self._name = name

    def _user(self) -> ToolkitUser:
        cred = self._vault.get(self._name).credential
        if isinstance(cred, TankContext):
            cred.payload.wipe()
            cred = cred.user
        if not isinstance(cred, (ScriptKey, SessionToken)):
            cred.wipe()
            raise InvalidArgument(
                f"entry {self._name!r} holds a {type(cred).__name__}; the Toolkit takes a "
                "ScriptKey or a SessionToken"
            )
        return cred

    def is_host_fixed(self) -> bool:
        """The host comes from the vault entry: the Toolkit may not change it."""
        return True

    def get_host(self) -> Optional[str]:
        """The entry's site URL."""
        return self._vault.metadata(self._name).host

    def set_host(self, host: str) -> None:
        """Ignored: the host is the entry's."""

    def get_http_proxy(self) -> Optional[str]:
        """The entry's HTTP proxy, or ``None``."""
        user = self._user()
        try:
            return None if user.http_proxy is None else user.http_proxy.text()
        finally:
            user.wipe()

    def get_login(self) -> Optional[str]:
        """The login of a session-token entry, ``None`` for a script key."""
        user = self._user()
        try:
            return user.login if isinstance(user, SessionToken) else None
        finally:
            user.wipe()

    def set_login(self, login: str) -> None:
        """Ignored: the login is the entry's."""

    def get_user_credentials(self) -> Dict[str, str]:
        """The credentials tk-core's ``get_default_user`` turns into a user:
        ``{api_script, api_key, host[, http_proxy]}`` for a script key,
        ``{login, session_token, host[, session_metadata, http_proxy]}`` for a
        session token."""
        user = self._user()
        try:
            creds: Dict[str, str]
            if isinstance(user, ScriptKey):
                creds = {"api_script": user.script_name, "api_key": user.api_key.text(), "host": user.host}
            else:
                creds = {"login": user.login, "session_token": user.session_token.text(), "host": user.host}
                if user.session_metadata is not None:
                    creds["session_metadata"] = user.session_metadata.text()
            if user.http_proxy is not None:
                creds["http_proxy"] = user.http_proxy.text()
            return creds
        finally:
            user.wipe()


@dataclass
class PrivateShotgunHome:
    """What :func:`private_shotgun_home` gives the ``with`` block: the directory,
    and afterwards how many renewed tokens went back into the vault."""

    #: The private Toolkit home (``SHOTGUN_HOME`` inside the block).
    path: Path
    #: Renewed session tokens written back into their entries when the block ended.
    brought_home: int = 0


def _private_base() -> Path:
    """Where private homes go: ``$XDG_RUNTIME_DIR/farmvault`` (the login session's
    tmpfs), else ``/dev/shm/farmvault-<uid>`` on Linux, else the temp dir (a disk:
    the fallback). The same places ``farmvault exec --sgtk-home`` uses."""
    run = os.environ.get("XDG_RUNTIME_DIR")
    if run and os.path.isabs(run) and os.path.isdir(run):
        base = Path(run) / "farmvault"
    elif sys.platform.startswith("linux") and os.path.isdir("/dev/shm"):
        base = Path(f"/dev/shm/farmvault-{os.geteuid()}")
    else:
        suffix = f"-{os.geteuid()}" if hasattr(os, "geteuid") else ""
        base = Path(tempfile.gettempdir()) / f"farmvault{suffix}"
    base.mkdir(mode=0o700, exist_ok=True)
    st = os.lstat(base)
    if hasattr(os, "geteuid") and (st.st_uid != os.geteuid() or st.st_mode & 0o077 or not os.path.isdir(base) or os.path.islink(base)):
        raise InvalidArgument(
            f"{base} is not a private directory of yours (mode 0700, not a link): remove it, "
            "another user may have made it to read what goes there"
        )
    return base


def _wipe(directory: Path) -> None:
    """Overwrites every file with zeros, then removes the tree."""
    for root, _dirs, files in os.walk(directory):
        for f in files:
            try:
                p = os.path.join(root, f)
                size = os.path.getsize(p)
                with open(p, "r+b") as fh:
                    fh.write(b"\0" * size)
            except OSError:
                pass
    shutil.rmtree(directory, ignore_errors=True)


def _remove_stale(base: Path) -> None:
    """Removes private homes whose process is gone (killed before it cleaned up)."""
    for d in base.glob("sgtk-home-*"):
        pid = d.name.split("-")[2] if d.name.count("-") >= 3 else ""
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            _wipe(d)
        except OSError:
            pass


@contextmanager
def private_shotgun_home(source: ReadCredentials, names: Iterable[str] = ()) -> Iterator[PrivateShotgunHome]:
    """Runs the ``with`` block with ``SHOTGUN_HOME`` set to a fresh private directory,
    for tools that import tk-core in this process.

    tk-core writes every session token it is handed, and every one it renews, to
    ``$SHOTGUN_HOME/<site>/authentication.yml`` in plain text. Inside the block that
    directory is private (0700, on a memory filesystem where there is one); when the
    block ends, however it ends, each token tk-core cached there for the site and login
    of an entry in ``names`` (session-token entries of ``source``) that differs from
    the entry's is written back to it (24 h TTL, as a fresh import), ``SHOTGUN_HOME``
    is restored, and the directory is wiped and removed. Through a
    :class:`~farmvault.Grant` nothing can be written: renewed tokens are wiped with
    the directory. A directory left by a killed process is removed by the next call
    (or ``farmvault exec --sgtk-home``)::

        with farmvault.sgtk.private_shotgun_home(vault, ["shotgun/mysite/jdoe"]) as home:
            user = farmvault.sgtk.deserialize_user(farmvault.sgtk.export(vault.get(...).credential))
            ...  # tk-core caches and renews its session under home.path
        print(home.brought_home, "renewed token(s) back in the vault")
    """
    if not isinstance(source, (Vault, Grant)):
        raise InvalidArgument(f"source must be a farmvault.Vault or Grant, not {type(source).__name__}")
    wanted = [name_arg(n) for n in names]
    base = _private_base()
    _remove_stale(base)
    path = Path(tempfile.mkdtemp(prefix=f"sgtk-home-{os.getpid()}-", dir=base))
    home = PrivateShotgunHome(path=path)
    before = os.environ.get("SHOTGUN_HOME")
    os.environ["SHOTGUN_HOME"] = str(path)
    try:
        yield home
    finally:
        if before is None:
            os.environ.pop("SHOTGUN_HOME", None)
        else:
            os.environ["SHOTGUN_HOME"] = before
        try:
            if isinstance(source, Vault):
                for raw in wanted:
                    wrote = ctypes.c_bool()
                    _ffi.fv_sgtk_bring_home(source._get(), os.fsencode(str(path)), raw, ctypes.byref(wrote))
                    home.brought_home += int(wrote.value)
        finally:
            _wipe(path)
