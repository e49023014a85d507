/*
 * The C ABI from C: every exported function, every bad-input case (NULL handles and
 * out-params, non-UTF-8, unterminated and over-long names, zero and oversized
 * lengths, use after close, double close and free, handles never given out twice),
 * 8 threads on one handle, no secret in any error message, and job grants opened
 * read-only. Codes and messages are both checked.
 *
 * Built by scripts/test-c.sh with -std=c99 -Wall -Wextra -Wpedantic -Werror against
 * include/farmvault.h, linked once against the shared and once against the static
 * library, and run under valgrind.
 * Usage: test_farmvault <empty scratch directory> <grant fixtures directory>
 * The grant fixtures are issued by scripts/test-c.sh with the farmvault CLI (see
 * make_grant_fixtures there): bundles, their tokens, and farm identities. Grants are
 * opened on the system clock and this machine's hostname, as a job opens them: the
 * options that would pin either are refused.
 */
#define _POSIX_C_SOURCE 200809L

#include "farmvault.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* Checks that `call` returned `code` and that the last error message holds `needle`. */
#define CHECK_FAILS(call, code, needle)                                                   \
    do {                                                                                  \
        fv_result r_ = (call);                                                            \
        const char *m_ = fv_last_error_message();                                         \
        if (r_ == (code) && strstr(m_, (needle)) != NULL) {                               \
            passed++;                                                                     \
        } else {                                                                          \
            failed++;                                                                     \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s with \"%s\"; message: %s\n", \
                    __FILE__, __LINE__, #call, fv_result_name(r_), fv_result_name(code),  \
                    (needle), m_);                                                        \
        }                                                                                 \
    } while (0)

#define CHECK_OK(call) CHECK_FAILS(call, FV_OK, "")

/* Checks that the last error message holds `needle` (after a void or pointer call). */
#define CHECK_MSG(needle) CHECK(strstr(fv_last_error_message(), (needle)) != NULL)

static char dir[FV_MAX_PATH_LEN / 2];
static char grants[FV_MAX_PATH_LEN / 2];

static const char *path_in(char *buf, const char *leaf) {
    snprintf(buf, FV_MAX_PATH_LEN, "%s/%s", dir, leaf);
    return buf;
}

/* Cheap-KDF options with the clock pinned at `fixed_time` (0: the system clock). */
static fv_options *cheap_options(uint64_t fixed_time) {
    fv_options *opts = NULL;
    CHECK_OK(fv_options_new(&opts));
    CHECK_OK(fv_options_set_kdf(opts, 8, 1, 1));
    CHECK_OK(fv_options_set_fixed_time(opts, fixed_time));
    return opts;
}

static fv_vault *open_vault(const char *leaf, int create, uint64_t fixed_time) {
    char path[FV_MAX_PATH_LEN];
    fv_options *opts = cheap_options(fixed_time);
    fv_vault *vault = NULL;
    if (create) {
        CHECK_OK(fv_vault_create_passphrase(path_in(path, leaf), U8("pw"), 2, opts, &vault));
    } else {
        CHECK_OK(fv_vault_open_passphrase(path_in(path, leaf), U8("pw"), 2, opts, &vault));
    }
    fv_options_free(opts);
    return vault;
}

/* Whether `secret` holds exactly `expected` (NUL-terminated, NUL not counted); frees it. */
static int secret_is(fv_secret *secret, const char *expected) {
    size_t len = fv_secret_len(secret);
    const uint8_t *data = fv_secret_data(secret);
    int same = data != NULL && len == strlen(expected) && memcmp(data, expected, len) == 0 &&
               data[len] == 0;
    fv_secret_free(secret);
    return same;
}

/* Whether field `field` of `entry` is `expected`. */
static int field_is(const fv_entry *entry, uint32_t field, const char *expected) {
    fv_secret *s = NULL;
    if (fv_entry_field(entry, field, &s) != FV_OK) {
        fprintf(stderr, "field %u: %s\n", field, fv_last_error_message());
        return 0;
    }
    return secret_is(s, expected);
}

static void test_versions_and_names(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", FV_VERSION_MAJOR, FV_VERSION_MINOR,
             FV_VERSION_PATCH);
    CHECK(fv_version_number() == FV_VERSION_NUMBER);
    CHECK(fv_abi_version() == FV_ABI_VERSION);
    CHECK(strcmp(fv_version(), expected) == 0);
    CHECK(fv_max_name_len() == FV_MAX_NAME_LEN);
    CHECK(fv_max_secret_len() == FV_MAX_SECRET_LEN);
    CHECK(fv_max_path_len() == FV_MAX_PATH_LEN);
    CHECK(fv_max_text_len() == FV_MAX_TEXT_LEN);
    CHECK(fv_key_file_len() == FV_KEY_FILE_LEN);
    CHECK(strcmp(fv_result_name(FV_OK), "FV_OK") == 0);
    CHECK(strcmp(fv_result_name(FV_NOT_FOUND), "FV_NOT_FOUND") == 0);
    CHECK(strcmp(fv_result_name(FV_EXPIRED), "FV_EXPIRED") == 0);
    CHECK(strcmp(fv_result_name(FV_WRONG_KEY), "FV_WRONG_KEY") == 0);
    CHECK(strcmp(fv_result_name(FV_TAMPERED), "FV_TAMPERED") == 0);
    CHECK(strcmp(fv_result_name(FV_CORRUPT), "FV_CORRUPT") == 0);
    CHECK(strcmp(fv_result_name(FV_LOCKED), "FV_LOCKED") == 0);
    CHECK(strcmp(fv_result_name(FV_INVALID_ARGUMENT), "FV_INVALID_ARGUMENT") == 0);
    CHECK(strcmp(fv_result_name(FV_IO), "FV_IO") == 0);
    CHECK(strcmp(fv_result_name(FV_PANIC), "FV_PANIC") == 0);
    CHECK(strcmp(fv_result_name(FV_NO_VAULT), "FV_NO_VAULT") == 0);
    CHECK(strcmp(fv_result_name(FV_ALREADY_EXISTS), "FV_ALREADY_EXISTS") == 0);
    CHECK(strcmp(fv_result_name(FV_READ_ONLY), "FV_READ_ONLY") == 0);
    CHECK(strcmp(fv_result_name(FV_HOST_NOT_ALLOWED), "FV_HOST_NOT_ALLOWED") == 0);
    CHECK(strcmp(fv_result_name(FV_FORKED), "FV_FORKED") == 0);
    CHECK(strcmp(fv_result_name(FV_AGENT_LOCKED), "FV_AGENT_LOCKED") == 0);
    CHECK(strcmp(fv_result_name(FV_AGENT), "FV_AGENT") == 0);
    CHECK(strcmp(fv_result_name(17), "FV_UNKNOWN_RESULT") == 0);
    CHECK(strcmp(fv_result_name(UINT32_MAX), "FV_UNKNOWN_RESULT") == 0);
    CHECK(FV_OK == 0 && FV_NOT_FOUND == 1 && FV_EXPIRED == 2 && FV_WRONG_KEY == 3);
    CHECK(FV_TAMPERED == 4 && FV_CORRUPT == 5 && FV_LOCKED == 6 && FV_INVALID_ARGUMENT == 7);
    CHECK(FV_IO == 8 && FV_PANIC == 9 && FV_NO_VAULT == 10 && FV_ALREADY_EXISTS == 11);
    CHECK(FV_READ_ONLY == 12 && FV_HOST_NOT_ALLOWED == 13 && FV_FORKED == 14);
    CHECK(FV_AGENT_LOCKED == 15 && FV_AGENT == 16);
    CHECK(FV_KIND_OPAQUE == 0 && FV_KIND_SCRIPT_KEY == 1 && FV_KIND_SESSION_TOKEN == 2 &&
          FV_KIND_LOGIN_PASSWORD == 3);
    CHECK(FV_FIELD_HOST == 0 && FV_FIELD_SECRET == 8 && FV_FIELD_SCRIPT_NAME == 2);
}

