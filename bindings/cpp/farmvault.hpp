// farmvault.hpp: a header-only C++17 layer over farmvault's C API (include/farmvault.h).
//
// Thin and RAII: each C handle lives in a move-only class holding a std::unique_ptr whose
// deleter is the handle's fv_*_free (or fv_vault_close); raw() lends the C pointer,
// release() gives it up. Failures throw farmvault::Error, which carries the fv_result
// and the message of fv_last_error_message(), captured at the failing call, before any
// cleanup can overwrite it. Secrets come back as farmvault::Secret, which the library
// wipes when it is destroyed; nothing here copies a secret into a std::string.
//
// Not found and expired: Vault::get() throws farmvault::NotFound or farmvault::Expired
// (both farmvault::Error, so one catch can handle every failure); Vault::try_get()
// returns std::nullopt for either, the two cases in which there is no usable credential
// under that name and the caller fetches a fresh one, and throws for everything else
// (wrong key, tampering, I/O). The same split holds for Entry::field()/try_field().
//
// Job grants: Vault::open_grant() opens a grant bundle (from `farmvault grant`) with its
// token and/or a farm identity as a read-only Vault: get/try_get/metadata/list read as
// on a vault, every write throws Error(FV_READ_ONLY). Plugin code reads the same way
// whether the farm gave the job a vault or a grant. Vault::use_window() says when the
// grant's use window started and when it ends (after which every read throws Expired).
//
// Threads: a farmvault::Vault may be used from any number of threads at once (share it
// by reference); every other object here belongs to one thread at a time.
//
// Views: accessors that return a view into an object (Secret::view/data/c_str,
// Entry::name/host, List::operator[]/begin/end) can only be called on an object that
// outlives the expression, not on a temporary: `v.get("x").name()` or
// `v.get("x").field(FV_FIELD_SECRET).view()` would leave a view of memory freed (and,
// for a secret, wiped) at the end of the statement, so they do not compile. Keep the
// object in a variable: `auto e = v.get("x"); std::string_view n = e.name();`. An
// EntryRef borrows from its List, which must outlive it: a range-for over `v.list()`
// keeps the list alive for the loop. (std::optional's `->` cannot be guarded:
// `v.try_get("x")->name()` still compiles and dangles; keep the optional in a variable.)
//
// Build: add include/ and bindings/cpp/ to the include path and link libfarmvault
// (`pkg-config --cflags --libs farmvault`, see farmvault.pc.in).
#ifndef FARMVAULT_HPP
#define FARMVAULT_HPP

#include "farmvault.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace farmvault {

// ---- errors ----

/// A failed farmvault call: its result code and message.
class Error : public std::runtime_error {
public:
    Error(fv_result code, const std::string &message)
        : std::runtime_error(message), code_(code) {}

    /// The fv_result of the failed call.
    fv_result code() const noexcept { return code_; }

    /// The code's name ("FV_WRONG_KEY").
    const char *code_name() const noexcept { return fv_result_name(code_); }

private:
    fv_result code_;
};

/// No entry of that name (FV_NOT_FOUND), or the credential has no such field.
class NotFound : public Error {
public:
    explicit NotFound(const std::string &message) : Error(FV_NOT_FOUND, message) {}
};

/// The entry's TTL ran out (FV_EXPIRED); it stays stored until a purge. Refresh the credential.
class Expired : public Error {
public:
    explicit Expired(const std::string &message) : Error(FV_EXPIRED, message) {}
};

