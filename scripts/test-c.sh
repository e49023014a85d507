#!/usr/bin/env bash
# The C ABI from C and C++: builds libfarmvault (cargo, debug profile), then
#   - checks the shared library's SONAME against FV_ABI_VERSION,
#   - checks that tests/c/test_farmvault.c calls every function of include/farmvault.h,
#   - compiles the header as C99 (pedantic) and as C++11/C++17,
#   - builds tests/c/test_farmvault.c (-std=c99 -Wall -Wextra -Wpedantic -Werror) against
#     the shared and the static library (debug: Rust's debug assertions on) and runs
#     both, then the shared build under valgrind (leak check full; any error fails)
#     against the release library (the optimised code that ships, and the one valgrind
#     takes half the time on; tests/c/valgrind.supp says why each suppression is harmless):
#     $FARMVAULT_RELEASE_DIR when set (scripts/test-all.sh points it at the glibc-2.28
#     build scripts/build-wheel.sh makes, so the artefacts that ship are the ones
#     tested), else cargo build --release of the library and the CLI,
#   - builds tests/c/test_fork.c and runs it: a handle used in a forked child fails
#     at once with FV_FORKED, and the parent's goes on working,
#   - builds tests/cpp/test_farmvault.cpp (-std=c++17 -Wall -Wextra -Werror) the same two
#     ways, and a two-translation-unit program including bindings/cpp/farmvault.hpp twice,
#   - checks that views of temporaries do not compile: tests/cpp/dangling.cpp compiles
#     as it is and fails, on the deleted overload it names, with each DANGLING_* macro,
#   - checks that cargo built the library without the test-only `test-overrides`
#     feature (the knobs that move a grant's clock and hostname): the debug build, and
#     the release one when this script builds it;
#     the C tests then check that fv_grant_open refuses options that pin the clock
#     or name a hostname, against the debug and the release library,
#   - issues job grant fixtures with the farmvault CLI (make_grant_fixtures) for the
#     grant tests of both programs,
#   - installs the release build into a scratch prefix with scripts/install.sh (checking
#     the SONAME file, the .so link, both headers, the man pages and completions), then
#     builds a C program with pkg-config's flags (shared, and static with Libs.private)
#     and a C++ program with CMake's find_package(farmvault CONFIG) against it, and
#     bindings/cpp/examples/farm_plugin.cpp with pkg-config, which it runs on a vault
#     made by the C++ test, checking it prints the host and script name and never the key,
#   - a render node's agent (farmvault agent node) running as uid 1 with the farm
#     identity, and farm_plugin (C++) and the Python package as jobs of nobody reading
#     an identity grant through it with neither token nor identity of their own,
#   - end to end: runs farm_plugin as a farm job with only the job environment (env -i:
#     PATH, LD_LIBRARY_PATH, HOME and the grant variables; no vault, no key file) on a
#     grant, checking its output and that neither the key nor the token reaches its
#     output or its argv.
# Usage (from anywhere): bash scripts/test-c.sh      Idempotent; needs gcc, g++, valgrind,
# pkg-config and cmake (installed through apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

stage() { printf '\n==> %s\n' "$*"; }
die() { printf 'test-c.sh: %s\n' "$*" >&2; exit 1; }

# Tools: install what is missing through apt-get (Debian), only if missing.
bash scripts/need-tools.sh gcc g++ valgrind pkg-config readelf:binutils cmake make

