"""Checks of Python arguments, done before anything reaches the C library.

The rule (see :mod:`farmvault._errors`): any bad argument, of the wrong type or the
wrong value, raises :class:`~farmvault.InvalidArgument`. Messages name the argument
and never show a secret's bytes.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Type, Union

from . import _ffi
from ._errors import InvalidArgument
from ._secret import Secret, SecretLike

if TYPE_CHECKING:
    from ._ffi import InBytes

__all__ = [
    "Limits",
    "limits",
    "name_arg",
    "prefix_arg",
    "path_arg",
    "text_arg",
    "SecretIn",
    "TTL",
    "ttl_arg",
    "parse_duration",
    "seconds_arg",
    "unix_time_arg",
    "to_datetime",
]

_U64_MAX = 2**64 - 1

#: A time to live: a ``timedelta``, a number of seconds, or a duration as the
#: command line writes one (``"8h"``, ``"1h30m"``, ``"7d"``; see :func:`parse_duration`).
TTL = Union[timedelta, int, float, str]


@dataclass(frozen=True)
class Limits:
    """The library's fixed sizes (``FV_MAX_*``), read once from the library."""

    name: int
    secret: int
    path: int
    text: int
    key_file: int


_limits: Optional[Limits] = None


def limits() -> Limits:
    """The library's limits (loading the library if needed)."""
    global _limits
    if _limits is None:
        _limits = Limits(
            name=_ffi.fv_max_name_len(),
            secret=_ffi.fv_max_secret_len(),
            path=_ffi.fv_max_path_len(),
            text=_ffi.fv_max_text_len(),
            key_file=_ffi.fv_key_file_len(),
        )
    return _limits


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _encode(value: str, what: str) -> bytes:
    if "\0" in value:
        raise InvalidArgument(f"{what} must not contain a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{what} is not valid Unicode (it holds a lone surrogate)") from None


def _nonempty_text(value: object, what: str, limit: int) -> bytes:
    """A non-empty ``str`` without NUL, as UTF-8 of at most ``limit`` bytes."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a str, not {_type_name(value)}")
    if not value:
        raise InvalidArgument(f"{what} must not be empty")
    raw = _encode(value, what)
    if len(raw) > limit:
        raise InvalidArgument(f"{what} is {len(raw)} bytes in UTF-8; the limit is {limit}")
    return raw


def name_arg(name: object, what: str = "name") -> bytes:
    """An entry name: a non-empty ``str`` of at most ``FV_MAX_NAME_LEN`` UTF-8 bytes."""
    # The checks of _nonempty_text in one function for the common case (every get
    # checks its name; each Python call is about a tenth of a microsecond); anything
    # it does not accept goes the long way, which raises with the message.
    lim = _limits
    if lim is not None and type(name) is str and name and "\0" not in name:
        try:
            raw = name.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            if len(raw) <= lim.name:
                return raw
    return _nonempty_text(name, what, limits().name)


def prefix_arg(prefix: object, what: str = "prefix") -> bytes:
    """A name prefix: like a name, but may be empty."""
    if isinstance(prefix, str) and not prefix:
        return b""
    return name_arg(prefix, what)


def path_arg(path: object, what: str = "path") -> bytes:
    """A filesystem path: ``str`` or ``os.PathLike[str]``, encoded as the OS does."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise InvalidArgument(f"{what} must be a str or os.PathLike, not {_type_name(path)}")
    if not path:
        raise InvalidArgument(f"{what} must not be empty")
    if "\0" in path:
        raise InvalidArgument(f"{what} must not contain a NUL character")
    raw = os.fsencode(path)
    if len(raw) > limits().path:
        raise InvalidArgument(f"{what} is {len(raw)} bytes; the limit is {limits().path}")
    return raw


def text_arg(text: object, what: str) -> bytes:
    """A non-secret text field (host, login, script name): a non-empty ``str`` of at
    most ``FV_MAX_TEXT_LEN`` UTF-8 bytes."""
    return _nonempty_text(text, what, limits().text)


