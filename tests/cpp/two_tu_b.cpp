// Translation unit B of the two-TU test (see two_tu_a.cpp).
#include "farmvault.hpp"
#include "farmvault.hpp"  // twice: the include guard holds

#include <cstdio>
#include <string>

std::string version_from_a();

int main() {
    bool same = version_from_a() == farmvault::version() && farmvault::header_matches_library();
    std::printf("two translation units: %d passed, %d failed\n", same ? 1 : 0, same ? 0 : 1);
    return same ? 0 : 1;
}
