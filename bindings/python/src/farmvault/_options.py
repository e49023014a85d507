"""``_Options``: an owned ``fv_options`` built from keyword arguments, and the
argument checks every open shares (the unlock, the Argon2id costs)."""

from __future__ import annotations

import ctypes
from datetime import datetime
from typing import NamedTuple, Optional, Tuple, Union

from . import _ffi
from ._args import TTL, path_arg, seconds_arg, unix_time_arg
from ._errors import InvalidArgument
from ._loader import PathArg
from ._secret import SecretLike


class Kdf(NamedTuple):
    """Argon2id costs of new passphrase slots (``fv_options_set_kdf``). The default
    (64 MiB, 3 passes, 1 lane) is the floor for real vaults; anything lower is for
    tests: ``Kdf(8, 1, 1)`` makes a vault in microseconds."""

    memory_kib: int
    iterations: int
    lanes: int


def _unlock_args(passphrase: Optional[SecretLike], key_file: Optional[PathArg]) -> None:
    if (passphrase is None) == (key_file is None):
        raise InvalidArgument("give exactly one of passphrase= or key_file=")


class _Options:
    """An owned ``fv_options`` built from keyword arguments."""

    def __init__(
        self,
        kdf: Optional[Union[Kdf, Tuple[int, int, int]]],
        lock_timeout: Optional[TTL],
        fixed_time: Optional[Union[datetime, int, float]],
        *,
        state_dir: Optional[PathArg] = None,
        allow_insecure_permissions: bool = False,
        allow_network_filesystem: bool = False,
        use_agent: bool = True,
        issuers: Optional[str] = None,
    ) -> None:
        self.kdf: Optional[Tuple[int, int, int]] = None
        if kdf is not None:
            if (
                not isinstance(kdf, tuple)
                or len(kdf) != 3
                or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**32 for x in kdf)
            ):
                raise InvalidArgument("kdf must be farmvault.Kdf(memory_kib, iterations, lanes) of unsigned 32-bit ints")
            self.kdf = (kdf[0], kdf[1], kdf[2])
        self.lock_ms: Optional[int] = None
        if lock_timeout is not None:
            ms = round(seconds_arg(lock_timeout, "lock_timeout", allow_zero=True) * 1000)
            if ms >= 2**64:
                raise InvalidArgument("lock_timeout is too long")
            self.lock_ms = ms
        self.fixed: Optional[int] = None
        if fixed_time is not None:
            self.fixed = unix_time_arg(fixed_time, "fixed_time")
        self.state_dir = None if state_dir is None else path_arg(state_dir, "state_dir")
        if not isinstance(allow_insecure_permissions, bool):
            raise InvalidArgument("allow_insecure_permissions must be True or False")
        self.insecure = allow_insecure_permissions
        if not isinstance(allow_network_filesystem, bool):
            raise InvalidArgument("allow_network_filesystem must be True or False")
        self.network = allow_network_filesystem
        if not isinstance(use_agent, bool):
            raise InvalidArgument("use_agent must be True or False")
        self.direct_only = not use_agent
        self.issuers = None if issuers is None else issuers.encode("utf-8")
        self.ptr = ctypes.POINTER(_ffi.fv_options)()

    def __enter__(self) -> Optional[_ffi.OptionsP]:
        settings = (self.kdf, self.lock_ms, self.fixed, self.state_dir, self.issuers)
        if all(x is None for x in settings) and not (self.insecure or self.network or self.direct_only):
            return None
        _ffi.fv_options_new(ctypes.byref(self.ptr))
        try:
            if self.kdf is not None:
                _ffi.fv_options_set_kdf(self.ptr, *self.kdf)
            if self.lock_ms is not None:
                _ffi.fv_options_set_lock_timeout_ms(self.ptr, self.lock_ms)
            if self.fixed is not None:
                _ffi.fv_options_set_fixed_time(self.ptr, self.fixed)
            if self.state_dir is not None:
                _ffi.fv_options_set_state_dir(self.ptr, self.state_dir)
            if self.insecure:
                _ffi.fv_options_set_allow_insecure_permissions(self.ptr, True)
            if self.network:
                _ffi.fv_options_set_allow_network_filesystem(self.ptr, True)
            if self.direct_only:
                _ffi.fv_options_set_use_agent(self.ptr, False)
            if self.issuers is not None:
                _ffi.fv_options_set_issuers(self.ptr, self.issuers)
        except BaseException:
            self.__exit__()
            raise
        return self.ptr

    def __exit__(self, *exc: object) -> None:
        if self.ptr:
            _ffi.fv_options_free(self.ptr)
            self.ptr = ctypes.POINTER(_ffi.fv_options)()
