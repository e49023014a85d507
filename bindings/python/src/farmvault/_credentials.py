"""Typed credentials: what a render-farm job needs to reach the production-tracking
server, as dataclasses whose ``repr`` never shows a secret, and their way across
the C ABI (built with ``fv_credential_new_*``, read from an entry's view,
``fv_entry_view``, or one field at a time with ``fv_*_field``)."""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Dict, Iterator, Optional, Sequence, Type, TypedDict, TypeVar, Union

from . import _ffi
from ._args import SecretIn, optional_secret_arg, text_arg
from ._errors import InvalidArgument, NotFound
from ._secret import Secret, SecretLike

__all__ = [
    "ShotgunKwargs",
    "Kind",
    "Field",
    "ScriptKey",
    "SessionToken",
    "LoginPassword",
    "Opaque",
    "TankContext",
    "FlowToken",
    "Credential",
]


class Kind(enum.IntEnum):
    """The kind of a credential (``fv_kind``; the numbers are permanent)."""

    OPAQUE = 0
    SCRIPT_KEY = 1
    SESSION_TOKEN = 2
    LOGIN_PASSWORD = 3
    TANK_CONTEXT = 4
    FLOW_TOKEN = 5


class Field(enum.IntEnum):
    """A field of a credential (``fv_field``; the numbers are permanent)."""

    HOST = 0
    LOGIN = 1
    SCRIPT_NAME = 2
    API_KEY = 3
    SESSION_TOKEN = 4
    SESSION_METADATA = 5
    HTTP_PROXY = 6
    PASSWORD = 7
    SECRET = 8
    APP_ID = 9
    PROFILE = 10
    ACCESS_TOKEN = 11
    REFRESH_TOKEN = 12
    TANK_CONTEXT = 13


def _secret_field(value: Optional[SecretLike], what: str, *, optional: bool) -> Optional[Secret]:
    if value is None or (optional and isinstance(value, (str, bytes, bytearray, Secret)) and len(value) == 0):
        if optional:
            return None
        raise InvalidArgument(f"{what} is required")
    if not isinstance(value, (Secret, str, bytes, bytearray, memoryview)):
        raise InvalidArgument(
            f"{what} must be str, bytes, bytearray or farmvault.Secret, not {type(value).__name__}"
        )
    # A Secret is taken as it is (wiping the credential wipes it); anything else is copied.
    s = value if isinstance(value, Secret) else Secret(value)
    if not s:
        raise InvalidArgument(f"{what} must not be empty")
    return s


def _text_field(value: object, what: str) -> str:
    text_arg(value, what)  # type, emptiness, NUL, length
    assert isinstance(value, str)
    return value


def _shown(s: Optional[Secret]) -> str:
    return "None" if s is None else "<redacted>"


# base_url is required and the rest are not: typing.NotRequired is Python 3.11's,
# so the required key sits in a total base and the others in a total=False subclass.
class _ShotgunBase(TypedDict):
    base_url: str


class ShotgunKwargs(_ShotgunBase, total=False):
    """The keyword arguments of ``shotgun_api3.Shotgun`` a credential gives
    (``shotgun_kwargs()``): ``base_url`` always, then one credential mode:
    ``script_name`` and ``api_key``, or ``session_token``, or ``login`` and
    ``password``; ``http_proxy`` when one is stored. Every key is a parameter
    of ``Shotgun`` (the tests check it against the installed ``shotgun_api3``),
    so ``Shotgun(**kwargs)`` type-checks and nothing unknown reaches it."""

    script_name: str
    api_key: str
    session_token: str
    login: str
    password: str
    http_proxy: str


class _Typed:
    """What the three typed kinds share."""

    host: str
    http_proxy: Optional[Secret]

    def _secrets(self) -> Iterator[Secret]:
        raise NotImplementedError

    def wipe(self) -> None:
        """Overwrites every secret field with zeros."""
        for s in self._secrets():
            s.wipe()

    def _with_proxy(self, kwargs: ShotgunKwargs) -> ShotgunKwargs:
        if self.http_proxy is not None:
            kwargs["http_proxy"] = self.http_proxy.text()
        return kwargs


