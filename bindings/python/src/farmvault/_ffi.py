# mypy: disable-error-code="empty-body"
# (the stubs below are declarations: their bodies are never run)
"""Every C function of include/farmvault.h that Python calls, declared once.

Each declaration is the C prototype as a comment (``tests/test_ffi_decls.py`` checks
it against the committed header), then a typed Python stub whose decorator records
``argtypes``/``restype`` and the ``errcheck`` that turns a failure into an exception:

- functions returning ``fv_result`` raise the :mod:`farmvault` exception for the
  code, with ``fv_last_error_message()`` as its text, and return ``None``;
- functions that return ``NULL`` or ``FV_KIND_INVALID`` on failure raise
  :class:`~farmvault.InvalidArgument` with the message;
- the rest (lengths, times, frees) cannot fail in a way that needs checking.

The library is loaded on the first call of any stub (or by :func:`load`). Loading
replaces every stub in this module's namespace with the bound ctypes function, so a
call costs nothing more than ctypes itself. Callers must therefore look functions up
through the module at call time (``_ffi.fv_vault_get(...)``), never import them by
name.

ctypes calls release the GIL and ``errcheck`` runs on the calling thread right after
the call, so the thread-local last-error message read there is the call's own.

The two calls of a get are also bound a second time without argtypes
(``unchecked_vault_get_view``, ``unchecked_entry_free``): see the comment above them.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from ctypes import POINTER, c_bool, c_char_p, c_size_t, c_uint16, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, NoReturn, Optional, Tuple, TypeVar, cast

from . import _loader
from ._errors import InvalidArgument, LibraryError, error_for_code

if TYPE_CHECKING:
    from ctypes import _CArgObject, _Pointer

__all__ = ["load", "LibraryInfo", "library_info"]


# ---------------------------------------------------------------------------------
# Opaque handle types: distinct ctypes types, so passing an entry where a vault is
# expected fails in ctypes before reaching C.
# ---------------------------------------------------------------------------------


class fv_vault(ctypes.Structure):
    """``fv_vault`` (opaque)."""


class fv_options(ctypes.Structure):
    """``fv_options`` (opaque)."""


class fv_credential(ctypes.Structure):
    """``fv_credential`` (opaque)."""


class fv_secret(ctypes.Structure):
    """``fv_secret`` (opaque)."""


class fv_entry(ctypes.Structure):
    """``fv_entry`` (opaque)."""


class fv_list(ctypes.Structure):
    """``fv_list`` (opaque)."""


class fv_batch(ctypes.Structure):
    """``fv_batch`` (opaque)."""


class fv_bytes(ctypes.Structure):
    """``fv_bytes``: ``len`` bytes at ``data`` (NULL for no value), borrowed from an entry."""

    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class fv_entry_view(ctypes.Structure):
    """``fv_entry_view``: everything an entry holds, borrowed from it
    (``fv_entry_get_view``, ``fv_vault_get_view``). ``VIEW_LAYOUT`` reads it in one
    ``struct.unpack_from``."""

    _fields_ = [
        ("size", c_size_t),
        ("kind", c_uint32),
        ("has_credential", c_bool),
        ("created", c_uint64),
        ("updated", c_uint64),
        ("expires", c_uint64),
        ("name", fv_bytes),
        ("host", fv_bytes),
        ("login", fv_bytes),
        ("script_name", fv_bytes),
        ("api_key", fv_bytes),
        ("session_token", fv_bytes),
        ("session_metadata", fv_bytes),
        ("http_proxy", fv_bytes),
        ("password", fv_bytes),
        ("secret", fv_bytes),
    ]


#: ``sizeof(fv_entry_view)`` of this package: what it passes as ``view_size``.
VIEW_SIZE = ctypes.sizeof(fv_entry_view)
#: The ``struct`` layout of ``fv_entry_view`` (native alignment, like the C struct):
#: size, kind, has_credential, created, updated, expires, then a (data, len) pair
#: for each of name, host, login, script_name, api_key, session_token,
#: session_metadata, http_proxy, password, secret.
VIEW_LAYOUT = "@NI?QQQ" + "PN" * 10
assert struct.calcsize(VIEW_LAYOUT) == VIEW_SIZE, "fv_entry_view and VIEW_LAYOUT disagree"


VAULT = POINTER(fv_vault)
OPTIONS = POINTER(fv_options)
CREDENTIAL = POINTER(fv_credential)
SECRET = POINTER(fv_secret)
ENTRY = POINTER(fv_entry)
LIST = POINTER(fv_list)
BATCH = POINTER(fv_batch)

#: ``FV_KIND_INVALID``: what the kind functions return for a NULL or freed handle.
FV_KIND_INVALID = 0xFFFFFFFF
#: ``FV_ROTATE_DROP_OTHER_SLOTS``.
FV_ROTATE_DROP_OTHER_SLOTS = 1
#: ``FV_SGTK_REMOVE_FROM_CACHE``.
FV_SGTK_REMOVE_FROM_CACHE = 1

if TYPE_CHECKING:
    VaultP = _Pointer[fv_vault]
    OptionsP = _Pointer[fv_options]
    CredentialP = _Pointer[fv_credential]
    SecretP = _Pointer[fv_secret]
    EntryP = _Pointer[fv_entry]
    ListP = _Pointer[fv_list]
    BatchP = _Pointer[fv_batch]
    #: An out-parameter: ``ctypes.byref(local)``.
    Out = _CArgObject
    #: Bytes for a ``const uint8_t *``: ``bytes`` or a ctypes view of a ``bytearray``.
    InBytes = bytes | ctypes.Array[ctypes.c_char]
    #: An ``fv_entry **`` out-parameter: ``byref(local)``, or the local itself (ctypes
    #: passes an instance of the pointed-to type by reference).
    EntryOut = _CArgObject | EntryP
    #: An ``fv_entry_view *`` out-parameter: ``byref(view)`` or the view itself.
    ViewOut = _CArgObject | fv_entry_view


# ---------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decl:
    name: str
    restype: Any
    argtypes: Tuple[Any, ...]
    errcheck: Optional[Callable[..., Any]]


_DECLS: List[_Decl] = []
_F = TypeVar("_F", bound=Callable[..., Any])


def _last_error() -> str:
    raw = fv_last_error_message()
    return raw.decode("utf-8", "replace") if raw else ""


def _check_result(result: int, func: Any, args: Any) -> None:
    if result != 0:
        raise error_for_code(result, _last_error())
    return None


def _check_not_null(result: Any, func: Any, args: Any) -> Any:
    if not result:
        raise InvalidArgument(_last_error() or f"{func.__name__} failed")
    return result


def _check_kind(result: int, func: Any, args: Any) -> int:
    if result == FV_KIND_INVALID:
        raise InvalidArgument(_last_error() or f"{func.__name__} failed")
    return result


def _declare(restype: Any, *argtypes: Any, errcheck: Optional[Callable[..., Any]] = None) -> Callable[[_F], _F]:
    def register(stub: _F) -> _F:
        name = stub.__name__
        _DECLS.append(_Decl(name, restype, argtypes, errcheck))

        def first_call(*args: Any) -> Any:
            load()
            return globals()[name](*args)

        first_call.__name__ = name
        first_call.__doc__ = stub.__doc__
        return cast(_F, first_call)

    return register


def _result(*argtypes: Any) -> Callable[[_F], _F]:
    """A function returning ``fv_result``: raises on anything but ``FV_OK``."""
    return _declare(c_uint32, *argtypes, errcheck=_check_result)


# -- results, versions, limits ------------------------------------------------------

# const char *fv_last_error_message(void);
@_declare(c_char_p)
def fv_last_error_message() -> Optional[bytes]: ...


# const char *fv_result_name(uint32_t code);
@_declare(c_char_p, c_uint32)
def fv_result_name(code: int) -> bytes: ...


# const char *fv_version(void);
@_declare(c_char_p)
def fv_version() -> bytes: ...


# uint32_t fv_version_number(void);
@_declare(c_uint32)
def fv_version_number() -> int: ...


# uint32_t fv_abi_version(void);
@_declare(c_uint32)
def fv_abi_version() -> int: ...


# size_t fv_max_name_len(void);
@_declare(c_size_t)
def fv_max_name_len() -> int: ...


# size_t fv_max_secret_len(void);
@_declare(c_size_t)
def fv_max_secret_len() -> int: ...


# size_t fv_max_path_len(void);
@_declare(c_size_t)
def fv_max_path_len() -> int: ...


# size_t fv_max_text_len(void);
@_declare(c_size_t)
def fv_max_text_len() -> int: ...


# size_t fv_key_file_len(void);
@_declare(c_size_t)
def fv_key_file_len() -> int: ...


# -- options ------------------------------------------------------------------------

# fv_result fv_options_new(fv_options **out);
@_result(POINTER(OPTIONS))
def fv_options_new(out: Out) -> None: ...


# void fv_options_free(fv_options *opts);
@_declare(None, OPTIONS)
def fv_options_free(opts: OptionsP) -> None: ...


# fv_result fv_options_set_kdf(fv_options *opts, uint32_t m_kib, uint32_t t, uint32_t p);
@_result(OPTIONS, c_uint32, c_uint32, c_uint32)
def fv_options_set_kdf(opts: OptionsP, m_kib: int, t: int, p: int) -> None: ...


# fv_result fv_options_set_lock_timeout_ms(fv_options *opts, uint64_t timeout_ms);
@_result(OPTIONS, c_uint64)
def fv_options_set_lock_timeout_ms(opts: OptionsP, timeout_ms: int) -> None: ...


# fv_result fv_options_set_fixed_time(fv_options *opts, uint64_t unix_secs);
@_result(OPTIONS, c_uint64)
def fv_options_set_fixed_time(opts: OptionsP, unix_secs: int) -> None: ...


# fv_result fv_options_set_state_dir(fv_options *opts, const char *dir);
@_result(OPTIONS, c_char_p)
def fv_options_set_state_dir(opts: OptionsP, dir: Optional[bytes]) -> None: ...


# fv_result fv_options_set_issuers(fv_options *opts, const char *keys);
@_result(OPTIONS, c_char_p)
def fv_options_set_issuers(opts: OptionsP, keys: Optional[bytes]) -> None: ...


# fv_result fv_options_set_hostname(fv_options *opts, const char *hostname);
@_result(OPTIONS, c_char_p)
def fv_options_set_hostname(opts: OptionsP, hostname: Optional[bytes]) -> None: ...


# fv_result fv_options_set_allow_insecure_permissions(fv_options *opts, bool allow);
@_result(OPTIONS, c_bool)
def fv_options_set_allow_insecure_permissions(opts: OptionsP, allow: bool) -> None: ...


# fv_result fv_options_set_allow_network_filesystem(fv_options *opts, bool allow);
@_result(OPTIONS, c_bool)
def fv_options_set_allow_network_filesystem(opts: OptionsP, allow: bool) -> None: ...


# fv_result fv_options_set_use_agent(fv_options *opts, bool use_agent);
@_result(OPTIONS, c_bool)
def fv_options_set_use_agent(opts: OptionsP, use_agent: bool) -> None: ...


# -- vaults -------------------------------------------------------------------------

# fv_result fv_vault_create_passphrase(const char *path, const uint8_t *passphrase, size_t passphrase_len, const fv_options *opts, fv_vault **out);
@_result(c_char_p, c_void_p, c_size_t, OPTIONS, POINTER(VAULT))
def fv_vault_create_passphrase(
    path: bytes, passphrase: InBytes, passphrase_len: int, opts: Optional[OptionsP], out: Out
) -> None: ...


# fv_result fv_vault_create_key_file(const char *path, const char *key_file_path, const fv_options *opts, fv_vault **out);
@_result(c_char_p, c_char_p, OPTIONS, POINTER(VAULT))
def fv_vault_create_key_file(
    path: bytes, key_file_path: bytes, opts: Optional[OptionsP], out: Out
) -> None: ...


# fv_result fv_vault_open_passphrase(const char *path, const uint8_t *passphrase, size_t passphrase_len, const fv_options *opts, fv_vault **out);
@_result(c_char_p, c_void_p, c_size_t, OPTIONS, POINTER(VAULT))
def fv_vault_open_passphrase(
    path: bytes, passphrase: InBytes, passphrase_len: int, opts: Optional[OptionsP], out: Out
) -> None: ...


# fv_result fv_vault_open_key_file(const char *path, const char *key_file_path, const fv_options *opts, fv_vault **out);
@_result(c_char_p, c_char_p, OPTIONS, POINTER(VAULT))
def fv_vault_open_key_file(
    path: bytes, key_file_path: bytes, opts: Optional[OptionsP], out: Out
) -> None: ...


# fv_result fv_vault_connect(const char *socket_path, fv_vault **out);
@_result(c_char_p, POINTER(VAULT))
def fv_vault_connect(socket_path: Optional[bytes], out: Out) -> None: ...


# fv_result fv_vault_access(const fv_vault *vault, uint32_t *access_out);
@_result(VAULT, POINTER(c_uint32))
def fv_vault_access(vault: VaultP, access_out: Out) -> None: ...


# void fv_vault_close(fv_vault *vault);
@_declare(None, VAULT)
def fv_vault_close(vault: VaultP) -> None: ...


# fv_result fv_vault_upgraded_from(const fv_vault *vault, uint16_t *version_out);
@_result(VAULT, POINTER(c_uint16))
def fv_vault_upgraded_from(vault: VaultP, version_out: Out) -> None: ...


# fv_result fv_vault_clock_behind(const fv_vault *vault, uint64_t *secs_out);
@_result(VAULT, POINTER(c_uint64))
def fv_vault_clock_behind(vault: VaultP, secs_out: Out) -> None: ...


# fv_result fv_key_file_generate(const char *path);
@_result(c_char_p)
def fv_key_file_generate(path: bytes) -> None: ...


# fv_result fv_vault_grant(const fv_vault *vault, const char *out_path, const char *label, const char *entries, uint64_t claim_within_secs, uint64_t use_for_secs, const char *hosts, const char *recipients, uint32_t flags, fv_secret **token_out, uint8_t (*id_out)[FV_GRANT_ID_LEN]);
@_result(VAULT, c_char_p, c_char_p, c_char_p, c_uint64, c_uint64, c_char_p, c_char_p, c_uint32, POINTER(SECRET), c_void_p)
def fv_vault_grant(
    vault: VaultP,
    out_path: bytes,
    label: bytes,
    entries: bytes,
    claim_within_secs: int,
    use_for_secs: int,
    hosts: Optional[bytes],
    recipients: Optional[bytes],
    flags: int,
    token_out: Optional[Out],
    id_out: Optional[Out],
) -> None: ...


# fv_result fv_vault_backup(const fv_vault *vault, const char *dest_path, uint64_t *entries_out);
@_result(VAULT, c_char_p, c_void_p)
def fv_vault_backup(vault: VaultP, dest_path: bytes, entries_out: Optional[Out]) -> None: ...


# fv_result fv_vault_verify_backup(const fv_vault *vault, const uint8_t *passphrase, size_t passphrase_len, const char *key_file_path, uint64_t *entries_out);
@_result(VAULT, c_void_p, c_size_t, c_char_p, c_void_p)
def fv_vault_verify_backup(
    vault: VaultP, passphrase: Optional[InBytes], passphrase_len: int, key_file_path: Optional[bytes], entries_out: Optional[Out]
) -> None: ...


# fv_result fv_vault_repair(const char *path, const uint8_t *passphrase, size_t passphrase_len, const char *key_file_path, bool force, const fv_options *opts, fv_vault **out, bool *repaired_out);
@_result(c_char_p, c_void_p, c_size_t, c_char_p, c_bool, OPTIONS, POINTER(VAULT), c_void_p)
def fv_vault_repair(
    path: bytes,
    passphrase: Optional[InBytes],
    passphrase_len: int,
    key_file_path: Optional[bytes],
    force: bool,
    opts: Optional[OptionsP],
    out: Out,
    repaired_out: Optional[Out],
) -> None: ...


# fv_result fv_vault_restore(const char *path, const char *backup_path, const uint8_t *passphrase, size_t passphrase_len, const char *key_file_path, const fv_options *opts, fv_vault **out);
@_result(c_char_p, c_char_p, c_void_p, c_size_t, c_char_p, OPTIONS, POINTER(VAULT))
def fv_vault_restore(
    path: bytes,
    backup_path: bytes,
    passphrase: Optional[InBytes],
    passphrase_len: int,
    key_file_path: Optional[bytes],
    opts: Optional[OptionsP],
    out: Out,
) -> None: ...


#: ``fv_vault_grant`` flags.
FV_GRANT_NO_TOKEN = 1
FV_GRANT_REQUIRE_BOTH = 2


# fv_result fv_vault_put(fv_vault *vault, const char *name, const uint8_t *secret, size_t secret_len, uint64_t ttl_secs);
@_result(VAULT, c_char_p, c_void_p, c_size_t, c_uint64)
def fv_vault_put(vault: VaultP, name: bytes, secret: InBytes, secret_len: int, ttl_secs: int) -> None: ...


# fv_result fv_vault_put_credential(fv_vault *vault, const char *name, const fv_credential *credential, uint64_t ttl_secs);
@_result(VAULT, c_char_p, CREDENTIAL, c_uint64)
def fv_vault_put_credential(vault: VaultP, name: bytes, credential: CredentialP, ttl_secs: int) -> None: ...


# fv_result fv_vault_get(const fv_vault *vault, const char *name, fv_entry **out);
@_result(VAULT, c_char_p, POINTER(ENTRY))
def fv_vault_get(vault: VaultP, name: bytes, out: Out) -> None: ...


# fv_result fv_vault_get_view(const fv_vault *vault, const char *name, fv_entry **entry_out, fv_entry_view *view_out, size_t view_size);
@_result(VAULT, c_char_p, POINTER(ENTRY), POINTER(fv_entry_view), c_size_t)
def fv_vault_get_view(
    vault: VaultP, name: bytes, entry_out: EntryOut, view_out: ViewOut, view_size: int
) -> None: ...


# fv_result fv_vault_metadata(const fv_vault *vault, const char *name, fv_entry **out);
@_result(VAULT, c_char_p, POINTER(ENTRY))
def fv_vault_metadata(vault: VaultP, name: bytes, out: Out) -> None: ...


# fv_result fv_vault_list(const fv_vault *vault, const char *prefix, fv_list **out);
@_result(VAULT, c_char_p, POINTER(LIST))
def fv_vault_list(vault: VaultP, prefix: Optional[bytes], out: Out) -> None: ...


# fv_result fv_vault_delete(fv_vault *vault, const char *name);
@_result(VAULT, c_char_p)
def fv_vault_delete(vault: VaultP, name: bytes) -> None: ...


# fv_result fv_vault_renew(fv_vault *vault, const char *name, uint64_t ttl_secs);
@_result(VAULT, c_char_p, c_uint64)
def fv_vault_renew(vault: VaultP, name: bytes, ttl_secs: int) -> None: ...


# fv_result fv_vault_purge_expired(fv_vault *vault, uint64_t *removed_out);
@_result(VAULT, POINTER(c_uint64))
def fv_vault_purge_expired(vault: VaultP, removed_out: Out) -> None: ...


# fv_result fv_vault_compact(fv_vault *vault, uint64_t *bytes_after_out);
@_result(VAULT, POINTER(c_uint64))
def fv_vault_compact(vault: VaultP, bytes_after_out: Out) -> None: ...


# fv_result fv_vault_apply(fv_vault *vault, const fv_batch *batch);
@_result(VAULT, BATCH)
def fv_vault_apply(vault: VaultP, batch: BatchP) -> None: ...


# fv_result fv_vault_change_passphrase(fv_vault *vault, const uint8_t *passphrase, size_t passphrase_len);
@_result(VAULT, c_void_p, c_size_t)
def fv_vault_change_passphrase(vault: VaultP, passphrase: InBytes, passphrase_len: int) -> None: ...


# fv_result fv_vault_add_key_file(fv_vault *vault, const char *key_file_path);
@_result(VAULT, c_char_p)
def fv_vault_add_key_file(vault: VaultP, key_file_path: bytes) -> None: ...


# fv_result fv_vault_remove_key_file(fv_vault *vault, const char *key_file_path);
@_result(VAULT, c_char_p)
def fv_vault_remove_key_file(vault: VaultP, key_file_path: bytes) -> None: ...


# fv_result fv_vault_rotate(fv_vault *vault, uint32_t flags, uint64_t *reencrypted_out);
@_result(VAULT, c_uint32, POINTER(c_uint64))
def fv_vault_rotate(vault: VaultP, flags: int, reencrypted_out: Out) -> None: ...


# -- job grants ----------------------------------------------------------------------

# fv_result fv_grant_open(const char *bundle_path, const char *token, const char *identity_path, const fv_options *opts, fv_vault **out);
@_result(c_char_p, c_void_p, c_char_p, OPTIONS, POINTER(VAULT))
def fv_grant_open(
    bundle_path: bytes, token: Optional[InBytes], identity_path: Optional[bytes], opts: Optional[OptionsP], out: Out
) -> None: ...


# fv_result fv_grant_use_window(const fv_vault *grant, uint64_t *first_opened_out, uint64_t *use_until_out);
@_result(VAULT, POINTER(c_uint64), POINTER(c_uint64))
def fv_grant_use_window(grant: VaultP, first_opened_out: Out, use_until_out: Out) -> None: ...


# -- credentials --------------------------------------------------------------------

# fv_result fv_credential_new_opaque(const uint8_t *secret, size_t secret_len, fv_credential **out);
@_result(c_void_p, c_size_t, POINTER(CREDENTIAL))
def fv_credential_new_opaque(secret: InBytes, secret_len: int, out: Out) -> None: ...


# fv_result fv_credential_new_script_key(const char *host, const char *script_name, const uint8_t *api_key, size_t api_key_len, const char *http_proxy, fv_credential **out);
@_result(c_char_p, c_char_p, c_void_p, c_size_t, c_void_p, POINTER(CREDENTIAL))
def fv_credential_new_script_key(
    host: bytes,
    script_name: bytes,
    api_key: InBytes,
    api_key_len: int,
    http_proxy: Optional[InBytes],
    out: Out,
) -> None: ...


# fv_result fv_credential_new_session_token(const char *host, const char *login, const uint8_t *session_token, size_t session_token_len, const char *http_proxy, const char *session_metadata, fv_credential **out);
@_result(c_char_p, c_char_p, c_void_p, c_size_t, c_void_p, c_void_p, POINTER(CREDENTIAL))
def fv_credential_new_session_token(
    host: bytes,
    login: bytes,
    session_token: InBytes,
    session_token_len: int,
    http_proxy: Optional[InBytes],
    session_metadata: Optional[InBytes],
    out: Out,
) -> None: ...


# fv_result fv_credential_new_login_password(const char *host, const char *login, const uint8_t *password, size_t password_len, const char *http_proxy, fv_credential **out);
@_result(c_char_p, c_char_p, c_void_p, c_size_t, c_void_p, POINTER(CREDENTIAL))
def fv_credential_new_login_password(
    host: bytes,
    login: bytes,
    password: InBytes,
    password_len: int,
    http_proxy: Optional[InBytes],
    out: Out,
) -> None: ...


# fv_result fv_credential_new_flow_token(const char *app_id, const char *profile, const uint8_t *access_token, size_t access_token_len, const uint8_t *refresh_token, size_t refresh_token_len, fv_credential **out);
@_result(c_char_p, c_char_p, c_void_p, c_size_t, c_void_p, c_size_t, POINTER(CREDENTIAL))
def fv_credential_new_flow_token(
    app_id: bytes,
    profile: bytes,
    access_token: InBytes,
    access_token_len: int,
    refresh_token: Optional[InBytes],
    refresh_token_len: int,
    out: Out,
) -> None: ...


# uint32_t fv_credential_kind(const fv_credential *credential);
@_declare(c_uint32, CREDENTIAL, errcheck=_check_kind)
def fv_credential_kind(credential: CredentialP) -> int: ...


# fv_result fv_credential_field(const fv_credential *credential, uint32_t field, fv_secret **out);
@_result(CREDENTIAL, c_uint32, POINTER(SECRET))
def fv_credential_field(credential: CredentialP, field: int, out: Out) -> None: ...


# void fv_credential_free(fv_credential *credential);
@_declare(None, CREDENTIAL)
def fv_credential_free(credential: CredentialP) -> None: ...


# -- secrets ------------------------------------------------------------------------

# const uint8_t *fv_secret_data(const fv_secret *secret);
@_declare(c_void_p, SECRET, errcheck=_check_not_null)
def fv_secret_data(secret: SecretP) -> int: ...


# size_t fv_secret_len(const fv_secret *secret);
@_declare(c_size_t, SECRET)
def fv_secret_len(secret: SecretP) -> int: ...


# void fv_secret_free(fv_secret *secret);
@_declare(None, SECRET)
def fv_secret_free(secret: SecretP) -> None: ...


# void fv_wipe(void *ptr, size_t len);
@_declare(None, c_void_p, c_size_t)
def fv_wipe(ptr: Any, len: int) -> None: ...


# -- entries and lists --------------------------------------------------------------

# uint32_t fv_entry_kind(const fv_entry *entry);
@_declare(c_uint32, ENTRY, errcheck=_check_kind)
def fv_entry_kind(entry: EntryP) -> int: ...


# const char *fv_entry_name(const fv_entry *entry);
@_declare(c_char_p, ENTRY, errcheck=_check_not_null)
def fv_entry_name(entry: EntryP) -> bytes: ...


# const char *fv_entry_host(const fv_entry *entry);
@_declare(c_char_p, ENTRY)
def fv_entry_host(entry: EntryP) -> Optional[bytes]: ...


# uint64_t fv_entry_created(const fv_entry *entry);
@_declare(c_uint64, ENTRY)
def fv_entry_created(entry: EntryP) -> int: ...


# uint64_t fv_entry_updated(const fv_entry *entry);
@_declare(c_uint64, ENTRY)
def fv_entry_updated(entry: EntryP) -> int: ...


# uint64_t fv_entry_expires(const fv_entry *entry);
@_declare(c_uint64, ENTRY)
def fv_entry_expires(entry: EntryP) -> int: ...


# bool fv_entry_has_credential(const fv_entry *entry);
@_declare(c_bool, ENTRY)
def fv_entry_has_credential(entry: EntryP) -> bool: ...


# fv_result fv_entry_field(const fv_entry *entry, uint32_t field, fv_secret **out);
@_result(ENTRY, c_uint32, POINTER(SECRET))
def fv_entry_field(entry: EntryP, field: int, out: Out) -> None: ...


# fv_result fv_entry_credential(const fv_entry *entry, fv_credential **out);
@_result(ENTRY, POINTER(CREDENTIAL))
def fv_entry_credential(entry: EntryP, out: Out) -> None: ...


# fv_result fv_entry_get_view(const fv_entry *entry, fv_entry_view *view_out, size_t view_size);
@_result(ENTRY, POINTER(fv_entry_view), c_size_t)
def fv_entry_get_view(entry: EntryP, view_out: ViewOut, view_size: int) -> None: ...


# void fv_entry_free(fv_entry *entry);
@_declare(None, ENTRY)
def fv_entry_free(entry: EntryP) -> None: ...


# size_t fv_list_len(const fv_list *list);
@_declare(c_size_t, LIST)
def fv_list_len(list: ListP) -> int: ...


# const fv_entry *fv_list_get(const fv_list *list, size_t index);
@_declare(ENTRY, LIST, c_size_t, errcheck=_check_not_null)
def fv_list_get(list: ListP, index: int) -> EntryP: ...


# void fv_list_free(fv_list *list);
@_declare(None, LIST)
def fv_list_free(list: ListP) -> None: ...


# -- batches ------------------------------------------------------------------------

# fv_result fv_batch_new(fv_batch **out);
@_result(POINTER(BATCH))
def fv_batch_new(out: Out) -> None: ...


# fv_result fv_batch_put(fv_batch *batch, const char *name, const uint8_t *secret, size_t secret_len, uint64_t ttl_secs);
@_result(BATCH, c_char_p, c_void_p, c_size_t, c_uint64)
def fv_batch_put(batch: BatchP, name: bytes, secret: InBytes, secret_len: int, ttl_secs: int) -> None: ...


# fv_result fv_batch_put_credential(fv_batch *batch, const char *name, const fv_credential *credential, uint64_t ttl_secs);
@_result(BATCH, c_char_p, CREDENTIAL, c_uint64)
def fv_batch_put_credential(batch: BatchP, name: bytes, credential: CredentialP, ttl_secs: int) -> None: ...


# fv_result fv_batch_delete(fv_batch *batch, const char *name);
@_result(BATCH, c_char_p)
def fv_batch_delete(batch: BatchP, name: bytes) -> None: ...


# size_t fv_batch_len(const fv_batch *batch);
@_declare(c_size_t, BATCH)
def fv_batch_len(batch: BatchP) -> int: ...


# void fv_batch_free(fv_batch *batch);
@_declare(None, BATCH)
def fv_batch_free(batch: BatchP) -> None: ...


# -- the Toolkit (tk-core) ----------------------------------------------------------

# fv_result fv_sgtk_parse(const uint8_t *text, size_t text_len, fv_credential **out);
@_result(c_void_p, c_size_t, POINTER(CREDENTIAL))
def fv_sgtk_parse(text: InBytes, text_len: int, out: Out) -> None: ...


# fv_result fv_sgtk_parse_tank_context(const uint8_t *json, size_t json_len, fv_credential **out);
@_result(c_void_p, c_size_t, POINTER(CREDENTIAL))
def fv_sgtk_parse_tank_context(json: InBytes, json_len: int, out: Out) -> None: ...


# fv_result fv_sgtk_parse_payload(const uint8_t *input, size_t input_len, fv_credential **out);
@_result(c_void_p, c_size_t, POINTER(CREDENTIAL))
def fv_sgtk_parse_payload(input: InBytes, input_len: int, out: Out) -> None: ...


# fv_result fv_sgtk_export(const fv_credential *credential, fv_secret **out);
@_result(CREDENTIAL, POINTER(SECRET))
def fv_sgtk_export(credential: CredentialP, out: Out) -> None: ...


# fv_result fv_sgtk_flow_token_expiry(const fv_credential *credential, uint64_t *expires_out);
@_result(CREDENTIAL, POINTER(c_uint64))
def fv_sgtk_flow_token_expiry(credential: CredentialP, expires_out: Out) -> None: ...


# fv_result fv_sgtk_to_json(const fv_credential *credential, fv_secret **out);
@_result(CREDENTIAL, POINTER(SECRET))
def fv_sgtk_to_json(credential: CredentialP, out: Out) -> None: ...


# fv_result fv_sgtk_to_pickle(const fv_credential *credential, fv_secret **out);
@_result(CREDENTIAL, POINTER(SECRET))
def fv_sgtk_to_pickle(credential: CredentialP, out: Out) -> None: ...


# uint64_t fv_sgtk_session_ttl_secs(void);
@_declare(c_uint64)
def fv_sgtk_session_ttl_secs() -> int: ...


# fv_result fv_sgtk_import_session_cache(fv_vault *vault, const char *shotgun_home, const char *prefix, uint64_t ttl_secs, uint32_t flags, fv_list **imported_out, uint64_t *removed_out);
@_result(VAULT, c_char_p, c_char_p, c_uint64, c_uint32, POINTER(LIST), POINTER(c_uint64))
def fv_sgtk_import_session_cache(
    vault: VaultP,
    shotgun_home: Optional[bytes],
    prefix: Optional[bytes],
    ttl_secs: int,
    flags: int,
    imported_out: Out,
    removed_out: Out,
) -> None: ...


# fv_result fv_sgtk_bring_home(fv_vault *vault, const char *shotgun_home, const char *name, bool *written_out);
@_result(VAULT, c_char_p, c_char_p, POINTER(c_bool))
def fv_sgtk_bring_home(vault: VaultP, shotgun_home: bytes, name: bytes, written_out: Out) -> None: ...


# fv_result fv_sgtk_import_flow_tokens(fv_vault *vault, const char *shotgun_home, const char *prefix, uint32_t flags, fv_list **imported_out, uint64_t *removed_out, uint64_t *skipped_out);
@_result(VAULT, c_char_p, c_char_p, c_uint32, POINTER(LIST), POINTER(c_uint64), POINTER(c_uint64))
def fv_sgtk_import_flow_tokens(
    vault: VaultP,
    shotgun_home: Optional[bytes],
    prefix: Optional[bytes],
    flags: int,
    imported_out: Out,
    removed_out: Out,
    skipped_out: Out,
) -> None: ...


# ---------------------------------------------------------------------------------
# The get path, bound a second time without argtypes
# ---------------------------------------------------------------------------------
#
# ctypes calls a Python-level converter (``argtypes[i].from_param``) for every
# argument of a declared function, then the ``errcheck`` function: for the five
# arguments of fv_vault_get_view and the one of fv_entry_free, about 0.8 us of the
# 2.4 us that the two calls of a get cost on top of the library's own work (docs/PERFORMANCE.md).
# Bound without argtypes, ctypes passes each ctypes object as what it is instead.
#
# So these two take ctypes objects only, and check nothing: ``unchecked_get_view(
# vault, name, byref(entry), byref(view), VIEW_SIZE_ARG)`` with the handle of an
# open vault (a ``POINTER(fv_vault)``), a name that ``name_arg`` accepted
# (``bytes``), ``byref`` of an ``ENTRY`` and of an ``fv_entry_view``, and returns
# the ``fv_result`` (``raise_for(result)`` turns it into the exception);
# ``unchecked_entry_free(entry)`` takes the ``ENTRY``. A wrong argument is not caught
# here (a Python int would go as a C int): only ReadCredentials.get and
# shotgun_kwargs use them, with arguments they made; everything else uses the
# declared functions.

#: ``view_size`` as the unchecked call takes it.
VIEW_SIZE_ARG = c_size_t(VIEW_SIZE)


def _unchecked(name: str) -> Callable[..., Any]:
    def first_call(*args: Any) -> Any:
        load()
        return globals()[f"unchecked_{name[3:]}"](*args)

    first_call.__name__ = f"unchecked_{name[3:]}"
    return first_call


#: fv_vault_get_view without argtypes or errcheck (see above); returns the fv_result.
unchecked_vault_get_view: Callable[..., int] = _unchecked("fv_vault_get_view")
#: fv_entry_free without argtypes (see above).
unchecked_entry_free: Callable[..., None] = _unchecked("fv_entry_free")
_UNCHECKED = ("fv_vault_get_view", "fv_entry_free")


def raise_for(result: int) -> NoReturn:
    """Raises the exception of a failed call's ``fv_result`` (what ``errcheck`` does
    for the declared functions), with this thread's last error message."""
    raise error_for_code(result, _last_error())


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryInfo:
    """The library in use: where it was loaded from and what it says it is."""

    path: Path
    version: str
    version_number: int
    abi_version: int