namespace detail {

/// Throws the exception for `code`, with this thread's last error message.
[[noreturn]] inline void fail(fv_result code) {
    std::string message = fv_last_error_message();  // before anything else runs
    switch (code) {
    case FV_NOT_FOUND:
        throw NotFound(message);
    case FV_EXPIRED:
        throw Expired(message);
    default:
        throw Error(code, message);
    }
}

inline void check(fv_result code) {
    if (code != FV_OK) {
        fail(code);
    }
}

/// A pointer an accessor returned; NULL means the call failed.
template <typename T> T *checked(T *ptr) {
    if (ptr == nullptr) {
        fail(FV_INVALID_ARGUMENT);
    }
    return ptr;
}

inline const uint8_t *bytes(std::string_view data) noexcept {
    return reinterpret_cast<const uint8_t *>(data.data());
}

inline uint64_t seconds(std::chrono::seconds ttl) {
    if (ttl.count() < 0) {
        throw Error(FV_INVALID_ARGUMENT, "a TTL cannot be negative");
    }
    return static_cast<uint64_t>(ttl.count());
}

inline const char *c_str_or_null(const std::optional<std::string> &s) noexcept {
    return s ? s->c_str() : nullptr;
}

/// Owns one C handle: move-only, released with `Free` (which accepts NULL).
template <typename T, void (*Free)(T *)> class Owned {
public:
    Owned() noexcept = default;
    /// Takes ownership of `raw` (may be NULL).
    explicit Owned(T *raw) noexcept : ptr_(raw) {}

    /// The C handle, still owned by this object.
    T *raw() const noexcept { return ptr_.get(); }
    /// Gives up ownership: the caller frees the returned handle.
    T *release() noexcept { return ptr_.release(); }
    explicit operator bool() const noexcept { return ptr_ != nullptr; }

private:
    struct Deleter {
        void operator()(T *p) const noexcept { Free(p); }
    };
    std::unique_ptr<T, Deleter> ptr_;
};

}  // namespace detail

// ---- secrets ----

/// Secret bytes owned by the library, wiped (zeroed, then freed) on destruction.
/// data() is followed by a NUL byte, so text fields can be passed as C strings.
class Secret : public detail::Owned<fv_secret, fv_secret_free> {
public:
    using Owned::Owned;

    /// The bytes, valid while this Secret lives (not on a temporary: see "Views").
    const uint8_t *data() const & { return detail::checked(fv_secret_data(raw())); }
    const uint8_t *data() const && = delete;
    std::size_t size() const noexcept { return fv_secret_len(raw()); }
    /// A view of the bytes, valid while this Secret lives. Do not copy it into a
    /// std::string: that copy would not be wiped.
    std::string_view view() const & {
        return std::string_view(reinterpret_cast<const char *>(data()), size());
    }
    std::string_view view() const && = delete;
    /// NUL-terminated text, valid while this Secret lives.
    const char *c_str() const & { return reinterpret_cast<const char *>(data()); }
    const char *c_str() const && = delete;
};

// ---- typed credentials, as read back ----

/// An API script key (shotgun_api3.Shotgun(host, script_name=, api_key=)).
struct ScriptKey {
    std::string host;
    std::string script_name;
    Secret api_key;
    std::optional<Secret> http_proxy;
};

/// A user session token (the Toolkit's SessionUser).
struct SessionToken {
    std::string host;
    std::string login;
    Secret session_token;
    std::optional<Secret> http_proxy;
    std::optional<Secret> session_metadata;
};

/// A login and password.
struct LoginPassword {
    std::string host;
    std::string login;
    Secret password;
    std::optional<Secret> http_proxy;
};

/// A Flow (Autodesk Platform Services) OAuth token pair, as tk-core 0.24 keeps it.
struct FlowToken {
    std::string app_id;
    std::string profile;
    Secret access_token;
    std::optional<Secret> refresh_token;
};

namespace detail {

/// One field through a C accessor `get(handle, field, &out)`; nullopt when unset.
template <typename H, typename Get>
std::optional<Secret> try_field(const H *handle, uint32_t field, Get get) {
    fv_secret *out = nullptr;
    fv_result r = get(handle, field, &out);
    if (r == FV_NOT_FOUND) {
        return std::nullopt;
    }
    check(r);
    return Secret(out);
}

template <typename H, typename Get> Secret field(const H *handle, uint32_t field, Get get) {
    fv_secret *out = nullptr;
    check(get(handle, field, &out));
    return Secret(out);
}

/// The typed views of a handle that has fields (an entry or a credential).
template <typename Derived, typename H, fv_result (*Get)(const H *, uint32_t, fv_secret **)>
class Fields {
public:
    /// One field (FV_FIELD_*); throws NotFound when the kind has none or it is unset.
    Secret field(uint32_t f) const { return detail::field(self(), f, Get); }
    /// One field, or nullopt when the kind has none or it is unset.
    std::optional<Secret> try_field(uint32_t f) const { return detail::try_field(self(), f, Get); }