@dataclass(frozen=True, init=False, repr=False)
class ScriptKey(_Typed):
    """An API script name and key: ``Shotgun(host, script_name=, api_key=)``; the
    Toolkit's ``ScriptUser`` (``api_script``, ``api_key``)."""

    host: str
    script_name: str
    api_key: Secret
    http_proxy: Optional[Secret] = None

    kind: ClassVar[Kind] = Kind.SCRIPT_KEY

    def __init__(
        self,
        host: str,
        script_name: str,
        api_key: SecretLike,
        http_proxy: Optional[SecretLike] = None,
    ) -> None:
        object.__setattr__(self, "host", _text_field(host, "host"))
        object.__setattr__(self, "script_name", _text_field(script_name, "script_name"))
        object.__setattr__(self, "api_key", _secret_field(api_key, "api_key", optional=False))
        object.__setattr__(self, "http_proxy", _secret_field(http_proxy, "http_proxy", optional=True))

    def __repr__(self) -> str:
        return (
            f"ScriptKey(host={self.host!r}, script_name={self.script_name!r}, "
            f"api_key=<redacted>, http_proxy={_shown(self.http_proxy)})"
        )

    @property
    def secret(self) -> Secret:
        """The main secret: the API key."""
        return self.api_key

    def _secrets(self) -> Iterator[Secret]:
        yield self.api_key
        if self.http_proxy is not None:
            yield self.http_proxy

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """``shotgun_api3.Shotgun(**kwargs)``: ``base_url``, ``script_name``,
        ``api_key``, and ``http_proxy`` when set."""
        return self._with_proxy(
            {"base_url": self.host, "script_name": self.script_name, "api_key": self.api_key.text()}
        )


@dataclass(frozen=True, init=False, repr=False)
class SessionToken(_Typed):
    """A user's session token: ``Shotgun(host, session_token=)``; the Toolkit's
    ``SessionUser`` (``login``, ``session_token``, ``session_metadata``)."""

    host: str
    login: str
    session_token: Secret
    http_proxy: Optional[Secret] = None
    session_metadata: Optional[Secret] = None

    kind: ClassVar[Kind] = Kind.SESSION_TOKEN

    def __init__(
        self,
        host: str,
        login: str,
        session_token: SecretLike,
        http_proxy: Optional[SecretLike] = None,
        session_metadata: Optional[SecretLike] = None,
    ) -> None:
        object.__setattr__(self, "host", _text_field(host, "host"))
        object.__setattr__(self, "login", _text_field(login, "login"))
        object.__setattr__(
            self, "session_token", _secret_field(session_token, "session_token", optional=False)
        )
        object.__setattr__(self, "http_proxy", _secret_field(http_proxy, "http_proxy", optional=True))
        object.__setattr__(
            self,
            "session_metadata",
            _secret_field(session_metadata, "session_metadata", optional=True),
        )

    def __repr__(self) -> str:
        return (
            f"SessionToken(host={self.host!r}, login={self.login!r}, session_token=<redacted>, "
            f"http_proxy={_shown(self.http_proxy)}, "
            f"session_metadata={_shown(self.session_metadata)})"
        )

    @property
    def secret(self) -> Secret:
        """The main secret: the session token."""
        return self.session_token

    def _secrets(self) -> Iterator[Secret]:
        yield self.session_token
        for s in (self.http_proxy, self.session_metadata):
            if s is not None:
                yield s

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """``shotgun_api3.Shotgun(**kwargs)``: ``base_url``, ``session_token``, and
        ``http_proxy`` when set (the login is not passed: ``Shotgun`` takes one
        credential mode, and a login without a password is an error there)."""
        return self._with_proxy({"base_url": self.host, "session_token": self.session_token.text()})


