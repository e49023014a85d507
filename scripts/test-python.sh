#!/usr/bin/env bash
# The Python binding (bindings/python), built and installed the ways its users
# install it:
#   - builds the debug library and the farmvault CLI (with which tests/test_grant.py
#     issues job grants; it is found beside the library),
#   - makes a fresh venv outside the repository with the pinned test tools, and
#     runs the README's `pip install ./bindings/python` into
#     it (isolated build, setuptools and setuptools-rust at the versions of
#     bindings/python/build-tools.txt; debug profile, so cargo finds what the Rust
#     stages built), type-checks the package, the Python examples (examples/deadline,
#     examples/opencue) and the README's Python blocks with mypy --strict, runs pytest against
#     the debug library, then, from outside the repository with FARMVAULT_LIB unset:
#     the library inside the installed package loads, a secret round-trips, and the
#     `farmvault` console script and `python -m farmvault` run the bundled CLI,
#   - the sdist: carries the Rust workspace (rust/), which cargo metadata reads whole;
#     `pip install` of it, unpacked outside the checkout, into a third venv, checked
#     as the source install is (and built with the workspace's rustflags),
#   - the manylinux_2_28 wheel for render nodes: $FARMVAULT_WHEEL when set
#     (scripts/test-all.sh builds it once), else scripts/build-wheel.sh; installed
#     with --no-index into another fresh venv: `farmvault --version`, a vault made
#     with the wheel's CLI and read back from Python through the wheel's library.
# Usage (from anywhere): bash scripts/test-python.sh [pytest arguments...]
# Needs: cargo, python3 (3.9+) with venv and pip, PyPI. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n==> %s\n' "$*"; }

# The debug profile, as `cargo test` builds it, one package per run as setuptools-rust
# builds them (scripts/test-c.sh says why): after the C stage these are no-ops.
stage "cargo build (debug): libfarmvault and the farmvault CLI"
cargo build -p farmvault --lib
cargo build -p farmvault-cli --bin farmvault

case "$(uname -s)" in
    Darwin) lib=libfarmvault.dylib ;;
    MINGW* | MSYS* | CYGWIN*) lib=farmvault.dll ;;
    *) lib=libfarmvault.so ;;
esac
target_dir="${CARGO_TARGET_DIR:-target}"
target_abs=$(cd "$target_dir" && pwd)
FARMVAULT_LIB="$target_abs/debug/$lib"
export FARMVAULT_LIB
test -f "$FARMVAULT_LIB" || { echo "no library at $FARMVAULT_LIB" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-python.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
scratch=$(cd "$scratch" && pwd -P)
case "$scratch/" in
    "$(pwd -P)/"*) echo "the scratch directory $scratch is inside the repository: set TMPDIR elsewhere" >&2; exit 1 ;;
esac

# Outside the repository: an installed package inside a checkout would see it.
venv=$scratch/venv
stage "a fresh venv ($venv): test tools, then \`pip install ./bindings/python\` (isolated build, debug profile)"
python3 -m venv "$venv"
py=$venv/bin/python
test -x "$py" || py="$venv/Scripts/python.exe"
# setuptools and setuptools-rust here only for the sdist stage below.
tools=$(pwd)/bindings/python/build-tools.txt
# keyring: tests/test_keyring.py runs farmvault.keyring against the real package,
# and mypy needs it to check that module (the package itself does not depend on it).
"$py" -m pip install -q --disable-pip-version-check pytest==9.2.0 mypy==2.4.1 shotgun_api3==3.10.3 \
    keyring==25.7.0 -c "$tools" setuptools wheel setuptools-rust semantic_version
# The README's command: pip's isolated build env gets the pinned setuptools and
# setuptools-rust (PIP_CONSTRAINT), and cargo, with the dev profile and this
# target directory, finds the debug build above.
rm -rf bindings/python/build
SETUPTOOLS_RUST_CARGO_PROFILE=dev CARGO_TARGET_DIR="$target_abs" PIP_CONSTRAINT="$tools" \
    "$py" -m pip install -q --disable-pip-version-check ./bindings/python
