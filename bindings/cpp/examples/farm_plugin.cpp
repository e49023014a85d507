// farm_plugin: how a render-farm plugin (Nuke, Maya, Houdini, a Deadline event) reads
// its production-tracking script key from farmvault.
//
// The job's environment names where the credential comes from, one of:
//   - a job grant (what `farmvault grant` issued for this job): FARMVAULT_GRANT_FILE
//     (the bundle) with FARMVAULT_GRANT_TOKEN (its token) and/or FARMVAULT_IDENTITY
//     (the render node's farm identity file). The job gets neither the vault nor
//     anything that works after the grant expires;
//   - a vault: FARMVAULT_PATH (the vault directory) and FARMVAULT_KEY_FILE (the key
//     file that opens it).
// Both read the same way: a grant opens as a read-only farmvault::Vault.
//
// The entry to read is argv[1], else FARMVAULT_ENTRY, else "shotgun/render_farm". The
// plugin builds its connection parameters and prints the site and script name; the key
// stays in a farmvault::Secret (wiped when it goes) and is never printed, logged or
// copied into a std::string.
//
// Build:  g++ -std=c++17 farm_plugin.cpp $(pkg-config --cflags --libs farmvault)
// Run:    FARMVAULT_GRANT_FILE=/farm/grants/job-4711.fvgrant FARMVAULT_GRANT_TOKEN=fvg1_… ./farm_plugin
//    or:  FARMVAULT_PATH=/secure/vault FARMVAULT_KEY_FILE=/secure/farm.key ./farm_plugin
#include "farmvault.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>

namespace {

const char *env(const char *name) {
    const char *value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : nullptr;
}

// What a client library needs to connect (shotgun_api3.Shotgun(base_url,
// script_name=..., api_key=...) or the C++ equivalent). The key stays in `api_key`,
// which the library wipes when the struct goes out of scope.
struct ConnectionParams {
    std::string base_url;
    std::string script_name;
    farmvault::Secret api_key;
};

ConnectionParams connection_params(const farmvault::Vault &source, const char *entry) {
    farmvault::ScriptKey key = source.get(entry).script_key();
    return ConnectionParams{std::move(key.host), std::move(key.script_name),
                            std::move(key.api_key)};
}

// Where a real plugin would hand the parameters to its client library.
void connect(const ConnectionParams &params) {
    std::printf("connecting to %s as script %s (key: %zu bytes, not shown)\n",
                params.base_url.c_str(), params.script_name.c_str(), params.api_key.size());
}

// The credential source the environment names; `what` says which, for the output.
farmvault::Vault open_source(const char *&what) {
    const char *grant_file = env("FARMVAULT_GRANT_FILE");
    if (grant_file != nullptr) {
        what = "job grant";
        // The token is passed straight from the environment: never copied here.
        return farmvault::Vault::open_grant(grant_file, env("FARMVAULT_GRANT_TOKEN"),
                                            env("FARMVAULT_IDENTITY"));
    }
    what = "vault";
    return farmvault::Vault::open_key_file(env("FARMVAULT_PATH"), env("FARMVAULT_KEY_FILE"));
}

}  // namespace

int main(int argc, char **argv) {
    const char *entry = argc > 1 ? argv[1] : env("FARMVAULT_ENTRY");
    const bool grant = env("FARMVAULT_GRANT_FILE") != nullptr;
    // Through a render node's agent (FARMVAULT_NODE_AGENT), the agent's identity opens it.
    if (grant && env("FARMVAULT_GRANT_TOKEN") == nullptr && env("FARMVAULT_IDENTITY") == nullptr &&
        env("FARMVAULT_NODE_AGENT") == nullptr) {
        std::fprintf(stderr, "farm_plugin: FARMVAULT_GRANT_FILE is set: set "
                             "FARMVAULT_GRANT_TOKEN and/or FARMVAULT_IDENTITY too, or "
                             "FARMVAULT_NODE_AGENT\n");
        return 2;
    }
    if (!grant && (env("FARMVAULT_PATH") == nullptr || env("FARMVAULT_KEY_FILE") == nullptr)) {
        std::fprintf(stderr, "farm_plugin: set FARMVAULT_GRANT_FILE and FARMVAULT_GRANT_TOKEN "
                             "(a job grant), or FARMVAULT_PATH and FARMVAULT_KEY_FILE (a vault)\n");
        return 2;
    }
    if (entry == nullptr) {
        entry = "shotgun/render_farm";
    }
    if (!farmvault::header_matches_library()) {
        std::fprintf(stderr, "farm_plugin: built for farmvault %d.%d.%d, loaded %s\n",
                     FV_VERSION_MAJOR, FV_VERSION_MINOR, FV_VERSION_PATCH, farmvault::version());
        return 2;
    }
    try {
        const char *what = "";
        farmvault::Vault source = open_source(what);
        ConnectionParams params = connection_params(source, entry);
        std::printf("source: %s\nhost: %s\nscript: %s\n", what, params.base_url.c_str(),
                    params.script_name.c_str());
        if (std::strcmp(what, "job grant") == 0) {
            // When the grant's reads end: a long task can check this before it starts.
            const std::time_t ends = static_cast<std::time_t>(source.use_window().use_until);
            char when[32];
            std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&ends));
            std::printf("grant readable until: %s\n", when);
        }
        connect(params);
        return 0;
    } catch (const farmvault::Expired &e) {
        // The job waited too long in the queue, or ran past its grant: ask the farm for
        // a fresh credential (a new grant).
        std::fprintf(stderr, "farm_plugin: %s\n", e.what());
        return 3;
    } catch (const farmvault::Error &e) {
        std::fprintf(stderr, "farm_plugin: %s: %s\n", e.code_name(), e.what());
        return 1;
    }
}