static void test_options(void) {
    fv_options *opts = NULL;
    CHECK_FAILS(fv_options_new(NULL), FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_OK(fv_options_new(&opts));
    CHECK(opts != NULL);
    CHECK_FAILS(fv_options_set_kdf(opts, 0, 1, 1), FV_INVALID_ARGUMENT, "Argon2id");
    CHECK_FAILS(fv_options_set_kdf(opts, 8, 1000, 1), FV_INVALID_ARGUMENT, "exceed the limits");
    CHECK_OK(fv_options_set_kdf(opts, 8, 1, 1));
    CHECK_OK(fv_options_set_lock_timeout_ms(opts, 250));
    CHECK_OK(fv_options_set_fixed_time(opts, 0));
    CHECK_FAILS(fv_options_set_kdf(NULL, 8, 1, 1), FV_INVALID_ARGUMENT, "opts is NULL");
    CHECK_FAILS(fv_options_set_lock_timeout_ms(NULL, 1), FV_INVALID_ARGUMENT, "opts is NULL");
    CHECK_FAILS(fv_options_set_fixed_time(NULL, 1), FV_INVALID_ARGUMENT, "opts is NULL");
    CHECK_FAILS(fv_options_set_allow_insecure_permissions(NULL, true), FV_INVALID_ARGUMENT,
                "opts is NULL");
    CHECK_OK(fv_options_set_allow_network_filesystem(opts, true));
    CHECK_FAILS(fv_options_set_allow_network_filesystem(NULL, true), FV_INVALID_ARGUMENT,
                "opts is NULL");
    fv_options_free(opts);
    fv_options_free(NULL);
    /* A double free is detected, reported, and harmless. */
    fv_options_free(opts);
    CHECK_MSG("opts: fv_options handle is closed or invalid");
    CHECK_FAILS(fv_options_set_fixed_time(opts, 1), FV_INVALID_ARGUMENT, "closed or invalid");
}

static void test_create_open_and_key_files(void) {
    char vault_path[FV_MAX_PATH_LEN], key[FV_MAX_PATH_LEN], key2[FV_MAX_PATH_LEN];
    fv_vault *vault = NULL, *other = NULL;
    fv_options *opts = cheap_options(0);
    uint64_t count = 0;
    path_in(vault_path, "keyed");
    path_in(key, "farm.key");
    path_in(key2, "second.key");

    CHECK_OK(fv_key_file_generate(key));
    CHECK_FAILS(fv_key_file_generate(key), FV_IO, "farm.key");
    CHECK_OK(fv_key_file_generate(key2));
    CHECK_FAILS(fv_vault_open_key_file(vault_path, key, opts, &vault), FV_NO_VAULT, "no vault");
    CHECK(vault == NULL);
    CHECK_OK(fv_vault_create_key_file(vault_path, key, opts, &vault));
    CHECK_FAILS(fv_vault_create_key_file(vault_path, key, opts, &other), FV_ALREADY_EXISTS,
                "already exists");
    CHECK_FAILS(fv_vault_create_passphrase(vault_path, U8("pw"), 2, NULL, &other),
                FV_ALREADY_EXISTS, "already exists");
    CHECK_FAILS(fv_vault_open_key_file(vault_path, key2, opts, &other), FV_WRONG_KEY,
                "wrong passphrase or key file");
    CHECK_FAILS(fv_vault_open_passphrase(vault_path, U8("guess"), 5, opts, &other),
                FV_WRONG_KEY, "wrong passphrase or key file");
    CHECK(other == NULL);
    CHECK_OK(fv_vault_put(vault, "a", U8("x"), 1, 0));

    /* A second key file, a passphrase, then a rotation that keeps only its own slot. */
    CHECK_OK(fv_vault_add_key_file(vault, key2));
    CHECK_FAILS(fv_vault_add_key_file(vault, key2), FV_INVALID_ARGUMENT, "already opens");
    CHECK_OK(fv_vault_open_key_file(vault_path, key2, opts, &other));
    CHECK_OK(fv_vault_change_passphrase(other, U8("new pass"), 8));
    CHECK_FAILS(fv_vault_change_passphrase(other, U8("x"), 0), FV_INVALID_ARGUMENT,
                "passphrase_len is 0");
    CHECK_FAILS(fv_vault_rotate(other, 0, &count), FV_INVALID_ARGUMENT, "keyslot");
    CHECK_FAILS(fv_vault_rotate(other, 0x80, &count), FV_INVALID_ARGUMENT, "unknown bits");
    CHECK_OK(fv_vault_rotate(other, FV_ROTATE_DROP_OTHER_SLOTS, &count));
    CHECK(count == 1);
    fv_vault_close(other);
    fv_vault_close(vault);
    other = vault = NULL;
    CHECK_FAILS(fv_vault_open_key_file(vault_path, key, opts, &vault), FV_WRONG_KEY, "wrong");
    CHECK_FAILS(fv_vault_open_passphrase(vault_path, U8("new pass"), 8, opts, &vault),
                FV_WRONG_KEY, "wrong");
    CHECK_OK(fv_vault_open_key_file(vault_path, key2, opts, &vault));
    CHECK_OK(fv_vault_add_key_file(vault, key));
    CHECK_OK(fv_vault_remove_key_file(vault, key2));
    CHECK_FAILS(fv_vault_remove_key_file(vault, key2), FV_INVALID_ARGUMENT, "no keyslot");
    CHECK_FAILS(fv_vault_remove_key_file(vault, key), FV_INVALID_ARGUMENT, "only keyslot");
    fv_vault_close(vault);
    fv_options_free(opts);
}

/* A vault directory group or others can access is refused, naming the fix, unless
 * fv_options_set_allow_insecure_permissions allows it. */
static void test_insecure_permissions(void) {
    char path[FV_MAX_PATH_LEN];
    fv_vault *vault = open_vault("loose", 1, 0);
    fv_options *opts = cheap_options(0);
    fv_vault_close(vault);
    vault = NULL;
    path_in(path, "loose");
    CHECK(chmod(path, 0777) == 0);
    CHECK_FAILS(fv_vault_open_passphrase(path, U8("pw"), 2, opts, &vault), FV_INVALID_ARGUMENT,
                "chmod 700");
    CHECK_MSG("(mode 0777)");
    CHECK(vault == NULL);
    CHECK_OK(fv_options_set_allow_insecure_permissions(opts, true));
    CHECK_OK(fv_vault_open_passphrase(path, U8("pw"), 2, opts, &vault));
    fv_vault_close(vault);
    vault = NULL;
    CHECK(chmod(path, 0777) == 0);
    CHECK_OK(fv_options_set_allow_insecure_permissions(opts, false));
    CHECK_FAILS(fv_vault_open_passphrase(path, U8("pw"), 2, opts, &vault), FV_INVALID_ARGUMENT,
                "accessible by group or others");
    CHECK(chmod(path, 0700) == 0);
    fv_options_free(opts);
}

static void test_put_get_and_fields(void) {
    fv_vault *vault = open_vault("typed", 1, 1000000);
    fv_credential *cred = NULL, *copy = NULL;
    fv_entry *entry = NULL;
    fv_secret *s = NULL;
    static const uint8_t blob[] = {0, 1, 2, 255};

    /* Opaque bytes, NUL included. */
    CHECK_OK(fv_vault_put(vault, "blob", blob, sizeof blob, 0));
    CHECK_OK(fv_vault_get(vault, "blob", &entry));
    CHECK(fv_entry_kind(entry) == FV_KIND_OPAQUE);
    CHECK(fv_entry_host(entry) == NULL);
    CHECK(fv_entry_expires(entry) == 0);
    CHECK_OK(fv_entry_field(entry, FV_FIELD_SECRET, &s));
    CHECK(fv_secret_len(s) == sizeof blob && memcmp(fv_secret_data(s), blob, sizeof blob) == 0);
    fv_secret_free(s);
    s = NULL;
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_HOST, &s), FV_NOT_FOUND, "no value for field host");
    CHECK(s == NULL);
    fv_entry_free(entry);
    entry = NULL;

    /* A script key, as a farm plugin reads it. */
    CHECK_OK(fv_credential_new_script_key("https://site.example", "render_farm",
                                          U8("0123456789abcdef"), 16, NULL, &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_SCRIPT_KEY);
    CHECK_OK(fv_credential_field(cred, FV_FIELD_SCRIPT_NAME, &s));
    CHECK(secret_is(s, "render_farm"));
    CHECK_FAILS(fv_credential_field(cred, FV_FIELD_LOGIN, &s), FV_NOT_FOUND, "login");
    CHECK_FAILS(fv_credential_field(cred, 99, &s), FV_INVALID_ARGUMENT, "field 99");
    CHECK_OK(fv_vault_put_credential(vault, "sg/farm", cred, 3600));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get(vault, "sg/farm", &entry));
    CHECK(strcmp(fv_entry_name(entry), "sg/farm") == 0);
    CHECK(strcmp(fv_entry_host(entry), "https://site.example") == 0);
    CHECK(fv_entry_kind(entry) == FV_KIND_SCRIPT_KEY);
    CHECK(fv_entry_created(entry) == 1000000);
    CHECK(fv_entry_updated(entry) == 1000000);
    CHECK(fv_entry_expires(entry) == 1003600);
    CHECK(fv_entry_has_credential(entry));
    CHECK(field_is(entry, FV_FIELD_HOST, "https://site.example"));
    CHECK(field_is(entry, FV_FIELD_SCRIPT_NAME, "render_farm"));
    CHECK(field_is(entry, FV_FIELD_API_KEY, "0123456789abcdef"));
    CHECK(field_is(entry, FV_FIELD_SECRET, "0123456789abcdef"));
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_HTTP_PROXY, &s), FV_NOT_FOUND, "http_proxy");
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_SESSION_TOKEN, &s), FV_NOT_FOUND, "session_token");
    CHECK_FAILS(fv_entry_field(entry, 14, &s), FV_INVALID_ARGUMENT, "field 14");
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_HOST, NULL), FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_OK(fv_entry_credential(entry, &copy));
    CHECK(fv_credential_kind(copy) == FV_KIND_SCRIPT_KEY);
    CHECK_OK(fv_vault_put_credential(vault, "sg/farm-copy", copy, 0));
    fv_credential_free(copy);
    fv_entry_free(entry);
    entry = NULL;

    /* A session token with proxy and metadata, and a login/password. */
    CHECK_OK(fv_credential_new_session_token("https://site.example", "jdoe", U8("tok123"), 6,
                                             "user:pw@proxy:8080", "c2Vzc2lvbg==", &cred));
    CHECK_OK(fv_vault_put_credential(vault, "sg/jdoe", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get(vault, "sg/jdoe", &entry));
    CHECK(fv_entry_kind(entry) == FV_KIND_SESSION_TOKEN);
    CHECK(field_is(entry, FV_FIELD_LOGIN, "jdoe"));
    CHECK(field_is(entry, FV_FIELD_SESSION_TOKEN, "tok123"));
    CHECK(field_is(entry, FV_FIELD_HTTP_PROXY, "user:pw@proxy:8080"));
    CHECK(field_is(entry, FV_FIELD_SESSION_METADATA, "c2Vzc2lvbg=="));
    fv_entry_free(entry);
    entry = NULL;
    CHECK_OK(fv_credential_new_login_password("https://site.example", "jdoe", U8("hunter2"), 7,
                                              "", &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_LOGIN_PASSWORD);
    CHECK_OK(fv_vault_put_credential(vault, "sg/login", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get(vault, "sg/login", &entry));
    CHECK(field_is(entry, FV_FIELD_PASSWORD, "hunter2"));
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_HTTP_PROXY, &s), FV_NOT_FOUND, "http_proxy");
    fv_entry_free(entry);
    entry = NULL;
    CHECK_OK(fv_credential_new_opaque(U8("raw"), 3, &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_OPAQUE);
    CHECK_OK(fv_vault_put_credential(vault, "raw", cred, 0));
    fv_credential_free(cred);

    /* Metadata: no secret, and the field accessor says why. */
    CHECK_OK(fv_vault_metadata(vault, "sg/farm", &entry));
    CHECK(!fv_entry_has_credential(entry));
    CHECK(strcmp(fv_entry_host(entry), "https://site.example") == 0);
    CHECK(fv_entry_expires(entry) == 1003600);
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_HOST, &s), FV_INVALID_ARGUMENT, "metadata only");
    CHECK_FAILS(fv_entry_credential(entry, &copy), FV_INVALID_ARGUMENT, "metadata only");
    fv_entry_free(entry);
    entry = NULL;
    CHECK_FAILS(fv_vault_get(vault, "missing", &entry), FV_NOT_FOUND, "\"missing\"");
    CHECK_FAILS(fv_vault_metadata(vault, "missing", &entry), FV_NOT_FOUND, "\"missing\"");
    CHECK(entry == NULL);
    CHECK_OK(fv_vault_delete(vault, "raw"));
    CHECK_FAILS(fv_vault_delete(vault, "raw"), FV_NOT_FOUND, "raw");
    fv_vault_close(vault);
}

/* Whether the view bytes `b` are exactly the text `expected`; NULL: unset ({NULL, 0}). */
static int bytes_is(fv_bytes b, const char *expected) {
    if (expected == NULL) {
        return b.data == NULL && b.len == 0;
    }
    return b.data != NULL && b.len == strlen(expected) && memcmp(b.data, expected, b.len) == 0;
}

/* Entry views: every kind in one call, metadata and list entries, a newer header's
 * larger view, and bad arguments (with the outputs left as they were). */
