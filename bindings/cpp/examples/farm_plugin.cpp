// farm_plugin: how a render-farm plugin (Nuke, Maya, Houdini, a Deadline event) reads
// its production-tracking script key from farmvault.
//
// The farm gives the job two paths in its environment: FARMVAULT_PATH (the vault
// directory) and FARMVAULT_KEY_FILE (the key file that opens it). The entry to read is
// argv[1], else FARMVAULT_ENTRY, else "shotgun/render_farm". The plugin prints the
// site and script name and hands the key straight to its client library: the key is
// never printed, logged or copied into a std::string.
//
// Build:  g++ -std=c++17 farm_plugin.cpp $(pkg-config --cflags --libs farmvault)
// Run:    FARMVAULT_PATH=/secure/vault FARMVAULT_KEY_FILE=/secure/farm.key ./farm_plugin
#include "farmvault.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const char *env(const char *name) {
    const char *value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : nullptr;
}

// Where a real plugin would build its client: shotgun_api3.Shotgun(host,
// script_name=..., api_key=...) or the C++ equivalent. The key stays in `api_key`,
// which the library wipes when it goes out of scope.
void connect(const farmvault::ScriptKey &key) {
    std::printf("connecting to %s as script %s (key: %zu bytes, not shown)\n", key.host.c_str(),
                key.script_name.c_str(), key.api_key.size());
}

}  // namespace

int main(int argc, char **argv) {
    const char *vault_path = env("FARMVAULT_PATH");
    const char *key_file = env("FARMVAULT_KEY_FILE");
    const char *entry = argc > 1 ? argv[1] : env("FARMVAULT_ENTRY");
    if (vault_path == nullptr || key_file == nullptr) {
        std::fprintf(stderr, "farm_plugin: set FARMVAULT_PATH and FARMVAULT_KEY_FILE\n");
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
        farmvault::Vault vault = farmvault::Vault::open_key_file(vault_path, key_file);
        farmvault::ScriptKey key = vault.get(entry).script_key();
        std::printf("host: %s\nscript: %s\n", key.host.c_str(), key.script_name.c_str());
        connect(key);
        return 0;
    } catch (const farmvault::Expired &e) {
        // The job waited too long in the queue: ask the farm to refresh the credential.
        std::fprintf(stderr, "farm_plugin: %s\n", e.what());
        return 3;
    } catch (const farmvault::Error &e) {
        std::fprintf(stderr, "farm_plugin: %s: %s\n", e.code_name(), e.what());
        return 1;
    }
}
