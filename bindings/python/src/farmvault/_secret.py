"""``Secret``: secret bytes the caller can wipe, never shown by ``repr`` or ``str``."""

from __future__ import annotations

import ctypes
import hmac
import sys
import weakref
from types import TracebackType
from typing import Any, NoReturn, Optional, Type, Union

from ._errors import InvalidArgument

__all__ = ["Secret", "SecretLike"]

#: Whether a same-length slice assignment overwrites a bytearray in place (CPython's
#: bytearray copies into its existing buffer; tests/test_privacy.py checks it).
_IN_PLACE = sys.implementation.name == "cpython"

#: Who is told of every secret the package hands out (``logmask.SecretFilter``
#: watching reads): weakly held, so a filter nobody keeps stops watching.
_readers: "weakref.WeakSet[Any]" = weakref.WeakSet()
#: Whether a watcher was ever registered: a plain bool, which a get tests in
#: about a fifth of the time asking the WeakSet takes (every secret read
#: passes here).
_ever_watched = False


def watch_reads(watcher: Any) -> None:
    """Calls ``watcher.saw(secret)`` for every secret the package hands out from now
    on (those the library returns, and those it wraps for a call), while
    ``watcher`` lives."""
    global _ever_watched
    _readers.add(watcher)
    _ever_watched = True


class Secret:
    """Secret bytes in a ``bytearray`` the caller can wipe.

    What the library returns is copied into a fresh ``bytearray`` and the library's
    own buffer is wiped and freed at once; :meth:`wipe` (or leaving a ``with``
    block, or garbage collection) overwrites this copy with zeros. ``repr`` and
    ``str`` never show the bytes, and a ``Secret`` refuses to be pickled.

    :meth:`text` and :meth:`to_bytes` make immutable copies that cannot be wiped:
    use them only where an API insists on ``str``/``bytes`` (``shotgun_api3`` does).
    """

    __slots__ = ("_buf",)
    _buf: bytearray

    def __init__(self, value: SecretLike) -> None:
        if isinstance(value, Secret):
            data = bytearray(value._buf)
        elif isinstance(value, str):
            data = bytearray(value, "utf-8")
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytearray(value)
        else:
            raise InvalidArgument(
                f"a secret must be str, bytes, bytearray or Secret, not {type(value).__name__}"
            )
        self._buf = data

    @classmethod
    def _adopt(cls, buf: bytearray) -> Secret:
        """Wraps ``buf`` without copying it (it becomes this secret's storage)."""
        s = cls.__new__(cls)
        s._buf = buf
        if _ever_watched and _readers:
            for r in list(_readers):
                r.saw(s)
        return s

    def buffer(self) -> bytearray:
        """The live buffer (not a copy): wiping the secret zeroes it."""
        return self._buf

    def to_bytes(self) -> bytes:
        """An immutable copy of the bytes (it cannot be wiped)."""
        return bytes(self._buf)

    def text(self) -> str:
        """The bytes decoded as UTF-8 (an immutable copy that cannot be wiped)."""
        return self._buf.decode("utf-8")

    def wipe(self) -> None:
        """Overwrites the bytes with zeros and empties the secret."""
        n = len(self._buf)
        if n:
            if _IN_PLACE:
                # CPython writes an equal-length slice assignment into the bytearray's
                # own storage (nothing is reallocated), at a tenth of the cost of the
                # ctypes memset call, which would be the largest part of a get.
                self._buf[:] = bytes(n)
            else:  # pragma: no cover - other interpreters
                ctypes.memset((ctypes.c_char * n).from_buffer(self._buf), 0, n)
            try:
                del self._buf[:]
            except BufferError:
                pass  # the caller holds a view of the buffer: it stays, zeroed

    def __len__(self) -> int:
        return len(self._buf)

    def __bool__(self) -> bool:
        return bool(self._buf)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._buf, other._buf)
        if isinstance(other, (bytes, bytearray)):
            return hmac.compare_digest(self._buf, other)
        if isinstance(other, str):
            return hmac.compare_digest(self._buf, other.encode("utf-8"))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Secret(<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a farmvault Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return Secret(self)

    def __deepcopy__(self, memo: Any) -> Secret:
        return Secret(self)

    def __enter__(self) -> Secret:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.wipe()

    def __del__(self) -> None:
        # wipe(), inlined: every secret a get returns ends here, and the method call
        # would be a tenth of the cost of a get on the Python side.
        try:
            buf = self._buf
            n = len(buf)
            if n:
                if _IN_PLACE:
                    buf[:] = bytes(n)
                else:  # pragma: no cover - other interpreters
                    ctypes.memset((ctypes.c_char * n).from_buffer(buf), 0, n)
                del buf[:]
        except Exception:  # pragma: no cover - a view of the buffer is held (it stays,
            pass  # zeroed), or interpreter shutdown


SecretLike = Union[Secret, str, bytes, bytearray, memoryview]
