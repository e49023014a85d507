#!/usr/bin/env bash
# Every test farmvault has, in the order a failure is cheapest to read:
# formatting, lints and the command line's module graph (no import cycles),
# the Rust suites (unit, integration, doc, header check) of both packages
# (the library and cli/, the command line),
# the release build for glibc 2.28 (the manylinux wheel, which the C and Python
# stages then test), the C ABI from C and C++ (shared and static, under valgrind,
# installed with scripts/install.sh and built with pkg-config and CMake), the
# Python package (pip install from source into a fresh venv, mypy --strict,
# pytest, the sdist, the wheel installed), an Open Job Description job run by the
# real openjd-cli (scripts/test-openjd.sh), the README's main command
# (scripts/demo.sh) on the same release build, then the benches compiled (not
# run) so they never rot.
# Usage (from anywhere): bash scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
stage() { printf '\n==> %s  [%ds]\n' "$*" "$((SECONDS - started))"; }

stage "rustfmt"
cargo fmt --all -- --check

# --workspace: the library and the command line, whatever the workspace's
# default members are (fuzz/ is a workspace of its own and needs nightly).
stage "clippy"
cargo clippy --workspace --all-targets -- -D warnings

stage "module graphs of src and cli/src (no import cycles between files)"
python3 scripts/module-graph.py src cli/src

# strace: CLI tests read off it which directories `init` fsyncs, and make
# syncs fail with its fault injection; faketime moves a command's clock;
# sshfs with OpenSSH's sftp-server is the network filesystem a vault is
# refused on; fusermount3 mounts the power-loss tests' filesystem; objdump reads
# the GLIBC_ versions the wheel's binaries need.
bash scripts/need-tools.sh strace faketime sshfs /usr/lib/openssh/sftp-server:openssh-sftp-server fusermount3:fuse3 objdump:binutils

stage "Rust tests (unit, integration, doc, header check)"
cargo test --workspace

# One release build serves every later stage: the wheel ships it, the C stage runs
# it under valgrind and installs it, the Python stage installs the wheel.
stage "release build for glibc 2.28: the manylinux wheel (scripts/build-wheel.sh)"
target_dir=${CARGO_TARGET_DIR:-$(pwd)/target}
bash scripts/build-wheel.sh | tee "$target_dir/build-wheel.log"
FARMVAULT_WHEEL=$(tail -n 1 "$target_dir/build-wheel.log")
FARMVAULT_RELEASE_DIR=$target_dir/x86_64-unknown-linux-gnu/release
export FARMVAULT_WHEEL FARMVAULT_RELEASE_DIR

stage "C and C++ against include/farmvault.h, and installed with scripts/install.sh"
bash scripts/test-c.sh

stage "Python package (bindings/python): from source, the sdist, the wheel"
bash scripts/test-python.sh

stage "an Open Job Description job reading through a grant (openjd-cli from PyPI)"
bash scripts/test-openjd.sh

stage "the README's main command: scripts/demo.sh, on the release build tested above"
FARMVAULT_DEMO_BIN="$FARMVAULT_RELEASE_DIR/farmvault" bash scripts/demo.sh >"$target_dir/demo.log" 2>&1 ||
    { cat "$target_dir/demo.log"; echo "scripts/demo.sh failed" >&2; exit 1; }
tail -n 1 "$target_dir/demo.log"

stage "benches compile"
# Only to catch rot: the benches are type-checked by clippy above and linked
# here, in the dev profile, so the dependencies `cargo test` compiled serve
# (the bench profile, even at opt-level 0, is a second build of every one of
# them: about 200 s here against 70); `cargo bench` itself uses the full
# bench profile. The benches are the library's.
cargo build -p farmvault --benches

printf '\nAll farmvault test stages passed in %ds.\n' "$((SECONDS - started))"