static void test_entry_views(void) {
    fv_vault *vault = open_vault("views", 1, 2000000);
    fv_credential *cred = NULL;
    fv_entry *entry = NULL;
    fv_list *list = NULL;
    fv_entry_view view, again;
    unsigned char before[sizeof view];
    struct {
        fv_entry_view view;
        unsigned char tail[32];
    } newer;
    static const uint8_t blob[] = {0, 1, 2, 255};
    size_t i;
    int zeroed = 1;

    /* Opaque bytes, NUL included: the length is the length. */
    CHECK_OK(fv_vault_put(vault, "blob", blob, sizeof blob, 60));
    CHECK_OK(fv_vault_get_view(vault, "blob", &entry, &view, sizeof view));
    CHECK(entry != NULL);
    CHECK(view.size == sizeof view);
    CHECK(view.kind == FV_KIND_OPAQUE && view.has_credential);
    CHECK(view.created == 2000000 && view.updated == 2000000 && view.expires == 2000060);
    CHECK(bytes_is(view.name, "blob"));
    CHECK(bytes_is(view.host, NULL));
    CHECK(view.secret.len == sizeof blob && memcmp(view.secret.data, blob, sizeof blob) == 0);
    CHECK(bytes_is(view.api_key, NULL) && bytes_is(view.login, NULL) &&
          bytes_is(view.password, NULL) && bytes_is(view.http_proxy, NULL));
    fv_entry_free(entry); /* wipes what the view pointed at */
    entry = NULL;

    /* A script key with a proxy, as a farm plugin reads it. */
    CHECK_OK(fv_credential_new_script_key("https://site.example", "render_farm",
                                          U8("0123456789abcdef"), 16, "user:pw@proxy:3128", &cred));
    CHECK_OK(fv_vault_put_credential(vault, "sk", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get_view(vault, "sk", &entry, &view, sizeof view));
    CHECK(view.kind == FV_KIND_SCRIPT_KEY && view.expires == 0);
    CHECK(bytes_is(view.host, "https://site.example"));
    CHECK(bytes_is(view.script_name, "render_farm"));
    CHECK(bytes_is(view.api_key, "0123456789abcdef"));
    CHECK(view.secret.data == view.api_key.data && view.secret.len == view.api_key.len);
    CHECK(bytes_is(view.http_proxy, "user:pw@proxy:3128"));
    CHECK(bytes_is(view.login, NULL) && bytes_is(view.session_token, NULL) &&
          bytes_is(view.password, NULL) && bytes_is(view.session_metadata, NULL));
    /* The same entry's view again: the same borrowed bytes. */
    CHECK_OK(fv_entry_get_view(entry, &again, sizeof again));
    CHECK(again.api_key.data == view.api_key.data && again.name.data == view.name.data);
    fv_entry_free(entry);
    entry = NULL;

    /* A session token with metadata, and a login/password. */
    CHECK_OK(fv_credential_new_session_token("https://site.example", "jdoe", U8("tok123"), 6,
                                             NULL, "c2Vzc2lvbg==", &cred));
    CHECK_OK(fv_vault_put_credential(vault, "st", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get(vault, "st", &entry));
    CHECK_OK(fv_entry_get_view(entry, &view, sizeof view));
    CHECK(view.kind == FV_KIND_SESSION_TOKEN);
    CHECK(bytes_is(view.login, "jdoe") && bytes_is(view.session_token, "tok123") &&
          bytes_is(view.secret, "tok123") && bytes_is(view.session_metadata, "c2Vzc2lvbg==") &&
          bytes_is(view.http_proxy, NULL) && bytes_is(view.api_key, NULL));
    fv_entry_free(entry);
    entry = NULL;
    CHECK_OK(fv_credential_new_login_password("https://site.example", "jdoe", U8("hunter2"), 7,
                                              NULL, &cred));
    CHECK_OK(fv_vault_put_credential(vault, "lp", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get_view(vault, "lp", &entry, &view, sizeof view));
    CHECK(view.kind == FV_KIND_LOGIN_PASSWORD);
    CHECK(bytes_is(view.login, "jdoe") && bytes_is(view.password, "hunter2") &&
          bytes_is(view.secret, "hunter2") && bytes_is(view.session_token, NULL));
    fv_entry_free(entry);
    entry = NULL;

    /* Metadata only, and an entry of a list: name, host and times, no field. */
    CHECK_OK(fv_vault_metadata(vault, "sk", &entry));
    CHECK_OK(fv_entry_get_view(entry, &view, sizeof view));
    CHECK(!view.has_credential && view.kind == FV_KIND_SCRIPT_KEY);
    CHECK(bytes_is(view.name, "sk") && bytes_is(view.host, "https://site.example"));
    CHECK(bytes_is(view.api_key, NULL) && bytes_is(view.secret, NULL));
    fv_entry_free(entry);
    entry = NULL;
    CHECK_OK(fv_vault_list(vault, "s", &list));
    CHECK(fv_list_len(list) == 2);
    CHECK_OK(fv_entry_get_view(fv_list_get(list, 1), &view, sizeof view));
    CHECK(bytes_is(view.name, "st") && !view.has_credential && bytes_is(view.login, NULL));
    fv_list_free(list);

    /* A program built with a newer header, whose view is larger: this library fills
     * the part it knows, says so in `size`, and zeroes the rest. */
    memset(&newer, 0xaa, sizeof newer);
    CHECK_OK(fv_vault_get_view(vault, "blob", &entry, &newer.view, sizeof newer));
    CHECK(newer.view.size == sizeof(fv_entry_view));
    CHECK(newer.view.secret.len == sizeof blob);
    for (i = 0; i < sizeof newer.tail; i++) {
        zeroed &= newer.tail[i] == 0;
    }
    CHECK(zeroed);
    fv_entry_free(entry);
    entry = NULL;

    /* Bad arguments: an error naming the argument, and nothing written. */
    memset(&view, 0xaa, sizeof view);
    memcpy(before, &view, sizeof view);
    CHECK_FAILS(fv_vault_get_view(NULL, "blob", &entry, &view, sizeof view), FV_INVALID_ARGUMENT,
                "vault is NULL");
    CHECK_FAILS(fv_vault_get_view(vault, NULL, &entry, &view, sizeof view), FV_INVALID_ARGUMENT,
                "name is NULL");
    CHECK_FAILS(fv_vault_get_view(vault, "blob", NULL, &view, sizeof view), FV_INVALID_ARGUMENT,
                "entry_out is NULL");
    CHECK_FAILS(fv_vault_get_view(vault, "blob", &entry, NULL, sizeof view), FV_INVALID_ARGUMENT,
                "view_out is NULL");
    CHECK_FAILS(fv_vault_get_view(vault, "blob", &entry, &view, sizeof view - 1),
                FV_INVALID_ARGUMENT, "view_size is");
    CHECK_FAILS(fv_vault_get_view(vault, "blob", &entry, &view, 0), FV_INVALID_ARGUMENT,
                "view_size is 0");
    CHECK_FAILS(fv_vault_get_view(vault, "missing", &entry, &view, sizeof view), FV_NOT_FOUND,
                "\"missing\"");
    CHECK_FAILS(fv_entry_get_view(NULL, &view, sizeof view), FV_INVALID_ARGUMENT, "entry is NULL");
    CHECK(entry == NULL && memcmp(before, &view, sizeof view) == 0);
    CHECK_OK(fv_vault_get(vault, "blob", &entry));
    CHECK_FAILS(fv_entry_get_view(entry, NULL, sizeof view), FV_INVALID_ARGUMENT,
                "view_out is NULL");
    CHECK_FAILS(fv_entry_get_view(entry, &view, 8), FV_INVALID_ARGUMENT, "view_size is 8");
    CHECK_FAILS(fv_entry_get_view((const fv_entry *)vault, &view, sizeof view),
                FV_INVALID_ARGUMENT, "expected an fv_entry, got an fv_vault");
    fv_entry_free(entry);
    CHECK_FAILS(fv_entry_get_view(entry, &view, sizeof view), FV_INVALID_ARGUMENT,
                "entry: fv_entry handle is closed or invalid");
    CHECK(memcmp(before, &view, sizeof view) == 0);
    fv_vault_close(vault);
}

static void test_list_batch_expiry(void) {
    const uint64_t t0 = 2000000;
    fv_vault *vault = open_vault("ttl", 1, t0), *later = NULL, *much_later = NULL,
             *also_late = NULL;
    int round;
    fv_batch *batch = NULL;
    fv_credential *cred = NULL;
    fv_list *list = NULL;
    fv_entry *entry = NULL;
    uint64_t removed = 99;

    CHECK_OK(fv_batch_new(&batch));
    CHECK_OK(fv_batch_put(batch, "job/a", U8("1"), 1, 10));
    CHECK_OK(fv_batch_put(batch, "job/b", U8("2"), 1, 100));
    CHECK_OK(fv_credential_new_opaque(U8("3"), 1, &cred));
    CHECK_OK(fv_batch_put_credential(batch, "other", cred, 0));
    fv_credential_free(cred);
    CHECK_FAILS(fv_batch_put(batch, "", U8("1"), 1, 0), FV_INVALID_ARGUMENT, "1 to 1024 bytes");
    CHECK_FAILS(fv_batch_put_credential(batch, "x", NULL, 0), FV_INVALID_ARGUMENT,
                "credential is NULL");
    CHECK(fv_batch_len(batch) == 3);
    CHECK_OK(fv_vault_apply(vault, batch));
    CHECK(fv_batch_len(batch) == 3);
    fv_batch_free(batch);
    batch = NULL;
    CHECK_OK(fv_batch_new(&batch));
    CHECK_OK(fv_batch_put(batch, "new", U8("n"), 1, 0));
    CHECK_OK(fv_batch_delete(batch, "nope"));
    CHECK_FAILS(fv_vault_apply(vault, batch), FV_NOT_FOUND, "nope");
    CHECK_FAILS(fv_vault_get(vault, "new", &entry), FV_NOT_FOUND, "new");
    fv_batch_free(batch);

    CHECK_OK(fv_vault_list(vault, "job/", &list));
    CHECK(fv_list_len(list) == 2);
    CHECK(strcmp(fv_entry_name(fv_list_get(list, 0)), "job/a") == 0);
    CHECK(strcmp(fv_entry_name(fv_list_get(list, 1)), "job/b") == 0);
    CHECK(fv_entry_expires(fv_list_get(list, 1)) == t0 + 100);
    CHECK(fv_entry_kind(fv_list_get(list, 0)) == FV_KIND_OPAQUE);
    CHECK(!fv_entry_has_credential(fv_list_get(list, 0)));
    CHECK(fv_list_get(list, 2) == NULL);
    CHECK_MSG("index 2 is past the end of the list (2 entries)");
    fv_list_free(list);
    list = NULL;
    CHECK_OK(fv_vault_list(vault, NULL, &list));
    CHECK(fv_list_len(list) == 3);
    fv_list_free(list);
    list = NULL;
    CHECK_OK(fv_vault_list(vault, "zzz", &list));
    CHECK(fv_list_len(list) == 0);
    CHECK(fv_list_get(list, 0) == NULL);
    fv_list_free(list);

    /* Time moves through handles whose clocks are pinned later. */
    CHECK_OK(fv_vault_renew(vault, "job/a", 70));
    later = open_vault("ttl", 0, t0 + 60);
    CHECK_OK(fv_vault_get(later, "job/a", &entry));
    CHECK(fv_entry_expires(entry) == t0 + 70);
    fv_entry_free(entry);
    entry = NULL;
    much_later = open_vault("ttl", 0, t0 + 101);
    also_late = open_vault("ttl", 0, t0 + 101);
    /* Every reader, every time, is told the entry expired: a read removes nothing. */
    for (round = 0; round < 2; round++) {
        CHECK_FAILS(fv_vault_get(much_later, "job/b", &entry), FV_EXPIRED, "job/b");
        CHECK(entry == NULL);
        CHECK_FAILS(fv_vault_get(also_late, "job/b", &entry), FV_EXPIRED, "job/b");
        CHECK(entry == NULL);
        CHECK_FAILS(fv_vault_metadata(also_late, "job/b", &entry), FV_EXPIRED, "job/b");
        CHECK(entry == NULL);
    }
    fv_vault_close(also_late);
    /* The purge removes both job/a (t0 + 70) and job/b (t0 + 100). */
    CHECK_OK(fv_vault_purge_expired(much_later, &removed));
    CHECK(removed == 2);
    CHECK_FAILS(fv_vault_get(much_later, "job/b", &entry), FV_NOT_FOUND, "job/b");
    /* A compaction keeps every live entry and reports the size it left. */
    {
        uint64_t bytes_after = 0;
        CHECK_OK(fv_vault_compact(much_later, &bytes_after));
        CHECK(bytes_after > 0);
        CHECK_OK(fv_vault_compact(much_later, NULL));
        CHECK_OK(fv_vault_metadata(vault, "other", &entry));
        fv_entry_free(entry);
        entry = NULL;
    }
    CHECK_OK(fv_vault_put(vault, "r", U8("r"), 1, 1));
    CHECK_FAILS(fv_vault_renew(much_later, "r", 5), FV_EXPIRED, "\"r\" expired");
    CHECK_FAILS(fv_vault_renew(vault, "job/a", 5), FV_NOT_FOUND, "job/a");
    CHECK_OK(fv_vault_renew(vault, "other", 0));
    fv_vault_close(much_later);
    fv_vault_close(later);
    fv_vault_close(vault);
}

static void test_bad_inputs(void) {
    char path[FV_MAX_PATH_LEN];
    fv_vault *vault = open_vault("bad", 1, 0), *v = NULL;
    fv_entry *entry = NULL;
    fv_list *list = NULL;
    fv_batch *batch = NULL;
    fv_credential *cred = NULL;
    fv_secret *s = NULL;
    uint64_t n = 0;
    char unterminated[2000];
    char *unterminated_text = malloc(FV_MAX_TEXT_LEN + 100);
    char *longest = malloc(FV_MAX_NAME_LEN + 2);
    uint8_t *big = calloc(1, FV_MAX_SECRET_LEN);
    static const char not_utf8[] = {'c', 'a', 'f', (char)0xe9, 0};

    path_in(path, "bad");
    memset(unterminated, 'a', sizeof unterminated);
    memset(unterminated_text, 'a', FV_MAX_TEXT_LEN + 100);
    memset(longest, 'n', FV_MAX_NAME_LEN + 1);
    longest[FV_MAX_NAME_LEN] = 0;

    /* NULL handles and out-params name the argument. */
    CHECK_FAILS(fv_vault_open_passphrase(NULL, U8("pw"), 2, NULL, &v), FV_INVALID_ARGUMENT,
                "path is NULL");
    CHECK_FAILS(fv_vault_open_passphrase(path, NULL, 2, NULL, &v), FV_INVALID_ARGUMENT,
                "passphrase is NULL");
    CHECK_FAILS(fv_vault_open_passphrase(path, U8("pw"), 0, NULL, &v), FV_INVALID_ARGUMENT,
                "passphrase_len is 0");
    CHECK_FAILS(fv_vault_open_passphrase(path, U8("pw"), 2, NULL, NULL), FV_INVALID_ARGUMENT,
                "out is NULL");
    CHECK_FAILS(fv_vault_open_passphrase(path, U8("\xff"), 1, NULL, &v), FV_INVALID_ARGUMENT,
                "passphrase is not valid UTF-8");
    CHECK_FAILS(fv_vault_open_key_file(path, NULL, NULL, &v), FV_INVALID_ARGUMENT,
                "key_file_path is NULL");
    CHECK_FAILS(fv_vault_open_key_file(path, "", NULL, &v), FV_INVALID_ARGUMENT,
                "key_file_path is empty");
    CHECK_FAILS(fv_vault_create_key_file(NULL, "k", NULL, &v), FV_INVALID_ARGUMENT,
                "path is NULL");
    CHECK_FAILS(fv_vault_create_key_file(path, "k", NULL, NULL), FV_INVALID_ARGUMENT,
                "out is NULL");
    CHECK_FAILS(fv_vault_create_passphrase(path, U8("pw"), 2, NULL, NULL), FV_INVALID_ARGUMENT,
                "out is NULL");
    CHECK_FAILS(fv_vault_open_passphrase(unterminated_text, U8("pw"), 2, NULL, &v),
                FV_INVALID_ARGUMENT, "path is longer than 4096 bytes or not NUL-terminated");
    CHECK(v == NULL);
    CHECK_FAILS(fv_key_file_generate(NULL), FV_INVALID_ARGUMENT, "path is NULL");
    CHECK_FAILS(fv_vault_get(NULL, "a", &entry), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_get(vault, NULL, &entry), FV_INVALID_ARGUMENT, "name is NULL");
    CHECK_FAILS(fv_vault_get(vault, "a", NULL), FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAILS(fv_vault_metadata(NULL, "a", &entry), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_metadata(vault, NULL, &entry), FV_INVALID_ARGUMENT, "name is NULL");
    CHECK_FAILS(fv_vault_list(NULL, NULL, &list), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_list(vault, NULL, NULL), FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAILS(fv_vault_list(vault, not_utf8, &list), FV_INVALID_ARGUMENT,
                "prefix is not valid UTF-8");
    CHECK_FAILS(fv_vault_put(NULL, "a", U8("x"), 1, 0), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_put(vault, NULL, U8("x"), 1, 0), FV_INVALID_ARGUMENT, "name is NULL");
    CHECK_FAILS(fv_vault_put(vault, "a", NULL, 1, 0), FV_INVALID_ARGUMENT, "secret is NULL");
    CHECK_FAILS(fv_vault_put_credential(NULL, "a", NULL, 0), FV_INVALID_ARGUMENT,
                "vault is NULL");
    CHECK_FAILS(fv_vault_put_credential(vault, "a", NULL, 0), FV_INVALID_ARGUMENT,
                "credential is NULL");
    CHECK_FAILS(fv_vault_delete(NULL, "a"), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_delete(vault, NULL), FV_INVALID_ARGUMENT, "name is NULL");
    CHECK_FAILS(fv_vault_renew(NULL, "a", 1), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_renew(vault, NULL, 1), FV_INVALID_ARGUMENT, "name is NULL");
    CHECK_FAILS(fv_vault_purge_expired(NULL, &n), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_purge_expired(vault, NULL), FV_INVALID_ARGUMENT, "removed_out is NULL");
    CHECK_FAILS(fv_vault_compact(NULL, NULL), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_apply(NULL, NULL), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_apply(vault, NULL), FV_INVALID_ARGUMENT, "batch is NULL");
    CHECK_FAILS(fv_vault_change_passphrase(NULL, U8("p"), 1), FV_INVALID_ARGUMENT,
                "vault is NULL");
    CHECK_FAILS(fv_vault_change_passphrase(vault, NULL, 1), FV_INVALID_ARGUMENT,
                "passphrase is NULL");
    CHECK_FAILS(fv_vault_add_key_file(NULL, "k"), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_add_key_file(vault, NULL), FV_INVALID_ARGUMENT, "key_file_path is NULL");
    CHECK_FAILS(fv_vault_add_key_file(vault, path), FV_IO, "reading key file");
    CHECK_FAILS(fv_vault_remove_key_file(NULL, "k"), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_remove_key_file(vault, NULL), FV_INVALID_ARGUMENT,
                "key_file_path is NULL");
    CHECK_FAILS(fv_vault_rotate(NULL, 0, &n), FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_vault_rotate(vault, 0, NULL), FV_INVALID_ARGUMENT, "reencrypted_out is NULL");
    CHECK_FAILS(fv_batch_new(NULL), FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAILS(fv_batch_put(NULL, "a", U8("x"), 1, 0), FV_INVALID_ARGUMENT, "batch is NULL");
    CHECK_FAILS(fv_batch_put_credential(NULL, "a", NULL, 0), FV_INVALID_ARGUMENT,
                "batch is NULL");
    CHECK_FAILS(fv_batch_delete(NULL, "a"), FV_INVALID_ARGUMENT, "batch is NULL");
    CHECK(fv_batch_len(NULL) == 0);
    CHECK_MSG("batch is NULL");
    CHECK_FAILS(fv_credential_new_opaque(NULL, 1, &cred), FV_INVALID_ARGUMENT, "secret is NULL");
    CHECK_FAILS(fv_credential_new_opaque(U8("x"), 1, NULL), FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAILS(fv_credential_new_script_key(NULL, "s", U8("k"), 1, NULL, &cred),
                FV_INVALID_ARGUMENT, "host is NULL");
    CHECK_FAILS(fv_credential_new_script_key("h", NULL, U8("k"), 1, NULL, &cred),
                FV_INVALID_ARGUMENT, "script_name is NULL");
    CHECK_FAILS(fv_credential_new_script_key("h", "s", NULL, 1, NULL, &cred),
                FV_INVALID_ARGUMENT, "api_key is NULL");
    CHECK_FAILS(fv_credential_new_script_key("h", "", U8("k"), 1, NULL, &cred),
                FV_INVALID_ARGUMENT, "non-empty script_name");
    CHECK_FAILS(fv_credential_new_script_key("h", "s", U8("k"), 1, not_utf8, &cred),
                FV_INVALID_ARGUMENT, "http_proxy is not valid UTF-8");
    CHECK_FAILS(fv_credential_new_session_token("h", NULL, U8("t"), 1, NULL, NULL, &cred),
                FV_INVALID_ARGUMENT, "login is NULL");
    CHECK_FAILS(fv_credential_new_session_token("h", "l", U8("t"), 0, NULL, NULL, &cred),
                FV_INVALID_ARGUMENT, "session_token_len is 0");
    CHECK_FAILS(fv_credential_new_session_token("h", "l", U8("t"), 1, NULL, unterminated_text, &cred),
                FV_INVALID_ARGUMENT, "session_metadata is longer than 65536 bytes");
    CHECK_FAILS(fv_credential_new_login_password("h", "l", U8("\xc3"), 1, NULL, &cred),
                FV_INVALID_ARGUMENT, "password is not valid UTF-8");
    CHECK_FAILS(fv_credential_new_login_password("h", "l", U8("p"), 1, NULL, NULL),
                FV_INVALID_ARGUMENT, "out is NULL");
    CHECK(cred == NULL);
    CHECK(fv_credential_kind(NULL) == FV_KIND_INVALID);
    CHECK_MSG("credential is NULL");
    CHECK_FAILS(fv_credential_field(NULL, FV_FIELD_HOST, &s), FV_INVALID_ARGUMENT,
                "credential is NULL");
    CHECK(fv_secret_data(NULL) == NULL);
    CHECK_MSG("secret is NULL");
    CHECK(fv_secret_len(NULL) == 0);
    CHECK(fv_entry_kind(NULL) == FV_KIND_INVALID);
    CHECK(fv_entry_name(NULL) == NULL);
    CHECK_MSG("entry is NULL");
    CHECK(fv_entry_host(NULL) == NULL);
    CHECK(fv_entry_created(NULL) == 0);
    CHECK(fv_entry_updated(NULL) == 0);
    CHECK(fv_entry_expires(NULL) == 0);
    CHECK(!fv_entry_has_credential(NULL));
    CHECK_FAILS(fv_entry_field(NULL, 0, &s), FV_INVALID_ARGUMENT, "entry is NULL");
    CHECK_FAILS(fv_entry_credential(NULL, &cred), FV_INVALID_ARGUMENT, "entry is NULL");
    CHECK(fv_list_len(NULL) == 0);
    CHECK(fv_list_get(NULL, 0) == NULL);
    CHECK_MSG("list is NULL");
    /* Every free and close accepts NULL. */
    fv_vault_close(NULL);
    fv_entry_free(NULL);
    fv_list_free(NULL);
    fv_secret_free(NULL);
    fv_credential_free(NULL);
    fv_batch_free(NULL);
    fv_options_free(NULL);

    /* Names: UTF-8, NUL-terminated within FV_MAX_NAME_LEN, no control characters. */
    CHECK_FAILS(fv_vault_put(vault, not_utf8, U8("x"), 1, 0), FV_INVALID_ARGUMENT,
                "name is not valid UTF-8");
    CHECK_FAILS(fv_vault_get(vault, unterminated, &entry), FV_INVALID_ARGUMENT,
                "name is longer than 1024 bytes or not NUL-terminated");
    CHECK_OK(fv_vault_put(vault, longest, U8("x"), 1, 0));
    longest[FV_MAX_NAME_LEN] = 'n';
    longest[FV_MAX_NAME_LEN + 1] = 0;
    CHECK_FAILS(fv_vault_put(vault, longest, U8("x"), 1, 0), FV_INVALID_ARGUMENT,
                "name is longer than 1024 bytes");
    CHECK_FAILS(fv_vault_put(vault, "", U8("x"), 1, 0), FV_INVALID_ARGUMENT, "1 to 1024 bytes");
    CHECK_FAILS(fv_vault_put(vault, "a\nb", U8("x"), 1, 0), FV_INVALID_ARGUMENT,
                "control character");
    CHECK_OK(fv_batch_new(&batch));
    CHECK_FAILS(fv_batch_delete(batch, unterminated), FV_INVALID_ARGUMENT, "not NUL-terminated");
    CHECK_FAILS(fv_batch_put(batch, "a", U8("x"), 0, 0), FV_INVALID_ARGUMENT, "secret_len is 0");
    CHECK(fv_batch_len(batch) == 0);
    fv_batch_free(batch);

    /* Lengths: at least 1 byte, at most FV_MAX_SECRET_LEN; TTLs at most 100 years. */
    CHECK_FAILS(fv_vault_put(vault, "a", U8("x"), 0, 0), FV_INVALID_ARGUMENT, "secret_len is 0");
    CHECK_FAILS(fv_vault_put(vault, "a", big, (size_t)FV_MAX_SECRET_LEN + 1, 0),
                FV_INVALID_ARGUMENT, "FV_MAX_SECRET_LEN");
    CHECK_OK(fv_vault_put(vault, "big", big, FV_MAX_SECRET_LEN, 0));
    CHECK_FAILS(fv_vault_put(vault, "a", U8("x"), 1, UINT64_MAX), FV_INVALID_ARGUMENT,
                "100-year");
    CHECK_FAILS(fv_vault_renew(vault, "big", UINT64_MAX), FV_INVALID_ARGUMENT, "100-year");
    CHECK_FAILS(fv_credential_new_opaque(big, (size_t)FV_MAX_SECRET_LEN + 1, &cred),
                FV_INVALID_ARGUMENT, "FV_MAX_SECRET_LEN");

    free(big);
    free(longest);
    free(unterminated_text);
    fv_vault_close(vault);
}

static void test_use_after_close_and_double_free(void) {
    fv_vault *vault = open_vault("closed", 1, 0);
    fv_entry *entry = NULL;
    fv_list *list = NULL;
    const fv_entry *borrowed = NULL;
    fv_secret *s = NULL;
    fv_credential *cred = NULL;
    fv_batch *batch = NULL;
    int not_a_handle = 0;

    CHECK_OK(fv_vault_put(vault, "a", U8("x"), 1, 0));
    CHECK_OK(fv_vault_get(vault, "a", &entry));
    /* One type where another belongs. */
    CHECK_FAILS(fv_vault_get((const fv_vault *)entry, "a", &entry), FV_INVALID_ARGUMENT,
                "expected an fv_vault, got an fv_entry");
    CHECK_FAILS(fv_vault_put((fv_vault *)&not_a_handle, "a", U8("x"), 1, 0),
                FV_INVALID_ARGUMENT, "not from farmvault");
    CHECK_OK(fv_entry_field(entry, FV_FIELD_SECRET, &s));
    fv_entry_free(entry);
    CHECK(fv_entry_kind(entry) == FV_KIND_INVALID);
    CHECK_MSG("entry: fv_entry handle is closed or invalid");
    fv_entry_free(entry);
    CHECK_MSG("entry: fv_entry handle is closed or invalid");
    fv_secret_free(s);
    CHECK(fv_secret_len(s) == 0);
    CHECK_MSG("fv_secret handle is closed or invalid");
    fv_secret_free(s);
    CHECK_MSG("secret: fv_secret handle is closed or invalid");

    CHECK_OK(fv_credential_new_opaque(U8("c"), 1, &cred));
    fv_credential_free(cred);
    fv_credential_free(cred);
    CHECK_MSG("credential: fv_credential handle is closed or invalid");
    CHECK_FAILS(fv_vault_put_credential(vault, "c", cred, 0), FV_INVALID_ARGUMENT,
                "closed or invalid");
    CHECK_OK(fv_batch_new(&batch));
    fv_batch_free(batch);
    fv_batch_free(batch);
    CHECK_MSG("batch: fv_batch handle is closed or invalid");
    CHECK_FAILS(fv_vault_apply(vault, batch), FV_INVALID_ARGUMENT, "closed or invalid");

    /* List entries are borrowed: not freed through fv_entry_free, gone with the list. */
    CHECK_OK(fv_vault_list(vault, NULL, &list));
    borrowed = fv_list_get(list, 0);
    CHECK(strcmp(fv_entry_name(borrowed), "a") == 0);
    fv_entry_free((fv_entry *)borrowed);
    CHECK_MSG("borrowed from its parent");
    CHECK(strcmp(fv_entry_name(borrowed), "a") == 0);
    fv_list_free(list);
    CHECK(fv_entry_name(borrowed) == NULL);
    CHECK_MSG("closed or invalid");
    CHECK(fv_list_len(list) == 0);
    fv_list_free(list);
    CHECK_MSG("list: fv_list handle is closed or invalid");

    fv_vault_close(vault);
    CHECK_FAILS(fv_vault_get(vault, "a", &entry), FV_INVALID_ARGUMENT,
                "vault: fv_vault handle is closed or invalid");
    CHECK_FAILS(fv_vault_put(vault, "a", U8("x"), 1, 0), FV_INVALID_ARGUMENT,
                "fv_vault handle is closed or invalid");
    fv_vault_close(vault);
    CHECK_MSG("vault: fv_vault handle is closed or invalid");
}

static void test_no_secret_in_messages(void) {
    static const char secret[] = "S3CRET-never-in-a-message";
    char path[FV_MAX_PATH_LEN];
    char bad[64];
    fv_vault *vault = open_vault("quiet", 1, 0), *v = NULL;
    fv_credential *cred = NULL;
    fv_entry *entry = NULL;
    fv_secret *s = NULL;
    size_t len = strlen(secret);

    memcpy(bad, secret, len);
    bad[len] = (char)0xff;
    CHECK_OK(fv_vault_put(vault, "k", U8(secret), len, 0));
    CHECK_FAILS(fv_vault_open_passphrase(path_in(path, "quiet"), U8(secret), len, NULL, &v),
                FV_WRONG_KEY, "wrong");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_FAILS(fv_vault_open_passphrase(path_in(path, "quiet"), U8(bad), len + 1, NULL, &v),
                FV_INVALID_ARGUMENT, "passphrase");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_FAILS(fv_credential_new_script_key("", "n", U8(secret), len, "u:S3CRET@p", &cred),
                FV_INVALID_ARGUMENT, "host");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_FAILS(fv_credential_new_script_key("h", "n", U8(bad), len + 1, NULL, &cred),
                FV_INVALID_ARGUMENT, "api_key");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_FAILS(fv_vault_change_passphrase(vault, U8(bad), len + 1), FV_INVALID_ARGUMENT,
                "passphrase");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_FAILS(fv_vault_put(vault, "k", U8(secret), len, UINT64_MAX), FV_INVALID_ARGUMENT,
                "TTL");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_OK(fv_vault_get(vault, "k", &entry));
    CHECK_FAILS(fv_entry_field(entry, FV_FIELD_LOGIN, &s), FV_NOT_FOUND, "login");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    fv_entry_free(entry);
    fv_entry_free(entry);
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    fv_vault_close(vault);
}

static void test_sgtk(void) {
    static const char script_json[] =
        "{\"type\": \"ScriptUser\", \"data\": {\"http_proxy\": null, \"host\": "
        "\"https://mysite.shotgrid.autodesk.com\", \"api_script\": \"render_farm\", "
        "\"api_key\": \"0123456789abcdef\"}}";
    static const char tank_context[] =
        "{\"_current_user\": \"{\\\"type\\\": \\\"SessionUser\\\", \\\"data\\\": "
        "{\\\"http_proxy\\\": null, \\\"host\\\": \\\"https://mysite.shotgrid.autodesk.com\\\", "
        "\\\"login\\\": \\\"jdoe\\\", \\\"session_token\\\": \\\"abc123\\\"}}\"}";
    static const char cache[] = "current_user: jdoe\nusers:\n- login: jdoe\n  session_token: tok1\n";
    char home[FV_MAX_PATH_LEN], site[FV_MAX_PATH_LEN], file[FV_MAX_PATH_LEN];
    fv_credential *cred = NULL, *back = NULL;
    fv_secret *s = NULL, *pickle = NULL;
    fv_list *imported = NULL;
    fv_entry *entry = NULL;
    fv_vault *vault = NULL;
    uint64_t removed = 99;
    FILE *f = NULL;

    CHECK(fv_sgtk_session_ttl_secs() == FV_SGTK_SESSION_TTL_SECS);
    CHECK_OK(fv_sgtk_parse(U8(script_json), strlen(script_json), &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_SCRIPT_KEY);
    CHECK_OK(fv_credential_field(cred, FV_FIELD_SCRIPT_NAME, &s));
    CHECK(secret_is(s, "render_farm"));
    CHECK_OK(fv_sgtk_to_json(cred, &s));
    CHECK(secret_is(s, script_json));
    CHECK_OK(fv_sgtk_to_pickle(cred, &pickle));
    CHECK(strncmp((const char *)fv_secret_data(pickle), "(dp0", 4) == 0);
    CHECK_OK(fv_sgtk_parse(fv_secret_data(pickle), fv_secret_len(pickle), &back));
    fv_secret_free(pickle);
    CHECK_OK(fv_credential_field(back, FV_FIELD_API_KEY, &s));
    CHECK(secret_is(s, "0123456789abcdef"));
    fv_credential_free(back);
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_sgtk_parse_tank_context(U8(tank_context), strlen(tank_context), &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_SESSION_TOKEN);
    CHECK_OK(fv_credential_field(cred, FV_FIELD_SESSION_TOKEN, &s));
    CHECK(secret_is(s, "abc123"));
    fv_credential_free(cred);
    cred = NULL;

    CHECK_FAILS(fv_sgtk_parse(U8("{not json"), 9, &cred), FV_INVALID_ARGUMENT, "");
    CHECK_FAILS(fv_sgtk_parse(NULL, 3, &cred), FV_INVALID_ARGUMENT, "text is NULL");
    CHECK_FAILS(fv_sgtk_parse(U8("{}"), 0, &cred), FV_INVALID_ARGUMENT, "text_len is 0");
    CHECK_FAILS(fv_sgtk_parse(U8(script_json), strlen(script_json), NULL), FV_INVALID_ARGUMENT,
                "out is NULL");
    CHECK_FAILS(fv_sgtk_parse_tank_context(U8("{}"), 2, &cred), FV_INVALID_ARGUMENT, "");
    CHECK_FAILS(fv_sgtk_parse_tank_context(NULL, 2, &cred), FV_INVALID_ARGUMENT, "json is NULL");
    CHECK(cred == NULL);
    CHECK_OK(fv_credential_new_login_password("https://s", "jdoe", U8("pw"), 2, NULL, &cred));
    CHECK_FAILS(fv_sgtk_to_json(cred, &s), FV_INVALID_ARGUMENT, "");
    CHECK_FAILS(fv_sgtk_to_pickle(cred, &s), FV_INVALID_ARGUMENT, "");
    CHECK_FAILS(fv_sgtk_to_json(NULL, &s), FV_INVALID_ARGUMENT, "credential is NULL");
    CHECK_FAILS(fv_sgtk_to_pickle(cred, NULL), FV_INVALID_ARGUMENT, "out is NULL");
    fv_credential_free(cred);

    /* tk-core's plaintext session cache moves into the vault. */
    path_in(home, "shotgun_home");
    path_in(site, "shotgun_home/mysite");
    path_in(file, "shotgun_home/mysite/authentication.yml");
    CHECK(mkdir(home, 0700) == 0 && mkdir(site, 0700) == 0);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs(cache, f);
        fclose(f);
    }
    vault = open_vault("sgtk", 1, 0);
    CHECK_FAILS(fv_sgtk_import_session_cache(vault, home, "sg/", 0, 0x40, &imported, &removed),
                FV_INVALID_ARGUMENT, "unknown bits");
    CHECK_FAILS(fv_sgtk_import_session_cache(NULL, home, NULL, 0, 0, &imported, &removed),
                FV_INVALID_ARGUMENT, "vault is NULL");
    CHECK_FAILS(fv_sgtk_import_session_cache(vault, home, NULL, 0, 0, NULL, &removed),
                FV_INVALID_ARGUMENT, "imported_out is NULL");
    CHECK_FAILS(fv_sgtk_import_session_cache(vault, home, NULL, 0, 0, &imported, NULL),
                FV_INVALID_ARGUMENT, "removed_out is NULL");
    CHECK(imported == NULL && removed == 99);
    CHECK_OK(fv_sgtk_import_session_cache(vault, home, "sg/", FV_SGTK_SESSION_TTL_SECS,
                                          FV_SGTK_REMOVE_FROM_CACHE, &imported, &removed));
    CHECK(removed == 1);
    CHECK(fv_list_len(imported) == 1);
    CHECK(strcmp(fv_entry_name(fv_list_get(imported, 0)), "sg/mysite/jdoe") == 0);
    fv_list_free(imported);
    CHECK_OK(fv_vault_get(vault, "sg/mysite/jdoe", &entry));
    CHECK(fv_entry_kind(entry) == FV_KIND_SESSION_TOKEN);
    CHECK(field_is(entry, FV_FIELD_SESSION_TOKEN, "tok1"));
    fv_entry_free(entry);

    /* A job's private Toolkit home where tk-core renewed jdoe's session: the new
       token goes back into the entry, once. */
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("current_user: jdoe\nusers:\n- login: jdoe\n  session_token: tok2\n", f);
        fclose(f);
    }
    {
        bool written = false;
        CHECK_OK(fv_sgtk_bring_home(vault, home, "sg/mysite/jdoe", &written));
        CHECK(written);
        CHECK_OK(fv_vault_get(vault, "sg/mysite/jdoe", &entry));
        CHECK(field_is(entry, FV_FIELD_SESSION_TOKEN, "tok2"));
        fv_entry_free(entry);
        CHECK_OK(fv_sgtk_bring_home(vault, home, "sg/mysite/jdoe", &written));
        CHECK(!written);
        CHECK_FAILS(fv_sgtk_bring_home(vault, NULL, "sg/mysite/jdoe", &written),
                    FV_INVALID_ARGUMENT, "shotgun_home is NULL");
        CHECK_FAILS(fv_sgtk_bring_home(vault, home, "sg/nobody", &written), FV_NOT_FOUND, "");
        CHECK_FAILS(fv_sgtk_bring_home(vault, home, "sg/mysite/jdoe", NULL),
                    FV_INVALID_ARGUMENT, "written_out is NULL");
    }
    fv_vault_close(vault);
}

/* Context.serialize() of a project named "Caf\351" (Latin-1), written out raw. */
#define CONTEXT_PICKLE_LATIN1 \
    "(dp0\nVproject\np1\n(dp2\nVtype\np3\nVProject\np4\nsVid\np5\nI65\nsVname\np6\nVCaf\351\np7\nssVadditional_entities\np8\n(lp9\nsV_pc_path\np10\nV/p\np11\nsV_current_user\np12\nV(dp0\\u000aVtype\\u000ap1\\u000aVSessionUser\\u000ap2\\u000asVdata\\u000ap3\\u000a(dp4\\u000aVhttp_proxy\\u000ap5\\u000aNsVhost\\u000ap6\\u000aVhttps://mysite.shotgrid.autodesk.com\\u000ap7\\u000asVlogin\\u000ap8\\u000aVjdoe\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123\\u000ap11\\u000ass.\np13\nsV_payload_encoding\np14\nVISO-8859-1\np15\ns."

/* Whether `secret` holds exactly the `len` bytes at `expected`; frees it. */
static int secret_bytes_are(fv_secret *secret, const char *expected, size_t len) {
    int same = fv_secret_len(secret) == len && memcmp(fv_secret_data(secret), expected, len) == 0;
    fv_secret_free(secret);
    return same;
}

/* TANK_CONTEXT in its default pickle form, as tk-core's Latin-1 text written out raw
   (not UTF-8) and as UTF-8; Flow token pairs; both stored and exported byte for byte. */
static void test_sgtk_contexts_and_flow(void) {
    /* Context.serialize() of a project named "Caf\xc3\xa9": non-UTF-8 raw bytes. */
    static const char raw[] = CONTEXT_PICKLE_LATIN1;
    static const char jwt_live[] = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiA0MTAyNDQ0ODAwfQ.c2ln";
    static const char jwt_expired[] = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiAxMDAwMDAwMDAwfQ.c2ln";
    char utf8[sizeof raw + 8], home[FV_MAX_PATH_LEN], file[FV_MAX_PATH_LEN];
    char tokens[512], exported[512];
    size_t raw_len = sizeof raw - 1, utf8_len = 0, i;
    fv_credential *cred = NULL;
    fv_secret *s = NULL;
    fv_list *imported = NULL;
    fv_entry *entry = NULL;
    fv_entry_view view;
    fv_vault *vault = NULL;
    uint64_t removed = 0, skipped = 0, expires = 0;
    FILE *f = NULL;

    /* The same text as UTF-8: U+00E9 is two bytes. */
    for (i = 0; i < raw_len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x80) {
            utf8[utf8_len++] = (char)c;
        } else {
            utf8[utf8_len++] = (char)(0xC0 | (c >> 6));
            utf8[utf8_len++] = (char)(0x80 | (c & 0x3F));
        }
    }
    vault = open_vault("sgtk-v2", 1, 1700000000);
    CHECK_OK(fv_sgtk_parse_payload(U8(raw), raw_len, &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_TANK_CONTEXT);
    CHECK_OK(fv_credential_field(cred, FV_FIELD_LOGIN, &s));
    CHECK(secret_is(s, "jdoe"));
    CHECK_OK(fv_sgtk_export(cred, &s));
    CHECK(secret_bytes_are(s, raw, raw_len));
    CHECK_OK(fv_vault_put_credential(vault, "ctx/raw", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    /* The old calls take bytes too: the user alone, and the user from the context. */
    CHECK_OK(fv_sgtk_parse_tank_context(U8(raw), raw_len, &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_SESSION_TOKEN);
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_sgtk_parse_payload(U8(utf8), utf8_len, &cred));
    CHECK_OK(fv_vault_put_credential(vault, "ctx/utf8", cred, 0));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_vault_get_view(vault, "ctx/utf8", &entry, &view, sizeof view));
    CHECK(view.kind == FV_KIND_TANK_CONTEXT);
    CHECK(view.session_token.len == 6 && memcmp(view.session_token.data, "abc123", 6) == 0);
    CHECK(field_is(entry, FV_FIELD_SECRET, "abc123"));
    CHECK_OK(fv_entry_field(entry, FV_FIELD_TANK_CONTEXT, &s));
    CHECK(secret_bytes_are(s, utf8, utf8_len));
    CHECK_OK(fv_entry_credential(entry, &cred));
    CHECK_OK(fv_sgtk_export(cred, &s));
    CHECK(secret_bytes_are(s, utf8, utf8_len));
    fv_credential_free(cred);
    cred = NULL;
    fv_entry_free(entry);
    entry = NULL;
    CHECK_FAILS(fv_sgtk_parse_payload(U8("zzz"), 3, &cred), FV_INVALID_ARGUMENT, "not JSON");
    CHECK_FAILS(fv_sgtk_parse_payload(U8("(dp0\ncos\nsystem\n"), 17, &cred),
                FV_INVALID_ARGUMENT, "'c' (GLOBAL) at offset 5");
    CHECK_FAILS(fv_sgtk_parse_payload(NULL, 3, &cred), FV_INVALID_ARGUMENT, "input is NULL");
    CHECK_FAILS(fv_sgtk_export(NULL, &s), FV_INVALID_ARGUMENT, "credential is NULL");
    CHECK(cred == NULL);

    /* A Flow token pair made by hand, and its expiry. */
    CHECK_OK(fv_credential_new_flow_token("APP", "jdoe", U8(jwt_live), strlen(jwt_live),
                                          U8("rt-1"), 4, &cred));
    CHECK(fv_credential_kind(cred) == FV_KIND_FLOW_TOKEN);
    CHECK_OK(fv_sgtk_flow_token_expiry(cred, &expires));
    CHECK(expires == 4102444800u);
    CHECK_OK(fv_credential_field(cred, FV_FIELD_REFRESH_TOKEN, &s));
    CHECK(secret_is(s, "rt-1"));
    snprintf(exported, sizeof exported,
             "{\"adsk.flow.APP.access_token\": {\"jdoe\": \"%s\"}, "
             "\"adsk.flow.APP.refresh_token\": {\"jdoe\": \"rt-1\"}}",
             jwt_live);
    CHECK_OK(fv_sgtk_export(cred, &s));
    CHECK(secret_is(s, exported));
    fv_credential_free(cred);
    cred = NULL;
    CHECK_OK(fv_credential_new_flow_token("APP", "jdoe", U8("not-a-jwt"), 9, NULL, 0, &cred));
    CHECK_FAILS(fv_sgtk_flow_token_expiry(cred, &expires), FV_NOT_FOUND, "expiry");
    CHECK_FAILS(fv_credential_field(cred, FV_FIELD_REFRESH_TOKEN, &s), FV_NOT_FOUND, "");
    fv_credential_free(cred);
    cred = NULL;
    CHECK_FAILS(fv_credential_new_flow_token("", "jdoe", U8("t"), 1, NULL, 0, &cred),
                FV_INVALID_ARGUMENT, "app_id");
    CHECK_FAILS(fv_credential_new_flow_token("A", "p", NULL, 1, NULL, 0, &cred),
                FV_INVALID_ARGUMENT, "access_token is NULL");

    /* tk-core's token file moves into the vault; the expired pair stays in the file. */
    path_in(home, "flow_home");
    path_in(file, "flow_home/adsk_flow_tokens.json");
    CHECK(mkdir(home, 0700) == 0);
    snprintf(tokens, sizeof tokens,
             "{\"adsk.flow.APP.access_token\": {\"jdoe\": \"%s\", \"old\": \"%s\"}}", jwt_live,
             jwt_expired);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs(tokens, f);
        fclose(f);
    }
    CHECK_FAILS(fv_sgtk_import_flow_tokens(vault, home, NULL, 2, &imported, &removed, &skipped),
                FV_INVALID_ARGUMENT, "unknown bits");
    CHECK_FAILS(fv_sgtk_import_flow_tokens(vault, home, NULL, 0, &imported, &removed, NULL),
                FV_INVALID_ARGUMENT, "skipped_out is NULL");
    CHECK_OK(fv_sgtk_import_flow_tokens(vault, home, NULL, FV_SGTK_REMOVE_FROM_CACHE, &imported,
                                        &removed, &skipped));
    CHECK(removed == 1 && skipped == 1);
    CHECK(fv_list_len(imported) == 1);
    CHECK(strcmp(fv_entry_name(fv_list_get(imported, 0)), "flow/APP/jdoe") == 0);
    CHECK(fv_entry_expires(fv_list_get(imported, 0)) == 4102444800u);
    fv_list_free(imported);
    CHECK_OK(fv_vault_get(vault, "flow/APP/jdoe", &entry));
    CHECK(fv_entry_kind(entry) == FV_KIND_FLOW_TOKEN);
    CHECK(field_is(entry, FV_FIELD_ACCESS_TOKEN, jwt_live));
    CHECK(field_is(entry, FV_FIELD_PROFILE, "jdoe"));
    fv_entry_free(entry);
    f = fopen(file, "r");
    CHECK(f != NULL);
    if (f != NULL) {
        size_t n = fread(tokens, 1, sizeof tokens - 1, f);
        tokens[n] = 0;
        fclose(f);
    }
    snprintf(exported, sizeof exported, "{\"adsk.flow.APP.access_token\": {\"old\": \"%s\"}}",
             jwt_expired);
    CHECK(strcmp(tokens, exported) == 0);
    fv_vault_close(vault);
}

/* ---- job grants: read-only fv_vault handles from fv_grant_open ---- */

/* The script key the fixture grants hold (scripts/test-c.sh, GRANT_KEY). */
#define GRANT_KEY "GRANT-KEY-c0ffee-7d1e5a"
#define GRANT_ENTRY "shotgun/render_farm"

static const char *grant_file(char *buf, const char *leaf) {
    snprintf(buf, FV_MAX_PATH_LEN, "%s/%s", grants, leaf);
    return buf;
}

/* Reads the first line of the fixture file `leaf` (a token, an issuer key). */
static const char *read_line(const char *leaf, char *buf, size_t size) {
    char path[FV_MAX_PATH_LEN];
    FILE *f = fopen(grant_file(path, leaf), "r");
    buf[0] = 0;
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fgets(buf, (int)size, f) != NULL);
        fclose(f);
    }
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

/* Reads the token `farmvault grant` printed into the fixture file `leaf`. */
static const char *read_token(const char *leaf, char *buf, size_t size) {
    read_line(leaf, buf, size);
    CHECK(strncmp(buf, "fvg1_", 5) == 0);
    return buf;
}

/* Options for opening a grant: first opens recorded under scratch/`state`. */
static fv_options *grant_options(const char *state) {
    char path[FV_MAX_PATH_LEN];
    fv_options *opts = NULL;
    CHECK_OK(fv_options_new(&opts));
    CHECK_OK(fv_options_set_state_dir(opts, path_in(path, state)));
    return opts;
}

/* Opens grant fixture `leaf` with `token` and/or identity fixture `identity`. */
static fv_result open_grant(const char *leaf, const char *token, const char *identity,
                            const fv_options *opts, fv_vault **out) {
    char bundle[FV_MAX_PATH_LEN], id[FV_MAX_PATH_LEN];
    return fv_grant_open(grant_file(bundle, leaf), token,
                         identity != NULL ? grant_file(id, identity) : NULL, opts, out);
}

/* Whether `vault` reads the fixture's script key in full through one fv_vault_get_view. */
static int reads_grant_key_view(const fv_vault *vault) {
    fv_entry *entry = NULL;
    fv_entry_view view;
    int ok;
    if (fv_vault_get_view(vault, GRANT_ENTRY, &entry, &view, sizeof view) != FV_OK) {
        fprintf(stderr, "get_view %s: %s\n", GRANT_ENTRY, fv_last_error_message());
        return 0;
    }
    ok = view.kind == FV_KIND_SCRIPT_KEY && view.has_credential && view.expires != 0 &&
         bytes_is(view.host, "https://mysite.shotgrid.autodesk.com") &&
         bytes_is(view.script_name, "render_farm") && bytes_is(view.api_key, GRANT_KEY);
    fv_entry_free(entry);
    return ok;
}

/* Whether `vault` reads the fixture's script key in full. */
static int reads_grant_key(const fv_vault *vault) {
    fv_entry *entry = NULL;
    int ok;
    if (fv_vault_get(vault, GRANT_ENTRY, &entry) != FV_OK) {
        fprintf(stderr, "get %s: %s\n", GRANT_ENTRY, fv_last_error_message());
        return 0;
    }
    ok = fv_entry_kind(entry) == FV_KIND_SCRIPT_KEY &&
         field_is(entry, FV_FIELD_HOST, "https://mysite.shotgrid.autodesk.com") &&
         field_is(entry, FV_FIELD_SCRIPT_NAME, "render_farm") &&
         field_is(entry, FV_FIELD_API_KEY, GRANT_KEY);
    fv_entry_free(entry);
    return ok && reads_grant_key_view(vault);
}

static void test_grant_reads_and_refuses_writes(void) {
    char token[256], key[FV_MAX_PATH_LEN], home[FV_MAX_PATH_LEN];
    fv_options *opts = grant_options("state-read");
    fv_vault *grant = NULL;
    fv_entry *entry = NULL;
    fv_list *list = NULL, *imported = NULL;
    fv_credential *cred = NULL;
    fv_batch *batch = NULL;
    uint64_t n = 99, first_opened = 0, use_until = 0;

    read_token("token.txt", token, sizeof token);
    CHECK_OK(open_grant("token.fvgrant", token, NULL, opts, &grant));
    CHECK(grant != NULL);
    CHECK(reads_grant_key(grant));
    /* Metadata and lists as on a vault; an entry inside expires with the grant. */
    CHECK_OK(fv_vault_metadata(grant, GRANT_ENTRY, &entry));
    CHECK(!fv_entry_has_credential(entry));
    CHECK(fv_entry_kind(entry) == FV_KIND_SCRIPT_KEY);
    CHECK(fv_entry_expires(entry) != 0);
    /* The use window, on the system clock: opened just now, 4 h of use, and the
     * entry expires with it. */
    CHECK_OK(fv_grant_use_window(grant, &first_opened, &use_until));
    CHECK(first_opened <= (uint64_t)time(NULL) && first_opened + 60 > (uint64_t)time(NULL));
    CHECK(use_until == first_opened + 4 * 3600);
    CHECK(fv_entry_expires(entry) == use_until);
    fv_entry_free(entry);
    entry = NULL;
    CHECK_OK(fv_vault_list(grant, NULL, &list));
    CHECK(fv_list_len(list) == 1);
    CHECK(strcmp(fv_entry_name(fv_list_get(list, 0)), GRANT_ENTRY) == 0);
    fv_list_free(list);
    list = NULL;
    /* The vault's other entry is not in the grant. */
    CHECK_FAILS(fv_vault_get(grant, "other", &entry), FV_NOT_FOUND, "\"other\"");
    CHECK_FAILS(fv_vault_metadata(grant, "other", &entry), FV_NOT_FOUND, "\"other\"");
    CHECK(entry == NULL);

    /* Every write is FV_READ_ONLY, and says why. */
    CHECK_OK(fv_credential_new_opaque(U8("x"), 1, &cred));
    CHECK_OK(fv_batch_new(&batch));
    CHECK_OK(fv_batch_put(batch, "x", U8("x"), 1, 0));
    path_in(key, "grant-write.key");
    CHECK_OK(fv_key_file_generate(key));
    path_in(home, "grant-shotgun-home");
    CHECK(mkdir(home, 0700) == 0);
    CHECK_FAILS(fv_vault_put(grant, "x", U8("x"), 1, 0), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_put_credential(grant, "x", cred, 0), FV_READ_ONLY, "c-test-token");
    CHECK_FAILS(fv_vault_delete(grant, GRANT_ENTRY), FV_READ_ONLY, "job grant");
    CHECK_FAILS(fv_vault_renew(grant, GRANT_ENTRY, 60), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_purge_expired(grant, &n), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_compact(grant, NULL), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_apply(grant, batch), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_change_passphrase(grant, U8("pw"), 2), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_add_key_file(grant, key), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_remove_key_file(grant, key), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_vault_rotate(grant, 0, &n), FV_READ_ONLY, "only reads");
    CHECK_FAILS(fv_sgtk_import_session_cache(grant, home, NULL, 0, 0, &imported, &n),
                FV_READ_ONLY, "only reads");
    CHECK(n == 99 && imported == NULL);
    fv_batch_free(batch);
    fv_credential_free(cred);
    /* The refused writes changed nothing. */
    CHECK(reads_grant_key(grant));

    /* Use after close and double close are detected. */
    fv_vault_close(grant);
    CHECK_FAILS(fv_vault_get(grant, GRANT_ENTRY, &entry), FV_INVALID_ARGUMENT,
                "fv_vault handle is closed or invalid");
    CHECK_FAILS(fv_vault_put(grant, "x", U8("x"), 1, 0), FV_INVALID_ARGUMENT,
                "closed or invalid");
    first_opened = use_until = 7;
    CHECK_FAILS(fv_grant_use_window(grant, &first_opened, &use_until), FV_INVALID_ARGUMENT,
                "grant: fv_vault handle is closed or invalid");
    CHECK(first_opened == 7 && use_until == 7);
    fv_vault_close(grant);
    CHECK_MSG("vault: fv_vault handle is closed or invalid");
    fv_options_free(opts);
}

/* Pinned issuers: the grants vault's key opens its grants; another vault's key
 * alone refuses them as FV_TAMPERED before any key is tried; a list with both
 * opens; a malformed list is refused naming its position, not its text. */
static void test_grant_issuers(void) {
    char token[256], ours[128], theirs[128], both[300];
    fv_options *opts = grant_options("state-issuers");
    fv_vault *grant = NULL;

    read_token("token.txt", token, sizeof token);
    read_line("issuer.txt", ours, sizeof ours);
    read_line("other-issuer.txt", theirs, sizeof theirs);
    CHECK(strncmp(ours, "fvi1_", 5) == 0 && strncmp(theirs, "fvi1_", 5) == 0);
    CHECK(strcmp(ours, theirs) != 0);

    CHECK_OK(fv_options_set_issuers(opts, theirs));
    CHECK_FAILS(open_grant("token.fvgrant", token, NULL, opts, &grant), FV_TAMPERED,
                "not from a trusted issuer");
    CHECK(grant == NULL);
    snprintf(both, sizeof both, "%s, %s", theirs, ours);
    CHECK_OK(fv_options_set_issuers(opts, both));
    CHECK_OK(open_grant("token.fvgrant", token, NULL, opts, &grant));
    CHECK(reads_grant_key(grant));
    fv_vault_close(grant);
    grant = NULL;
    CHECK_FAILS(fv_options_set_issuers(opts, "fvi1_not-a-key"), FV_INVALID_ARGUMENT, "keys, line 1");
    CHECK(strstr(fv_last_error_message(), "not-a-key") == NULL);
    CHECK_OK(fv_options_set_issuers(opts, NULL));
    CHECK_OK(open_grant("token.fvgrant", token, NULL, opts, &grant));
    fv_vault_close(grant);
    fv_options_free(opts);
}

/* Issuing from C: a token grant of one entry opens with the token it returned and
 * reads the entry; its id is the token's first 16 bytes' worth; bad requests
 * (no entry, a missing one, no token without recipients, unknown flags) are
 * refused and write nothing; a grant handle cannot issue. */
static void test_vault_grant(void) {
    char bundle[FV_MAX_PATH_LEN], state[FV_MAX_PATH_LEN], token_text[256];
    fv_vault *vault = open_vault("issuing", 1, 0);
    fv_vault *grant = NULL;
    fv_secret *token = NULL;
    fv_options *opts = NULL;
    uint8_t id[FV_GRANT_ID_LEN] = {0}, zero[FV_GRANT_ID_LEN] = {0};

    CHECK_OK(fv_vault_put(vault, "shotgun/c_issued", U8("c-issued-key-5e7a"), 17, 0));
    CHECK_OK(fv_vault_grant(vault, path_in(bundle, "issued.fvgrant"), "c-job", "shotgun/", 3600, 600,
                            NULL, NULL, 0, &token, &id));
    CHECK(token != NULL && fv_secret_len(token) > 5);
    CHECK(memcmp(id, zero, sizeof id) != 0);
    snprintf(token_text, sizeof token_text, "%s", (const char *)fv_secret_data(token));
    CHECK(strncmp(token_text, "fvg1_", 5) == 0);
    fv_secret_free(token);
    token = NULL;

    CHECK_OK(fv_options_new(&opts));
    CHECK_OK(fv_options_set_state_dir(opts, path_in(state, "state-issued")));
    CHECK_OK(fv_grant_open(bundle, token_text, NULL, opts, &grant));
    {
        fv_entry *entry = NULL;
        CHECK_OK(fv_vault_get(grant, "shotgun/c_issued", &entry));
        CHECK(field_is(entry, FV_FIELD_SECRET, "c-issued-key-5e7a"));
        fv_entry_free(entry);
    }
    CHECK_FAILS(fv_vault_grant(grant, path_in(bundle, "again.fvgrant"), "x", "shotgun/", 60, 60, NULL,
                               NULL, 0, &token, NULL),
                FV_READ_ONLY, "only reads");
    fv_vault_close(grant);
    fv_options_free(opts);

    CHECK_FAILS(fv_vault_grant(vault, path_in(bundle, "issued.fvgrant"), "c-job", "shotgun/", 60, 60,
                               NULL, NULL, 0, &token, NULL),
                FV_INVALID_ARGUMENT, "already exists");
    CHECK_FAILS(fv_vault_grant(vault, path_in(bundle, "missing.fvgrant"), "c-job", "shotgun/nope", 60,
                               60, NULL, NULL, 0, &token, NULL),
                FV_NOT_FOUND, "shotgun/nope");
    CHECK_FAILS(fv_vault_grant(vault, path_in(bundle, "none.fvgrant"), "c-job", "shotgun/", 60, 60,
                               NULL, NULL, FV_GRANT_NO_TOKEN, NULL, NULL),
                FV_INVALID_ARGUMENT, "");
    CHECK_FAILS(fv_vault_grant(vault, path_in(bundle, "flags.fvgrant"), "c-job", "shotgun/", 60, 60,
                               NULL, NULL, 64, &token, NULL),
                FV_INVALID_ARGUMENT, "unknown bits");
    CHECK(token == NULL);
    fv_vault_close(vault);
}

/* Backups and repair from C: a backup counts its entries and never overwrites;
 * verifying it needs exactly one unlock; a restore from it reads the entry; a
 * repair of a healthy store rebuilds nothing unless forced. */
static void test_recovery(void) {
    char dir[FV_MAX_PATH_LEN], backup[FV_MAX_PATH_LEN], restored[FV_MAX_PATH_LEN];
    fv_vault *vault = open_vault("recovery", 1, 0);
    fv_vault *other = NULL;
    fv_options *opts = cheap_options(0);
    uint64_t entries = 0;
    bool repaired = true;
    fv_entry *entry = NULL;

    CHECK_OK(fv_vault_put(vault, "shotgun/recovered", U8("recovered-key-9d1f"), 18, 0));
    CHECK_OK(fv_vault_backup(vault, path_in(backup, "recovery.fvbk"), &entries));
    CHECK(entries == 1);
    CHECK_FAILS(fv_vault_backup(vault, backup, NULL), FV_IO, "recovery.fvbk");
    CHECK_OK(fv_vault_verify_backup(vault, U8("pw"), 2, NULL, &entries));
    CHECK(entries == 1);
    CHECK_FAILS(fv_vault_verify_backup(vault, NULL, 0, NULL, NULL), FV_INVALID_ARGUMENT, "exactly one");
    CHECK_FAILS(fv_vault_verify_backup(vault, U8("wrong"), 5, NULL, NULL), FV_WRONG_KEY, "");
    fv_vault_close(vault);

    CHECK_OK(fv_vault_restore(path_in(restored, "restored"), backup, U8("pw"), 2, NULL, opts, &other));
    CHECK_OK(fv_vault_get(other, "shotgun/recovered", &entry));
    CHECK(field_is(entry, FV_FIELD_SECRET, "recovered-key-9d1f"));
    fv_entry_free(entry);
    fv_vault_close(other);
    CHECK_FAILS(fv_vault_restore(restored, backup, U8("pw"), 2, NULL, opts, &other), FV_ALREADY_EXISTS, "");

    CHECK_OK(fv_vault_repair(path_in(dir, "recovery"), U8("pw"), 2, NULL, false, opts, &other, &repaired));
    CHECK(!repaired);
    fv_vault_close(other);
    CHECK_OK(fv_vault_repair(dir, U8("pw"), 2, NULL, true, opts, &other, &repaired));
    CHECK(repaired);
    CHECK_OK(fv_vault_get(other, "shotgun/recovered", &entry));
    fv_entry_free(entry);
    fv_vault_close(other);
    fv_options_free(opts);
}

static void test_grant_material(void) {
    char token[256], wrong[256], both_token[256], bundle[FV_MAX_PATH_LEN];
    fv_options *opts = grant_options("state-material");
    fv_vault *grant = NULL;
    size_t len;

    read_token("token.txt", token, sizeof token);
    read_token("both.txt", both_token, sizeof both_token);
    /* The right grant id with a wrong secret: FV_WRONG_KEY, and no token in the message. */
    memcpy(wrong, token, sizeof token);
    len = strlen(wrong);
    wrong[len - 1] = wrong[len - 1] == 'A' ? 'B' : 'A';
    CHECK_FAILS(open_grant("token.fvgrant", wrong, NULL, opts, &grant), FV_WRONG_KEY,
                "token.fvgrant");
    CHECK(strstr(fv_last_error_message(), "fvg1_") == NULL);
    CHECK_FAILS(open_grant("token.fvgrant", both_token, NULL, opts, &grant), FV_WRONG_KEY,
                "wrong");
    /* Malformed and empty tokens, nothing at all, bad paths and out-params. */
    CHECK_FAILS(open_grant("token.fvgrant", "fvg1_S3CRET-ish-but-malformed", NULL, opts, &grant),
                FV_INVALID_ARGUMENT, "malformed");
    CHECK(strstr(fv_last_error_message(), "S3CRET") == NULL);
    CHECK_FAILS(open_grant("token.fvgrant", "", NULL, opts, &grant), FV_INVALID_ARGUMENT,
                "token is empty");
    CHECK_FAILS(open_grant("token.fvgrant", NULL, NULL, opts, &grant), FV_INVALID_ARGUMENT,
                "both NULL");
    CHECK_FAILS(fv_grant_open(NULL, token, NULL, opts, &grant), FV_INVALID_ARGUMENT,
                "bundle_path is NULL");
    CHECK_FAILS(fv_grant_open(grant_file(bundle, "token.fvgrant"), token, NULL, opts, NULL),
                FV_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAILS(open_grant("missing.fvgrant", token, NULL, opts, &grant), FV_IO,
                "missing.fvgrant");
    CHECK_FAILS(open_grant("farm.id", token, NULL, opts, &grant), FV_CORRUPT, "farm.id");
    CHECK(grant == NULL);

    /* A farm identity alone; the wrong one; each half of a --require-both grant. */
    CHECK_OK(open_grant("rcpt.fvgrant", NULL, "farm.id", opts, &grant));
    CHECK(reads_grant_key(grant));
    fv_vault_close(grant);
    grant = NULL;
    CHECK_FAILS(open_grant("rcpt.fvgrant", NULL, "other.id", opts, &grant), FV_WRONG_KEY,
                "rcpt.fvgrant");
    CHECK_FAILS(open_grant("rcpt.fvgrant", token, NULL, opts, &grant), FV_WRONG_KEY, "wrong");
    CHECK_FAILS(open_grant("both.fvgrant", both_token, NULL, opts, &grant), FV_WRONG_KEY,
                "wrong");
    CHECK_FAILS(open_grant("both.fvgrant", NULL, "farm.id", opts, &grant), FV_WRONG_KEY,
                "wrong");
    CHECK_FAILS(open_grant("both.fvgrant", both_token, "other.id", opts, &grant), FV_WRONG_KEY,
                "wrong");
    CHECK_FAILS(open_grant("both.fvgrant", both_token, "missing.id", opts, &grant), FV_IO,
                "missing.id");
    CHECK(grant == NULL);
    CHECK_OK(open_grant("both.fvgrant", both_token, "farm.id", opts, &grant));
    CHECK(reads_grant_key(grant));
    fv_vault_close(grant);
    /* NULL options: the defaults (the grants have no host pattern). */
    fv_options_free(opts);
}

/* Whether scratch/`leaf` exists (a state directory a refused open must not make). */
static int exists_in_scratch(const char *leaf) {
    char path[FV_MAX_PATH_LEN];
    struct stat st;
    return stat(path_in(path, leaf), &st) == 0;
}

/* Sleeps until the system clock reads `unix_secs` or later. */
static void sleep_until(uint64_t unix_secs) {
    const struct timespec tick = {0, 50 * 1000 * 1000};
    while ((uint64_t)time(NULL) < unix_secs) {
        nanosleep(&tick, NULL);
    }
}

/* The node configuration file that names this node's hostname for grants. */
#define NODE_HOSTNAME_FILE "/etc/farmvault/grant-hostname"

static void test_grant_clock_and_host(void) {
    char token[256], late_token[256], short_token[256], hosts_token[256], here_token[256];
    char hostname[256], expected[300];
    fv_options *opts = NULL;
    fv_vault *grant = NULL, *vault = NULL;
    fv_entry *entry = NULL;
    uint64_t first_opened = 0, use_until = 0, first = 0, until = 0, before, after;

    read_token("token.txt", token, sizeof token);
    read_token("late.txt", late_token, sizeof late_token);
    read_token("short.txt", short_token, sizeof short_token);
    read_token("hosts.txt", hosts_token, sizeof hosts_token);
    read_token("here.txt", here_token, sizeof here_token);

    /* Options that pin the clock or name a hostname are refused for a grant, naming
     * why, and nothing is recorded; cleared, the same options open it. */
    opts = grant_options("state-clock");
    CHECK_OK(fv_options_set_fixed_time(opts, (uint64_t)time(NULL) - 3600));
    CHECK_FAILS(open_grant("token.fvgrant", token, NULL, opts, &grant), FV_INVALID_ARGUMENT,
                "a pinned clock is refused for job grants: their windows are measured against "
                "the system clock");
    CHECK_OK(fv_options_set_fixed_time(opts, 0));
    CHECK_OK(fv_options_set_hostname(opts, "render01"));
    CHECK_FAILS(open_grant("token.fvgrant", token, NULL, opts, &grant), FV_INVALID_ARGUMENT,
                "a hostname is refused for job grants");
    CHECK_MSG(NODE_HOSTNAME_FILE);
    CHECK(grant == NULL);
    CHECK(!exists_in_scratch("state-clock"));
    CHECK_OK(fv_options_set_hostname(opts, NULL));

    /* First opened now: the entry expires with the 4 h use window, and a later open on
     * this "machine" (state directory) keeps the window its first open started. */
    before = (uint64_t)time(NULL);
    CHECK_OK(open_grant("token.fvgrant", token, NULL, opts, &grant));
    after = (uint64_t)time(NULL);
    CHECK_OK(fv_grant_use_window(grant, &first_opened, &use_until));
    CHECK(before <= first_opened && first_opened <= after);
    CHECK(use_until == first_opened + 4 * 3600);
    CHECK_OK(fv_vault_metadata(grant, GRANT_ENTRY, &entry));
    CHECK(fv_entry_expires(entry) == use_until);
    fv_entry_free(entry);
    entry = NULL;
    fv_vault_close(grant);
    grant = NULL;
    CHECK_OK(open_grant("token.fvgrant", token, NULL, opts, &grant));
    CHECK(reads_grant_key(grant));
    CHECK_OK(fv_grant_use_window(grant, &first, &until));
    CHECK(first == first_opened && until == use_until);
    /* Both out-parameters are required; neither is written on failure. */
    first_opened = use_until = 7;
    CHECK_FAILS(fv_grant_use_window(grant, NULL, &use_until), FV_INVALID_ARGUMENT,
                "first_opened_out is NULL");
    CHECK_FAILS(fv_grant_use_window(grant, &first_opened, NULL), FV_INVALID_ARGUMENT,
                "use_until_out is NULL");
    CHECK_FAILS(fv_grant_use_window(NULL, &first_opened, &use_until), FV_INVALID_ARGUMENT,
                "grant is NULL");
    CHECK(first_opened == 7 && use_until == 7);
    fv_vault_close(grant);
    /* A vault has no use window. */
    vault = open_vault("not-a-grant", 1, 0);
    CHECK_FAILS(fv_grant_use_window(vault, &first_opened, &use_until), FV_INVALID_ARGUMENT,
                "not a job grant");
    CHECK(first_opened == 7 && use_until == 7);
    fv_vault_close(vault);
    fv_options_free(opts);

    /* Issued with 1 s to claim (scripts/test-c.sh waits it out): never opened on this
     * "machine" before its claim-by deadline, so FV_EXPIRED, and nothing recorded. */
    grant = NULL;
    opts = grant_options("state-late");
    CHECK_FAILS(open_grant("late.fvgrant", late_token, NULL, opts, &grant), FV_EXPIRED,
                "c-test-late");
    CHECK(grant == NULL);
    CHECK(!exists_in_scratch("state-late"));
    fv_options_free(opts);

    /* 2 s of use from the first open, on the system clock: it reads, then once the
     * window is over every read is FV_EXPIRED, the window still answers, and a new
     * open is FV_EXPIRED too. */
    opts = grant_options("state-short");
    CHECK_OK(open_grant("short.fvgrant", short_token, NULL, opts, &grant));
    CHECK_OK(fv_grant_use_window(grant, &first_opened, &use_until));
    CHECK(use_until == first_opened + 2);
    CHECK(reads_grant_key(grant));
    sleep_until(use_until);
    CHECK_FAILS(fv_vault_get(grant, GRANT_ENTRY, &entry), FV_EXPIRED, "c-test-short");
    CHECK(entry == NULL);
    CHECK_OK(fv_grant_use_window(grant, &first, &until));
    CHECK(first == first_opened && until == use_until);
    fv_vault_close(grant);
    grant = NULL;
    CHECK_FAILS(open_grant("short.fvgrant", short_token, NULL, opts, &grant), FV_EXPIRED,
                "c-test-short");
    CHECK(grant == NULL);
    fv_options_free(opts);

    /* The host pattern, against this machine's hostname: hosts.fvgrant's pattern
     * (farmvault-no-such-host-??) does not match it, here.fvgrant's is this very
     * name. A node configuration file would name another hostname: then skip. */
    opts = grant_options("state-host");
    if (access(NODE_HOSTNAME_FILE, F_OK) == 0) {
        printf("skipped: %s exists here, so grants check its hostname, not the OS's\n",
               NODE_HOSTNAME_FILE);
    } else {
        CHECK(gethostname(hostname, sizeof hostname) == 0);
        hostname[sizeof hostname - 1] = 0;
        snprintf(expected, sizeof expected, "\"%s\" does not match", hostname);
        CHECK_FAILS(open_grant("hosts.fvgrant", hosts_token, NULL, opts, &grant),
                    FV_HOST_NOT_ALLOWED, expected);
        CHECK_MSG("\"farmvault-no-such-host-??\"");
        CHECK(grant == NULL);
        CHECK(!exists_in_scratch("state-host"));
        CHECK_OK(open_grant("here.fvgrant", here_token, NULL, opts, &grant));
        CHECK(reads_grant_key(grant));
        fv_vault_close(grant);
    }

    /* The grant options' own bad inputs. */
    CHECK_FAILS(fv_options_set_hostname(opts, ""), FV_INVALID_ARGUMENT, "hostname is empty");
    CHECK_FAILS(fv_options_set_state_dir(opts, ""), FV_INVALID_ARGUMENT, "dir is empty");
    CHECK_OK(fv_options_set_state_dir(opts, NULL));
    CHECK_OK(fv_options_set_hostname(opts, NULL));
    CHECK_FAILS(fv_options_set_state_dir(NULL, "/tmp"), FV_INVALID_ARGUMENT, "opts is NULL");
    CHECK_FAILS(fv_options_set_hostname(NULL, "h"), FV_INVALID_ARGUMENT, "opts is NULL");
    fv_options_free(opts);
    CHECK_FAILS(fv_options_set_hostname(opts, "h"), FV_INVALID_ARGUMENT, "closed or invalid");
}

/* fv_wipe zeroes the caller's copy of a secret, and nothing around it. */
/* A vault this build created has nothing to report: no format upgrade, and a
 * system clock that is not behind what the vault has seen (tests/ffi covers an
 * upgrade of the 0.1.0 fixture). */
static void test_upgrade_and_clock_reports(void) {
    fv_vault *vault = open_vault("reports", 1, 0);
    uint16_t from = 0xffff;
    uint64_t behind = UINT64_MAX;
    CHECK_OK(fv_vault_upgraded_from(vault, &from));
    CHECK(from == 0);
    CHECK_OK(fv_vault_clock_behind(vault, &behind));
    CHECK(behind == 0);
    CHECK(fv_vault_upgraded_from(vault, NULL) == FV_INVALID_ARGUMENT);
    CHECK(fv_vault_clock_behind(NULL, &behind) == FV_INVALID_ARGUMENT);
    CHECK(FV_CLOCK_BEHIND_TOLERANCE_SECS == 300);
    fv_vault_close(vault);
}

static void test_wipe(void) {
    static const char key[] = "KEY-0123456789abcdef";
    fv_credential *cred = NULL;
    fv_secret *secret = NULL;
    unsigned char *buf = malloc(64);
    unsigned char one = 0xff;
    size_t i, len = 0;
    int wiped = 1, kept = 1;
    CHECK(buf != NULL);
    if (buf == NULL) {
        return;
    }
    memset(buf, 0xa5, 64);
    CHECK_OK(fv_credential_new_opaque(U8(key), strlen(key), &cred));
    CHECK_OK(fv_credential_field(cred, FV_FIELD_SECRET, &secret));
    fv_credential_free(cred);
    len = fv_secret_len(secret);
    CHECK(len == strlen(key) && len <= 64 - 16);
    if (len == strlen(key)) {
        memcpy(buf + 16, fv_secret_data(secret), len);
    }
    fv_secret_free(secret);
    CHECK(memcmp(buf + 16, key, strlen(key)) == 0);
    fv_wipe(buf + 16, len);
    for (i = 0; i < 64; i++) {
        if (i >= 16 && i < 16 + len) {
            wiped = wiped && buf[i] == 0;
        } else {
            kept = kept && buf[i] == 0xa5;
        }
    }
    CHECK(wiped);
    CHECK(kept);
    fv_wipe(&one, 1);
    CHECK(one == 0);

    /* NULL with 0 is a no-op (the last error stays as it was); a length of 0 wipes
     * nothing; NULL with a length wipes nothing and says so. */
    CHECK_FAILS(fv_credential_new_opaque(NULL, 1, &cred), FV_INVALID_ARGUMENT, "secret is NULL");
    fv_wipe(NULL, 0);
    CHECK_MSG("secret is NULL");
    memset(buf, 0xa5, 64);
    fv_wipe(buf, 0);
    CHECK(buf[0] == 0xa5);
    CHECK_MSG("secret is NULL");
    fv_wipe(NULL, 5);
    CHECK_MSG("ptr is NULL and len is 5");
    free(buf);
}

/* ---- handles are never reused ---- */

/* Open/close rounds; each makes STALE_HANDLES handles. */
#define STALE_ROUNDS 100
#define STALE_HANDLES 6

static uintptr_t issued[STALE_ROUNDS * STALE_HANDLES];
static size_t n_issued;

/* Whether `handle` is non-NULL and was never given out before; records it. */
static int fresh(const void *handle) {
    uintptr_t h = (uintptr_t)handle;
    size_t i;
    if (handle == NULL || n_issued == sizeof issued / sizeof issued[0]) {
        return 0;
    }
    for (i = 0; i < n_issued; i++) {
        if (issued[i] == h) {
            return 0;
        }
    }
    issued[n_issued++] = h;
    return 1;
}

/* Whether the last call returned `r` == FV_INVALID_ARGUMENT naming a closed handle. */
static int refused(fv_result r, const char *needle) {
    return r == FV_INVALID_ARGUMENT && strstr(fv_last_error_message(), needle) != NULL;
}

/*
 * A vault closed and another opened, an entry and a secret freed and others made, a
 * few hundred times: the closed handle is refused every time (it never reads or
 * writes the vault opened after it, as a reused address would), and no handle value
 * is ever given out twice.
 */
static void test_stale_handles_never_alias(void) {
    char path_a[FV_MAX_PATH_LEN], path_b[FV_MAX_PATH_LEN];
    fv_vault *stale[2 * STALE_ROUNDS];
    fv_vault *vault = open_vault("stale-b", 1, 0), *keep_a = NULL, *keep_b = NULL;
    fv_options *opts = cheap_options(0);
    fv_entry *entry = NULL;
    int round, i, bad_rounds = 0, still_refused = 0;
    CHECK_OK(fv_vault_put(vault, "only-in-b", U8("B"), 1, 0));
    fv_vault_close(vault);
    fv_vault_close(open_vault("stale-a", 1, 0));
    path_in(path_a, "stale-a");
    path_in(path_b, "stale-b");
    /* Kept open through the loop, so that each open in it reuses the process's store of
     * the vault and costs only the unlock (a handle is still made and freed each time). */
    CHECK_OK(fv_vault_open_passphrase(path_a, U8("pw"), 2, opts, &keep_a));
    CHECK_OK(fv_vault_open_passphrase(path_b, U8("pw"), 2, opts, &keep_b));
    for (round = 0; round < STALE_ROUNDS; round++) {
        fv_vault *a = NULL, *b = NULL;
        fv_entry *e1 = NULL, *e2 = NULL, *got = NULL;
        fv_secret *s1 = NULL, *s2 = NULL;
        const char *step = NULL;
/* The round's steps run until one fails; `step` is the first that did. */
#define STEP(cond)                                                                        \
    do {                                                                                  \
        if (step == NULL && !(cond)) {                                                    \
            step = #cond;                                                                 \
        }                                                                                 \
    } while (0)
        STEP(fv_vault_open_passphrase(path_a, U8("pw"), 2, opts, &a) == FV_OK);
        STEP(fresh(a));
        fv_vault_close(a);
        STEP(fv_vault_open_passphrase(path_b, U8("pw"), 2, opts, &b) == FV_OK);
        STEP(refused(fv_vault_get(a, "only-in-b", &got), "vault: fv_vault handle is closed"));
        STEP(got == NULL);
        STEP(refused(fv_vault_put(a, "through-a-stale-handle", U8("x"), 1, 0),
                     "vault: fv_vault handle is closed"));
        STEP(fresh(b));
        STEP(fv_vault_get(b, "only-in-b", &e1) == FV_OK);
        STEP(fresh(e1));
        fv_entry_free(e1);
        STEP(fv_vault_get(b, "only-in-b", &e2) == FV_OK);
        STEP(fv_entry_kind(e1) == FV_KIND_INVALID);
        STEP(fresh(e2));
        STEP(fv_entry_field(e2, FV_FIELD_SECRET, &s1) == FV_OK);
        STEP(fresh(s1));
        fv_secret_free(s1);
        STEP(fv_entry_field(e2, FV_FIELD_SECRET, &s2) == FV_OK);
        STEP(fv_secret_data(s1) == NULL);
        STEP(fresh(s2));
        STEP(secret_is(s2, "B"));
#undef STEP
        fv_entry_free(got);
        fv_entry_free(e2);
        fv_vault_close(b);
        stale[2 * round] = a;
        stale[2 * round + 1] = b;
        if (step != NULL && bad_rounds++ == 0) {
            fprintf(stderr, "%s:%d: round %d: %s failed (a stale handle was accepted, or a "
                    "handle value given out twice)\n", __FILE__, __LINE__, round, step);
        }
    }
    fv_vault_close(keep_a);
    fv_vault_close(keep_b);
    CHECK(bad_rounds == 0);
    CHECK(n_issued == STALE_ROUNDS * STALE_HANDLES);
    /* After every handle made since, each closed vault is still refused... */
    for (i = 0; i < 2 * STALE_ROUNDS; i++) {
        fv_entry *got = NULL;
        still_refused += refused(fv_vault_get(stale[i], "only-in-b", &got),
                                 "vault: fv_vault handle is closed") &&
                         got == NULL;
    }
    CHECK(still_refused == 2 * STALE_ROUNDS);
    /* ...and nothing was written through one. */
    CHECK_OK(fv_vault_open_passphrase(path_b, U8("pw"), 2, opts, &vault));
    CHECK_FAILS(fv_vault_get(vault, "through-a-stale-handle", &entry), FV_NOT_FOUND,
                "through-a-stale-handle");
    fv_vault_close(vault);
    fv_options_free(opts);
}

/* ---- 8 threads on one handle ---- */

#define THREADS 8
#define ROUNDS 25

struct worker {
    fv_vault *vault;
    int id;
    int errors;
};

static void *work(void *arg) {
    struct worker *w = arg;
    char name[64], value[64];
    int i;
    for (i = 0; i < ROUNDS; i++) {
        fv_entry *entry = NULL;
        fv_list *list = NULL;
        fv_secret *s = NULL;
        snprintf(name, sizeof name, "t%d/%d", w->id, i);
        snprintf(value, sizeof value, "value %d %d", w->id, i);
        if (fv_vault_put(w->vault, name, U8(value), strlen(value), 0) != FV_OK) {
            w->errors++;
            continue;
        }
        if (fv_vault_get(w->vault, name, &entry) != FV_OK ||
            fv_entry_field(entry, FV_FIELD_SECRET, &s) != FV_OK || !secret_is(s, value)) {
            w->errors++;
        }
        fv_entry_free(entry);
        if (fv_vault_list(w->vault, "t", &list) != FV_OK || fv_list_len(list) == 0) {
            w->errors++;
        }
        fv_list_free(list);
        /* Each thread's last error is its own. */
        if (fv_vault_get(w->vault, "missing", &entry) != FV_NOT_FOUND ||
            strstr(fv_last_error_message(), "missing") == NULL) {
            w->errors++;
        }
    }
    return NULL;
}

static void test_threads(void) {
    fv_vault *vault = open_vault("threads", 1, 0);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    fv_list *list = NULL;
    int i, errors = 0;
    for (i = 0; i < THREADS; i++) {
        workers[i].vault = vault;
        workers[i].id = i;
        workers[i].errors = 0;
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        errors += workers[i].errors;
    }
    CHECK(errors == 0);
    CHECK_OK(fv_vault_list(vault, NULL, &list));
    CHECK(fv_list_len(list) == THREADS * ROUNDS);
    fv_list_free(list);
    fv_vault_close(vault);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <empty scratch directory> <grant fixtures directory>\n",
                argv[0]);
        return 2;
    }
    if (strlen(argv[1]) >= sizeof dir || strlen(argv[2]) >= sizeof grants) {
        fprintf(stderr, "directory path too long\n");
        return 2;
    }
    memcpy(dir, argv[1], strlen(argv[1]) + 1);
    memcpy(grants, argv[2], strlen(argv[2]) + 1);
    test_versions_and_names();
    test_options();
    test_create_open_and_key_files();
    test_insecure_permissions();
    test_put_get_and_fields();
    test_entry_views();
    test_list_batch_expiry();
    test_bad_inputs();
    test_use_after_close_and_double_free();
    test_stale_handles_never_alias();
    test_wipe();
    test_upgrade_and_clock_reports();
    test_no_secret_in_messages();
    test_sgtk();
    test_sgtk_contexts_and_flow();
    test_grant_reads_and_refuses_writes();
    test_grant_material();
    test_recovery();
    test_vault_grant();
    test_grant_issuers();
    test_grant_clock_and_host();
    test_threads();
    printf("test_farmvault (C): %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
