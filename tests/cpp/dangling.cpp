// Views of temporaries do not compile. scripts/test-c.sh compiles this file with
// -fsyntax-only once with no DANGLING_* macro, where it must compile (the safe forms:
// the object that owns the view lives in a variable), and once per DANGLING_* macro,
// where it must fail on the deleted `&&` overload the line calls (the script greps the
// diagnostic for it, so a typo in a macro or a failure for another reason does not
// pass). Each of those lines would keep a view into an object destroyed at the end
// of its statement (an entry freed, a secret wiped, a list freed).
#include "farmvault.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

std::size_t use(farmvault::Vault &v) {
    std::size_t n = 0;
    // Safe: each view borrows from an object still alive where the view is used.
    auto e = v.get("x");
    std::string_view name = e.name();
    std::optional<std::string_view> host = e.host();
    farmvault::Secret secret = e.field(FV_FIELD_SECRET);
    std::string_view bytes = secret.view();
    const uint8_t *data = secret.data();
    const char *text = secret.c_str();
    farmvault::ScriptKey key = e.script_key();
    std::string_view api_key = key.api_key.view();
    farmvault::List list = v.list();
    std::string_view first = list[0].name();
    for (farmvault::EntryRef entry : v.list()) {  // the loop keeps the list alive
        n += entry.name().size();
    }
    n += name.size() + host.value_or("").size() + bytes.size() + (data != nullptr) +
         (text != nullptr) + api_key.size() + first.size() + (*list.begin()).name().size();
    // Values (not views) of temporaries are fine.
    n += v.get("x").kind() + v.get("x").field(FV_FIELD_SECRET).size() + v.list().size();
#if defined(DANGLING_ENTRY_NAME)
    std::string_view dangling = v.get("x").name();
#elif defined(DANGLING_ENTRY_HOST)
    std::string_view dangling = v.get("x").host().value_or("");
#elif defined(DANGLING_SECRET_VIEW)
    std::string_view dangling = v.get("x").field(FV_FIELD_SECRET).view();
#elif defined(DANGLING_SECRET_DATA)
    const uint8_t *dangling = e.field(FV_FIELD_SECRET).data();
#elif defined(DANGLING_SECRET_C_STR)
    const char *dangling = v.get("x").script_key().api_key.c_str();
#elif defined(DANGLING_LIST_ENTRY)
    std::string_view dangling = v.list()[0].name();
#elif defined(DANGLING_LIST_BEGIN)
    farmvault::List::iterator dangling = v.list().begin();
#else
    int dangling = 0;
#endif
    return n + sizeof dangling;
}
