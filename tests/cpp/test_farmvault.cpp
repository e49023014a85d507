// farmvault.hpp from C++17: RAII handles, exceptions carrying code and message,
// Secret, typed credentials, lists, batches, key files, the Toolkit formats (users,
// contexts, the session cache and Flow tokens), and 8
// threads on one Vault. Built by scripts/test-c.sh with -std=c++17 -Wall -Wextra
// -Werror, against the shared and the static library.
//
// Usage: test_farmvault_cpp <empty scratch directory> <grant fixtures directory>
// (the grants scripts/test-c.sh issues with the farmvault CLI). It leaves <scratch>/plugin-vault, opened by <scratch>/plugin.key and holding the
// script key "shotgun/render_farm", for bindings/cpp/examples/farm_plugin.cpp.
#include "farmvault.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, const char *what, int line) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "test_farmvault.cpp:%d: CHECK(%s) failed\n", line, what);
    }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

/// Runs `f`, expecting it to throw E with `code` and a message holding `needle`.
template <typename E, typename F> void throws(F f, fv_result code, const char *needle, int line) {
    try {
        f();
        check(false, "an exception", line);
    } catch (const E &e) {
        bool ok = e.code() == code && std::strstr(e.what(), needle) != nullptr;
        if (!ok) {
            std::fprintf(stderr, "caught %s: %s\n", e.code_name(), e.what());
        }
        check(ok, needle, line);
    }
}
#define THROWS(E, code, needle, ...) throws<E>([&] { __VA_ARGS__; }, code, needle, __LINE__)

static_assert(!std::is_copy_constructible_v<farmvault::Vault>, "handles are not copyable");
static_assert(!std::is_copy_assignable_v<farmvault::Secret>, "handles are not copyable");
static_assert(std::is_nothrow_move_constructible_v<farmvault::Vault>, "handles move");
static_assert(std::is_nothrow_move_assignable_v<farmvault::Entry>, "handles move");
static_assert(std::is_nothrow_destructible_v<farmvault::Secret>, "destructors never throw");
static_assert(std::is_base_of_v<farmvault::Error, farmvault::NotFound>, "one catch for all");
static_assert(std::is_base_of_v<farmvault::Error, farmvault::Expired>, "one catch for all");

farmvault::Options cheap(uint64_t fixed_time = 0) {
    farmvault::Options o;
    o.kdf(8, 1, 1).fixed_time(fixed_time).lock_timeout(500ms);
    return o;
}

