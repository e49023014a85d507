"""The exceptions of farmvault: one class per ``fv_result`` code, under one base.

Each carries ``code`` (the ``fv_result`` number) and ``message`` (the library's
``fv_last_error_message()`` text, which names entries, paths and arguments and
never holds a secret). ``str(error)`` is the message.

Argument rule: every bad argument, whether of the wrong type (``bytes`` or ``None``
for a name) or a wrong value (an empty name, an oversized secret, a negative TTL),
raises :class:`InvalidArgument` before anything reaches the C library.
:class:`InvalidArgument` is also a :class:`ValueError`, so handlers written for
the standard library's convention catch it too. So is the error a closed
:class:`~farmvault.Vault` (or batch) raises when it is used again.

Two more classes also take the standard library's place, so code written for a
``dict`` or for file I/O catches them without knowing this package:
:class:`NotFound` is a :class:`KeyError` (``vault["name"]`` raises it) and
:class:`IoError` is an :class:`OSError` (with ``errno`` set when the library
names the OS error). Their ``str()`` is still the library's message, unquoted.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Optional, Sequence, Tuple, Type

__all__ = [
    "Error",
    "NotFound",
    "Expired",
    "WrongKey",
    "Tampered",
    "Corrupt",
    "Locked",
    "InvalidArgument",
    "IoError",
    "Panic",
    "NoVault",
    "AlreadyExists",
    "ReadOnly",
    "HostNotAllowed",
    "Forked",
    "AgentLocked",
    "AgentError",
    "LibraryError",
    "error_for_code",
]


class Error(Exception):
    """Base class of every error the farmvault library reports."""

    #: The ``fv_result`` code of this class (``None`` on the base class).
    CODE: Optional[int] = None
    #: The C name of the code.
    NAME: str = "FV_UNKNOWN_RESULT"

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.code: int = code if code is not None else (self.CODE if self.CODE is not None else -1)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class NotFound(Error, KeyError):
    """No entry of that name (``FV_NOT_FOUND``). Also a :class:`KeyError`, as
    ``vault["name"]`` is a lookup by key."""

    # KeyError's own __str__ shows repr(args[0]), quoted; the message reads better
    # as the library wrote it, so Error's comes first here.
    __str__ = Error.__str__

    CODE = 1
    NAME = "FV_NOT_FOUND"


class Expired(Error):
    """The entry's TTL ran out (it stays stored, and every read raises this, until a
    purge removes it or a put replaces it). Refresh it (``FV_EXPIRED``)."""

    CODE = 2
    NAME = "FV_EXPIRED"


class WrongKey(Error):
    """The passphrase or key file does not open this vault; for a grant, the token
    or farm identity does not open it (``FV_WRONG_KEY``)."""

    CODE = 3
    NAME = "FV_WRONG_KEY"


class Tampered(Error):
    """An entry failed authentication: modified on disk or damaged (``FV_TAMPERED``)."""

    CODE = 4
    NAME = "FV_TAMPERED"


class Corrupt(Error):
    """The vault header or a record is unreadable (``FV_CORRUPT``)."""

    CODE = 5
    NAME = "FV_CORRUPT"


class Locked(Error):
    """Another process holds the vault past the lock timeout (``FV_LOCKED``)."""

    CODE = 6
    NAME = "FV_LOCKED"


class InvalidArgument(Error, ValueError):
    """A bad argument, caught by Python or by the library (``FV_INVALID_ARGUMENT``)."""

    CODE = 7
    NAME = "FV_INVALID_ARGUMENT"


#: How Rust's ``std::io::Error`` ends its message when the OS gave a code.
_OS_ERROR = re.compile(r"\(os error (\d+)\)\s*$")


class IoError(Error, OSError):
    """An operating-system I/O error (``FV_IO``). Also an :class:`OSError`: ``errno``
    is the OS's code when the message names one (``... (os error 2)``), else
    ``None``; ``strerror`` is then its text. ``str()`` is the library's message."""

    CODE = 8
    NAME = "FV_IO"

    __str__ = Error.__str__

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message, code)
        # Set here, not passed to OSError: OSError's (errno, strerror) form would
        # change args and str(), and unpickling calls __init__ with the message
        # alone, which sets them again.
        found = _OS_ERROR.search(message)
        if found is not None:
            self.errno = int(found.group(1))
            self.strerror = os.strerror(self.errno)


class Panic(Error):
    """The library panicked inside the call: a bug, please report it (``FV_PANIC``)."""

    CODE = 9
    NAME = "FV_PANIC"


class NoVault(Error):
    """There is no vault at that path (``FV_NO_VAULT``)."""

    CODE = 10
    NAME = "FV_NO_VAULT"


class AlreadyExists(Error):
    """A vault already exists where one was to be created (``FV_ALREADY_EXISTS``)."""

    CODE = 11
    NAME = "FV_ALREADY_EXISTS"


class ReadOnly(Error):
    """A write through a handle that may only read (``FV_READ_ONLY``)."""

    CODE = 12
    NAME = "FV_READ_ONLY"


class HostNotAllowed(Error):
    """This machine's hostname does not match the job grant's host pattern: run the
    job on a matching host, or issue a grant for this one (``FV_HOST_NOT_ALLOWED``)."""

    CODE = 13
    NAME = "FV_HOST_NOT_ALLOWED"


class Forked(Error):
    """The vault was opened before this process was forked (``os.fork``,
    ``multiprocessing`` with the ``fork`` start method): a handle belongs to the
    process that opened it. In the child, open the vault again once the parent
    has closed it, use the ``spawn`` start method, or share the vault through
    the farmvault agent (``FV_FORKED``)."""

    CODE = 14
    NAME = "FV_FORKED"


class AgentLocked(Error):
    """The farmvault agent serving the vault is locked: it holds no keys until
    ``farmvault agent unlock`` (``FV_AGENT_LOCKED``)."""

    CODE = 15
    NAME = "FV_AGENT_LOCKED"


class AgentError(Error):
    """The farmvault agent could not be reached (none at the socket, or it
    stopped), refused this process, or broke the connection (``FV_AGENT``)."""

    CODE = 16
    NAME = "FV_AGENT"


_BY_CODE: Dict[int, Type[Error]] = {
    cls.CODE: cls
    for cls in (
        NotFound,
        Expired,
        WrongKey,
        Tampered,
        Corrupt,
        Locked,
        InvalidArgument,
        IoError,
        Panic,
        NoVault,
        AlreadyExists,
        ReadOnly,
        HostNotAllowed,
        Forked,
        AgentLocked,
        AgentError,
    )
    if cls.CODE is not None
}


def error_for_code(code: int, message: str) -> Error:
    """The exception for an ``fv_result`` code (the base class for an unknown one)."""
    cls = _BY_CODE.get(code, Error)
    if not message:
        message = f"{cls.NAME} (code {code})" if cls is not Error else f"unknown fv_result {code}"
    return cls(message, code)


class LibraryError(ImportError):
    """The farmvault shared library could not be loaded: missing, unloadable, too old
    (a function is missing) or of another ABI version. ``tried`` lists each path with
    why it was not used; the message says the same."""

    def __init__(self, message: str, tried: Sequence[Tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.tried: Tuple[Tuple[str, str], ...] = tuple(tried)
