// Translation unit A of the two-TU test: farmvault.hpp is included here and in
// two_tu_b.cpp, and both are linked into one program, so any non-inline definition in
// the header would be a duplicate symbol (wasmtime's guard for its C++ header).
#include "farmvault.hpp"

#include <string>

std::string version_from_a() {
    farmvault::Options options;
    options.kdf(8, 1, 1);
    return farmvault::version();
}