    /// The credential as a script key; throws Error(FV_INVALID_ARGUMENT) for another kind.
    ScriptKey script_key() const {
        expect(FV_KIND_SCRIPT_KEY, "a script key");
        return ScriptKey{text(FV_FIELD_HOST), text(FV_FIELD_SCRIPT_NAME), field(FV_FIELD_API_KEY),
                         try_field(FV_FIELD_HTTP_PROXY)};
    }
    /// The credential as a session token; throws Error(FV_INVALID_ARGUMENT) for another kind.
    SessionToken session_token() const {
        expect(FV_KIND_SESSION_TOKEN, "a session token");
        return SessionToken{text(FV_FIELD_HOST), text(FV_FIELD_LOGIN),
                            field(FV_FIELD_SESSION_TOKEN), try_field(FV_FIELD_HTTP_PROXY),
                            try_field(FV_FIELD_SESSION_METADATA)};
    }
    /// The credential as a login and password; throws Error(FV_INVALID_ARGUMENT) otherwise.
    LoginPassword login_password() const {
        expect(FV_KIND_LOGIN_PASSWORD, "a login and password");
        return LoginPassword{text(FV_FIELD_HOST), text(FV_FIELD_LOGIN), field(FV_FIELD_PASSWORD),
                             try_field(FV_FIELD_HTTP_PROXY)};
    }
    /// The credential as a Flow token pair; throws Error(FV_INVALID_ARGUMENT) otherwise.
    FlowToken flow_token() const {
        expect(FV_KIND_FLOW_TOKEN, "a Flow token pair");
        return FlowToken{text(FV_FIELD_APP_ID), text(FV_FIELD_PROFILE),
                         field(FV_FIELD_ACCESS_TOKEN), try_field(FV_FIELD_REFRESH_TOKEN)};
    }

private:
    const H *self() const { return static_cast<const Derived *>(this)->raw(); }
    std::string text(uint32_t f) const {
        const Secret value = field(f);
        return std::string(value.view());
    }
    void expect(uint32_t kind, const char *what) const {
        if (static_cast<const Derived *>(this)->kind() != kind) {
            throw Error(FV_INVALID_ARGUMENT, std::string("the credential is not ") + what);
        }
    }
};

}  // namespace detail

// ---- credentials, to store ----

/// A typed credential to store (Vault::put, Batch::put) or export (sgtk::to_json).
/// Its secret fields are wiped on destruction.
class Credential : public detail::Owned<fv_credential, fv_credential_free>,
                   public detail::Fields<Credential, fv_credential, fv_credential_field> {
public:
    using Owned::Owned;

    /// Opaque bytes (1 to FV_MAX_SECRET_LEN).
    static Credential new_opaque(std::string_view secret) {
        fv_credential *out = nullptr;
        detail::check(fv_credential_new_opaque(detail::bytes(secret), secret.size(), &out));
        return Credential(out);
    }
    static Credential new_script_key(const std::string &host, const std::string &script_name,
                                 std::string_view api_key,
                                 const std::optional<std::string> &http_proxy = std::nullopt) {
        fv_credential *out = nullptr;
        detail::check(fv_credential_new_script_key(host.c_str(), script_name.c_str(),
                                                   detail::bytes(api_key), api_key.size(),
                                                   detail::c_str_or_null(http_proxy), &out));
        return Credential(out);
    }
    static Credential
    new_session_token(const std::string &host, const std::string &login, std::string_view token,
                  const std::optional<std::string> &http_proxy = std::nullopt,
                  const std::optional<std::string> &session_metadata = std::nullopt) {
        fv_credential *out = nullptr;
        detail::check(fv_credential_new_session_token(
            host.c_str(), login.c_str(), detail::bytes(token), token.size(),
            detail::c_str_or_null(http_proxy), detail::c_str_or_null(session_metadata), &out));
        return Credential(out);
    }
    static Credential new_login_password(const std::string &host, const std::string &login,
                                     std::string_view password,
                                     const std::optional<std::string> &http_proxy = std::nullopt) {
        fv_credential *out = nullptr;
        detail::check(fv_credential_new_login_password(host.c_str(), login.c_str(),
                                                       detail::bytes(password), password.size(),
                                                       detail::c_str_or_null(http_proxy), &out));
        return Credential(out);
    }
    /// A Flow token pair; the refresh token is optional.
    static Credential
    new_flow_token(const std::string &app_id, const std::string &profile,
                   std::string_view access_token,
                   const std::optional<std::string_view> &refresh_token = std::nullopt) {
        fv_credential *out = nullptr;
        detail::check(fv_credential_new_flow_token(
            app_id.c_str(), profile.c_str(), detail::bytes(access_token), access_token.size(),
            refresh_token ? detail::bytes(*refresh_token) : nullptr,
            refresh_token ? refresh_token->size() : 0, &out));
        return Credential(out);
    }

    /// FV_KIND_*.
    uint32_t kind() const {
        uint32_t k = fv_credential_kind(raw());
        if (k == FV_KIND_INVALID) {
            detail::fail(FV_INVALID_ARGUMENT);
        }
        return k;
    }
};