class SecretIn:
    """A secret argument, as the C library borrows it for one call.

    ``with SecretIn(value, "api_key") as (ptr, length):`` passes a ``Secret`` or a
    ``bytearray`` without copying, and wipes any copy it had to make (of a ``str``,
    or the NUL-terminated form of a ``const char *`` field) when the block ends.
    """

    def __init__(self, value: object, what: str, *, c_string: bool = False) -> None:
        if not isinstance(value, (Secret, str, bytes, bytearray, memoryview)):
            raise InvalidArgument(
                f"{what} must be str, bytes, bytearray or farmvault.Secret, not {_type_name(value)}"
            )
        self._what = what
        self._temps: List[bytearray] = []
        buf: Union[bytes, bytearray]
        if isinstance(value, Secret):
            buf = value.buffer()
        elif isinstance(value, str):
            try:
                buf = self._temp(bytearray(value, "utf-8"))
            except UnicodeEncodeError:
                raise InvalidArgument(f"{what} is not valid Unicode (it holds a lone surrogate)") from None
        elif isinstance(value, memoryview):
            buf = self._temp(bytearray(value))
        else:
            buf = value
        n = len(buf)
        if n == 0:
            self.wipe()
            raise InvalidArgument(f"{what} must not be empty")
        limit = limits().text if c_string else limits().secret
        if n > limit:
            self.wipe()
            raise InvalidArgument(f"{what} is {n} bytes; the limit is {limit}")
        if c_string:
            if b"\0" in buf:
                self.wipe()
                raise InvalidArgument(f"{what} must not contain a NUL byte")
            terminated = self._temp(bytearray(n + 1))
            terminated[:n] = buf
            buf = terminated
        self._buf = buf
        self._len = n

    def _temp(self, b: bytearray) -> bytearray:
        self._temps.append(b)
        return b

    def wipe(self) -> None:
        """Zeroes the copies this argument made."""
        for t in self._temps:
            Secret._adopt(t).wipe()
        self._temps.clear()

    def pointer(self) -> InBytes:
        """What to pass for the ``const uint8_t *`` / ``const char *`` parameter."""
        if isinstance(self._buf, bytes):
            return self._buf
        return (ctypes.c_char * len(self._buf)).from_buffer(self._buf)

    def __enter__(self) -> Tuple[InBytes, int]:
        return self.pointer(), self._len

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.wipe()


def optional_secret_arg(value: Optional[SecretLike], what: str) -> Optional[SecretIn]:
    """An optional ``const char *`` secret (proxy, session metadata): None or "" is unset."""
    if value is None or (isinstance(value, (str, bytes, bytearray, Secret)) and len(value) == 0):
        return None
    return SecretIn(value, what, c_string=True)


_UNITS = "use a number and a unit: 90s, 15m, 8h, 7d, 2w, or a sum such as 1h30m"
#: Milliseconds per unit, as the command line's ``parse_duration`` (cli/src/duration.rs)
#: spells them: the same text means the same time in a script and in a shell.
_MS_PER: Dict[str, int] = {
    "ms": 1,
    **dict.fromkeys(("s", "sec", "secs"), 1_000),
    **dict.fromkeys(("m", "min", "mins"), 60_000),
    **dict.fromkeys(("h", "hr", "hrs"), 3_600_000),
    **dict.fromkeys(("d", "day", "days"), 86_400_000),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86_400_000),
}
#: One ``<digits><unit>`` term; ASCII only, as the command line reads them.
_TERM = re.compile(r"([0-9]*)([A-Za-z]*)")


