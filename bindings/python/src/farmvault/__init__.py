"""farmvault: an embedded, encrypted, on-disk credential vault with per-entry TTLs,
for the credentials render-farm jobs need (Flow Production Tracking / ShotGrid
script keys and session tokens).

This package talks to the farmvault shared library through ``ctypes`` only::

    import farmvault, shotgun_api3

    with farmvault.Vault.open("/secure/vault", key_file="/secure/farm.key") as vault:
        vault.put_credential(
            "sg/render_farm",
            farmvault.ScriptKey("https://mysite.shotgrid.autodesk.com", "render_farm", api_key),
            ttl=8 * 3600,
        )
        sg = shotgun_api3.Shotgun(**vault.shotgun_kwargs("sg/render_farm"))

A farm job reads through a job grant (``farmvault grant`` on the submit side)
the same way, opened from whatever its environment names::

    source = farmvault.from_env()   # FARMVAULT_GRANT_FILE + FARMVAULT_GRANT_TOKEN, ...
    sg = shotgun_api3.Shotgun(**source.shotgun_kwargs("sg/render_farm"))

Either reads like a mapping (``source["name"]``, ``"name" in source``, ``for
name in source``), and TTLs may be written as on the command line (``ttl="8h"``).

The library is found on first use (see :func:`load_library`). Errors are
subclasses of :class:`Error`, one per C result code; a bad argument raises
:class:`InvalidArgument` before anything reaches C. The Toolkit formats and
adapter are in :mod:`farmvault.sgtk`; a backend of the ``keyring`` package is in
:mod:`farmvault.keyring` (imported only by keyring, or by you).
"""

from __future__ import annotations

from typing import Optional

from . import _ffi
from ._credentials import (
    Credential,
    FlowToken,
    Kind,
    LoginPassword,
    Opaque,
    ScriptKey,
    SessionToken,
    ShotgunKwargs,
    TankContext,
)
from ._errors import (
    AgentError,
    AgentLocked,
    AlreadyExists,
    Corrupt,
    Error,
    Expired,
    Forked,
    HostNotAllowed,
    InvalidArgument,
    IoError,
    LibraryError,
    Locked,
    NoVault,
    NotFound,
    Panic,
    ReadOnly,
    Tampered,
    WrongKey,
)
from ._ffi import LibraryInfo
from ._grant import Grant, from_env
from ._loader import EXPECTED_ABI, PathArg
from ._secret import Secret, SecretLike
from ._admin import IssuedGrant
from ._vault import Batch, Entry, EntryInfo, Kdf, ReadCredentials, Vault, generate_key_file

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "EXPECTED_ABI",
    "load_library",
    "LibraryInfo",
    "Vault",
    "Grant",
    "ReadCredentials",
    "from_env",
    "Batch",
    "Entry",
    "IssuedGrant",
    "EntryInfo",
    "Kdf",
    "generate_key_file",
    "Kind",
    "Credential",
    "ScriptKey",
    "SessionToken",
    "LoginPassword",
    "Opaque",
    "TankContext",
    "FlowToken",
    "ShotgunKwargs",
    "Secret",
    "SecretLike",
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
]


def load_library(path: Optional[PathArg] = None) -> LibraryInfo:
    """Loads the farmvault shared library and returns where from and which version.

    Called implicitly on first use. Call it first to choose the library: ``path``,
    else ``$FARMVAULT_LIB``, else a copy in the package's ``_lib/`` folder, else the
    checkout's ``target/release`` then ``target/debug``. A library whose ABI is not
    :data:`EXPECTED_ABI` is refused; :class:`LibraryError` lists every path tried.
    """
    return _ffi.load(path)