// ---- entries ----

namespace detail {

/// The accessors of an entry, owned (Entry) or borrowed from a List (EntryRef). Those
/// returning views into the entry (name, host) are each class's own: an Entry lends
/// them only while it lives (not from a temporary), an EntryRef for as long as its List.
template <typename Derived>
class EntryAccess : public Fields<Derived, fv_entry, fv_entry_field> {
public:
    /// FV_KIND_*.
    uint32_t kind() const {
        uint32_t k = fv_entry_kind(self());
        if (k == FV_KIND_INVALID) {
            fail(FV_INVALID_ARGUMENT);
        }
        return k;
    }
    /// Unix seconds.
    uint64_t created() const { return fv_entry_created(self()); }
    uint64_t updated() const { return fv_entry_updated(self()); }
    /// Unix seconds, or nullopt when it never expires.
    std::optional<uint64_t> expires() const {
        uint64_t e = fv_entry_expires(self());
        return e ? std::optional<uint64_t>(e) : std::nullopt;
    }
    /// Whether the credential is here (Vault::get), not metadata only.
    bool has_credential() const { return fv_entry_has_credential(self()); }
    /// A copy of the credential (to store elsewhere or export).
    Credential credential() const {
        fv_credential *out = nullptr;
        check(fv_entry_credential(self(), &out));
        return Credential(out);
    }

protected:
    std::string_view name_view() const { return checked(fv_entry_name(self())); }
    std::optional<std::string_view> host_view() const {
        const char *h = fv_entry_host(self());
        return h ? std::optional<std::string_view>(h) : std::nullopt;
    }

private:
    const fv_entry *self() const { return static_cast<const Derived *>(this)->raw(); }
};

}  // namespace detail

/// An entry read from the vault (Vault::get: with its credential; Vault::metadata:
/// without). The credential is wiped on destruction.
class Entry : public detail::Owned<fv_entry, fv_entry_free>,
              public detail::EntryAccess<Entry> {
public:
    using Owned::Owned;

    /// The entry's name, valid while this Entry lives (not on a temporary: see "Views").
    std::string_view name() const & { return name_view(); }
    std::string_view name() const && = delete;
    /// The site URL of a typed credential; nullopt for opaque bytes. Valid while this
    /// Entry lives.
    std::optional<std::string_view> host() const & { return host_view(); }
    std::optional<std::string_view> host() const && = delete;
};

/// An entry of a List, borrowed from it: valid while the List lives.
class EntryRef : public detail::EntryAccess<EntryRef> {
public:
    explicit EntryRef(const fv_entry *raw) noexcept : raw_(raw) {}
    const fv_entry *raw() const noexcept { return raw_; }

    /// The entry's name, valid while the List lives.
    std::string_view name() const { return name_view(); }
    /// The site URL of a typed credential; nullopt for opaque bytes. Valid while the
    /// List lives.
    std::optional<std::string_view> host() const { return host_view(); }

private:
    const fv_entry *raw_;
};

/// A listing (Vault::list), sorted by name, metadata only.
class List : public detail::Owned<fv_list, fv_list_free> {
public:
    using Owned::Owned;

    std::size_t size() const noexcept { return fv_list_len(raw()); }
    /// The entry at `i`, borrowed from this List (not from a temporary: see "Views").
    EntryRef operator[](std::size_t i) const & {
        return EntryRef(detail::checked(fv_list_get(raw(), i)));
    }
    EntryRef operator[](std::size_t i) const && = delete;

    class iterator {
    public:
        iterator(const List *list, std::size_t i) noexcept : list_(list), i_(i) {}
        EntryRef operator*() const { return (*list_)[i_]; }
        iterator &operator++() noexcept {
            ++i_;
            return *this;
        }
        bool operator!=(const iterator &o) const noexcept { return i_ != o.i_; }

