//! Gives the shared library the SONAME of its ABI version, so a program linked against
//! `libfarmvault.so.1` never loads a library with another ABI.
//!
//! `ABI_VERSION` is `FV_ABI_VERSION` of src/ffi/info.rs; `scripts/test-c.sh` checks the
//! built library's SONAME against `fv_abi_version()`.

const ABI_VERSION: u32 = 1;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match os.as_str() {
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfarmvault.so.{ABI_VERSION}");
        }
        "macos" | "ios" => {
            println!(
                "cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libfarmvault.{ABI_VERSION}.dylib"
            );
        }
        _ => {}
    }
}