void test_vault(const std::string &dir) {
    using farmvault::Credential;
    using farmvault::Vault;
    const std::string path = dir + "/v";
    auto opts = cheap(1000000);
    Vault vault = Vault::create_passphrase(path, "pw", &opts);
    CHECK(bool(vault));
    THROWS(farmvault::Error, FV_ALREADY_EXISTS, "already exists",
           Vault::create_passphrase(path, "pw", &opts));
    THROWS(farmvault::Error, FV_WRONG_KEY, "wrong passphrase", Vault::open_passphrase(path, "no", &opts));
    CHECK(vault.access() == FV_ACCESS_DIRECT);
    THROWS(farmvault::Error, FV_AGENT, "no agent is running there",
           Vault::connect((dir + "/no-agent.sock").c_str()));

    vault.put("blob", std::string_view("a\0b", 3));
    vault.put("sg/farm",
              Credential::new_script_key("https://site.example", "render_farm", "0123456789abcdef"),
              8h);
    farmvault::Entry e = vault.get("sg/farm");
    CHECK(e.name() == "sg/farm");
    CHECK(e.kind() == FV_KIND_SCRIPT_KEY);
    CHECK(e.host() == std::optional<std::string_view>("https://site.example"));
    CHECK(e.expires() == std::optional<uint64_t>(1000000 + 8 * 3600));
    CHECK(e.created() == 1000000 && e.updated() == 1000000);
    CHECK(e.has_credential());
    farmvault::ScriptKey key = e.script_key();
    CHECK(key.host == "https://site.example");
    CHECK(key.script_name == "render_farm");
    CHECK(key.api_key.view() == "0123456789abcdef");
    CHECK(std::strcmp(key.api_key.c_str(), "0123456789abcdef") == 0);
    CHECK(!key.http_proxy.has_value());
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "not a session token", e.session_token());
    THROWS(farmvault::NotFound, FV_NOT_FOUND, "login", e.field(FV_FIELD_LOGIN));
    CHECK(!e.try_field(FV_FIELD_LOGIN).has_value());
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "field 42", e.field(42));
    Credential copy = e.credential();
    CHECK(copy.kind() == FV_KIND_SCRIPT_KEY);
    CHECK(copy.script_key().script_name == "render_farm");

    farmvault::Entry blob = vault.get("blob");
    CHECK(blob.kind() == FV_KIND_OPAQUE);
    CHECK(!blob.host().has_value() && !blob.expires().has_value());
    farmvault::Secret s = blob.field(FV_FIELD_SECRET);
    CHECK(s.size() == 3 && s.view() == std::string_view("a\0b", 3));

    // Moves transfer ownership; the moved-from object is empty and harmless.
    farmvault::Secret moved = std::move(s);
    CHECK(!s && moved && moved.size() == 3);
    fv_secret *raw = moved.release();
    CHECK(!moved && raw != nullptr);
    fv_secret_free(raw);

    // A copy the caller made is wiped with farmvault::wipe.
    const farmvault::Secret api_key = e.field(FV_FIELD_API_KEY);
    std::vector<char> buf(api_key.size() + 2, 'g');
    std::memcpy(buf.data() + 1, api_key.data(), api_key.size());
    farmvault::wipe(buf.data() + 1, api_key.size());
    CHECK(buf.front() == 'g' && buf.back() == 'g');
    CHECK(std::all_of(buf.begin() + 1, buf.end() - 1, [](char c) { return c == 0; }));
    std::string as_string(api_key.view());
    farmvault::wipe(as_string);
    CHECK(as_string.empty());

    // Not found and expired: get() throws, try_get() says nullopt.
    THROWS(farmvault::NotFound, FV_NOT_FOUND, "\"missing\"", vault.get("missing"));
    CHECK(!vault.try_get("missing").has_value());
    CHECK(vault.try_get("blob").has_value());
    auto later_opts = cheap(1000000 + 9 * 3600);
    Vault later = Vault::open_passphrase(path, "pw", &later_opts);
    THROWS(farmvault::Expired, FV_EXPIRED, "sg/farm", later.get("sg/farm"));
    CHECK(!later.try_get("sg/farm").has_value());
    vault.put("sg/farm", copy, 1h);
    vault.renew("sg/farm", 0s);  // never expires now, whatever the reader's clock says
    CHECK(later.try_get("sg/farm").has_value());
    CHECK(later.purge_expired() == 0);

    // Session tokens and logins, typed both ways.
    vault.put("sg/jdoe", Credential::new_session_token("https://site.example", "jdoe", "tok",
                                                   std::string("u:p@proxy:8080"), std::nullopt));
    farmvault::SessionToken tok = vault.get("sg/jdoe").session_token();
    CHECK(tok.login == "jdoe" && tok.session_token.view() == "tok");
    CHECK(tok.http_proxy && tok.http_proxy->view() == "u:p@proxy:8080");
    CHECK(!tok.session_metadata);
    vault.put("sg/login", Credential::new_login_password("https://site.example", "jdoe", "hunter2"));
    farmvault::LoginPassword lp = vault.get("sg/login").login_password();
    CHECK(lp.password.view() == "hunter2");
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "non-empty host",
           Credential::new_script_key("", "s", "k"));
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "secret_len is 0", Credential::new_opaque(""));
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "TTL cannot be negative", vault.put("x", "y", -1s));

    // Metadata, lists, batches.
    farmvault::Entry meta = vault.metadata("sg/jdoe");
    CHECK(!meta.has_credential());
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "metadata only", meta.field(FV_FIELD_LOGIN));
    farmvault::Batch batch;
    batch.put("job/1", "one", 60s).put("job/2", Credential::new_opaque("two")).remove("blob");
    CHECK(batch.size() == 3);
    vault.apply(batch);
    THROWS(farmvault::NotFound, FV_NOT_FOUND, "blob", vault.apply(batch));
    farmvault::List jobs = vault.list("job/");
    CHECK(jobs.size() == 2);
    std::vector<std::string> names;
    for (farmvault::EntryRef entry : jobs) {
        names.emplace_back(entry.name());
        CHECK(!entry.has_credential());
    }
    CHECK(names == (std::vector<std::string>{"job/1", "job/2"}));
    CHECK(jobs[0].expires() == std::optional<uint64_t>(1000000 + 60));
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "past the end", jobs[2]);
    CHECK(vault.list().size() == 5);
    vault.remove("job/2");
    THROWS(farmvault::NotFound, FV_NOT_FOUND, "job/2", vault.remove("job/2"));

    // The Toolkit's formats.
    const std::string json =
        "{\"type\": \"ScriptUser\", \"data\": {\"http_proxy\": null, \"host\": "
        "\"https://site.example\", \"api_script\": \"render_farm\", \"api_key\": "
        "\"0123456789abcdef\"}}";
    const farmvault::Secret exported = farmvault::sgtk::to_json(copy);
    CHECK(exported.view() == json);
    const farmvault::ScriptKey parsed = farmvault::sgtk::parse(json).script_key();
    CHECK(parsed.api_key.view() == "0123456789abcdef");
    farmvault::Secret pickle = farmvault::sgtk::to_pickle(copy);
    CHECK(farmvault::sgtk::parse(pickle.view()).kind() == FV_KIND_SCRIPT_KEY);
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "", farmvault::sgtk::parse("{oops"));
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "", farmvault::sgtk::parse_tank_context("{}"));
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "",
           farmvault::sgtk::to_json(Credential::new_opaque("x")));
}

