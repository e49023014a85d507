#!/usr/bin/env bash
# The wheel for render nodes: the Python package with its own libfarmvault and the
# farmvault command line, built for glibc 2.28 (Rocky/Alma Linux 8, the oldest
# distribution of the VFX Reference Platform years studios still run) and tagged
# manylinux_2_28_x86_64, so `pip install` takes it on any x86_64 Linux with glibc
# 2.28 or newer and refuses it elsewhere. One wheel serves every CPython 3.9+
# (py3-none: the package is ctypes only).
#
# How: setup.py's setuptools-rust build (the same one `pip install ./bindings/python`
# runs), with cargo-zigbuild as cargo and zig as the linker against glibc 2.28's
# symbols (target x86_64-unknown-linux-gnu.2.28), in the workspace's target
# directory (target/x86_64-unknown-linux-gnu/release/, or $CARGO_TARGET_DIR's);
# then `auditwheel show` must call it manylinux_2_28 (or older), and the highest
# GLIBC_ symbol version the library and the binary import must be 2.28 or lower.
#
# Build tools (setuptools, setuptools-rust, wheel, cargo-zigbuild, ziglang, auditwheel,
# all from PyPI, at the versions of bindings/python/build-tools.txt): those of $PYTHON
# when it has exactly them, else a venv this script makes (once) in
# <target dir>/wheel-tools/.
# Usage (from anywhere): bash scripts/build-wheel.sh [output dir]
#   (default: <target dir>/wheels/); prints the wheel's path as its last line.
# Needs: cargo, python3 (3.9+) with venv and pip, an x86_64 Linux host. Idempotent.
set -euo pipefail

stage() { printf '\n==> %s\n' "$*"; }
die() { printf 'build-wheel.sh: %s\n' "$*" >&2; exit 1; }

(($# <= 1)) || die "usage: bash scripts/build-wheel.sh [output dir]"
out=${1:-}
if [[ -n $out ]]; then
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
fi
cd "$(dirname "$0")/.."
root=$(pwd)
[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] ||
    die "this builds the manylinux x86_64 wheel on x86_64 Linux; elsewhere: pip wheel ./bindings/python (README)"

glibc=2.28
plat=manylinux_2_28_x86_64
triple=x86_64-unknown-linux-gnu
tools=$root/bindings/python/build-tools.txt

target_dir=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}
[[ -n $target_dir ]] || die "cannot find the cargo target directory"
mkdir -p "$target_dir"
target_dir=$(cd "$target_dir" && pwd)
if [[ -z $out ]]; then
    mkdir -p "$target_dir/wheels"
    out=$target_dir/wheels
fi

python=${PYTHON:-}
has_tools() {
    "$1" - "$tools" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
specs = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
for spec in specs:
    name, want = spec.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}
if [[ -z $python ]] || ! has_tools "$python"; then
    venv=$target_dir/wheel-tools
    stage "build tools in $venv (bindings/python/build-tools.txt)"
    python3 -m venv "$venv"
    python=$venv/bin/python
    "$python" -m pip install -q --disable-pip-version-check -r "$tools"
fi
bin=$(dirname "$python")

scratch=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-wheel.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# A build/ kept from another build would mix its files in (setup.py clears the
# binaries; this clears the rest).
rm -rf "$root/bindings/python/build"

stage "setuptools-rust with cargo-zigbuild: $triple.$glibc, release, in $target_dir"
# The symbol table stays (strip none): with zig as the linker, rustc's release
# default (strip debuginfo) comes out stripped of every symbol, and the C stage's
# valgrind run of this library needs function names to match its suppressions
# (as a crash report from a render node does).
PATH="$bin:$PATH" CARGO=cargo-zigbuild CARGO_BUILD_TARGET=$triple.$glibc CARGO_TARGET_DIR=$target_dir \
    CARGO_PROFILE_RELEASE_STRIP=none CARGO_ZIGBUILD_PYTHON_PATH="$python" \
    "$python" -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps \
    --config-settings=--build-option=--plat-name=$plat --wheel-dir "$scratch/dist" "$root/bindings/python"
rm -rf "$root/bindings/python/build"
wheels=("$scratch"/dist/farmvault-*.whl)
((${#wheels[@]} == 1)) && [[ -f ${wheels[0]} ]] || die "pip wheel made no single farmvault wheel: ${wheels[*]}"
wheel=${wheels[0]}
name=$(basename "$wheel")
[[ $name == *-py3-none-$plat.whl ]] || die "$name is not tagged py3-none-$plat"

stage "auditwheel show $name"
"$bin/auditwheel" show "$wheel" | tee "$scratch/audit.txt"
# auditwheel names the most compatible tag the wheel's binaries allow.
tr '\n' ' ' <"$scratch/audit.txt" | grep -qE '"manylinux_2_(2[0-8]|1[0-9]|[0-9])_x86_64"' ||
    die "auditwheel does not call $name manylinux_2_28 or older"

stage "the highest GLIBC_ version the wheel's binaries import"
mkdir -p "$scratch/unpacked"
(cd "$scratch/unpacked" && "$python" -m zipfile -e "$wheel" .)
floor=0.0
for f in farmvault/_lib/libfarmvault.so farmvault/_bin/farmvault; do
    [[ -f $scratch/unpacked/$f ]] || die "$name has no $f"
    need=$(objdump -T "$scratch/unpacked/$f" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sed 's/GLIBC_//' | sort -V | tail -n 1)
    printf '%s needs GLIBC_%s\n' "$f" "$need"
    floor=$(printf '%s\n%s\n' "$floor" "$need" | sort -V | tail -n 1)
done
[[ $(printf '%s\n%s\n' "$floor" "$glibc" | sort -V | tail -n 1) == "$glibc" ]] ||
    die "the binaries need GLIBC_$floor, newer than $glibc"
printf 'glibc floor: %s (the wheel is tagged %s)\n' "$floor" "$plat"

mv -f "$wheel" "$out/$name"
stage "wheel ($(du -h "$out/$name" | cut -f1))"
printf '%s\n' "$out/$name"
