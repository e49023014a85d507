"""The Rust half of the package: every other piece of metadata is in pyproject.toml.

setuptools-rust builds, with cargo, the two things the pure-Python package needs
at run time and puts them into the wheel:

- ``farmvault/_lib/libfarmvault.so`` (``.dylib``, ``farmvault.dll``): the cdylib of
  the workspace's root package, which ``farmvault._loader`` loads through ctypes;
- ``farmvault/_bin/farmvault``: the command line (workspace member ``cli/``),
  which the console script ``farmvault`` runs (``farmvault._cli``).

The Rust workspace is the checkout this file sits in (``../../``); an sdist carries
a copy of it under ``rust/`` (see ``SdistWithWorkspace``), so the sdist builds
wherever cargo is. The build reuses the workspace's ``target/`` (or
``$CARGO_TARGET_DIR``), as cargo always does; ``SETUPTOOLS_RUST_CARGO_PROFILE=dev``
picks the debug build, ``CARGO=cargo-zigbuild`` with
``CARGO_BUILD_TARGET=x86_64-unknown-linux-gnu.2.28`` a glibc-2.28 one
(scripts/build-wheel.sh).

Wheel tag: ``py3-none-<platform>``. Nothing here is built against the Python ABI
(ctypes only), so one wheel serves every CPython 3.9+ of its platform; the
platform is this machine's unless ``--plat-name`` names another (the manylinux
tag of scripts/build-wheel.sh).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Tuple

from setuptools import setup
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension, build_rust

try:  # setuptools >= 70.1 has its own bdist_wheel
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the one of the wheel package
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
# The workspace: a copy inside an unpacked sdist, else the checkout.
WORKSPACE = HERE / "rust" if (HERE / "rust" / "Cargo.toml").is_file() else HERE.parent.parent
# What cargo needs to build the library and the command line: the workspace
# manifest and lock, both packages' sources and build script, and the bench
# files the root manifest declares (cargo refuses a manifest whose targets are
# missing). Tests, examples, fuzzers and docs stay out.
WORKSPACE_FILES = (
    "Cargo.toml",
    "Cargo.lock",
    ".cargo/config.toml",
    "build.rs",
    "README.md",
    "LICENSE",
    "cli/Cargo.toml",
)
WORKSPACE_DIRS = ("src", "cli/src", "benches")

if sys.platform == "win32":
    LIB_FILE = "farmvault.dll"
elif sys.platform == "darwin":
    LIB_FILE = "libfarmvault.dylib"
else:
    LIB_FILE = "libfarmvault.so"
LIB_MODULE = "farmvault._lib.libfarmvault"


def with_workspace_rustflags() -> None:
    """Gives cargo the workspace's ``build.rustflags`` whatever the environment.

    ``.cargo/config.toml`` chooses Poly1305's portable backend, several times
    faster than the AVX2 one on the short messages a vault seals (the file says
    by how much). Cargo reads that file only for builds started under the
    checkout, and a ``RUSTFLAGS`` or ``CARGO_ENCODED_RUSTFLAGS`` variable
    replaces it: pip's build of an unpacked sdist, a caller's own ``RUSTFLAGS``
    and cargo-zigbuild would each get the slow path. So the flags are added to
    the environment cargo runs in, after any the caller set; the list is the
    same one, so a build in the checkout's target directory is reused.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pyproject.toml's build requirements bring tomli there
        import tomli as tomllib

    with open(WORKSPACE / ".cargo" / "config.toml", "rb") as f:
        wanted = tomllib.load(f)["build"]["rustflags"]
    encoded = os.environ.get("CARGO_ENCODED_RUSTFLAGS")
    if encoded is not None:
        flags = encoded.split("\x1f") if encoded else []
    else:
        flags = os.environ.get("RUSTFLAGS", "").split()
    if flags and flags[-len(wanted) :] == wanted:
        return
    os.environ["CARGO_ENCODED_RUSTFLAGS"] = "\x1f".join(flags + wanted)
    os.environ.pop("RUSTFLAGS", None)


class BuildRust(build_rust):
    """Puts the cdylib under the file name the loader looks for, not the name of a
    CPython extension module (``libfarmvault.cpython-311-x86_64-linux-gnu.so``)."""

    def run(self) -> None:
        with_workspace_rustflags()
        # A build directory kept from an earlier build (pip builds in the source
        # tree) would carry its binaries into this wheel beside the new ones.
        build_lib = Path(self.get_finalized_command("build_ext").build_lib)
        for stale in ("farmvault/_lib", "farmvault/_bin"):
            for f in (build_lib / stale).glob("*"):
                if f.name != "README.txt":
                    f.unlink()
        super().run()

    def get_dylib_ext_path(self, ext: RustExtension, target_fname: str) -> str:
        path = Path(super().get_dylib_ext_path(ext, target_fname))
        if target_fname == LIB_MODULE:
            return str(path.with_name(LIB_FILE))
        return str(path)


class BdistWheel(bdist_wheel):
    def get_tag(self) -> Tuple[str, str, str]:
        _impl, _abi, plat = super().get_tag()
        # A universal2 interpreter would tag the wheel universal2, but cargo builds
        # for this machine's architecture only (an explicit --plat-name is left alone).
        if not self.plat_name_supplied and plat.startswith("macosx_") and plat.endswith("_universal2"):
            plat = plat[: -len("universal2")] + platform.machine()
        return "py3", "none", plat


class SdistWithWorkspace(sdist):
    """Copies the Rust workspace into the sdist as ``rust/``, which setup.py builds
    from when it finds it."""

    def make_release_tree(self, base_dir: str, files: list) -> None:  # type: ignore[type-arg]
        super().make_release_tree(base_dir, files)
        dest = Path(base_dir) / "rust"
        if (HERE / "rust" / "Cargo.toml").is_file():
            source = HERE / "rust"  # an sdist built from an unpacked sdist
        else:
            source = HERE.parent.parent
        for name in WORKSPACE_FILES:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)
        for name in WORKSPACE_DIRS:
            shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns("*.orig", "*.rej"))


setup(
    rust_extensions=[
        RustExtension(
            LIB_MODULE,
            path=str(WORKSPACE / "Cargo.toml"),
            binding=Binding.NoBinding,
            # The crate types Cargo.toml lists, in its order: cargo then builds the
            # very unit `cargo build` builds, so a build in the same target
            # directory is reused rather than redone (setuptools-rust's default,
            # cdylib alone, is another unit that overwrites the same .so).
            args=["--crate-type", "rlib,cdylib,staticlib"],
            cargo_manifest_args=["--locked"],
        ),
        RustExtension(
            {"farmvault": "farmvault._bin.farmvault"},
            path=str(WORKSPACE / "cli" / "Cargo.toml"),
            binding=Binding.Exec,
            cargo_manifest_args=["--locked"],
        ),
    ],
    cmdclass={"build_rust": BuildRust, "bdist_wheel": BdistWheel, "sdist": SdistWithWorkspace},
    zip_safe=False,
)
