//! Nothing but the `test-overrides` feature moves a grant's clock or hostname,
//! and nothing shipped turns that feature on.
//!
//! The knobs are private fields of `GrantOpen` (`clock`, `hostname`,
//! `node_config_dir`), so only `src/grant/open.rs` can set them: this test reads
//! that file and checks that every method writing one is compiled only with the
//! feature, and that the struct has no public field. Then it checks that the one
//! manifest line enabling the feature is the root package's dev-dependency on
//! itself (which `cargo build -p farmvault --lib`, the command line and the
//! Python package's build never activate), and that no build script passes
//! features to cargo. The C ABI, the way in for C, C++ and Python, refuses a
//! fixed time and a hostname for grants: `ffi_windows.rs` checks it here, and the C
//! tests (`scripts/test-c.sh`) against the debug and the release library.

use quote::quote;
use std::path::PathBuf;
use syn::{Attribute, ImplItem, Item, Visibility};

const FEATURE: &str = "test-overrides";
/// The fields that move what a grant is checked against.
const KNOBS: &[&str] = &["clock", "hostname", "node_config_dir"];

fn read(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// Whether `attrs` hold `#[cfg(feature = "test-overrides")]`.
fn gated(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        quote!(#a).to_string().replace(' ', "") == format!("#[cfg(feature=\"{FEATURE}\")]")
    })
}

fn type_name(ty: &syn::Type) -> String {
    quote!(#ty).to_string()
}

#[test]
fn only_the_feature_writes_a_grants_clock_or_hostname() {
    let file = syn::parse_file(&read("src/grant/open.rs")).expect("open.rs parses");
    let mut setters = Vec::new();
    let mut struct_seen = false;
    for item in &file.items {
        match item {
            Item::Struct(s) if s.ident == "GrantOpen" => {
                struct_seen = true;
                for field in &s.fields {
                    let name = field.ident.as_ref().expect("named fields").to_string();
                    assert!(
                        matches!(field.vis, Visibility::Inherited),
                        "GrantOpen::{name} is not private"
                    );
                    if name != "clock" && KNOBS.contains(&name.as_str()) {
                        assert!(
                            gated(&field.attrs),
                            "GrantOpen::{name} exists without {FEATURE}"
                        );
                    }
                }
            }
            Item::Impl(i) if type_name(&i.self_ty) == "GrantOpen" => {
                for f in i.items.iter().filter_map(|it| match it {
                    ImplItem::Fn(f) => Some(f),
                    _ => None,
                }) {
                    let name = f.sig.ident.to_string();
                    let body = f.block.clone();
                    let body = quote!(#body).to_string();
                    if i.trait_.is_some() {
                        // `Default`: the system clock, no hostname.
                        assert!(
                            body.contains("clock : Arc :: new (SystemClock)"),
                            "GrantOpen::default does not take the system clock: {body}"
                        );
                        continue;
                    }
                    let writes: Vec<_> = KNOBS
                        .iter()
                        .filter(|k| body.contains(&format!("self . {k} =")))
                        .collect();
                    if !writes.is_empty() || KNOBS.contains(&name.as_str()) {
                        assert!(
                            gated(&f.attrs),
                            "GrantOpen::{name} writes {writes:?} without {FEATURE}"
                        );
                        setters.push(name.clone());
                    }
                    assert!(
                        !body.contains("GrantOpen {"),
                        "GrantOpen::{name} builds a GrantOpen of its own"
                    );
                }
            }
            _ => {}
        }
    }
    assert!(struct_seen, "no struct GrantOpen in src/grant/open.rs");
    setters.sort();
    assert_eq!(setters, ["clock", "hostname", "node_config_dir"]);
}

#[test]
fn nothing_shipped_enables_the_feature() {
    // Cargo.toml: the declaration, and the dev-dependency on itself. Nothing else.
    let mut section = String::new();
    let mut found = Vec::new();
    for line in read("Cargo.toml").lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_owned();
        }
        if !line.starts_with('#') && line.contains(FEATURE) {
            found.push((section.clone(), line.to_owned()));
        }
    }
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[0],
        ("[features]".to_owned(), format!("{FEATURE} = []"))
    );
    assert_eq!(found[1].0, "[dev-dependencies]", "{found:?}");
    assert!(
        found[1].1.starts_with("farmvault = { path = \".\""),
        "{found:?}"
    );

    assert!(!read("cli/Cargo.toml").contains(FEATURE));
    for script in [
        "scripts/build-wheel.sh",
        "scripts/install.sh",
        "scripts/test-c.sh",
        "scripts/test-python.sh",
        "bindings/python/setup.py",
    ] {
        for line in read(script).lines().filter(|l| l.contains("cargo")) {
            for flag in ["--features", "--all-features", " -F "] {
                assert!(!line.contains(flag), "{script} passes {flag}: {line}");
            }
        }
    }
    assert!(!read("bindings/python/setup.py").contains("features="));
}