void test_toolkit(const std::string &dir) {
    using farmvault::Credential;
    namespace sgtk = farmvault::sgtk;
    auto opts = cheap(1700000000);
    farmvault::Vault vault = farmvault::Vault::create_passphrase(dir + "/toolkit", "pw", &opts);

    // A TANK_CONTEXT (JSON form) is kept whole and comes back byte for byte.
    const std::string context =
        "{\"project\": {\"type\": \"Project\", \"id\": 65}, \"additional_entities\": [], "
        "\"_pc_path\": \"/p\", \"_current_user\": \"{\\\"type\\\": \\\"SessionUser\\\", "
        "\\\"data\\\": {\\\"http_proxy\\\": null, \\\"host\\\": \\\"https://site.example\\\", "
        "\\\"login\\\": \\\"jdoe\\\", \\\"session_token\\\": \\\"abc123\\\"}}\"}";
    const Credential ctx = sgtk::parse_payload(context);
    CHECK(ctx.kind() == FV_KIND_TANK_CONTEXT);
    const farmvault::Secret back = sgtk::to_tk_core(ctx);
    CHECK(back.view() == context);
    const farmvault::Secret login = ctx.field(FV_FIELD_LOGIN);
    CHECK(login.view() == "jdoe");
    const farmvault::SessionToken user = sgtk::parse_tank_context(context).session_token();
    CHECK(user.session_token.view() == "abc123");
    vault.put("ctx", ctx);
    const farmvault::Secret stored = vault.get("ctx").field(FV_FIELD_TANK_CONTEXT);
    CHECK(stored.view() == context);
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "not JSON", sgtk::parse_payload("zzz"));

    // A Flow token pair: made by hand, its expiry, its file, and the import of a file.
    const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiA0MTAyNDQ0ODAwfQ.c2ln";
    const Credential flow = Credential::new_flow_token("APP", "jdoe", jwt, "rt-1");
    CHECK(sgtk::flow_token_expiry(flow) == 4102444800u);
    const farmvault::FlowToken pair = flow.flow_token();
    CHECK(pair.refresh_token && pair.refresh_token->view() == "rt-1");
    const farmvault::Secret file = sgtk::to_tk_core(flow);
    CHECK(file.view() == "{\"adsk.flow.APP.access_token\": {\"jdoe\": \"" + jwt +
                             "\"}, \"adsk.flow.APP.refresh_token\": {\"jdoe\": \"rt-1\"}}");
    THROWS(farmvault::NotFound, FV_NOT_FOUND, "expiry",
           sgtk::flow_token_expiry(Credential::new_flow_token("APP", "jdoe", "not-a-jwt")));
    const std::string home = dir + "/toolkit-home";
    CHECK(std::system(("mkdir -p '" + home + "/mysite'").c_str()) == 0);
    std::ofstream(home + "/adsk_flow_tokens.json")
        << "{\"adsk.flow.APP.access_token\": {\"jdoe\": \"" << jwt << "\"}}";
    std::ofstream(home + "/mysite/authentication.yml")
        << "users:\n- login: jdoe\n  session_token: tok1\n";
    const sgtk::ImportResult flows = sgtk::import_flow_tokens(vault, home, "flow/", true);
    CHECK(flows.imported.size() == 1 && flows.removed == 1 && flows.skipped == 0);
    CHECK(flows.imported[0].expires() == std::optional<uint64_t>(4102444800u));
    const farmvault::FlowToken imported = vault.get("flow/APP/jdoe").flow_token();
    CHECK(imported.access_token.view() == jwt);
    const sgtk::ImportResult sessions = sgtk::import_session_cache(vault, home);
    CHECK(sessions.imported.size() == 1 && sessions.removed == 0);
    const farmvault::SessionToken cached = vault.get("shotgun/mysite/jdoe").session_token();
    CHECK(cached.session_token.view() == "tok1");
}

