//! `include/farmvault.h` is what cbindgen generates from `src/ffi`, and its version
//! macros are Cargo.toml's version.
//!
//! cbindgen expands macros only on nightly (`cargo rustc -Zunpretty=expanded`), and
//! every export of `src/ffi` is written inside `ffi_fn!`. So this test does that one
//! expansion itself, with syn: each `ffi_fn! { fn f(..) -> T { .. } }` becomes the
//! `#[no_mangle] pub unsafe extern "C" fn` the macro produces (plus `#[must_use]` when
//! it returns `fv_result`, for `FV_MUST_USE`), the types and constants are passed as
//! they are, and the pinned cbindgen library reads the result with `cbindgen.toml`.
//!
//! Regenerate the header after changing `src/ffi`:
//!
//! ```text
//! FARMVAULT_BLESS=1 cargo test --test ffi header::
//! ```

use quote::quote;
use std::path::{Path, PathBuf};
use syn::parse::{ParseStream, Parser};
use syn::{parse_quote, Item, ItemFn, ReturnType, Visibility};

const REGENERATE: &str = "FARMVAULT_BLESS=1 cargo test --test ffi header::";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `src/ffi/mod.rs`, then its file modules in the order it declares them (the header
/// lists functions in source order).
fn ffi_files() -> Vec<PathBuf> {
    let dir = root().join("src/ffi");
    let mod_rs = dir.join("mod.rs");
    let parsed = syn::parse_file(&read(&mod_rs)).expect("src/ffi/mod.rs parses");
    let mut files = vec![mod_rs];
    for item in parsed.items {
        if let Item::Mod(m) = item {
            if m.content.is_none() {
                files.push(dir.join(format!("{}.rs", m.ident)));
            }
        }
    }
    files
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && quote!(#a).to_string().contains("test"))
}

/// The function `ffi_fn!` generates from `f`, as cbindgen needs to see it.
fn exported(mut f: ItemFn) -> proc_macro2::TokenStream {
    // Docs go to the header; `#[fallback(..)]` is the macro's own.
    f.attrs.retain(|a| a.path().is_ident("doc"));
    let returns_result = matches!(&f.sig.output,
        ReturnType::Type(_, ty) if quote!(#ty).to_string() == "fv_result");
    f.vis = Visibility::Public(Default::default());
    f.sig.unsafety = Some(Default::default());
    f.sig.abi = Some(parse_quote!(extern "C"));
    f.block = parse_quote!({ unreachable!() });
    let must_use = returns_result.then(|| quote!(#[must_use]));
    quote! { #[no_mangle] #must_use #f }
}

/// The items of one file that matter to the header, with `ffi_fn!` expanded.
fn expand(path: &Path) -> Vec<proc_macro2::TokenStream> {
    let file = syn::parse_file(&read(path))
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    let mut out = Vec::new();
    for item in file.items {
        match item {
            Item::Macro(m) if m.mac.path.is_ident("ffi_fn") => {
                let fns = (|input: ParseStream| {
                    let mut fns = Vec::new();
                    while !input.is_empty() {
                        fns.push(input.parse::<ItemFn>()?);
                    }
                    Ok(fns)
                })
                .parse2(m.mac.tokens.clone())
                .unwrap_or_else(|e| {
                    panic!("an ffi_fn! in {} is not a function: {e}", path.display())
                });
                out.extend(fns.into_iter().map(exported));
            }
            Item::Struct(s) if matches!(s.vis, Visibility::Public(_)) => out.push(quote!(#s)),
            Item::Enum(e) if matches!(e.vis, Visibility::Public(_)) => out.push(quote!(#e)),
            Item::Const(c) if matches!(c.vis, Visibility::Public(_)) && !is_cfg_test(&c.attrs) => {
                out.push(quote!(#c))
            }
            _ => {}
        }
    }
    out
}

/// The header cbindgen makes of the current sources.
fn generate() -> Vec<u8> {
    let items: Vec<_> = ffi_files().iter().flat_map(|p| expand(p)).collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let src = dir.path().join("ffi_expanded.rs");
    std::fs::write(&src, quote!(#(#items)*).to_string()).expect("writing the expansion");
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml"))
        .expect("cbindgen.toml is a valid cbindgen config");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(&src)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    out
}

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let path = root().join("include/farmvault.h");
    let fresh = generate();
    if std::env::var_os("FARMVAULT_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("writing include/farmvault.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != fresh {
        let first_diff = String::from_utf8_lossy(&fresh)
            .lines()
            .zip(
                String::from_utf8_lossy(&committed)
                    .lines()
                    .chain(std::iter::repeat("")),
            )
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  generated: {a}\n  committed: {b}", i + 1))
            .unwrap_or_else(|| "(the files differ in length)".into());
        panic!(
            "include/farmvault.h is out of date with src/ffi (first difference at {first_diff})\n\
             regenerate it with:\n\n    {REGENERATE}\n\nthen review and commit the diff"
        );
    }
}

/// The value of `#define NAME value` in the committed header.
fn define(header: &str, name: &str) -> String {
    header
        .lines()
        .find_map(|l| {
            l.strip_prefix("#define ")?
                .strip_prefix(name)?
                .strip_prefix(' ')
        })
        .unwrap_or_else(|| panic!("include/farmvault.h has no #define {name}"))
        .trim()
        .to_owned()
}

#[test]
fn header_version_is_cargo_version() {
    let header = read(&root().join("include/farmvault.h"));
    let num = |name: &str| -> u32 {
        define(&header, name)
            .parse()
            .unwrap_or_else(|e| panic!("{name} is not a number: {e}"))
    };
    let cargo = |v: &str| -> u32 { v.parse().expect("Cargo versions are numbers") };
    let (major, minor, patch) = (
        cargo(env!("CARGO_PKG_VERSION_MAJOR")),
        cargo(env!("CARGO_PKG_VERSION_MINOR")),
        cargo(env!("CARGO_PKG_VERSION_PATCH")),
    );
    let ours = (
        num("FV_VERSION_MAJOR"),
        num("FV_VERSION_MINOR"),
        num("FV_VERSION_PATCH"),
    );
    assert_eq!(
        ours,
        (major, minor, patch),
        "include/farmvault.h's FV_VERSION_* differ from Cargo.toml ({}); update src/ffi/info.rs \
         and run {REGENERATE}",
        env!("CARGO_PKG_VERSION")
    );
    let number = define(&header, "FV_VERSION_NUMBER");
    let expected = major * 1_000_000 + minor * 1000 + patch;
    let evaluated = number
        .replace(['(', ')'], "")
        .split('+')
        .map(|term| {
            let term = term.trim();
            match term.split_once('*') {
                Some((name, factor)) => {
                    num(name.trim()) * factor.trim().parse::<u32>().expect("a factor")
                }
                None => term.parse().unwrap_or_else(|_| num(term)),
            }
        })
        .sum::<u32>();
    assert_eq!(evaluated, expected, "FV_VERSION_NUMBER is {number}");
    assert_eq!(
        num("FV_ABI_VERSION"),
        1,
        "the ABI version is in the SONAME too (build.rs)"
    );
}