    private:
        const List *list_;
        std::size_t i_;
    };
    /// Iterators into this List; a range-for over a temporary List keeps it alive.
    iterator begin() const & noexcept { return iterator(this, 0); }
    iterator begin() const && = delete;
    iterator end() const & noexcept { return iterator(this, size()); }
    iterator end() const && = delete;
};

// ---- options and batches ----

/// How to open or create a vault.
class Options : public detail::Owned<fv_options, fv_options_free> {
public:
    Options() : Owned(make()) {}

    /// Argon2id costs of passphrase slots this handle makes (cheap ones are for tests).
    Options &kdf(uint32_t m_kib, uint32_t t, uint32_t p) {
        detail::check(fv_options_set_kdf(raw(), m_kib, t, p));
        return *this;
    }
    /// How long an open waits for another process holding the vault.
    Options &lock_timeout(std::chrono::milliseconds timeout) {
        detail::check(fv_options_set_lock_timeout_ms(
            raw(), static_cast<uint64_t>(timeout.count() < 0 ? 0 : timeout.count())));
        return *this;
    }
    /// Pins the handle's clock (Unix seconds; 0: the system clock). For tests and dry
    /// runs on a vault: Vault::open_grant refuses options that carry one (a grant's
    /// windows run on the system clock).
    Options &fixed_time(uint64_t unix_secs) {
        detail::check(fv_options_set_fixed_time(raw(), unix_secs));
        return *this;
    }
    /// Where Vault::open_grant records a grant's first open on this machine, instead of
    /// the directory FARMVAULT_STATE_DIR names, else the per-user state directory. An
    /// override, for tests and homeless jobs.
    Options &state_dir(const std::string &dir) {
        detail::check(fv_options_set_state_dir(raw(), dir.c_str()));
        return *this;
    }
    /// Vault::open_grant takes only grants signed by these issuers: their public keys
    /// (`fvi1_…`, as `farmvault grant-issuer` prints them), separated by commas or
    /// newlines. An unsigned grant, one signed by another key, or one changed after
    /// signing throws FV_TAMPERED before anything in it is decrypted. The node's pins
    /// (/etc/farmvault/issuers) and FARMVAULT_ISSUERS apply too: each must name the signer.
    Options &issuers(const std::string &keys) {
        detail::check(fv_options_set_issuers(raw(), keys.c_str()));
        return *this;
    }
    /// A hostname no open uses, kept because fv_options_set_hostname stays in the ABI:
    /// Vault::open_grant refuses options that carry one. A grant's host pattern is
    /// checked against the hostname in the node configuration file
    /// /etc/farmvault/grant-hostname (root's, written by the node's administrator),
    /// else the OS's.
    Options &hostname(const std::string &name) {
        detail::check(fv_options_set_hostname(raw(), name.c_str()));
        return *this;
    }
    /// Accepts a vault directory, key file or farm identity that another user could
    /// read or replace (another user's, open to group or others, a symbolic link),
    /// instead of refusing it (farmvault::Error, FV_INVALID_ARGUMENT). The explicit
    /// way past, for callers with their own reason to trust those files.
    Options &allow_insecure_permissions(bool allow) {
        detail::check(fv_options_set_allow_insecure_permissions(raw(), allow));
        return *this;
    }

private:
    static fv_options *make() {
        fv_options *out = nullptr;
        detail::check(fv_options_new(&out));
        return out;
    }
};

/// Puts and deletes applied atomically by Vault::apply.
class Batch : public detail::Owned<fv_batch, fv_batch_free> {
public:
    Batch() : Owned(make()) {}

    Batch &put(const std::string &name, std::string_view secret,
               std::chrono::seconds ttl = std::chrono::seconds{0}) {
        detail::check(fv_batch_put(raw(), name.c_str(), detail::bytes(secret), secret.size(),
                                   detail::seconds(ttl)));
        return *this;
    }
    Batch &put(const std::string &name, const Credential &credential,
               std::chrono::seconds ttl = std::chrono::seconds{0}) {
        detail::check(
            fv_batch_put_credential(raw(), name.c_str(), credential.raw(), detail::seconds(ttl)));
        return *this;
    }
    Batch &remove(const std::string &name) {
        detail::check(fv_batch_delete(raw(), name.c_str()));
        return *this;
    }
    std::size_t size() const noexcept { return fv_batch_len(raw()); }

private:
    static fv_batch *make() {
        fv_batch *out = nullptr;
        detail::check(fv_batch_new(&out));
        return out;
    }
};

