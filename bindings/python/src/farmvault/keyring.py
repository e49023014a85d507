"""A backend of the ``keyring`` package (PyPI) that keeps passwords in farmvault.

Tools that already ask ``keyring`` for a password (twine, pip, a studio's own
scripts) then read it from the farm's vault, with no farmvault code of their
own::

    import keyring
    from farmvault.keyring import FarmvaultKeyring

    keyring.set_keyring(FarmvaultKeyring())          # or let keyring choose it
    keyring.set_password("farmvault", "shotgun/render_farm", api_key)
    api_key = keyring.get_password("farmvault", "shotgun/render_farm")

The package registers the backend under the ``keyring.backends`` entry point, so
``keyring`` finds it once farmvault is installed. Only this module imports
``keyring``: farmvault does not depend on it, and ``import farmvault`` works
without it.

**Which vault.** Each call opens the source the environment names, the first
that is set: a job grant (``FARMVAULT_GRANT_FILE`` with ``FARMVAULT_GRANT_TOKEN``
and/or ``FARMVAULT_IDENTITY``, as :func:`farmvault.from_env` opens it), a vault
(``FARMVAULT_PATH`` with ``FARMVAULT_KEY_FILE``), or the agent at the socket
``FARMVAULT_AGENT`` names. It is closed again before the call returns.

**Priority.** :attr:`FarmvaultKeyring.priority` is 9 when that source looks
reachable (the grant file, or the vault directory and key file, exist; the
agent's socket accepts a connection), else -1, so ``keyring`` never picks the
backend where no vault is set up. 9 is above the desktop keyrings (5) and below
keyring's chainer (10): with a desktop keyring present, the chainer asks farmvault
first and the desktop keyring for everything farmvault does not answer. It never
raises.

**service.** Must be ``"farmvault"`` (:data:`SERVICE`); the entry name is the
``username``. Other services are not farmvault's: their reads return ``None``
and their writes and deletes raise :class:`OtherServiceSetError` /
:class:`OtherServiceDeleteError`, which keyring's chainer passes over to the next
backend. Ignoring ``service`` would answer ``get_password("pypi", "__token__")``
with the vault's entry ``__token__`` and let any tool's ``set_password``
overwrite a farm credential whose name happens to match its user name.

**What a password is.** ``get_password`` returns an opaque entry's bytes as
UTF-8 text, and a typed credential's main secret (``Entry.secret``): the
``api_key`` of a :class:`~farmvault.ScriptKey`, the ``session_token`` of a
:class:`~farmvault.SessionToken`, the ``password`` of a
:class:`~farmvault.LoginPassword`, the ``access_token`` of a
:class:`~farmvault.FlowToken` (a Toolkit context: its user's). A missing or
expired entry is ``None``. ``set_password`` stores an opaque entry (replacing
whatever the name held) with the backend's :attr:`~FarmvaultKeyring.ttl`, none
by default; ``delete_password`` deletes the entry.

Failures of farmvault raise keyring's exceptions (``KeyringError``,
``PasswordSetError``, ``PasswordDeleteError``) with the farmvault error as their
``__cause__``; their messages are farmvault's, which never hold a secret.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from typing import Iterator, Mapping, Optional, Type

try:
    from keyring import errors as _kr_errors
    from keyring.backend import KeyringBackend
    from keyring.compat import properties as _kr_properties
except ImportError as e:  # the package works without keyring; only this module needs it
    raise ImportError(
        f"farmvault.keyring needs the keyring package (pip install keyring): {e}"
    ) from e

from ._args import TTL
from ._errors import Error, Expired, NotFound
from ._grant import GRANT_FILE_ENV, GRANT_TOKEN_ENV, IDENTITY_ENV, KEY_FILE_ENV, VAULT_PATH_ENV, from_env
from ._vault import Vault, _Store

__all__ = [
    "FarmvaultKeyring",
    "SERVICE",
    "AGENT_ENV",
    "REACHABLE_PRIORITY",
    "UNREACHABLE_PRIORITY",
    "OtherServiceSetError",
    "OtherServiceDeleteError",
]

#: The only ``service`` the backend answers for.
SERVICE = "farmvault"
#: The farmvault agent's socket (what ``farmvault agent start --print-env`` exports).
AGENT_ENV = "FARMVAULT_AGENT"
#: The priority when the environment names a source that looks reachable.
REACHABLE_PRIORITY = 9.0
#: The priority otherwise: below keyring's fail backend (0), so never chosen.
UNREACHABLE_PRIORITY = -1.0
#: How long the priority check waits for the agent's socket to accept.
_AGENT_PROBE_SECS = 0.5


class OtherServiceSetError(_kr_errors.PasswordSetError, NotImplementedError):
    """``set_password`` for a service other than ``"farmvault"``. Also a
    ``NotImplementedError``, which keyring's chainer takes as "ask the next
    backend"."""


class OtherServiceDeleteError(_kr_errors.PasswordDeleteError, NotImplementedError):
    """``delete_password`` for a service other than ``"farmvault"`` (see
    :class:`OtherServiceSetError`)."""


def _var(env: Mapping[str, str], name: str) -> Optional[str]:
    value = env.get(name)
    return value if value else None


def _source(env: Mapping[str, str]) -> Optional[str]:
    """Which source the environment names, in the order :meth:`FarmvaultKeyring._open`
    tries them: ``"grant"``, ``"vault"``, ``"agent"``, or ``None``. The grant comes
    first, as in :func:`farmvault.from_env`: it is the narrowest credential a job
    has. A key file beside ``FARMVAULT_PATH`` comes before the agent, as on the
    command line, which goes through the agent only when no key is given."""
    if _var(env, GRANT_FILE_ENV) is not None:
        return "grant"
    if _var(env, VAULT_PATH_ENV) is not None and _var(env, KEY_FILE_ENV) is not None:
        return "vault"
    if _var(env, AGENT_ENV) is not None:
        return "agent"
    return None