@dataclass(frozen=True, init=False, repr=False)
class LoginPassword(_Typed):
    """A login and password: ``Shotgun(host, login=, password=)`` (what scripts use
    on sites where a personal access token is linked to the account)."""

    host: str
    login: str
    password: Secret
    http_proxy: Optional[Secret] = None

    kind: ClassVar[Kind] = Kind.LOGIN_PASSWORD

    def __init__(
        self,
        host: str,
        login: str,
        password: SecretLike,
        http_proxy: Optional[SecretLike] = None,
    ) -> None:
        object.__setattr__(self, "host", _text_field(host, "host"))
        object.__setattr__(self, "login", _text_field(login, "login"))
        object.__setattr__(self, "password", _secret_field(password, "password", optional=False))
        object.__setattr__(self, "http_proxy", _secret_field(http_proxy, "http_proxy", optional=True))

    def __repr__(self) -> str:
        return (
            f"LoginPassword(host={self.host!r}, login={self.login!r}, password=<redacted>, "
            f"http_proxy={_shown(self.http_proxy)})"
        )

    @property
    def secret(self) -> Secret:
        """The main secret: the password."""
        return self.password

    def _secrets(self) -> Iterator[Secret]:
        yield self.password
        if self.http_proxy is not None:
            yield self.http_proxy

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """``shotgun_api3.Shotgun(**kwargs)``: ``base_url``, ``login``, ``password``,
        and ``http_proxy`` when set."""
        return self._with_proxy({"base_url": self.host, "login": self.login, "password": self.password.text()})


@dataclass(frozen=True, init=False, repr=False)
class Opaque:
    """Opaque secret bytes: anything that is not a production-tracking credential."""

    secret: Secret

    kind: ClassVar[Kind] = Kind.OPAQUE

    def __init__(self, secret: SecretLike) -> None:
        object.__setattr__(self, "secret", _secret_field(secret, "secret", optional=False))

    def __repr__(self) -> str:
        return "Opaque(secret=<redacted>)"

    def wipe(self) -> None:
        """Overwrites the bytes with zeros."""
        self.secret.wipe()

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """Always raises :class:`~farmvault.InvalidArgument`: opaque bytes are not a
        ``shotgun_api3`` credential."""
        raise _not_shotgun()


def _not_shotgun(what: str = "an opaque entry") -> InvalidArgument:
    return InvalidArgument(
        f"{what} is not a Shotgun credential; store a ScriptKey, SessionToken or "
        "LoginPassword to get shotgun_api3 keyword arguments"
    )


@dataclass(frozen=True, init=False, repr=False)
class TankContext:
    """A Toolkit context as tk-core's ``Context.serialize`` wrote it (``TANK_CONTEXT``),
    kept byte for byte, and the user its ``_current_user`` carries.

    ``TankContext(payload)`` parses the context (``str`` or ``bytes``, either form) with
    the library, as :func:`farmvault.sgtk.parse` does; ``payload`` is then its exact
    bytes and ``user`` a :class:`ScriptKey` or :class:`SessionToken`. It is stored and
    read back like any credential; :func:`farmvault.sgtk.export` gives it back.
    """

    user: Union[ScriptKey, SessionToken]
    payload: Secret

    kind: ClassVar[Kind] = Kind.TANK_CONTEXT

    def __init__(self, payload: object) -> None:
        if not isinstance(payload, (str, bytes, bytearray, Secret)):
            raise InvalidArgument(f"payload must be str or bytes, not {type(payload).__name__}")
        out = ctypes.POINTER(_ffi.fv_credential)()
        with SecretIn(payload, "payload") as (p, n):
            _ffi.fv_sgtk_parse_payload(p, n, ctypes.byref(out))
        try:
            parsed = credential_from_handle(out)
        finally:
            _ffi.fv_credential_free(out)
        if not isinstance(parsed, TankContext):
            parsed.wipe()
            raise InvalidArgument(
                f"payload is a serialized user ({type(parsed).__name__}), not a TANK_CONTEXT"
            )
        object.__setattr__(self, "user", parsed.user)
        object.__setattr__(self, "payload", parsed.payload)

    def __repr__(self) -> str:
        return f"TankContext(user={self.user!r}, payload=<redacted>)"

    @property
    def host(self) -> str:
        """The user's site URL."""
        return self.user.host

    @property
    def secret(self) -> Secret:
        """The user's main secret (its session token or API key)."""
        return self.user.secret

    def value(self) -> Union[str, bytes]:
        """The context as tk-core's ``Context.deserialize`` takes it: the ``str`` it came
        in as (UTF-8 text), or its ``bytes`` when they are not UTF-8 (a pickle written
        out as ISO-8859-1). The result holds the user's secret."""
        raw = bytes(self.payload.buffer())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw

    def wipe(self) -> None:
        """Overwrites the context and the user's secrets with zeros."""
        self.payload.wipe()
        self.user.wipe()

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """The user's ``shotgun_api3.Shotgun(**kwargs)``."""
        return self.user.shotgun_kwargs()