// ---- the vault ----

/// The use window of a job grant (Vault::use_window), in Unix seconds.
struct UseWindow {
    /// When it started: the grant's first open on this machine.
    uint64_t first_opened;
    /// When it ends: every read through the grant from then on throws Expired.
    uint64_t use_until;
};

/// An open vault; closed on destruction. Thread-safe.
class Vault : public detail::Owned<fv_vault, fv_vault_close> {
public:
    using Owned::Owned;

    static Vault open_passphrase(const std::string &path, std::string_view passphrase,
                                 const Options *options = nullptr) {
        fv_vault *out = nullptr;
        detail::check(fv_vault_open_passphrase(path.c_str(), detail::bytes(passphrase),
                                               passphrase.size(), opts(options), &out));
        return Vault(out);
    }
    static Vault open_key_file(const std::string &path, const std::string &key_file,
                               const Options *options = nullptr) {
        fv_vault *out = nullptr;
        detail::check(fv_vault_open_key_file(path.c_str(), key_file.c_str(), opts(options), &out));
        return Vault(out);
    }
    /// Reaches the vault a farmvault agent serves on the Unix socket `socket`
    /// (nullptr: the one FARMVAULT_AGENT names, else this user's default). No
    /// passphrase: the agent holds the keys. Throws Error with FV_AGENT or
    /// FV_AGENT_LOCKED.
    static Vault connect(const char *socket = nullptr) {
        fv_vault *out = nullptr;
        detail::check(fv_vault_connect(socket, &out));
        return Vault(out);
    }
    /// Whether this handle goes through an agent (FV_ACCESS_AGENT), has the vault
    /// open itself (FV_ACCESS_DIRECT), or is a job grant (FV_ACCESS_GRANT).
    uint32_t access() const {
        uint32_t out = 0;
        detail::check(fv_vault_access(raw(), &out));
        return out;
    }
    /// Opens the job grant bundle at `bundle` as a read-only Vault, with its token
    /// (NUL-terminated `fvg1_…` text such as std::getenv("FARMVAULT_GRANT_TOKEN")
    /// returns; read during the call only, never copied here), with the farm identity
    /// file at `identity_path`, or with both; either may be nullptr, not both. Throws
    /// Error with FV_WRONG_KEY, FV_HOST_NOT_ALLOWED, FV_TAMPERED, FV_CORRUPT, FV_IO or
    /// FV_INVALID_ARGUMENT (also for `options` with a fixed time or a hostname: a
    /// grant runs on the system clock and the node's hostname), and Expired past the
    /// grant's claim-by deadline or use window.
    static Vault open_grant(const std::string &bundle, const char *token,
                            const char *identity_path = nullptr,
                            const Options *options = nullptr) {
        fv_vault *out = nullptr;
        detail::check(fv_grant_open(bundle.c_str(), token, identity_path, opts(options), &out));
        return Vault(out);
    }
    static Vault create_passphrase(const std::string &path, std::string_view passphrase,
                                   const Options *options = nullptr) {
        fv_vault *out = nullptr;
        detail::check(fv_vault_create_passphrase(path.c_str(), detail::bytes(passphrase),
                                                 passphrase.size(), opts(options), &out));
        return Vault(out);
    }
    static Vault create_key_file(const std::string &path, const std::string &key_file,
                                 const Options *options = nullptr) {
        fv_vault *out = nullptr;
        detail::check(
            fv_vault_create_key_file(path.c_str(), key_file.c_str(), opts(options), &out));
        return Vault(out);
    }

