#!/usr/bin/env bash
# Installs farmvault for C and C++ programs and the shell, the way `make install`
# does: builds the release library and the farmvault command (cargo), then copies
# into PREFIX (default /usr/local), under DESTDIR when staging a package:
#   lib/libfarmvault.so.1            the shared library, under its SONAME
#   lib/libfarmvault.so              -> libfarmvault.so.1, for the linker (-lfarmvault)
#   lib/libfarmvault.a               the static library
#   lib/pkgconfig/farmvault.pc       pkg-config --cflags --libs farmvault (--static for the .a)
#   lib/cmake/farmvault/             find_package(farmvault CONFIG REQUIRED), then
#                                    target_link_libraries(plugin PRIVATE farmvault::farmvault)
#                                    (or farmvault::farmvault_static)
#   include/farmvault.h, include/farmvault.hpp   the C header and the C++17 RAII layer
#   bin/farmvault                    the command line
#   share/man/man1/farmvault*.1      its manual, one page per command
#   share/bash-completion/completions/farmvault, share/zsh/site-functions/_farmvault,
#   share/fish/vendor_completions.d/farmvault.fish   its shell completions
#   share/doc/farmvault/LICENSE, README.md
# macOS installs libfarmvault.1.dylib (install name @rpath/libfarmvault.1.dylib) and
# libfarmvault.dylib instead of the .so files.
#
# Usage (from anywhere):
#   bash scripts/install.sh [--prefix DIR] [--destdir DIR] [--libdir NAME] [--build-dir DIR]
#   --prefix DIR     where the files go and what farmvault.pc and the CMake package
#                    say (default /usr/local)
#   --destdir DIR    stage everything under DIR (DIR/PREFIX/...) for a package; the
#                    installed files still name PREFIX. Default: $DESTDIR, else none.
#   --libdir NAME    the library directory under PREFIX (default lib; e.g. lib64)
#   --build-dir DIR  install what is already built in DIR (a cargo profile directory
#                    such as target/release) instead of running cargo
# Needs: cargo (unless --build-dir), install (coreutils). Idempotent: an install over
# an older one replaces its files.
set -euo pipefail

die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

prefix=/usr/local
destdir=${DESTDIR:-}
libdir_name=lib
build_dir=
while (($#)); do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        --libdir) libdir_name=${2:?--libdir needs a name}; shift 2 ;;
        --libdir=*) libdir_name=${1#*=}; shift ;;
        --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
        --build-dir=*) build_dir=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see bash scripts/install.sh --help)" ;;
    esac