def _agent_listens(path: str) -> bool:
    """Whether something accepts connections on the Unix socket ``path``. The agent
    serves a connection closed before its first request by closing its side."""
    if not stat.S_ISSOCK(os.stat(path).st_mode):
        return False
    family = getattr(socket, "AF_UNIX", None)
    if family is None:
        return False
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(_AGENT_PROBE_SECS)
        s.connect(path)
    return True


def _reachable(env: Mapping[str, str]) -> bool:
    """Whether the source the environment names looks usable, without opening it
    (an open may run Argon2id, and ``priority`` is read on every keyring call)."""
    kind = _source(env)
    if kind == "grant":
        has_key = _var(env, GRANT_TOKEN_ENV) is not None or _var(env, IDENTITY_ENV) is not None
        return has_key and os.path.isfile(env[GRANT_FILE_ENV])
    if kind == "vault":
        return os.path.isdir(env[VAULT_PATH_ENV]) and os.path.isfile(env[KEY_FILE_ENV])
    if kind == "agent":
        return _agent_listens(env[AGENT_ENV])
    return False


@contextlib.contextmanager
def _as_keyring_error(cls: Type[_kr_errors.KeyringError]) -> Iterator[None]:
    """Raises a farmvault error as keyring's ``cls``, callers of keyring catching
    those; the message is farmvault's (never a secret) and the cause is kept."""
    try:
        yield
    except Error as e:
        raise cls(f"farmvault: {e}") from e


class FarmvaultKeyring(KeyringBackend):
    """The farmvault backend of ``keyring``: see :mod:`farmvault.keyring`.

    ``ttl`` is the TTL of the entries :meth:`set_password` stores (anything a
    :class:`~farmvault.Vault` takes: ``"8h"``, a ``timedelta``, seconds; ``None``,
    the default, for none). keyring sets it from ``KEYRING_PROPERTY_TTL`` too,
    as it sets every backend property from the environment.
    """

    def __init__(self, *, ttl: Optional[TTL] = None) -> None:
        self.ttl: Optional[TTL] = ttl
        # KeyringBackend.__init__ has no annotations (keyring 25), hence the ignore;
        # it sets properties from KEYRING_PROPERTY_* after the defaults above.
        super().__init__()  # type: ignore[no-untyped-call]

    # keyring reads priority from the class, before any instance exists.
    @_kr_properties.classproperty
    def priority(cls) -> float:
        """:data:`REACHABLE_PRIORITY` when the environment names a source that
        looks reachable, else :data:`UNREACHABLE_PRIORITY`. Never raises: keyring
        reads it for every backend, and an exception would be taken as "unusable"
        and logged on every call."""
        try:
            return REACHABLE_PRIORITY if _reachable(os.environ) else UNREACHABLE_PRIORITY
        except Exception:
            return UNREACHABLE_PRIORITY

    def _open(self) -> _Store:
        """Opens the source the environment names (see :func:`_source`): a
        :class:`~farmvault.Vault` or a :class:`~farmvault.Grant`, which has the
        writes too (the library refuses them with :class:`~farmvault.ReadOnly`)."""
        env = os.environ
        kind = _source(env)
        if kind in ("grant", "vault"):
            source = from_env(env)
            if isinstance(source, _Store):  # what from_env returns: a Grant or a Vault
                return source
            source.close()
        elif kind == "agent":
            return Vault.connect(env[AGENT_ENV])
        raise _kr_errors.InitError(
            "farmvault: the environment names no vault: set FARMVAULT_PATH and "
            f"FARMVAULT_KEY_FILE, {AGENT_ENV}, or {GRANT_FILE_ENV} with its token"
        )

    def get_password(self, service: str, username: str) -> Optional[str]:
        """The secret of entry ``username`` (see the module for which field), or
        ``None`` when there is no such entry, it has expired, or ``service`` is not
        ``"farmvault"``."""
        if service != SERVICE:
            return None
        with _as_keyring_error(_kr_errors.KeyringError):
            with self._open() as source:
                try:
                    entry = source.get(username)
                except (NotFound, Expired):
                    return None
        try:
            return entry.secret.text()
        except UnicodeDecodeError:
            raise _kr_errors.KeyringError(
                f"farmvault: entry {username!r} holds bytes that are not UTF-8 text; "
                "read it with farmvault.Vault.get"
            ) from None
        finally:
            entry.wipe()

    def set_password(self, service: str, username: str, password: str) -> None:
        """Stores ``password`` as the opaque entry ``username``, with :attr:`ttl`.
        Raises ``PasswordSetError`` when the vault refuses (a job grant only
        reads), and :class:`OtherServiceSetError` for another service."""
        if service != SERVICE:
            raise OtherServiceSetError(f"farmvault stores passwords of service {SERVICE!r} only")
        with _as_keyring_error(_kr_errors.PasswordSetError):
            with self._open() as source:
                source.put(username, password, ttl=self.ttl)

    def delete_password(self, service: str, username: str) -> None:
        """Deletes the entry ``username``. Raises ``PasswordDeleteError`` when there
        is none (keyring's convention) or the vault refuses, and
        :class:`OtherServiceDeleteError` for another service."""
        if service != SERVICE:
            raise OtherServiceDeleteError(f"farmvault deletes passwords of service {SERVICE!r} only")
        with _as_keyring_error(_kr_errors.PasswordDeleteError):
            with self._open() as source:
                source.delete(username)