    /// Stores opaque bytes; a TTL of 0 never expires.
    void put(const std::string &name, std::string_view secret,
             std::chrono::seconds ttl = std::chrono::seconds{0}) {
        detail::check(fv_vault_put(raw(), name.c_str(), detail::bytes(secret), secret.size(),
                                   detail::seconds(ttl)));
    }
    /// Stores a typed credential; a TTL of 0 never expires.
    void put(const std::string &name, const Credential &credential,
             std::chrono::seconds ttl = std::chrono::seconds{0}) {
        detail::check(
            fv_vault_put_credential(raw(), name.c_str(), credential.raw(), detail::seconds(ttl)));
    }
    /// The entry with its credential; throws NotFound or Expired (refresh it).
    Entry get(const std::string &name) const {
        fv_entry *out = nullptr;
        detail::check(fv_vault_get(raw(), name.c_str(), &out));
        return Entry(out);
    }
    /// The entry, or nullopt when there is none or it has expired; throws on anything else.
    std::optional<Entry> try_get(const std::string &name) const {
        fv_entry *out = nullptr;
        fv_result r = fv_vault_get(raw(), name.c_str(), &out);
        if (r == FV_NOT_FOUND || r == FV_EXPIRED) {
            return std::nullopt;
        }
        detail::check(r);
        return Entry(out);
    }
    /// The entry without its secret; throws NotFound or Expired.
    Entry metadata(const std::string &name) const {
        fv_entry *out = nullptr;
        detail::check(fv_vault_metadata(raw(), name.c_str(), &out));
        return Entry(out);
    }
    /// Entries whose name starts with `prefix` ("" for all).
    List list(const std::string &prefix = std::string()) const {
        fv_list *out = nullptr;
        detail::check(fv_vault_list(raw(), prefix.c_str(), &out));
        return List(out);
    }
    /// The use window of a Vault from open_grant(): when it started (the grant's first
    /// open on this machine) and when it ends (every read from then on throws Expired).
    /// Not a read: it answers after the window is over too. Throws
    /// Error(FV_INVALID_ARGUMENT) on a vault.
    UseWindow use_window() const {
        UseWindow window{0, 0};
        detail::check(fv_grant_use_window(raw(), &window.first_opened, &window.use_until));
        return window;
    }
    /// Deletes an entry; throws NotFound.
    void remove(const std::string &name) { detail::check(fv_vault_delete(raw(), name.c_str())); }
    /// A new TTL from now (0: never expires); throws NotFound or Expired.
    void renew(const std::string &name, std::chrono::seconds ttl) {
        detail::check(fv_vault_renew(raw(), name.c_str(), detail::seconds(ttl)));
    }
    /// Removes expired entries; returns how many.
    uint64_t purge_expired() {
        uint64_t n = 0;
        detail::check(fv_vault_purge_expired(raw(), &n));
        return n;
    }
    /// Applies every operation of `batch`, all or none. The batch is unchanged.
    void apply(const Batch &batch) { detail::check(fv_vault_apply(raw(), batch.raw())); }
    void change_passphrase(std::string_view passphrase) {
        detail::check(
            fv_vault_change_passphrase(raw(), detail::bytes(passphrase), passphrase.size()));
    }
    void add_key_file(const std::string &key_file) {
        detail::check(fv_vault_add_key_file(raw(), key_file.c_str()));
    }
    void remove_key_file(const std::string &key_file) {
        detail::check(fv_vault_remove_key_file(raw(), key_file.c_str()));
    }
    /// New data key, every entry re-encrypted; returns how many.
    uint64_t rotate(bool drop_other_slots = false) {
        uint64_t n = 0;
        detail::check(fv_vault_rotate(raw(), drop_other_slots ? FV_ROTATE_DROP_OTHER_SLOTS : 0, &n));
        return n;
    }

private:
    static const fv_options *opts(const Options *o) noexcept { return o ? o->raw() : nullptr; }
};

// ---- free functions ----

/// Writes a new random key file (0600); never overwrites.
inline void generate_key_file(const std::string &path) {
    detail::check(fv_key_file_generate(path.c_str()));
}

/// Overwrites `size` bytes at `data` with zeros, with writes the compiler keeps
/// (fv_wipe): for a copy of a secret in the caller's own memory, once it is not needed.
inline void wipe(void *data, std::size_t size) noexcept { fv_wipe(data, size); }

/// Overwrites a std::string's characters with zeros, then empties it: for a secret an
/// API insisted on having as a std::string. Only its current characters are wiped, not
/// buffers it left behind when it grew: build such a string at its final size.
inline void wipe(std::string &s) noexcept {
    fv_wipe(s.data(), s.size());
    s.clear();
}

/// The library's version ("0.1.0").
inline const char *version() noexcept { return fv_version(); }