rm -rf bindings/python/build bindings/python/src/farmvault.egg-info

stage "mypy --strict bindings/python/src/farmvault"
(cd bindings/python && "$py" -m mypy --strict --cache-dir "$scratch/mypy-cache" src/farmvault)

# The examples are what TDs copy into their pipelines: typed as the package is,
# and checked against the installed package (its py.typed) they import.
stage "mypy --strict the Python examples"
"$py" -m mypy --strict --cache-dir "$scratch/mypy-cache-examples" examples/deadline/*.py examples/opencue/*.py

stage "mypy --strict the README's Python examples (scripts/check-readme-python.py)"
"$py" scripts/check-readme-python.py README.md

stage "pytest (library: $FARMVAULT_LIB)"
status=0
(cd bindings/python && "$py" -m pytest -p no:cacheprovider "$@") || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

# Checks an installed package from outside the repository, with FARMVAULT_LIB and
# CARGO_TARGET_DIR unset: its own library loads, a secret made by its own CLI (the
# console script) round-trips, and `python -m farmvault` is the same CLI.
check_installed() {
    local venv=$1 what=$2
    local venv_py=$venv/bin/python
    test -x "$venv_py" || venv_py="$venv/Scripts/python.exe"
    local work=$scratch/use-$what
    rm -rf "$work"
    mkdir -p "$work/cwd"
    chmod 700 "$work"
    local fv=$venv/bin/farmvault
    [[ $("$fv" -V) == "farmvault 0.1.0" ]] || { echo "$what: farmvault -V printed $("$fv" -V)" >&2; exit 1; }
    # The workspace's rustflags (.cargo/config.toml) reached cargo, wherever it ran.
    "$fv" --version | grep -q "with the portable Poly1305 backend" ||
        { echo "$what: built without .cargo/config.toml's rustflags: $("$fv" --version)" >&2; exit 1; }
    [[ $(cd "$work/cwd" && "$venv_py" -I -m farmvault -V) == "farmvault 0.1.0" ]] ||
        { echo "$what: python -m farmvault is not the CLI" >&2; exit 1; }
    # The CLI makes the vault and stores the secret (on stdin); Python reads it.
    local secret
    secret=$("$venv_py" -c 'import secrets; print(secrets.token_hex(24))')
    (cd "$work/cwd" && env -u FARMVAULT_LIB -u CARGO_TARGET_DIR FARMVAULT_PATH="$work/vault" \
        FARMVAULT_KEY_FILE="$work/keys/farm.key" "$fv" --quiet init --generate-key-file)
    (cd "$work/cwd" && printf %s "$secret" | env -u FARMVAULT_LIB FARMVAULT_PATH="$work/vault" \
        FARMVAULT_KEY_FILE="$work/keys/farm.key" "$fv" --quiet put render/token --ttl 1h)
    (cd "$work/cwd" && env -u FARMVAULT_LIB -u CARGO_TARGET_DIR SECRET="$secret" \
        "$venv_py" -I - "$venv" "$work" "$lib") <<'PY'
import os, sys
from pathlib import Path

import farmvault
from farmvault import _loader

venv, work, lib = Path(sys.argv[1]).resolve(), Path(sys.argv[2]), sys.argv[3]
assert "FARMVAULT_LIB" not in os.environ
pkg = Path(farmvault.__file__).resolve().parent
assert venv in pkg.parents and pkg.parent.name == "site-packages", f"farmvault imported from {pkg}"
assert _loader.find_checkout() is None, f"the installed package sees a checkout: {_loader.find_checkout()}"
info = farmvault.load_library()
assert Path(info.path).resolve() == pkg / "_lib" / lib, f"loaded {info.path}, not the package's copy"
with farmvault.Vault.open(work / "vault", key_file=work / "keys" / "farm.key") as vault:
    got = vault.get("render/token").secret
    assert got.to_bytes() == os.environ["SECRET"].encode(), "the secret did not round-trip"
print(f"ok: {info.path} ({info.version}) reads what the package's farmvault CLI stored")
PY
}

stage "the source install, used away from the checkout"
check_installed "$venv" source

stage "sdist: the package with the Rust workspace it builds from"
(cd bindings/python && "$py" -c 'import sys, setuptools.build_meta as b; print(b.build_sdist(sys.argv[1]))' \
    "$scratch/sdist") >"$scratch/sdist.log" 2>&1 || { cat "$scratch/sdist.log"; exit 1; }
rm -rf bindings/python/src/farmvault.egg-info
mkdir -p "$scratch/sdist/x"
tar -xzf "$scratch/sdist/farmvault-0.1.0.tar.gz" -C "$scratch/sdist/x"
sd=$scratch/sdist/x/farmvault-0.1.0
for f in setup.py pyproject.toml src/farmvault/_cli.py rust/Cargo.toml rust/Cargo.lock rust/.cargo/config.toml \
    rust/build.rs rust/src/lib.rs rust/cli/Cargo.toml rust/cli/src/main.rs rust/LICENSE; do
    [[ -f $sd/$f ]] || { echo "the sdist has no $f" >&2; exit 1; }
done
# Every manifest and target cargo reads, with the lock as it is: what a build needs.
cargo metadata --format-version 1 --locked --offline --manifest-path "$sd/rust/Cargo.toml" >/dev/null
echo "ok: the sdist carries the workspace, and cargo reads it whole with its lock"

stage "pip install of the sdist, unpacked away from the checkout (debug profile)"
# Cargo runs outside the checkout here, so .cargo/config.toml is not on its path:
# the portable Poly1305 backend check_installed asserts comes from setup.py. The
# registry dependencies are reused from the target directory (same flags); the two
# workspace packages build again, from the sdist's copy.
sdist_venv=$scratch/venv-sdist
python3 -m venv "$sdist_venv"
(cd "$scratch" && SETUPTOOLS_RUST_CARGO_PROFILE=dev CARGO_TARGET_DIR="$target_abs" PIP_CONSTRAINT="$tools" \
    "$sdist_venv/bin/python" -m pip install -q --disable-pip-version-check "$sd")
check_installed "$sdist_venv" sdist

stage "the manylinux wheel for render nodes, installed with --no-index into a fresh venv"
if [[ -n ${FARMVAULT_WHEEL:-} ]]; then
    wheel=$FARMVAULT_WHEEL
else
    bash scripts/build-wheel.sh "$scratch/wheels" | tee "$scratch/build.log"
    wheel=$(tail -n 1 "$scratch/build.log")
fi
test -f "$wheel" || { echo "no wheel at $wheel" >&2; exit 1; }
"$py" - "$wheel" "$lib" <<'PY'
import sys, zipfile
from pathlib import Path

wheel, lib = Path(sys.argv[1]), sys.argv[2]
tag = "-".join(wheel.stem.split("-")[-3:])
assert tag == "py3-none-manylinux_2_28_x86_64", f"{wheel.name}: tag {tag}"
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    meta = z.read("farmvault-0.1.0.dist-info/WHEEL").decode().splitlines()
    entry = z.read("farmvault-0.1.0.dist-info/entry_points.txt").decode()
for f in (f"farmvault/_lib/{lib}", "farmvault/_bin/farmvault"):
    assert f in names, f"no {f} in {wheel.name}: {names}"
assert "Root-Is-Purelib: false" in meta and f"Tag: {tag}" in meta, meta
assert "farmvault = farmvault._cli:main" in entry, entry
assert "[keyring.backends]" in entry and "farmvault = farmvault.keyring" in entry, entry
print(f"ok: {wheel.name} is tagged {tag} and holds the library and the CLI")
PY
wheel_venv=$scratch/venv-wheel
python3 -m venv "$wheel_venv"
"$wheel_venv/bin/python" -m pip install -q --disable-pip-version-check --no-index "$wheel"
check_installed "$wheel_venv" wheel