void test_key_files(const std::string &dir) {
    using farmvault::Vault;
    const std::string path = dir + "/keyed", key = dir + "/a.key", key2 = dir + "/b.key";
    auto opts = cheap();
    farmvault::generate_key_file(key);
    THROWS(farmvault::Error, FV_IO, "a.key", farmvault::generate_key_file(key));
    farmvault::generate_key_file(key2);
    THROWS(farmvault::Error, FV_NO_VAULT, "no vault", Vault::open_key_file(path, key, &opts));
    {
        Vault v = Vault::create_key_file(path, key, &opts);
        v.put("a", "x");
        v.add_key_file(key2);
        v.change_passphrase("pass phrase");
        CHECK(v.rotate(true) == 1);
    }
    THROWS(farmvault::Error, FV_WRONG_KEY, "wrong", Vault::open_key_file(path, key2, &opts));
    Vault v = Vault::open_key_file(path, key, &opts);
    v.add_key_file(key2);
    v.remove_key_file(key);
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "only keyslot", v.remove_key_file(key2));
    // A moved-to handle closes the one it replaces.
    Vault w = Vault::open_key_file(path, key2, &opts);
    w = std::move(v);
    const farmvault::Secret a = w.get("a").field(FV_FIELD_SECRET);
    CHECK(a.view() == "x");
}