/// Whether the library loaded at run time is the one this header was written for.
inline bool header_matches_library() noexcept {
    return fv_version_number() == FV_VERSION_NUMBER && fv_abi_version() == FV_ABI_VERSION;
}

/// The Toolkit's (tk-core) credential formats, session cache and Flow token file.
namespace sgtk {

/// Parses what tk-core's serialize_user writes (JSON or protocol-0 pickle): text, or a
/// pickle's raw bytes.
inline Credential parse(std::string_view serialized) {
    fv_credential *out = nullptr;
    detail::check(fv_sgtk_parse(detail::bytes(serialized), serialized.size(), &out));
    return Credential(out);
}

/// The user a TANK_CONTEXT carries (either form).
inline Credential parse_tank_context(std::string_view context) {
    fv_credential *out = nullptr;
    detail::check(fv_sgtk_parse_tank_context(detail::bytes(context), context.size(), &out));
    return Credential(out);
}

/// A serialized user or a whole TANK_CONTEXT (FV_KIND_TANK_CONTEXT), told apart by
/// structure.
inline Credential parse_payload(std::string_view payload) {
    fv_credential *out = nullptr;
    detail::check(fv_sgtk_parse_payload(detail::bytes(payload), payload.size(), &out));
    return Credential(out);
}

/// serialize_user(user, use_json=True) of a script key or session token.
inline Secret to_json(const Credential &credential) {
    fv_secret *out = nullptr;
    detail::check(fv_sgtk_to_json(credential.raw(), &out));
    return Secret(out);
}

/// serialize_user(user) (the protocol-0 pickle) of a script key or session token.
inline Secret to_pickle(const Credential &credential) {
    fv_secret *out = nullptr;
    detail::check(fv_sgtk_to_pickle(credential.raw(), &out));
    return Secret(out);
}

/// The exact bytes tk-core reads for a credential: a user's JSON, a context as it came
/// in, a Flow pair's adsk_flow_tokens.json.
inline Secret to_tk_core(const Credential &credential) {
    fv_secret *out = nullptr;
    detail::check(fv_sgtk_export(credential.raw(), &out));
    return Secret(out);
}

/// A Flow pair's access token expiry (its JWT exp), in Unix seconds; throws NotFound when
/// it has none.
inline uint64_t flow_token_expiry(const Credential &credential) {
    uint64_t out = 0;
    detail::check(fv_sgtk_flow_token_expiry(credential.raw(), &out));
    return out;
}

/// What an import wrote and removed (and, for Flow tokens, skipped).
struct ImportResult {
    List imported;
    uint64_t removed;
    uint64_t skipped;
};

/// Moves tk-core's session cache into the vault (fv_sgtk_import_session_cache);
/// shotgun_home nullopt: tk-core's own. A ttl of zero: no expiry.
inline ImportResult import_session_cache(
    Vault &vault, const std::optional<std::string> &shotgun_home = std::nullopt,
    const std::string &prefix = "shotgun/",
    std::chrono::seconds ttl = std::chrono::seconds(FV_SGTK_SESSION_TTL_SECS),
    bool remove = false) {
    fv_list *imported = nullptr;
    uint64_t removed = 0;
    detail::check(fv_sgtk_import_session_cache(
        vault.raw(), detail::c_str_or_null(shotgun_home), prefix.c_str(), detail::seconds(ttl),
        remove ? FV_SGTK_REMOVE_FROM_CACHE : 0, &imported, &removed));
    return ImportResult{List(imported), removed, 0};
}

/// Moves tk-core's Flow tokens into the vault (fv_sgtk_import_flow_tokens), each entry
/// expiring with its access token.
inline ImportResult import_flow_tokens(Vault &vault,
                                       const std::optional<std::string> &shotgun_home = std::nullopt,
                                       const std::string &prefix = "flow/", bool remove = false) {
    fv_list *imported = nullptr;
    uint64_t removed = 0, skipped = 0;
    detail::check(fv_sgtk_import_flow_tokens(vault.raw(), detail::c_str_or_null(shotgun_home),
                                             prefix.c_str(), remove ? FV_SGTK_REMOVE_FROM_CACHE : 0,
                                             &imported, &removed, &skipped));
    return ImportResult{List(imported), removed, skipped};
}

}  // namespace sgtk

}  // namespace farmvault

#endif  // FARMVAULT_HPP