# Which features cargo built the library with, from its JSON messages on stdin:
# dies if `test-overrides` is among them (Cargo.toml: nothing shipped enables it).
# $1 names the build.
check_no_test_overrides() {
    local features
    features=$(python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "farmvault" \
            and "cdylib" in m["target"]["kind"]:
        print(",".join(m["features"]) or "(none)")
') || die "cannot read cargo's messages for the $1 library"
    [[ -n $features ]] || die "cargo reported no artifact for the $1 library"
    [[ ,$features, != *,test-overrides,* ]] || die "the $1 library was built with the test-only feature test-overrides"
    overrides_checked+=("$1 library built with features: $features")
}
overrides_checked=()

# The library from the root package, the CLI (grant fixtures) from cli/.
# One package per cargo run, as the Python package's build (setuptools-rust) runs
# them: a run naming both resolves some dependencies' features together and
# makes other units of farmvault, which that build would then make again.
stage "cargo build -p farmvault --lib; cargo build -p farmvault-cli (debug: the same profile as cargo test)"
built=$(cargo build -p farmvault --lib --message-format=json-render-diagnostics)
check_no_test_overrides debug <<<"$built"
cargo build -p farmvault-cli --bin farmvault
if [[ -n ${CARGO_TARGET_DIR:-} ]]; then
    target=$CARGO_TARGET_DIR
else
    target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
fi
[[ -d $target ]] || die "cannot find the cargo target directory (got '$target')"
debug=$target/debug
[[ -f $debug/libfarmvault.so && -f $debug/libfarmvault.a ]] || die "no libfarmvault.so/.a in $debug"
[[ -x $debug/farmvault ]] || die "no farmvault binary in $debug"

out=$target/c-abi
rm -rf "$out"
mkdir -p "$out/lib" "$out/bin"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-c.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

header=$root/include/farmvault.h
define() { sed -n "s/^#define $1 \\([0-9]*\\)\$/\\1/p" "$header"; }
abi=$(define FV_ABI_VERSION)
version="$(define FV_VERSION_MAJOR).$(define FV_VERSION_MINOR).$(define FV_VERSION_PATCH)"
[[ -n $abi && $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the version macros of $header"

# The loader finds the library by its SONAME; the linker by libfarmvault.so.
ln -s "$debug/libfarmvault.so" "$out/lib/libfarmvault.so.$abi"
ln -s "libfarmvault.so.$abi" "$out/lib/libfarmvault.so"
export LD_LIBRARY_PATH="$out/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

passed=0
failed=0
# Runs a test program; adds the "N passed, M failed" counts of its last line.
run() {
    local label=$1
    shift
    local log="$out/$label.log"
    if "$@" >"$log" 2>&1; then
        tail -n 1 "$log"
    else
        cat "$log"
        die "$label failed"
    fi
    local line p f
    line=$(tail -n 1 "$log")
    p=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$line")
    f=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$line")
    [[ -n $p && -n $f ]] || die "$label did not report its counts"
    passed=$((passed + p))
    failed=$((failed + f))
}
# A check of this script itself.
ok() {
    printf 'ok: %s\n' "$*"
    passed=$((passed + 1))
}
fresh() {
    local d="$scratch/$1"
    rm -rf "$d"
    mkdir -p "$d"
    printf '%s' "$d"
}

stage "SONAME and exports"
soname=$(readelf -d "$debug/libfarmvault.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $soname == "libfarmvault.so.$abi" ]] || die "SONAME is '$soname', expected libfarmvault.so.$abi"
ok "SONAME $soname"
declared=$(grep -oE '\bfv_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$debug/libfarmvault.so" | awk '$2 == "T" && $3 ~ /^fv_/ { print $3 }' | sort -u)
[[ $declared == "$exported" ]] || die "the header and the library's exports differ: $(diff <(echo "$declared") <(echo "$exported") || true)"
ok "the library exports exactly the $(wc -l <<<"$declared") functions the header declares"
untested=()
for fn in $declared; do
    grep -qh "\\b$fn(" tests/c/*.c || untested+=("$fn")
done
((${#untested[@]} == 0)) || die "no program in tests/c/ calls: ${untested[*]}"
ok "the programs of tests/c/ call every one of them"
ok "no test-overrides: ${overrides_checked[*]}"

stage "the header as C99 and as C++"
cflags=(-std=c99 -Wall -Wextra -Wpedantic -Werror -I"$root/include")
printf '#include "farmvault.h"\nint main(void) { return fv_version_number() == FV_VERSION_NUMBER ? 0 : 1; }\n' >"$out/header.c"
gcc "${cflags[@]}" -c "$out/header.c" -o "$out/header_c.o"
ok "farmvault.h compiles as C99 with -Wpedantic -Werror"
for std in c++11 c++17; do
    g++ -std=$std -Wall -Wextra -Wpedantic -Werror -I"$root/include" -x c++ -c "$out/header.c" -o "$out/header_$std.o"
    ok "farmvault.h compiles as $std"
done

# The script key every grant fixture holds (tests/c/test_farmvault.c and
# tests/cpp/test_farmvault.cpp expect it).
GRANT_KEY=GRANT-KEY-c0ffee-7d1e5a
grants=$out/grants

# Issues the job grants the C and C++ tests open, with the real CLI, into $grants:
# a vault holding the script key shotgun/render_farm and an entry "other" outside every
# grant; farm identities farm.id (farm.pub) and other.id; grants of shotgun/ (72 h to
# claim, 4 h of use) opened by a token (token.fvgrant, token.txt), by farm.id alone
# (rcpt.fvgrant), by both together (both.fvgrant, both.txt), by a token on hosts
# matching farmvault-no-such-host-?? only (hosts.fvgrant, hosts.txt) and on this
# machine only (here.fvgrant, here.txt: its hostname as the pattern); and token grants
# with 1 s to claim (late.fvgrant, late.txt: waited out here, so the tests find its
# claim-by deadline past) and with 2 s of use (short.fvgrant, short.txt). The tests
# open them on the system clock and the OS's hostname, as a job does.
make_grant_fixtures() {
    local cli=$debug/farmvault
    (
        umask 077
        mkdir -p "$grants"
        cd "$grants"
        for var in $(env | sed -n 's/^\(FARMVAULT_[A-Z_]*\)=.*/\1/p'); do unset "$var"; done
        export HOME=$grants FARMVAULT_PATH=$grants/vault FARMVAULT_PASSPHRASE_FILE=$grants/passphrase \
            FARMVAULT_INSECURE_KDF_FOR_TESTS=1
        unset XDG_STATE_HOME
        printf 'fixture passphrase\n' >passphrase
        "$cli" init
        printf '%s' "$GRANT_KEY" | "$cli" put shotgun/render_farm --kind script_key \
            --host https://mysite.shotgrid.autodesk.com --script-name render_farm
        printf 'outside every grant' | "$cli" put other
        "$cli" farm-keygen --identity farm.id >farm.pub
        "$cli" farm-keygen --identity other.id >/dev/null
        # The issuer key grants from this vault are signed with, and another vault's.
        "$cli" grant-issuer >issuer.txt
        FARMVAULT_PATH=$grants/other-vault "$cli" init
        FARMVAULT_PATH=$grants/other-vault "$cli" grant-issuer >other-issuer.txt
        issue() { "$cli" grant shotgun/ --claim-within 72h --use-for 4h "$@"; }
        issue --label c-test-token --out token.fvgrant >token.txt
        issue --label c-test-rcpt --to farm.pub --no-token --out rcpt.fvgrant >/dev/null
        issue --label c-test-both --to farm.pub --require-both --out both.fvgrant >both.txt
        issue --label c-test-hosts --hosts 'farmvault-no-such-host-??' --out hosts.fvgrant >hosts.txt
        issue --label c-test-here --hosts "$(uname -n)" --out here.fvgrant >here.txt
        "$cli" grant shotgun/ --claim-within 72h --use-for 2s --label c-test-short --out short.fvgrant >short.txt
        "$cli" grant shotgun/ --claim-within 1s --use-for 4h --label c-test-late --out late.fvgrant >late.txt
        # Its claim-by deadline is at most a second after its issue time (whole seconds).
        sleep 1
    ) 2>"$out/grants.log" || { cat "$out/grants.log"; die "issuing the grant fixtures failed"; }
}

stage "job grant fixtures (farmvault CLI)"
make_grant_fixtures
for t in token both hosts here short late; do
    grep -q '^fvg1_' "$grants/$t.txt" || die "no token in $grants/$t.txt"
done
if grep -l -e "$GRANT_KEY" -e 'shotgun/render_farm' "$grants"/*.fvgrant "$grants"/*.txt; then
    die "a grant bundle or token holds the key or the entry name in the clear"
fi
ok "7 grants issued in $grants; no bundle or token holds the key or the entry name"

stage "C tests (shared, static; the debug library)"
gcc "${cflags[@]}" tests/c/test_farmvault.c -o "$out/bin/test_c_shared" -L"$out/lib" -lfarmvault -lpthread
gcc "${cflags[@]}" tests/c/test_farmvault.c -o "$out/bin/test_c_static" "$debug/libfarmvault.a" -lpthread -ldl -lm
readelf -d "$out/bin/test_c_shared" | grep -q "NEEDED.*\[libfarmvault.so.$abi\]" || die "test_c_shared does not need libfarmvault.so.$abi"
if readelf -d "$out/bin/test_c_static" | grep -q "NEEDED.*libfarmvault"; then die "test_c_static links libfarmvault dynamically"; fi
run c-shared "$out/bin/test_c_shared" "$(fresh c-shared)" "$grants"
run c-static "$out/bin/test_c_static" "$(fresh c-static)" "$grants"
# A handle across fork(): FV_FORKED in the child, never a hang.
gcc "${cflags[@]}" tests/c/test_fork.c -o "$out/bin/test_fork" -L"$out/lib" -lfarmvault
run c-fork "$out/bin/test_fork" "$(fresh c-fork)"

stage "C tests under valgrind against the release library"
# The same program, loading the release build of libfarmvault.so.$abi instead, under
# valgrind. One valgrind run, not one per library: the debug one took 90 s of the
# suite here, and what it could find beyond the runs above (memory errors, leaks) is
# in the code paths this run covers too.
vg=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1
    --suppressions=tests/c/valgrind.supp)
if [[ -n ${FARMVAULT_RELEASE_DIR:-} ]]; then
    release=$(cd "$FARMVAULT_RELEASE_DIR" && pwd)
else
    built=$(cargo build --release -p farmvault -p farmvault-cli --lib --bin farmvault \
        --message-format=json-render-diagnostics)
    check_no_test_overrides release <<<"$built"
    ok "no test-overrides: ${overrides_checked[-1]}"
    release=$target/release
fi
for f in libfarmvault.so libfarmvault.a farmvault; do
    [[ -f $release/$f ]] || die "no $f in $release"
done
mkdir -p "$out/lib-release"
ln -s "$release/libfarmvault.so" "$out/lib-release/libfarmvault.so.$abi"
release_path="$out/lib-release:$LD_LIBRARY_PATH"
# Read whole before it is searched: `grep -q` stopping early would make ldd die
# of SIGPIPE, which pipefail reports as a failure.
loaded=$(LD_LIBRARY_PATH=$release_path ldd "$out/bin/test_c_shared")
grep -q "libfarmvault.so.$abi => $out/lib-release/" <<<"$loaded" ||
    die "test_c_shared does not load the release library from $out/lib-release"
run c-valgrind-release env LD_LIBRARY_PATH="$release_path" "${vg[@]}" \
    "$out/bin/test_c_shared" "$(fresh c-valgrind-release)" "$grants"

stage "agent: a C program, the Python package and the CLI writing through one agent at once"
# A real agent (the CLI's), and three kinds of client writing at once; then
# every write of each is there, and the C client's forked child wrote too.
agent_dir=$(fresh agent)
chmod 700 "$agent_dir"
printf 'agent test passphrase\n' >"$agent_dir/pw"
chmod 600 "$agent_dir/pw"
sock=$agent_dir/run/agent.sock
fv() {
    FARMVAULT_PATH="$agent_dir/vault" FARMVAULT_PASSPHRASE_FILE="$agent_dir/pw" \
        FARMVAULT_INSECURE_KDF_FOR_TESTS=1 "$debug/farmvault" --quiet "$@"
}
fv init
fv agent start --socket "$sock"
gcc "${cflags[@]}" tests/c/test_agent.c -o "$out/bin/test_agent" -L"$out/lib" -lfarmvault
n=40
"$out/bin/test_agent" "$sock" c "$n" "$agent_dir/vault" 'agent test passphrase' >"$out/agent-c.log" 2>&1 &
c_pid=$!
PYTHONPATH=bindings/python/src FARMVAULT_LIB="$debug/libfarmvault.so" python3 - "$sock" "$n" \
    >"$out/agent-python.log" 2>&1 <<'PY' &
import sys, farmvault
socket, n = sys.argv[1], int(sys.argv[2])
with farmvault.Vault.connect(socket) as v:
    assert v.access == "agent"
    for i in range(n):
        v.put(f"py/{i}", f"py-{i}".encode(), ttl=3600)
    assert all(v.get(f"py/{i}").secret == f"py-{i}" for i in range(n))
print("python client: ok")
PY
py_pid=$!
for i in $(seq 1 "$n"); do
    printf 'cli-%s' "$i" | FARMVAULT_AGENT="$sock" FARMVAULT_INSECURE_KDF_FOR_TESTS=1 \
        "$debug/farmvault" --quiet put "cli/$i" || die "the CLI's put cli/$i through the agent failed"
done
wait "$c_pid" || { cat "$out/agent-c.log"; die "the C client failed"; }
wait "$py_pid" || { cat "$out/agent-python.log"; die "the Python client failed"; }
tail -n 1 "$out/agent-c.log"
count=$(FARMVAULT_AGENT="$sock" "$debug/farmvault" list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["entries"]))')
[[ $count == $((3 * n + 1)) ]] || die "the vault holds $count entries after the three clients, expected $((3 * n + 1))"
fv agent stop --socket "$sock"
[[ ! -e $sock ]] || die "the agent left its socket behind"
[[ $(fv get cli/7) == cli-7 ]] || die "cli/7 is not in the vault opened directly after the agent stopped"
ok "$((3 * n + 1)) entries written by C (and its forked child), Python and the CLI through one agent"

stage "C++ tests (shared, static, two translation units)"
cxxflags=(-std=c++17 -Wall -Wextra -Werror -I"$root/include" -I"$root/bindings/cpp")
g++ "${cxxflags[@]}" tests/cpp/test_farmvault.cpp -o "$out/bin/test_cpp_shared" -L"$out/lib" -lfarmvault -lpthread
g++ "${cxxflags[@]}" tests/cpp/test_farmvault.cpp -o "$out/bin/test_cpp_static" "$debug/libfarmvault.a" -lpthread -ldl -lm
g++ "${cxxflags[@]}" tests/cpp/two_tu_a.cpp tests/cpp/two_tu_b.cpp -o "$out/bin/test_two_tu" -L"$out/lib" -lfarmvault
run cpp-static "$out/bin/test_cpp_static" "$(fresh cpp-static)" "$grants"
plugin_dir=$(fresh cpp-shared)
run cpp-shared "$out/bin/test_cpp_shared" "$plugin_dir" "$grants"
run two-tu "$out/bin/test_two_tu"

stage "C++: views of temporaries do not compile (tests/cpp/dangling.cpp)"
# Without a macro the file (the safe forms) compiles; each DANGLING_* form must fail on
# the deleted && overload listed with it, so a typo or an unrelated error does not
# pass. LC_ALL=C keeps g++'s diagnostics in English.
dangling() { LC_ALL=C g++ "${cxxflags[@]}" -fsyntax-only "$@" tests/cpp/dangling.cpp; }
dangling 2>"$out/dangling.log" || { cat "$out/dangling.log"; die "tests/cpp/dangling.cpp does not compile as it is"; }
ok "the safe forms of tests/cpp/dangling.cpp compile"
forms=$(cat <<'FORMS'
DANGLING_ENTRY_NAME farmvault::Entry::name() const &&
DANGLING_ENTRY_HOST farmvault::Entry::host() const &&
DANGLING_SECRET_VIEW farmvault::Secret::view() const &&
DANGLING_SECRET_DATA farmvault::Secret::data() const &&
DANGLING_SECRET_C_STR farmvault::Secret::c_str() const &&
DANGLING_LIST_ENTRY farmvault::List::operator[](std::size_t) const &&
DANGLING_LIST_BEGIN farmvault::List::begin() const &&
FORMS
)
[[ $(sed -n 's/^#.*defined(\(DANGLING_[A-Z_]*\)).*/\1/p' tests/cpp/dangling.cpp | sort -u) == "$(cut -d' ' -f1 <<<"$forms" | sort -u)" ]] ||
    die "the DANGLING_* forms of tests/cpp/dangling.cpp and of this script differ"
while read -r form deleted; do
    if dangling -D"$form" 2>"$out/$form.log"; then
        die "$form compiles: it keeps a view of a temporary past its statement"
    fi
    grep -F "use of deleted function" "$out/$form.log" | grep -qF "$deleted" ||
        { cat "$out/$form.log"; die "$form fails to compile, but not on the deleted $deleted"; }
    ok "$form does not compile: $deleted is deleted"
done <<<"$forms"

stage "scripts/install.sh into a scratch prefix: pkg-config (C, shared and static), CMake (C++)"
prefix=$out/prefix
rm -rf "$prefix" "$out/stage"
# Staged as a package would be, then the same again for real: both name $prefix.
bash scripts/install.sh --prefix "$prefix" --destdir "$out/stage" --build-dir "$release" >"$out/install-staged.log"
[[ -f $out/stage$prefix/lib/pkgconfig/farmvault.pc && ! -e $prefix ]] || die "--destdir did not stage under $out/stage"
grep -qx "prefix=$prefix" "$out/stage$prefix/lib/pkgconfig/farmvault.pc" || die "the staged farmvault.pc does not name $prefix"
bash scripts/install.sh --prefix "$prefix" --build-dir "$release" >"$out/install.log"
lib=$prefix/lib
[[ -f $lib/libfarmvault.so.$abi && ! -L $lib/libfarmvault.so.$abi ]] || die "no file libfarmvault.so.$abi in $lib"
[[ $(readlink "$lib/libfarmvault.so") == "libfarmvault.so.$abi" ]] || die "$lib/libfarmvault.so is not a link to libfarmvault.so.$abi"
installed_soname=$(readelf -d "$lib/libfarmvault.so.$abi" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $installed_soname == "libfarmvault.so.$abi" ]] || die "the installed library's SONAME is '$installed_soname'"
for f in lib/libfarmvault.a include/farmvault.h include/farmvault.hpp bin/farmvault \
    lib/cmake/farmvault/farmvault-config.cmake lib/cmake/farmvault/farmvault-config-version.cmake \
    share/man/man1/farmvault.1 share/man/man1/farmvault-exec.1 share/bash-completion/completions/farmvault \
    share/zsh/site-functions/_farmvault share/fish/vendor_completions.d/farmvault.fish share/doc/farmvault/LICENSE; do
    [[ -s $prefix/$f ]] || die "install.sh did not install $f"
done
ok "install.sh: libfarmvault.so.$abi (SONAME $installed_soname) and its .so link, the .a, both headers, farmvault.pc, the CMake package, the CLI, its man pages and completions"
[[ $("$prefix/bin/farmvault" -V) == "farmvault $version" ]] || die "the installed farmvault is not $version"

export PKG_CONFIG_PATH="$lib/pkgconfig"
[[ $(pkg-config --modversion farmvault) == "$version" ]] || die "pkg-config does not see farmvault $version"
[[ $(pkg-config --variable=prefix farmvault) == "$prefix" ]] || die "farmvault.pc names another prefix"
read -r -a pc_flags <<<"$(pkg-config --cflags --libs farmvault)"
rpath=-Wl,-rpath,$(pkg-config --variable=libdir farmvault)
gcc "${cflags[@]}" tests/c/test_farmvault.c -o "$out/bin/test_c_pkgconfig" "${pc_flags[@]}" "$rpath"
readelf -d "$out/bin/test_c_pkgconfig" | grep -q "NEEDED.*\[libfarmvault.so.$abi\]" || die "test_c_pkgconfig does not need libfarmvault.so.$abi"
run c-pkgconfig env -u LD_LIBRARY_PATH "$out/bin/test_c_pkgconfig" "$(fresh c-pkgconfig)" "$grants"
# Static: the archive, then Libs.private (what the Rust standard library needs).
read -r -a pc_static <<<"$(pkg-config --cflags --libs --static farmvault | sed 's/-lfarmvault/-Wl,-Bstatic -lfarmvault -Wl,-Bdynamic/')"
gcc "${cflags[@]}" tests/c/test_farmvault.c -o "$out/bin/test_c_pkgconfig_static" "${pc_static[@]}"
if readelf -d "$out/bin/test_c_pkgconfig_static" | grep -q "NEEDED.*libfarmvault"; then die "test_c_pkgconfig_static links libfarmvault dynamically"; fi
run c-pkgconfig-static "$out/bin/test_c_pkgconfig_static" "$(fresh c-pkgconfig-static)" "$grants"

# CMake: a plugin project as a DCC plugin build has it, against the installed package.
cmake_src=$(fresh cmake-src)
cp tests/cpp/test_farmvault.cpp "$cmake_src/"
cat >"$cmake_src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(farmvault_plugin CXX)
find_package(farmvault $version CONFIG REQUIRED)
add_executable(plugin test_farmvault.cpp)
target_compile_features(plugin PRIVATE cxx_std_17)
target_link_libraries(plugin PRIVATE farmvault::farmvault)
add_executable(plugin_static test_farmvault.cpp)
target_compile_features(plugin_static PRIVATE cxx_std_17)
target_link_libraries(plugin_static PRIVATE farmvault::farmvault_static)
CMAKE
cmake_build=$(fresh cmake-build)
cmake -S "$cmake_src" -B "$cmake_build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$out/cmake.log" 2>&1 ||
    { cat "$out/cmake.log"; die "cmake could not configure a project with find_package(farmvault CONFIG)"; }
cmake --build "$cmake_build" -j1 >>"$out/cmake.log" 2>&1 || { cat "$out/cmake.log"; die "the CMake plugin did not build"; }
readelf -d "$cmake_build/plugin" | grep -q "NEEDED.*\[libfarmvault.so.$abi\]" || die "the CMake plugin does not need libfarmvault.so.$abi"
if readelf -d "$cmake_build/plugin_static" | grep -q "NEEDED.*libfarmvault"; then die "plugin_static links libfarmvault dynamically"; fi
run cpp-cmake env -u LD_LIBRARY_PATH "$cmake_build/plugin" "$(fresh cpp-cmake)" "$grants"
run cpp-cmake-static "$cmake_build/plugin_static" "$(fresh cpp-cmake-static)" "$grants"
too_new=$(fresh cmake-too-new)
sed "s/find_package(farmvault $version /find_package(farmvault 99.0 /" "$cmake_src/CMakeLists.txt" >"$too_new/CMakeLists.txt"
grep -q "farmvault 99.0" "$too_new/CMakeLists.txt" || die "could not write the too-new CMake project"
cp "$cmake_src/test_farmvault.cpp" "$too_new/"
if cmake -S "$too_new" -B "$too_new/build" -DCMAKE_PREFIX_PATH="$prefix" >"$out/cmake-too-new.log" 2>&1; then
    die "find_package(farmvault 99.0) accepted farmvault $version"
fi
ok "CMake: find_package(farmvault $version CONFIG) and farmvault::farmvault / farmvault::farmvault_static build and run; 99.0 is refused"

g++ -std=c++17 -Wall -Wextra -Werror bindings/cpp/examples/farm_plugin.cpp -o "$out/bin/farm_plugin" "${pc_flags[@]}" "$rpath"
ok "bindings/cpp/examples/farm_plugin.cpp builds with pkg-config's flags"
plugin_out=$(FARMVAULT_PATH="$plugin_dir/plugin-vault" FARMVAULT_KEY_FILE="$plugin_dir/plugin.key" \
    "$out/bin/farm_plugin" shotgun/render_farm)
grep -q '^host: https://mysite.shotgrid.autodesk.com$' <<<"$plugin_out" || die "farm_plugin printed: $plugin_out"
grep -q '^script: render_farm$' <<<"$plugin_out" || die "farm_plugin printed: $plugin_out"
if grep -q 'KEY-0123456789abcdef' <<<"$plugin_out"; then die "farm_plugin printed the key"; fi
ok "farm_plugin prints the host and script name, never the key"
set +e
plugin_err=$(FARMVAULT_PATH="$plugin_dir/plugin-vault" FARMVAULT_KEY_FILE="$plugin_dir/plugin.key" \
    "$out/bin/farm_plugin" shotgun/nobody 2>&1)
status=$?
set -e
[[ $status == 1 && $plugin_err == *FV_NOT_FOUND* ]] || die "farm_plugin on a missing entry: status $status, $plugin_err"
ok "farm_plugin reports a missing entry with FV_NOT_FOUND"

stage "end to end: farm_plugin as a farm job, reading through a grant with only the job environment"
e2e=$(fresh e2e)
mkdir -p "$e2e/home"
token=$(<"$grants/token.txt")
# What the job is started with: no vault path, no key file, nothing else inherited.
job_env=(PATH="$PATH" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" HOME="$e2e/home"
    FARMVAULT_GRANT_FILE="$grants/token.fvgrant" FARMVAULT_GRANT_TOKEN="$token")
job_argv=("$out/bin/farm_plugin" shotgun/render_farm)
set +e
env -i "${job_env[@]}" "${job_argv[@]}" >"$e2e/stdout" 2>"$e2e/stderr"
status=$?
set -e
[[ $status == 0 ]] || die "farm_plugin on a grant exited $status: $(cat "$e2e/stdout" "$e2e/stderr")"
grep -qx 'source: job grant' "$e2e/stdout" || die "farm_plugin printed: $(cat "$e2e/stdout")"
grep -qx 'host: https://mysite.shotgrid.autodesk.com' "$e2e/stdout" || die "farm_plugin printed: $(cat "$e2e/stdout")"
grep -qx 'script: render_farm' "$e2e/stdout" || die "farm_plugin printed: $(cat "$e2e/stdout")"
grep -qE '^grant readable until: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$e2e/stdout" || die "farm_plugin printed: $(cat "$e2e/stdout")"
for secret in "$GRANT_KEY" "$token"; do
    if grep -qF -e "$secret" "$e2e/stdout" "$e2e/stderr"; then die "the job's output holds a secret"; fi
    if [[ "${job_argv[*]}" == *"$secret"* ]]; then die "the job's argv holds a secret"; fi
done
[[ -n $(ls -A "$e2e/home/.local/state/farmvault/grants") ]] || die "the job's first open was not recorded in its HOME"
ok "farm_plugin, with only the job environment, reads the script key through the grant and prints host, script and when its reads end, never the key or the token"
# The same job with a wrong token: FV_WRONG_KEY, and still no secret in its output.
wrong=${token%?}A
[[ $wrong != "$token" ]] || wrong=${token%?}B
set +e
env -i "${job_env[@]}" FARMVAULT_GRANT_TOKEN="$wrong" "${job_argv[@]}" >"$e2e/stdout" 2>"$e2e/stderr"
status=$?
set -e
[[ $status == 1 ]] && grep -q 'FV_WRONG_KEY' "$e2e/stderr" || die "farm_plugin with a wrong token: status $status, $(cat "$e2e/stderr")"
for secret in "$GRANT_KEY" "$token" "$wrong"; do
    if grep -qF -e "$secret" "$e2e/stdout" "$e2e/stderr"; then die "a refused job's output holds a secret"; fi
done
ok "farm_plugin with a wrong token fails with FV_WRONG_KEY and shows no secret"

stage "node agent: farm_plugin (C++) and the Python package as jobs of another user"
# A render node's agent as uid 1 with the farm identity; the jobs, as nobody,
# have only the bundle and FARMVAULT_NODE_AGENT: no token, no identity, no HOME.
if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
    echo "skipped: the node agent and its jobs run as other users, which needs root and setpriv"
else
    node=$(fresh node)
    # The scratch directory is mktemp's (0700): the agent's user and the job's
    # pass through it to reach their own directories.
    chmod 711 "$scratch"
    chmod 755 "$node"
    mkdir -m 755 "$node/run" && chown 1:1 "$node/run"
    mkdir -m 700 "$node/state" && chown 1:1 "$node/state"
    install -o 1 -g 1 -m 600 "$grants/farm.id" "$node/farm.id"
    install -m 644 "$grants/rcpt.fvgrant" "$node/rcpt.fvgrant"
    node_sock=$node/run/node.sock
    setpriv --reuid=1 --regid=1 --clear-groups -- "$release/farmvault" agent node \
        --identity "$node/farm.id" --allow-user nobody --state-dir "$node/state" \
        --socket "$node_sock" >"$node/agent.log" 2>&1 &
    node_pid=$!
    for _ in $(seq 1 200); do [[ -S $node_sock ]] && break; sleep 0.05; done
    [[ -S $node_sock ]] || { cat "$node/agent.log"; die "the node agent did not start"; }
    as_job=(setpriv --reuid=65534 --regid=65534 --clear-groups -- env -i PATH="$PATH"
        FARMVAULT_NODE_AGENT="$node_sock" FARMVAULT_GRANT_FILE="$node/rcpt.fvgrant")
    set +e
    "${as_job[@]}" LD_LIBRARY_PATH="$release_path" "$out/bin/farm_plugin" shotgun/render_farm \
        >"$node/plugin.out" 2>&1
    status=$?
    want=$(printf '%s' "$GRANT_KEY" | sha256sum | cut -d' ' -f1)
    got=$("${as_job[@]}" PYTHONPATH="$root/bindings/python/src" FARMVAULT_LIB="$release/libfarmvault.so" \
        python3 -c 'import farmvault, hashlib
g = farmvault.from_env()
key = g.get("shotgun/render_farm").secret  # held: a Secret wipes its buffer when freed
print(hashlib.sha256(key.buffer()).hexdigest())' 2>"$node/python.err")
    py_status=$?
    set -e
    kill "$node_pid"; wait "$node_pid" || true
    [[ $status == 0 ]] && grep -qx 'script: render_farm' "$node/plugin.out" ||
        die "farm_plugin through the node agent: status $status, $(cat "$node/plugin.out")"
    [[ $py_status == 0 && $got == "$want" ]] ||
        die "Python through the node agent: status $py_status, $(cat "$node/python.err")"
    if grep -qF -e "$GRANT_KEY" "$node/plugin.out" "$node/python.err" "$node/agent.log"; then
        die "a node agent job's output holds the key"
    fi
    grep -q 'grant-get' "$node/state/audit.log" || die "the node agent's audit log has no read"
    ok "farm_plugin (C++) and Python, as nobody with neither token nor identity, read an identity grant through a node agent running as uid 1"
fi

printf '\nC/C++ tests: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