_lock = threading.Lock()
_info: Optional[LibraryInfo] = None


def _bind(cdll: ctypes.CDLL) -> None:
    """Sets argtypes/restype/errcheck of every declaration and replaces the stubs."""
    bound = {}
    for d in _DECLS:
        fn = getattr(cdll, d.name)
        fn.argtypes = list(d.argtypes)
        fn.restype = d.restype
        if d.errcheck is not None:
            fn.errcheck = d.errcheck
        bound[d.name] = fn
        if d.name in _UNCHECKED:
            # cdll[name] is a new function object; getattr returns a cached one.
            raw = cdll[d.name]
            raw.restype = d.restype
            bound[f"unchecked_{d.name[3:]}"] = raw
    globals().update(bound)


def _try(path: Path) -> Tuple[Optional[ctypes.CDLL], str]:
    """Loads one candidate: the library, or None and why it was refused."""
    if not path.exists():
        return None, "not found"
    try:
        cdll = ctypes.CDLL(str(path))
    except OSError as e:
        return None, f"cannot be loaded ({e})"
    try:
        abi_fn = cdll.fv_abi_version
        version_fn = cdll.fv_version
    except AttributeError:
        return None, "is not a farmvault library (no fv_abi_version)"
    abi_fn.argtypes = []
    abi_fn.restype = c_uint32
    version_fn.argtypes = []
    version_fn.restype = c_char_p
    abi = int(abi_fn())
    version = (version_fn() or b"?").decode("utf-8", "replace")
    if abi != _loader.EXPECTED_ABI:
        return None, (
            f"has ABI version {abi} (library {version}); this package needs ABI "
            f"{_loader.EXPECTED_ABI}"
        )
    missing = [d.name for d in _DECLS if not hasattr(cdll, d.name)]
    if missing:
        return None, (
            f"library {version} (ABI {abi}) lacks {', '.join(missing)}; it is older than "
            "this package: rebuild it"
        )
    return cdll, ""


