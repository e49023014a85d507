# A Rez package of farmvault for studios that give DCCs their Python packages
# through Rez rather than pip: Maya (mayapy), Houdini (hython), Nuke and plain
# python 3.9+ all import it from the same install. It unpacks the manylinux
# wheel (scripts/build-wheel.sh) into the package, so render nodes need neither
# Rust nor a checkout, and puts the bundled command line on PATH as it is (no
# Python wrapper, so it runs the same from any interpreter's environment).
#
#   cp target/wheels/farmvault-0.1.0-py3-none-manylinux_2_28_x86_64.whl bindings/python/rez/
#   cd bindings/python/rez && rez build --install
#   rez env farmvault maya -- mayapy -c 'import farmvault; print(farmvault.load_library().path)'
#   rez env farmvault -- farmvault --version

name = "farmvault"

version = "0.1.0"

description = "Encrypted on-disk credential vault with per-entry TTLs for render farms (Python, ctypes; CLI)"

authors = ["farmvault"]

# Any CPython 3.9+ (the wheel is py3-none: ctypes only, no extension module).
requires = ["python-3.9+"]

# The wheel's library and CLI are built for x86_64 Linux with glibc 2.28 or newer.
variants = [["platform-linux", "arch-x86_64"]]

build_command = (
    "python -m pip install --no-deps --no-index --no-compile "
    '--target "$REZ_BUILD_INSTALL_PATH/python" '
    "{root}/farmvault-0.1.0-py3-none-manylinux_2_28_x86_64.whl"
)


def commands():
    env.PYTHONPATH.prepend("{root}/python")  # noqa: F821 (Rez provides env)
    env.PATH.prepend("{root}/python/farmvault/_bin")  # noqa: F821