void test_threads(const std::string &dir) {
    auto opts = cheap();
    farmvault::Vault vault = farmvault::Vault::create_passphrase(dir + "/threads", "pw", &opts);
    std::vector<std::thread> threads;
    std::vector<int> errors(8, 0);
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&vault, &errors, t] {
            for (int i = 0; i < 25; ++i) {
                const std::string name = "t" + std::to_string(t) + "/" + std::to_string(i);
                const std::string value = "v" + std::to_string(t * 100 + i);
                try {
                    vault.put(name, value);
                    const farmvault::Secret got = vault.get(name).field(FV_FIELD_SECRET);
                    if (got.view() != value) {
                        ++errors[t];
                    }
                    vault.get("missing");
                    ++errors[t];
                } catch (const farmvault::NotFound &e) {
                    if (std::strstr(e.what(), "missing") == nullptr) {
                        ++errors[t];
                    }
                } catch (const farmvault::Error &) {
                    ++errors[t];
                }
            }
        });
    }
    for (auto &t : threads) {
        t.join();
    }
    int total = 0;
    for (int e : errors) {
        total += e;
    }
    CHECK(total == 0);
    CHECK(vault.list().size() == 200);
}

void leave_plugin_vault(const std::string &dir) {
    const std::string key = dir + "/plugin.key";
    farmvault::generate_key_file(key);
    auto opts = cheap();
    farmvault::Vault vault = farmvault::Vault::create_key_file(dir + "/plugin-vault", key, &opts);
    vault.put("shotgun/render_farm",
              farmvault::Credential::new_script_key("https://mysite.shotgrid.autodesk.com",
                                                "render_farm", "KEY-0123456789abcdef"));
}

/// The token `farmvault grant` printed into `file`.
std::string read_token(const std::string &file) {
    std::ifstream in(file);
    std::string token;
    std::getline(in, token);
    CHECK(token.rfind("fvg1_", 0) == 0);
    return token;
}

