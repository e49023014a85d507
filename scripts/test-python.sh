#!/usr/bin/env bash
# The Python binding (bindings/python) against the debug build of libfarmvault:
# builds the library (and the farmvault CLI, with which tests/test_grant.py issues
# job grants; it is found beside the library), makes a venv in .venv/ with the
# package and the pinned test tools from PyPI, type-checks the package with
# mypy --strict, then runs pytest.
# Usage (from anywhere): bash scripts/test-python.sh [pytest arguments...]
# Needs: cargo, python3 (3.9+) with venv and pip, PyPI. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n==> %s\n' "$*"; }

# The debug profile, as `cargo test` builds it: after the Rust suites this is a no-op.
stage "cargo build (debug): libfarmvault and the farmvault CLI"
cargo build --lib --bin farmvault

case "$(uname -s)" in
    Darwin) lib=libfarmvault.dylib ;;
    MINGW* | MSYS* | CYGWIN*) lib=farmvault.dll ;;
    *) lib=libfarmvault.so ;;
esac
target_dir="${CARGO_TARGET_DIR:-target}"
export FARMVAULT_LIB="$(cd "$target_dir/debug" && pwd)/$lib"
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
exit "$status"