def parse_duration(text: str, what: str = "duration") -> int:
    """A duration as the command line reads one, in milliseconds: one or more
    ``<digits><unit>`` terms with units ms, s, m, h, d, w (and their long forms:
    sec, min, hr, day, week, plurals too), such as ``"90m"``, ``"1h30m"``, ``"2w"``.
    Surrounding whitespace is ignored. A bare number, a sign, a fraction, an
    unknown unit and more than 2**64 - 1 ms raise :class:`~farmvault.InvalidArgument`
    naming ``text``."""
    s = text.strip()
    if not s:
        raise InvalidArgument(f"{what} is an empty duration; {_UNITS}")
    total = 0
    at = 0
    while at < len(s):
        term = _TERM.match(s, at)
        assert term is not None  # both groups may be empty: it always matches
        digits, unit = term.groups()
        if not digits:
            raise InvalidArgument(f"{what} {text!r} is not a duration; {_UNITS}")
        if not unit:
            raise InvalidArgument(f"{what} {text!r} has a number without a unit; {_UNITS}")
        ms_per = _MS_PER.get(unit)
        if ms_per is None:
            raise InvalidArgument(f"{what} {text!r}: unknown unit {unit!r}; {_UNITS}")
        # The command line sums in 128 bits and then needs the total to fit 64.
        number = int(digits)
        if number >= 2**128:
            raise InvalidArgument(f"{what} {text!r}: number too large")
        total += number * ms_per
        if total >= 2**128:
            raise InvalidArgument(f"{what} {text!r} is too long")
        at = term.end()
    if total > _U64_MAX:
        raise InvalidArgument(f"{what} {text!r} is too long")
    return total


def seconds_arg(value: object, what: str, *, allow_zero: bool) -> float:
    """A duration (``timedelta``, seconds, or text such as ``"90s"``, see
    :func:`parse_duration`) as seconds: finite, positive (or zero)."""
    if isinstance(value, timedelta):
        secs = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        secs = float(value)
    elif isinstance(value, str):
        ms = parse_duration(value, what)
        if ms == 0 and not allow_zero:
            raise InvalidArgument(f"{what} {value!r} must be longer than zero")
        return ms / 1000
    else:
        raise InvalidArgument(
            f"{what} must be a datetime.timedelta, seconds or a duration such as '8h', "
            f"not {_type_name(value)}"
        )
    if not math.isfinite(secs) or secs < 0 or (secs == 0 and not allow_zero):
        raise InvalidArgument(f"{what} must be {'zero or ' if allow_zero else ''}positive and finite")
    return secs


def ttl_arg(ttl: Optional[TTL], what: str = "ttl") -> int:
    """A TTL as the C library takes it: whole seconds (rounded up), 0 for none.

    Text is read as ``--ttl`` reads it: ``"none"`` or ``"never"`` for no expiry,
    else a non-zero duration (:func:`parse_duration`); ``"0s"`` is refused, as is
    ``0``, because an entry that is expired when written is a mistake."""
    if ttl is None:
        return 0
    if isinstance(ttl, str):
        if ttl.strip() in ("none", "never"):
            return 0
        ms = parse_duration(ttl, what)
        if ms == 0:
            raise InvalidArgument(f"{what} {ttl!r} must be longer than zero (use None or 'none' for no expiry)")
        # Whole seconds, rounded up as a float TTL is: "500ms" lives one second.
        return -(-ms // 1000)
    secs = math.ceil(seconds_arg(ttl, what, allow_zero=False))
    if secs > _U64_MAX:
        raise InvalidArgument(f"{what} is too long")
    return secs


def unix_time_arg(value: object, what: str) -> int:
    """An instant (aware ``datetime`` or Unix seconds) as whole Unix seconds, >= 1."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise InvalidArgument(f"{what} must be an aware datetime (with a tzinfo)")
        secs = value.timestamp()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        secs = float(value)
    else:
        raise InvalidArgument(f"{what} must be an aware datetime or Unix seconds, not {_type_name(value)}")
    if not math.isfinite(secs) or secs < 1 or secs > _U64_MAX:
        raise InvalidArgument(f"{what} must be after 1970-01-01T00:00:01Z")
    return int(secs)


def to_datetime(unix_secs: int) -> datetime:
    """Unix seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(unix_secs, tz=timezone.utc)