void test_grants(const std::string &dir, const std::string &grants) {
    const std::string token = read_token(grants + "/token.txt");
    const std::string hosts_token = read_token(grants + "/hosts.txt");
    const std::string here_token = read_token(grants + "/here.txt");
    farmvault::Options opts;
    opts.state_dir(dir + "/grant-state");

    // Read as from a vault; entries outside the grant are simply not there.
    farmvault::Vault grant =
        farmvault::Vault::open_grant(grants + "/token.fvgrant", token.c_str(), nullptr, &opts);
    farmvault::ScriptKey key = grant.get("shotgun/render_farm").script_key();
    CHECK(key.host == "https://mysite.shotgrid.autodesk.com");
    CHECK(key.script_name == "render_farm");
    CHECK(key.api_key.view() == "GRANT-KEY-c0ffee-7d1e5a");
    CHECK(!grant.try_get("other").has_value());
    CHECK(grant.list().size() == 1);
    CHECK(grant.metadata("shotgun/render_farm").expires().has_value());
    THROWS(farmvault::NotFound, FV_NOT_FOUND, "other", grant.get("other"));
    // Pinned to another vault's issuer key: refused before anything is decrypted.
    std::string other_issuer;
    std::ifstream(grants + "/other-issuer.txt") >> other_issuer;
    CHECK(other_issuer.rfind("fvi1_", 0) == 0);
    farmvault::Options pinned_elsewhere;
    pinned_elsewhere.state_dir(dir + "/grant-state").issuers(other_issuer);
    THROWS(farmvault::Error, FV_TAMPERED, "not from a trusted issuer",
           farmvault::Vault::open_grant(grants + "/token.fvgrant", token.c_str(), nullptr,
                                        &pinned_elsewhere));
    // Every write throws FV_READ_ONLY.
    THROWS(farmvault::Error, FV_READ_ONLY, "only reads", grant.put("x", "y"));
    THROWS(farmvault::Error, FV_READ_ONLY, "only reads", grant.remove("shotgun/render_farm"));
    THROWS(farmvault::Error, FV_READ_ONLY, "only reads", grant.rotate());

    // The use window, on the system clock: opened just now, 4 h of use, and the entry
    // expires with it.
    const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
    const farmvault::UseWindow window = grant.use_window();
    CHECK(window.first_opened <= now && now < window.first_opened + 60);
    CHECK(window.use_until == window.first_opened + 4 * 3600);
    CHECK(grant.metadata("shotgun/render_farm").expires() ==
          std::optional<uint64_t>(window.use_until));
    // A later open on this "machine" (state directory) keeps the window its first open
    // started.
    farmvault::UseWindow later =
        farmvault::Vault::open_grant(grants + "/token.fvgrant", token.c_str(), nullptr, &opts)
            .use_window();
    CHECK(later.first_opened == window.first_opened && later.use_until == window.use_until);
    // Options that pin the clock or name a hostname are refused for a grant: its
    // windows run on the system clock, its host pattern is checked against the node's
    // hostname.
    farmvault::Options pinned;
    pinned.state_dir(dir + "/grant-pinned-state").fixed_time(now - 3600);
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "a pinned clock is refused for job grants",
           farmvault::Vault::open_grant(grants + "/token.fvgrant", token.c_str(), nullptr,
                                        &pinned));
    pinned.fixed_time(0).hostname("render01");
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "/etc/farmvault/grant-hostname",
           farmvault::Vault::open_grant(grants + "/token.fvgrant", token.c_str(), nullptr,
                                        &pinned));
    // A vault has none.
    auto opts_vault = cheap();
    farmvault::Vault vault =
        farmvault::Vault::create_passphrase(dir + "/not-a-grant", "pw", &opts_vault);
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "not a job grant", vault.use_window());

    // Wrong material; a farm identity alone.
    std::string wrong = token;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    THROWS(farmvault::Error, FV_WRONG_KEY, "token.fvgrant",
           farmvault::Vault::open_grant(grants + "/token.fvgrant", wrong.c_str(), nullptr, &opts));
    THROWS(farmvault::Error, FV_INVALID_ARGUMENT, "both NULL",
           farmvault::Vault::open_grant(grants + "/token.fvgrant", nullptr, nullptr, &opts));
    const std::string farm_id = grants + "/farm.id";
    farmvault::Vault by_identity = farmvault::Vault::open_grant(
        grants + "/rcpt.fvgrant", nullptr, farm_id.c_str(), &opts);
    CHECK(by_identity.get("shotgun/render_farm").script_key().script_name == "render_farm");
    // The explicit way past the identity's checks (a private identity opens either way).
    opts.allow_insecure_permissions(true);
    CHECK(farmvault::Vault::open_grant(grants + "/rcpt.fvgrant", nullptr, farm_id.c_str(), &opts)
              .list()
              .size() == 1);
    opts.allow_insecure_permissions(false);

    // The host pattern against this machine's hostname: hosts.fvgrant's
    // (farmvault-no-such-host-??) does not match it, here.fvgrant's is this very name.
    // A node configuration file would name another hostname: then skip.
    if (access("/etc/farmvault/grant-hostname", F_OK) == 0) {
        std::printf("skipped: /etc/farmvault/grant-hostname exists here, so grants check its "
                    "hostname, not the OS's\n");
        return;
    }
    char hostname[256] = {0};
    CHECK(gethostname(hostname, sizeof hostname - 1) == 0);
    const std::string refused = "\"" + std::string(hostname) + "\" does not match";
    THROWS(farmvault::Error, FV_HOST_NOT_ALLOWED, refused.c_str(),
           farmvault::Vault::open_grant(grants + "/hosts.fvgrant", hosts_token.c_str(), nullptr,
                                        &opts));
    CHECK(farmvault::Vault::open_grant(grants + "/here.fvgrant", here_token.c_str(), nullptr,
                                       &opts)
              .list()
              .size() == 1);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <empty scratch directory> <grant fixtures directory>\n",
                     argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    const std::string grants = argv[2];
    CHECK(farmvault::header_matches_library());
    CHECK(std::string(farmvault::version()).empty() == false);
    try {
        test_vault(dir);
        test_key_files(dir);
        test_toolkit(dir);
        test_threads(dir);
        test_grants(dir, grants);
        leave_plugin_vault(dir);
    } catch (const farmvault::Error &e) {
        std::fprintf(stderr, "unexpected %s: %s\n", e.code_name(), e.what());
        ++failed;
    }
    std::printf("test_farmvault (C++): %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