def load(path: Optional[_loader.PathArg] = None) -> LibraryInfo:
    """Loads the farmvault library (once per process) and returns what was loaded.

    ``path`` (else ``$FARMVAULT_LIB``) names the library to use; without either the
    package looks in its own ``_lib/`` folder, then in the checkout's cargo target
    folder (see :mod:`farmvault._loader`). Calling it again returns the library
    already loaded; naming a different path then raises
    :class:`~farmvault.LibraryError`.
    """
    global _info
    with _lock:
        if _info is not None:
            if path is not None and Path(path).resolve() != _info.path:
                raise LibraryError(
                    f"the farmvault library is already loaded from {_info.path}; "
                    f"cannot switch to {path} in the same process"
                )
            return _info
        tried: List[Tuple[str, str]] = []
        for candidate in _loader.candidates(path):
            cdll, why = _try(candidate)
            if cdll is None:
                tried.append((str(candidate), why))
                continue
            _bind(cdll)
            info = LibraryInfo(
                path=candidate.resolve(),
                version=fv_version().decode("utf-8", "replace"),
                version_number=fv_version_number(),
                abi_version=fv_abi_version(),
            )
            _info = info
            return info
        lines = "\n".join(f"  {p}: {why}" for p, why in tried)
        raise LibraryError(
            f"cannot load the farmvault library (this package needs ABI "
            f"{_loader.EXPECTED_ABI}). Tried:\n{lines}\n"
            "Set FARMVAULT_LIB to the library's path, pass it to farmvault.load_library(), "
            "or build it with `cargo build` in the farmvault checkout.",
            tried,
        )


def library_info() -> LibraryInfo:
    """The loaded library (loading it first if needed)."""
    return load()
