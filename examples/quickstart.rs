//! Creates a vault in a default location it makes itself (`target/quickstart/`,
//! or the directory given as the first argument), stores a script key and a
//! session token with a TTL, reads them back and shows their expiry.
//!
//! `cargo run --release --example quickstart`

use farmvault::{Credential, KeyFile, PutOptions, ScriptKey, SessionToken, Unlock};
use std::path::PathBuf;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/quickstart"));
    std::fs::create_dir_all(&root)?;
    let vault_dir = root.join("vault");
    let key_path = root.join("farm.key");

    // First run: a new key file (0600) and a vault it opens. Later runs reuse both.
    let vault = if key_path.exists() {
        farmvault::open(&vault_dir, &Unlock::key_file_path(&key_path)?)?
    } else {
        let key = KeyFile::generate()?;
        key.write_new(&key_path)?;
        farmvault::create(&vault_dir, &Unlock::KeyFile(key))?
    };
    println!("vault: {}", vault.path().display());

    let script_key = Credential::ScriptKey(ScriptKey {
        host: "https://mysite.shotgrid.autodesk.com".into(),
        script_name: "render_farm".into(),
        api_key: "0123456789abcdef0123456789abcdef".into(),
        http_proxy: None,
    });
    vault.put_credential("shotgun/render_farm", &script_key, &PutOptions::new())?;

    let session = Credential::SessionToken(SessionToken {
        host: "https://mysite.shotgrid.autodesk.com".into(),
        login: "jdoe".into(),
        session_token: "abc123sessiontoken".into(),
        http_proxy: None,
        session_metadata: None,
    });
    let day = Duration::from_secs(24 * 3600);
    vault.put_credential("shotgun/jdoe", &session, &PutOptions::new().ttl(day))?;

    for meta in vault.list("shotgun/")? {
        let entry = vault.get(&meta.name)?;
        let expiry = match meta.expires {
            Some(t) => format!(
                "expires in {} s (unix {})",
                t.secs().saturating_sub(vault.now().secs()),
                t.secs()
            ),
            None => "never expires".to_owned(),
        };
        // Debug of a credential redacts its secrets: safe to print.
        println!("{:<22} {:<14} {expiry}", meta.name, meta.kind);
        println!("    {:?}", entry.credential);
    }
    Ok(())
}
