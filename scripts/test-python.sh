#!/usr/bin/env bash
# The Python binding (bindings/python) against the debug build of libfarmvault:
# builds the library (and the farmvault CLI, with which tests/test_grant.py issues
# job grants; it is found beside the library), makes a venv in .venv/ with the
# package and the pinned test tools from PyPI, type-checks the package with
# mypy --strict, then runs pytest. Then the wheel for farm nodes: builds it with
# scripts/build-wheel.sh (the release library inside; offline, with the venv's pinned
# setuptools), checks its platform tag and that it holds the library, installs it
# with --no-index into a fresh venv outside the repository and, from outside the
# repository with FARMVAULT_LIB unset, checks that the library inside the installed
# package is the one that loads and that a secret round-trips through a vault.
# Usage (from anywhere): bash scripts/test-python.sh [pytest arguments...]
# Needs: cargo, python3 (3.9+) with venv and pip, PyPI. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n==> %s\n' "$*"; }

# The debug profile, as `cargo test` builds it: after the Rust suites this is a no-op.
stage "cargo build (debug): libfarmvault and the farmvault CLI"
cargo build -p farmvault -p farmvault-cli --lib --bin farmvault

case "$(uname -s)" in
    Darwin) lib=libfarmvault.dylib ;;
    MINGW* | MSYS* | CYGWIN*) lib=farmvault.dll ;;
    *) lib=libfarmvault.so ;;
esac
target_dir="${CARGO_TARGET_DIR:-target}"
FARMVAULT_LIB="$(cd "$target_dir/debug" && pwd)/$lib"
export FARMVAULT_LIB
test -f "$FARMVAULT_LIB" || { echo "no library at $FARMVAULT_LIB" >&2; exit 1; }

stage "venv .venv with farmvault, pytest, mypy, shotgun_api3"
python3 -m venv .venv
py=.venv/bin/python
test -x "$py" || py=.venv/Scripts/python.exe
"$py" -m pip install -q --disable-pip-version-check \
    pytest==9.2.0 mypy==2.4.1 shotgun_api3==3.10.3 setuptools==80.9.0 wheel==0.45.1
# Reinstalled every run (no build isolation: setuptools is pinned above), so the
# tests always see the package as it is in the tree.
"$py" -m pip install -q --disable-pip-version-check --no-build-isolation \
    --force-reinstall --no-deps ./bindings/python

stage "mypy --strict bindings/python/src/farmvault"
(cd bindings/python && "../../$py" -m mypy --strict --cache-dir ../../.venv/mypy-cache src/farmvault)

stage "pytest (library: $FARMVAULT_LIB)"
status=0
(cd bindings/python && "../../$py" -m pytest -p no:cacheprovider "$@") || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

stage "wheel: scripts/build-wheel.sh, then installed and used away from the checkout"
py_abs="$(pwd)/$py"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-wheel-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
scratch=$(cd "$scratch" && pwd -P)
case "$scratch/" in
    "$(pwd -P)/"*) echo "the scratch directory $scratch is inside the repository: set TMPDIR elsewhere" >&2; exit 1 ;;
esac
PYTHON="$py_abs" bash scripts/build-wheel.sh "$scratch/wheels" | tee "$scratch/build.log"
wheel=$(tail -n 1 "$scratch/build.log")
test -f "$wheel" || { echo "build-wheel.sh did not end with a wheel path: $wheel" >&2; exit 1; }
"$py_abs" - "$wheel" "$lib" <<'PY'
import sys, zipfile
from pathlib import Path

wheel, lib = Path(sys.argv[1]), sys.argv[2]
tag = "-".join(wheel.stem.split("-")[-3:])
assert tag.startswith("py3-none-") and not tag.endswith("-any"), f"{wheel.name}: tag {tag}"
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    meta = z.read("farmvault-0.1.0.dist-info/WHEEL").decode().splitlines()
assert f"farmvault/_lib/{lib}" in names, f"no farmvault/_lib/{lib} in {wheel.name}: {names}"
assert "Root-Is-Purelib: false" in meta and f"Tag: {tag}" in meta, meta
print(f"ok: {wheel.name} is tagged {tag} and holds farmvault/_lib/{lib}")
PY

venv="$scratch/venv"
python3 -m venv "$venv"
venv_py="$venv/bin/python"
test -x "$venv_py" || venv_py="$venv/Scripts/python.exe"
"$venv_py" -m pip install -q --disable-pip-version-check --no-index "$wheel"
mkdir -p "$scratch/cwd" "$scratch/vault"
# -I: no PYTHONPATH, no user site, not the current directory on sys.path.
(cd "$scratch/cwd" && env -u FARMVAULT_LIB -u CARGO_TARGET_DIR \
    "$venv_py" -I - "$venv" "$scratch/vault" "$lib") <<'PY'
import os, secrets, sys
from pathlib import Path

import farmvault
from farmvault import _loader

venv, work, lib = Path(sys.argv[1]).resolve(), Path(sys.argv[2]), sys.argv[3]
assert "FARMVAULT_LIB" not in os.environ
pkg = Path(farmvault.__file__).resolve().parent
assert venv in pkg.parents and pkg.parent.name == "site-packages", f"farmvault imported from {pkg}"
assert _loader.find_checkout() is None, f"the installed package sees a checkout: {_loader.find_checkout()}"
info = farmvault.load_library()
print(f"library: {info.path} ({info.version})")
assert Path(info.path).resolve() == pkg / "_lib" / lib, f"loaded {info.path}, not the wheel's copy"

key = work / "farm.key"
farmvault.generate_key_file(key)
secret = secrets.token_hex(24).encode()
with farmvault.Vault.create(work / "store", key_file=key) as vault:
    vault.put("render/token", secret, ttl=3600)
with farmvault.Vault.open(work / "store", key_file=key) as vault:
    got = vault.get("render/token").secret
    assert got.to_bytes() == secret, "the secret did not round-trip"
print("ok: the installed wheel loads its own library; a secret round-trips through a vault")
PY