done
[[ $prefix == /* ]] || die "--prefix must be an absolute path (got '$prefix'): farmvault.pc and the CMake package name it"
[[ -z $destdir || $destdir == /* ]] || destdir="$(pwd)/$destdir"
[[ -z $build_dir ]] || build_dir=$(cd "$build_dir" && pwd) || die "no directory $build_dir"
cd "$(dirname "$0")/.."
root=$(pwd)

case "$(uname -s)" in
    Darwin) shared=libfarmvault.dylib ;;
    Linux | *BSD | DragonFly) shared=libfarmvault.so ;;
    *) die "$(uname -s) is not supported by this script: copy target/release/ by hand (README)" ;;
esac

header=$root/include/farmvault.h
define() { sed -n "s/^#define $1 \\([0-9]*\\)\$/\\1/p" "$header"; }
abi=$(define FV_ABI_VERSION)
version="$(define FV_VERSION_MAJOR).$(define FV_VERSION_MINOR).$(define FV_VERSION_PATCH)"
[[ -n $abi && $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the version macros of $header"
if [[ $shared == *.dylib ]]; then soname=libfarmvault.$abi.dylib; else soname=libfarmvault.so.$abi; fi

if [[ -z $build_dir ]]; then
    printf '==> cargo build --release --locked -p farmvault -p farmvault-cli --lib --bin farmvault\n'
    cargo build --release --locked -p farmvault -p farmvault-cli --lib --bin farmvault
    target=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}
    build_dir=$target/release
fi
for f in "$shared" libfarmvault.a farmvault; do
    [[ -f $build_dir/$f ]] || die "no $f in $build_dir"
done

# What a program linking libfarmvault.a also needs: the native libraries of the
# Rust standard library for this target, as rustc itself lists them
# (farmvault's own dependencies link no native library).
probe=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-install.XXXXXX")
trap 'rm -rf "$probe"' EXIT
libs_private=$(printf '' | rustc --crate-type staticlib --crate-name probe --print native-static-libs \
    -o "$probe/probe.a" - 2>&1 | sed -n 's/.*native-static-libs: //p')
[[ -n $libs_private ]] || die "rustc --print native-static-libs printed nothing"

stage=$destdir$prefix
lib=$stage/$libdir_name
printf '==> installing farmvault %s into %s%s\n' "$version" "$stage" "${destdir:+ (staged for $prefix)}"
install -d "$lib/pkgconfig" "$lib/cmake/farmvault" "$stage/include" "$stage/bin" \
    "$stage/share/man/man1" "$stage/share/doc/farmvault" \
    "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
    "$stage/share/fish/vendor_completions.d"

# The real file carries the SONAME (build.rs sets it), so the loader finds it by
# that name; the unversioned link is what -lfarmvault finds at link time.
install -m 0755 "$build_dir/$shared" "$lib/$soname"
ln -sfn "$soname" "$lib/$shared"
install -m 0644 "$build_dir/libfarmvault.a" "$lib/libfarmvault.a"
install -m 0644 "$header" "$root/bindings/cpp/farmvault.hpp" "$stage/include/"
install -m 0755 "$build_dir/farmvault" "$stage/bin/farmvault"
install -m 0644 "$root/LICENSE" "$root/README.md" "$stage/share/doc/farmvault/"

sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|\${prefix}/$libdir_name|" \
    -e "s|@VERSION@|$version|" -e "s|@ABI@|$abi|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
    "$root/farmvault.pc.in" >"$lib/pkgconfig/farmvault.pc"
cmake_libs=$(sed 's/-l//g; s/ /;/g' <<<"$libs_private")
sed -e "s|@SONAME@|$soname|" -e "s|@STATIC_LIBS@|$cmake_libs|" -e "s|@LIBDIR@|$libdir_name|" \
    "$root/cmake/farmvault-config.cmake.in" >"$lib/cmake/farmvault/farmvault-config.cmake"
sed -e "s|@VERSION@|$version|" \
    "$root/cmake/farmvault-config-version.cmake.in" >"$lib/cmake/farmvault/farmvault-config-version.cmake"

# The manual and completions come from the command itself, so they list exactly
# the options this build takes.
"$build_dir/farmvault" --quiet man-page "$stage/share/man/man1"
"$build_dir/farmvault" completions bash >"$stage/share/bash-completion/completions/farmvault"
"$build_dir/farmvault" completions zsh >"$stage/share/zsh/site-functions/_farmvault"
"$build_dir/farmvault" completions fish >"$stage/share/fish/vendor_completions.d/farmvault.fish"

printf 'installed farmvault %s: %s/%s (SONAME %s), %s/include/farmvault.h, %s/bin/farmvault\n' \
    "$version" "$prefix" "$libdir_name" "$soname" "$prefix" "$prefix"
if [[ -z $destdir ]]; then
    case ":${PKG_CONFIG_PATH:-}:" in
        *":$prefix/$libdir_name/pkgconfig:"*) ;;
        *) printf 'pkg-config: PKG_CONFIG_PATH=%s/%s/pkgconfig; CMake: CMAKE_PREFIX_PATH=%s (unless these are searched already)\n' \
            "$prefix" "$libdir_name" "$prefix" ;;
    esac
fi
