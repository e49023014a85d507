#!/usr/bin/env bash
# A wheel of the Python binding (bindings/python) that carries its own libfarmvault,
# for machines without a farmvault checkout (render nodes):
#   - builds the library (cargo build --release -p farmvault --lib),
#   - copies the package sources into a scratch directory and the library into its
#     farmvault/_lib/ (the file name the loader looks for there: libfarmvault.so,
#     libfarmvault.dylib or farmvault.dll), so neither the library nor a setuptools
#     build/ directory holding it is ever left in the source tree,
#   - builds the wheel there with pip; bindings/python/setup.py tags it for this
#     platform (py3-none-<platform>, e.g. py3-none-linux_x86_64), never "any",
#   - moves it into the output directory and prints its path as the last line.
# A Linux wheel needs the same or a newer glibc than the machine that built it.
# Build backend: when the Python that runs pip ($PYTHON, default python3) already has
# setuptools >= 70.1, the build uses it (--no-build-isolation --no-index: offline,
# and the versions pinned in the caller's venv, as scripts/test-python.sh does);
# otherwise pip fetches setuptools and wheel from PyPI into an isolated build env.
# Usage (from anywhere): bash scripts/build-wheel.sh [output dir]
#   (default: the cargo target directory's wheels/, i.e. target/wheels/)
# Needs: cargo, a Python 3.9+ with pip. Idempotent.
set -euo pipefail

stage() { printf '\n==> %s\n' "$*"; }
die() { printf 'build-wheel.sh: %s\n' "$*" >&2; exit 1; }

(($# <= 1)) || die "usage: bash scripts/build-wheel.sh [output dir]"
out=${1:-}
if [[ -n $out ]]; then
    # Relative to where the script was called from.
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
fi
python=${PYTHON:-python3}
cd "$(dirname "$0")/.."
root=$(pwd)

case "$(uname -s)" in
    Darwin) lib=libfarmvault.dylib ;;
    MINGW* | MSYS* | CYGWIN*) lib=farmvault.dll ;;
    *) lib=libfarmvault.so ;;
esac

stage "cargo build --release -p farmvault --lib"
cargo build --release -p farmvault --lib
target_dir=${CARGO_TARGET_DIR:-target}
built="$target_dir/release/$lib"
[[ -f $built ]] || die "no library at $built"
if [[ -z $out ]]; then
    mkdir -p "$target_dir/wheels"
    out=$(cd "$target_dir/wheels" && pwd)
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-wheel.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
src=$scratch/src
mkdir -p "$src"
stage "package sources and $lib in $src"
cp -R "$root/bindings/python/pyproject.toml" "$root/bindings/python/setup.py" \
    "$root/bindings/python/README.md" "$root/bindings/python/src" "$src/"
find "$src/src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
# Exactly one library in the wheel: this build, under the name the loader tries first.
find "$src/src/farmvault/_lib" -type f ! -name README.txt -delete
cp "$built" "$src/src/farmvault/_lib/$lib"

if "$python" -c 'import setuptools.command.bdist_wheel' 2>/dev/null; then
    stage "pip wheel with $python's setuptools (no build isolation, offline)"
    isolation=(--no-build-isolation --no-index)
else
    stage "pip wheel in an isolated build env (setuptools and wheel from PyPI)"
    isolation=()
fi
# (The ${a[@]+...} form: an empty array under set -u in the bash 3.2 of macOS.)
"$python" -m pip wheel -q --disable-pip-version-check --no-deps ${isolation[@]+"${isolation[@]}"} \
    --wheel-dir "$scratch/dist" "$src"

wheels=("$scratch"/dist/farmvault-*.whl)
if ((${#wheels[@]} != 1)) || [[ ! -f ${wheels[0]} ]]; then
    die "pip wheel made no single farmvault wheel: ${wheels[*]}"
fi
name=$(basename "${wheels[0]}")
[[ $name != *-none-any.whl ]] || die "$name is tagged for any platform although it holds $lib"
mv -f "${wheels[0]}" "$out/$name"
stage "wheel ($lib of $built)"
printf '%s\n' "$out/$name"