@dataclass(frozen=True, init=False, repr=False)
class FlowToken:
    """A Flow (Autodesk Platform Services) OAuth token pair, as tk-core 0.24 keeps it in
    ``adsk_flow_tokens.json`` for one application and profile."""

    app_id: str
    profile: str
    access_token: Secret
    refresh_token: Optional[Secret] = None

    kind: ClassVar[Kind] = Kind.FLOW_TOKEN

    def __init__(
        self,
        app_id: str,
        profile: str,
        access_token: SecretLike,
        refresh_token: Optional[SecretLike] = None,
    ) -> None:
        object.__setattr__(self, "app_id", _text_field(app_id, "app_id"))
        object.__setattr__(self, "profile", _text_field(profile, "profile"))
        object.__setattr__(
            self, "access_token", _secret_field(access_token, "access_token", optional=False)
        )
        object.__setattr__(
            self, "refresh_token", _secret_field(refresh_token, "refresh_token", optional=True)
        )

    def __repr__(self) -> str:
        return (
            f"FlowToken(app_id={self.app_id!r}, profile={self.profile!r}, access_token=<redacted>, "
            f"refresh_token={_shown(self.refresh_token)})"
        )

    @property
    def secret(self) -> Secret:
        """The main secret: the access token."""
        return self.access_token

    def wipe(self) -> None:
        """Overwrites both tokens with zeros."""
        self.access_token.wipe()
        if self.refresh_token is not None:
            self.refresh_token.wipe()

    def shotgun_kwargs(self) -> ShotgunKwargs:
        """Always raises :class:`~farmvault.InvalidArgument`: a Flow token is not a
        ``shotgun_api3`` credential."""
        raise _not_shotgun("a Flow token")


#: Any stored credential.
Credential = Union[ScriptKey, SessionToken, LoginPassword, Opaque, TankContext, FlowToken]

_CREDENTIAL_TYPES = (ScriptKey, SessionToken, LoginPassword, Opaque, TankContext, FlowToken)


# ---------------------------------------------------------------------------------
# Across the C ABI
# ---------------------------------------------------------------------------------


def take_secret(secret: _ffi.SecretP) -> bytearray:
    """Copies an owned ``fv_secret`` into a new ``bytearray``, then wipes and frees it."""
    try:
        n = _ffi.fv_secret_len(secret)
        out = bytearray(n)
        if n:
            ctypes.memmove((ctypes.c_char * n).from_buffer(out), _ffi.fv_secret_data(secret), n)
        return out
    finally:
        _ffi.fv_secret_free(secret)


#: Reads one field into a new ``fv_secret``: ``fv_entry_field`` or ``fv_credential_field``.
_FieldReader = Callable[[int, "_ffi.Out"], None]


def _field(read: _FieldReader, field: Field) -> Optional[bytearray]:
    out = ctypes.POINTER(_ffi.fv_secret)()
    try:
        read(int(field), ctypes.byref(out))
    except NotFound:
        return None
    return take_secret(out)


def _required(read: _FieldReader, field: Field) -> bytearray:
    value = _field(read, field)
    if value is None:  # pragma: no cover - the library guarantees required fields
        raise NotFound(f"the credential has no {field.name.lower()}")
    return value


def _text(read: _FieldReader, field: Field) -> str:
    return _required(read, field).decode("utf-8")


def _secret(read: _FieldReader, field: Field) -> Optional[Secret]:
    value = _field(read, field)
    return None if value is None else Secret._adopt(value)


_C = TypeVar("_C")


def _trusted(cls: Type[_C], **fields: object) -> _C:
    """A credential from fields the library has already checked (no re-validation)."""
    return of_fields(cls, fields)


