//! The Toolkit (tk-core) formats: import-sgtk, export-sgtk, import-session-cache.
//! The parsing and writing live in the core (`farmvault::sgtk`), shared with the
//! C ABI and Python.

use crate::args::{ExportSgtkArgs, Global, ImportSessionCacheArgs, ImportSgtkArgs};
use crate::duration::default_ttl;
use crate::error::{CliError, OK};
use crate::output::expiry_phrase;
use crate::stdout::{emit, guard_terminal, say, write_out};
use crate::{prompt, unlock};
use farmvault::sgtk::{import_session_cache as import_cache, ImportOptions};
use farmvault::{sgtk, PutOptions};
use serde::Serialize;
use zeroize::Zeroizing;

/// `import-sgtk NAME`: stdin holds what `serialize_user` wrote (JSON or a
/// protocol-0 pickle) or a `TANK_CONTEXT` (JSON with `_current_user`).
pub fn import_sgtk(g: &Global, a: &ImportSgtkArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    let mut bytes = prompt::stdin_all("the serialized user")?;
    // `print(serialize_user(user))` adds a newline that is not part of the payload.
    prompt::strip_newline(&mut bytes);
    let text = prompt::text(bytes, "the serialized user")?;
    let credential = if text.expose().contains("\"_current_user\"") {
        sgtk::parse_tank_context(text.expose())?
    } else {
        sgtk::parse_serialized_user(text.expose())?
    };
    drop(text);
    let vault = unlock::open(g)?;
    let kind = credential.kind();
    let mut options = PutOptions::new();
    options.ttl = default_ttl(kind, a.ttl);
    vault.put_credential(&a.name, &credential, &options)?;
    let meta = vault.metadata(&a.name)?;
    say(
        g,
        format!(
            "stored {} ({kind}, {}); it {}",
            a.name,
            meta.host.as_deref().unwrap_or("-"),
            expiry_phrase(vault.now(), meta.expires)
        ),
    )?;
    Ok(OK)
}

/// `export-sgtk NAME`: the JSON `deserialize_user` accepts (it holds the secret).
pub fn export_sgtk(g: &Global, a: &ExportSgtkArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    guard_terminal(a.reveal, "a serialized user (it holds a secret)")?;
    let vault = unlock::open(g)?;
    let entry = vault.get(&a.name)?;
    let json = Zeroizing::new(sgtk::to_serialized_user_json(&entry.credential)?);
    write_out(json.as_bytes(), false)?;
    Ok(OK)
}

#[derive(Serialize)]
struct RemovedJson {
    site: String,
    file: String,
    tokens: usize,
}

#[derive(Serialize)]
struct ImportJson {
    imported: Vec<String>,
    removed: Vec<RemovedJson>,
}

/// `import-session-cache`.
pub fn import_session_cache(g: &Global, a: &ImportSessionCacheArgs) -> Result<i32, CliError> {
    let home = match &a.shotgun_home {
        Some(h) => h.clone(),
        None => sgtk::default_shotgun_home().ok_or_else(|| {
            CliError::usage(
                "cannot find tk-core's cache folder (no SHOTGUN_HOME and no home folder)",
                "pass --shotgun-home DIR",
            )
        })?,
    };
    let vault = unlock::open(g)?;
    let options = ImportOptions {
        prefix: a.prefix.clone(),
        ttl: a.ttl.as_option(),
        remove_from_cache: a.remove,
    };
    let report = import_cache(&vault, &home, &options)?;
    if a.json {
        let out = ImportJson {
            imported: report.imported.clone(),
            removed: report
                .removed
                .iter()
                .map(|r| RemovedJson {
                    site: r.site.clone(),
                    file: r.file.display().to_string(),
                    tokens: r.tokens,
                })
                .collect(),
        };
        emit(serde_json::to_string(&out).expect("report serialises"))?;
        return Ok(OK);
    }
    if report.imported.is_empty() {
        say(
            g,
            format!("no session tokens found under {}", home.display()),
        )?;
        return Ok(OK);
    }
    let now = vault.now();
    for name in &report.imported {
        let meta = vault.metadata(name)?;
        say(
            g,
            format!("imported {name}; it {}", expiry_phrase(now, meta.expires)),
        )?;
    }
    for r in &report.removed {
        say(
            g,
            format!("removed {} token(s) from {}", r.tokens, r.file.display()),
        )?;
    }
    if !a.remove {
        say(
            g,
            "the tokens are still in tk-core's plaintext cache too; run again with --remove to take them out",
        )?;
    }
    Ok(OK)
}