def of_fields(cls: Type[_C], fields: Dict[str, Any]) -> _C:
    """An instance of the frozen dataclass ``cls`` whose ``__dict__`` is ``fields``
    (which it takes over): the state its ``__init__`` would make, field by field at
    about ten times the cost."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", fields)
    return obj


def read_credential(kind: int, read: _FieldReader, host: Optional[str] = None) -> Credential:
    """The credential of ``kind`` whose fields ``read`` copies out of the library
    (``host``: the site URL when the caller already has it, as an entry does)."""
    if kind == Kind.OPAQUE:
        return _trusted(Opaque, secret=Secret._adopt(_required(read, Field.SECRET)))
    if kind == Kind.FLOW_TOKEN:
        return _trusted(
            FlowToken,
            app_id=_text(read, Field.APP_ID),
            profile=_text(read, Field.PROFILE),
            access_token=Secret._adopt(_required(read, Field.ACCESS_TOKEN)),
            refresh_token=_secret(read, Field.REFRESH_TOKEN),
        )
    if kind == Kind.TANK_CONTEXT:
        # The fields of a context are its user's: a session user has a login.
        login = _field(read, Field.LOGIN)
        user_kind = Kind.SESSION_TOKEN if login is not None else Kind.SCRIPT_KEY
        user = read_credential(user_kind, read, host)
        assert isinstance(user, (ScriptKey, SessionToken))
        return _trusted(
            TankContext, user=user, payload=Secret._adopt(_required(read, Field.TANK_CONTEXT))
        )
    if host is None:
        host = _text(read, Field.HOST)
    if kind == Kind.SCRIPT_KEY:
        return _trusted(
            ScriptKey,
            host=host,
            script_name=_text(read, Field.SCRIPT_NAME),
            api_key=Secret._adopt(_required(read, Field.API_KEY)),
            http_proxy=_secret(read, Field.HTTP_PROXY),
        )
    if kind == Kind.SESSION_TOKEN:
        return _trusted(
            SessionToken,
            host=host,
            login=_text(read, Field.LOGIN),
            session_token=Secret._adopt(_required(read, Field.SESSION_TOKEN)),
            http_proxy=_secret(read, Field.HTTP_PROXY),
            session_metadata=_secret(read, Field.SESSION_METADATA),
        )
    if kind == Kind.LOGIN_PASSWORD:
        return _trusted(
            LoginPassword,
            host=host,
            login=_text(read, Field.LOGIN),
            password=Secret._adopt(_required(read, Field.PASSWORD)),
            http_proxy=_secret(read, Field.HTTP_PROXY),
        )
    raise InvalidArgument(f"the library returned credential kind {kind}, unknown to this package")


# -- from an entry's view (fv_entry_view, read with struct.unpack_from) -------------

#: Positions in the tuple ``_ffi.VIEW_LAYOUT`` unpacks to: the scalars, then a
#: (data, len) pair per field.
V_KIND, V_HAS_CREDENTIAL, V_CREATED, V_UPDATED, V_EXPIRES = 1, 2, 3, 4, 5
V_NAME, V_HOST, V_LOGIN, V_SCRIPT_NAME, V_API_KEY = 6, 8, 10, 12, 14
V_SESSION_TOKEN, V_SESSION_METADATA, V_HTTP_PROXY, V_PASSWORD, V_SECRET = 16, 18, 20, 22, 24

_c_char = ctypes.c_char
_c_ubyte = ctypes.c_ubyte


def view_text(v: Sequence[int], at: int) -> Optional[str]:
    """A non-secret text field of the view (``None`` when unset): host, login,
    script name, entry name."""
    ptr, n = v[at], v[at + 1]
    if not ptr:
        return None
    return (_c_char * n).from_address(ptr).raw.decode("utf-8") if n else ""


def view_secret(v: Sequence[int], at: int) -> Optional[Secret]:
    """A secret field of the view, copied straight from the library's memory into the
    ``bytearray`` of a new :class:`Secret` (no immutable copy on the way); ``None``
    when unset."""
    ptr, n = v[at], v[at + 1]
    if not ptr:
        return None
    return Secret._adopt(bytearray((_c_ubyte * n).from_address(ptr)) if n else bytearray())


def _view_secret_text(v: Sequence[int], at: int) -> Optional[str]:
    """A secret field decoded straight from the library's memory into a ``str`` (what
    ``shotgun_api3`` takes), with no ``bytes`` or ``bytearray`` copy on the way."""
    ptr, n = v[at], v[at + 1]
    if not ptr:
        return None
    return str((_c_char * n).from_address(ptr), "utf-8") if n else ""


_T = TypeVar("_T")


def _present(value: Optional[_T], what: str) -> _T:
    if value is None:  # pragma: no cover - the library guarantees required fields
        raise NotFound(f"the credential has no {what}")
    return value


# The kinds as plain ints: comparing with them is cheaper than looking up Kind's
# members (a descriptor since Python 3.11) on every read.
_OPAQUE, _SCRIPT_KEY, _SESSION_TOKEN, _LOGIN_PASSWORD, _TANK_CONTEXT, _FLOW_TOKEN = (int(k) for k in Kind)
#: The kinds whose view does not hold every field: read field by field.
_FIELD_READ_KINDS = frozenset((_TANK_CONTEXT, _FLOW_TOKEN))


def credential_from_view(v: Sequence[int], host: Optional[str], entry: Optional[_ffi.EntryP] = None) -> Credential:
    """The credential of an entry's view (``host``: the view's host, already read). The
    view has no member for a context's bytes or a Flow pair's names: those kinds are
    read through ``entry``, the entry the view belongs to."""
    kind = v[V_KIND]
    if kind in _FIELD_READ_KINDS:
        if entry is None:  # pragma: no cover - every caller passes its entry
            raise InvalidArgument(f"credential kind {kind} needs its entry to be read")
        handle = entry

        def read(field: int, out: _ffi.Out) -> None:
            _ffi.fv_entry_field(handle, field, out)

        return read_credential(kind, read, host)
    if kind == _OPAQUE:
        # view_secret, inlined for the commonest kind (every opaque get comes here).
        ptr, n = v[V_SECRET], v[V_SECRET + 1]
        if not ptr:  # pragma: no cover - the library guarantees the secret
            raise NotFound("the credential has no secret")
        return of_fields(Opaque, {"secret": Secret._adopt(bytearray((_c_ubyte * n).from_address(ptr)))})
    host = _present(host, "host")
    proxy = view_secret(v, V_HTTP_PROXY)
    if kind == _SCRIPT_KEY:
        return of_fields(
            ScriptKey,
            {
                "host": host,
                "script_name": _present(view_text(v, V_SCRIPT_NAME), "script_name"),
                "api_key": _present(view_secret(v, V_API_KEY), "api_key"),
                "http_proxy": proxy,
            },
        )
    if kind == _SESSION_TOKEN:
        return of_fields(
            SessionToken,
            {
                "host": host,
                "login": _present(view_text(v, V_LOGIN), "login"),
                "session_token": _present(view_secret(v, V_SESSION_TOKEN), "session_token"),
                "http_proxy": proxy,
                "session_metadata": view_secret(v, V_SESSION_METADATA),
            },
        )
    if kind == _LOGIN_PASSWORD:
        return of_fields(
            LoginPassword,
            {
                "host": host,
                "login": _present(view_text(v, V_LOGIN), "login"),
                "password": _present(view_secret(v, V_PASSWORD), "password"),
                "http_proxy": proxy,
            },
        )
    raise InvalidArgument(f"the library returned credential kind {kind}, unknown to this package")


def shotgun_kwargs_from_view(v: Sequence[int]) -> ShotgunKwargs:
    """What ``credential_from_view(v, host).shotgun_kwargs()`` returns, made straight
    from the view: the secrets become the ``str`` values ``shotgun_api3`` needs
    without a wipeable copy in between that would only be wiped again."""
    kind = v[V_KIND]
    if kind == _OPAQUE:
        raise _not_shotgun()
    if kind == _FLOW_TOKEN:
        raise _not_shotgun("a Flow token")
    if kind == _TANK_CONTEXT:
        # The view shows the context's user: a script key has a script name.
        kind = _SCRIPT_KEY if v[V_SCRIPT_NAME] else _SESSION_TOKEN
    if kind not in _TYPED_KINDS:
        raise InvalidArgument(f"the library returned credential kind {kind}, unknown to this package")
    kwargs: ShotgunKwargs = {"base_url": _present(view_text(v, V_HOST), "host")}
    if kind == _SCRIPT_KEY:
        kwargs["script_name"] = _present(view_text(v, V_SCRIPT_NAME), "script_name")
        kwargs["api_key"] = _present(_view_secret_text(v, V_API_KEY), "api_key")
    elif kind == _SESSION_TOKEN:
        kwargs["session_token"] = _present(_view_secret_text(v, V_SESSION_TOKEN), "session_token")
    else:
        kwargs["login"] = _present(view_text(v, V_LOGIN), "login")
        kwargs["password"] = _present(_view_secret_text(v, V_PASSWORD), "password")
    proxy = _view_secret_text(v, V_HTTP_PROXY)
    if proxy is not None:
        kwargs["http_proxy"] = proxy
    return kwargs


_TYPED_KINDS = frozenset((_SCRIPT_KEY, _SESSION_TOKEN, _LOGIN_PASSWORD))


def credential_from_handle(handle: _ffi.CredentialP) -> Credential:
    """Reads an ``fv_credential`` (the caller still owns and frees it)."""

    def read(field: int, out: _ffi.Out) -> None:
        _ffi.fv_credential_field(handle, field, out)

    return read_credential(_ffi.fv_credential_kind(handle), read)


def check_credential(cred: object, what: str = "credential") -> Credential:
    """``cred`` if it is one of the credential classes."""
    if not isinstance(cred, _CREDENTIAL_TYPES):
        raise InvalidArgument(
            f"{what} must be a farmvault ScriptKey, SessionToken, LoginPassword, Opaque, "
            f"TankContext or FlowToken, not {type(cred).__name__}"
        )
    return cred


class CredentialHandle:
    """An owned ``fv_credential`` built from a Python credential, freed (and wiped by
    the library) when the ``with`` block ends."""

    def __init__(self, cred: Credential) -> None:
        self._cred = check_credential(cred)
        self.ptr = ctypes.POINTER(_ffi.fv_credential)()

    def __enter__(self) -> _ffi.CredentialP:
        c = self._cred
        out = ctypes.byref(self.ptr)
        if isinstance(c, Opaque):
            with SecretIn(c.secret, "secret") as (p, n):
                _ffi.fv_credential_new_opaque(p, n, out)
        elif isinstance(c, TankContext):
            # Only the library makes a context, from its bytes, so user and bytes agree.
            with SecretIn(c.payload, "payload") as (p, n):
                _ffi.fv_sgtk_parse_payload(p, n, out)
        elif isinstance(c, FlowToken):
            app_id, profile = text_arg(c.app_id, "app_id"), text_arg(c.profile, "profile")
            with SecretIn(c.access_token, "access_token") as (p, n):
                if c.refresh_token is None:
                    _ffi.fv_credential_new_flow_token(app_id, profile, p, n, None, 0, out)
                else:
                    with SecretIn(c.refresh_token, "refresh_token") as (rp, rn):
                        _ffi.fv_credential_new_flow_token(app_id, profile, p, n, rp, rn, out)
        elif isinstance(c, ScriptKey):
            proxy = optional_secret_arg(c.http_proxy, "http_proxy")
            try:
                with SecretIn(c.api_key, "api_key") as (p, n):
                    _ffi.fv_credential_new_script_key(
                        text_arg(c.host, "host"),
                        text_arg(c.script_name, "script_name"),
                        p,
                        n,
                        _c_string(proxy),
                        out,
                    )
            finally:
                _wipe(proxy)
        elif isinstance(c, SessionToken):
            proxy = optional_secret_arg(c.http_proxy, "http_proxy")
            meta = optional_secret_arg(c.session_metadata, "session_metadata")
            try:
                with SecretIn(c.session_token, "session_token") as (p, n):
                    _ffi.fv_credential_new_session_token(
                        text_arg(c.host, "host"),
                        text_arg(c.login, "login"),
                        p,
                        n,
                        _c_string(proxy),
                        _c_string(meta),
                        out,
                    )
            finally:
                _wipe(proxy)
                _wipe(meta)
        else:
            proxy = optional_secret_arg(c.http_proxy, "http_proxy")
            try:
                with SecretIn(c.password, "password") as (p, n):
                    _ffi.fv_credential_new_login_password(
                        text_arg(c.host, "host"),
                        text_arg(c.login, "login"),
                        p,
                        n,
                        _c_string(proxy),
                        out,
                    )
            finally:
                _wipe(proxy)
        return self.ptr

    def __exit__(self, *exc: object) -> None:
        if self.ptr:
            _ffi.fv_credential_free(self.ptr)
            self.ptr = ctypes.POINTER(_ffi.fv_credential)()


def _c_string(arg: Optional[SecretIn]) -> Optional[_ffi.InBytes]:
    return None if arg is None else arg.pointer()


def _wipe(arg: Optional[SecretIn]) -> None:
    if arg is not None:
        arg.wipe()
