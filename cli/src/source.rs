//! What `get`, `list` and `exec` read from: the vault, or a job grant; and the
//! field of an entry they hand on.
//!
//! A grant is chosen by `--grant FILE` or `FARMVAULT_GRANT_FILE`, so the same
//! command line reads from the vault on a workstation and through the grant in
//! a farm job's environment. The grant opens with the token in
//! `FARMVAULT_GRANT_TOKEN` (or the variable `--token-env` names: a token is
//! never an argument, which every user sees in the process list) and/or the
//! farm identity `--identity` / `FARMVAULT_IDENTITY`, refused like a key file
//! when another user could read or replace it. Its first open on this machine
//! is recorded in `--state-dir` / `FARMVAULT_STATE_DIR`, else the per-user
//! state directory.

use crate::args::Global;
use crate::error::{grant_error, no_state_dir, CliError, NOT_FOUND};
use crate::unlock;
use clap::Args;
use farmvault::grant::{default_state_dir, Grant, GrantOpen, ReadCredentials};
use farmvault::{Credential, Entry, EntryMeta, Error, Field, Kind, SecretString, UnixTime, Vault};
use std::path::{Path, PathBuf};

/// Where `get`, `list` and `exec` read from instead of the vault: a job grant.
#[derive(Args, Debug, Clone)]
pub struct GrantSource {
    /// Read through this grant bundle instead of the vault.
    #[arg(long = "grant", env = "FARMVAULT_GRANT_FILE", value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// The environment variable holding the grant's token (never the token itself).
    #[arg(long, value_name = "VAR", requires = "bundle")]
    pub token_env: Option<String>,
    /// A farm identity file that opens the grant (mode 0600).
    #[arg(long, env = "FARMVAULT_IDENTITY", value_name = "PATH")]
    pub identity: Option<PathBuf>,
}

/// The variable the grant's token is read from, unless `--token-env` names another.
pub const TOKEN_ENV: &str = "FARMVAULT_GRANT_TOKEN";
/// The variable naming the grant bundle (the `--grant` flag's).
pub const GRANT_FILE_ENV: &str = "FARMVAULT_GRANT_FILE";
/// The variable naming the farm identity file (the `--identity` flag's).
pub const IDENTITY_ENV: &str = "FARMVAULT_IDENTITY";

/// An opened vault or grant.
pub enum Source {
    /// The vault the global options name.
    Vault(Vault),
    /// A job grant.
    Grant(Grant),
}

impl Source {
    /// Opens the grant `s` names, else the vault.
    pub fn open(g: &Global, s: &GrantSource) -> Result<Source, CliError> {
        match &s.bundle {
            Some(bundle) => open_grant(g, bundle, s).map(Source::Grant),
            None => unlock::open(g).map(Source::Vault),
        }
    }

    fn reader(&self) -> &dyn ReadCredentials {
        match self {
            Source::Vault(v) => v,
            Source::Grant(g) => g,
        }
    }

    /// Reads `name`.
    pub fn get(&self, name: &str) -> Result<Entry, CliError> {
        self.reader().get(name).map_err(|e| self.error(e, name))
    }

    /// The entries under `prefix`.
    pub fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>, CliError> {
        self.reader()
            .list(prefix)
            .map_err(|e| self.error(e, prefix))
    }

    /// Now, on the source's clock.
    pub fn now(&self) -> UnixTime {
        match self {
            Source::Vault(v) => v.now(),
            Source::Grant(g) => g.now(),
        }
    }

    fn error(&self, e: Error, name: &str) -> CliError {
        match self {
            Source::Vault(_) => e.into(),
            Source::Grant(g) => grant_error(e, g.path(), Some(name)),
        }
    }
}

/// The token from the environment: `None` when the variable is unset or empty.
fn token_from_env(s: &GrantSource) -> Result<Option<SecretString>, CliError> {
    let var = s.token_env.as_deref().unwrap_or(TOKEN_ENV);
    match std::env::var(var) {
        Ok(t) if t.trim().is_empty() => Ok(None),
        Ok(t) => Ok(Some(SecretString::from(t))),
        Err(std::env::VarError::NotPresent) if s.token_env.is_some() => Err(CliError::usage(
            format!("--token-env names {var}, which is not set"),
            "name the variable the job's environment holds the grant token in",
        )),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(CliError::usage(
            format!("{var} is not valid UTF-8, so it holds no grant token"),
            "set it to the fvg1_… token `farmvault grant` printed",
        )),
    }
}

/// Opens the grant bundle at `bundle` with the token from the environment and/or
/// the farm identity `s` names.
pub fn open_grant(g: &Global, bundle: &Path, s: &GrantSource) -> Result<Grant, CliError> {
    let mut how = GrantOpen::new();
    let token = token_from_env(s)?;
    let has_token = token.is_some();
    if let Some(t) = token {
        how = how.token(t);
    }
    // Through a render node's agent, the agent holds the identity and records
    // the first open: the job needs neither an identity nor a state directory.
    if farmvault::agent::node_agent_from_env().is_none() {
        how = local_material(how, g, bundle, s, has_token)?;
    }
    let grant = Grant::open(bundle, &how);
    crate::harden::warn_memory_lock();
    grant.map_err(|e| grant_error(e, bundle, None))
}

/// What an open in this process needs beyond the token: a farm identity or
/// the token (`has_token`), and a state directory for the first open.
fn local_material(
    mut how: GrantOpen,
    g: &Global,
    bundle: &Path,
    s: &GrantSource,
    has_token: bool,
) -> Result<GrantOpen, CliError> {
    if !has_token && s.identity.is_none() {
        let var = s.token_env.as_deref().unwrap_or(TOKEN_ENV);
        return Err(CliError::usage(
            format!(
                "nothing to open the grant {} with: {var} is unset or empty and no farm identity is given",
                bundle.display()
            ),
            format!("put the grant's token in {var}, or pass --identity PATH / set {IDENTITY_ENV}"),
        ));
    }
    // Resolved here rather than in the library, so a job without HOME hears of
    // --state-dir, not of the token it did set.
    let state_dir = match &g.state_dir {
        Some(dir) => dir.clone(),
        None => default_state_dir().map_err(|_| no_state_dir(bundle))?,
    };
    how = how.state_dir(state_dir);
    if let Some(id) = &s.identity {
        // The library opens it once and checks that descriptor: no check by path here.
        how = how
            .identity_file(id)
            .allow_insecure_permissions(g.insecure_permissions);
    }
    Ok(how)
}

/// The fields a kind has (whether set or not).
fn kind_fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::ScriptKey => &[
            Field::Host,
            Field::ScriptName,
            Field::ApiKey,
            Field::HttpProxy,
            Field::Secret,
        ],
        Kind::SessionToken => &[
            Field::Host,
            Field::Login,
            Field::SessionToken,
            Field::SessionMetadata,
            Field::HttpProxy,
            Field::Secret,
        ],
        Kind::LoginPassword => &[
            Field::Host,
            Field::Login,
            Field::Password,
            Field::HttpProxy,
            Field::Secret,
        ],
        // A context's user is a script key or a session token; it has the fields of
        // either, and those its user lacks are reported unset.
        Kind::TankContext => &[
            Field::Host,
            Field::Login,
            Field::ScriptName,
            Field::ApiKey,
            Field::SessionToken,
            Field::SessionMetadata,
            Field::HttpProxy,
            Field::TankContext,
            Field::Secret,
        ],
        Kind::FlowToken => &[
            Field::AppId,
            Field::Profile,
            Field::AccessToken,
            Field::RefreshToken,
            Field::Secret,
        ],
        _ => &[Field::Secret],
    }
}

/// The error for `NAME:FIELD` where NAME is an entry of `kind` and FIELD is no
/// field name at all (a typo): it names the field, not a missing entry.
pub fn unknown_field(name: &str, kind: Kind, field: &str) -> CliError {
    CliError::new(
        NOT_FOUND,
        format!(
            "entry {name:?} ({}) has no field named {field:?}",
            kind.with_article()
        ),
        fields_hint(kind),
    )
}

/// `ask for one of: host, api_script, ...`: the fields of `kind`.
fn fields_hint(kind: Kind) -> String {
    let names: Vec<&str> = kind_fields(kind).iter().map(|f| f.as_str()).collect();
    format!("ask for one of: {}", names.join(", "))
}

/// The value of `field` of an entry, or a not-found error naming what is missing.
pub fn field_value<'a>(
    name: &str,
    credential: &'a Credential,
    field: Field,
) -> Result<&'a [u8], CliError> {
    let kind = credential.kind();
    if !kind_fields(kind).contains(&field) {
        return Err(CliError::new(
            NOT_FOUND,
            format!(
                "entry {name:?} is {}, which has no {field} field",
                kind.with_article()
            ),
            fields_hint(kind),
        ));
    }
    credential.field(field).ok_or_else(|| {
        CliError::new(
            NOT_FOUND,
            format!("entry {name:?} has no {field} set"),
            "store it again with that field if it is needed",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use farmvault::grant::STATE_DIR_ENV;
    use std::path::PathBuf;

    /// `grant_error` writes the variables out (its module uses no other); they
    /// are the ones this module reads.
    #[test]
    fn grant_errors_name_the_variables_read_here() {
        let bundle = PathBuf::from("job.fvgrant");
        let wrong = grant_error(
            Error::WrongGrantKey {
                path: bundle.clone(),
            },
            &bundle,
            None,
        );
        assert!(wrong.hint.contains(TOKEN_ENV), "{}", wrong.hint);
        assert!(wrong.hint.contains(IDENTITY_ENV), "{}", wrong.hint);
        let corrupt = grant_error(
            Error::Corrupt {
                path: bundle.clone(),
                what: "bad magic".into(),
            },
            &bundle,
            None,
        );
        assert!(corrupt.hint.contains(GRANT_FILE_ENV), "{}", corrupt.hint);
        let invalid = grant_error(Error::InvalidArgument("no token".into()), &bundle, None);
        assert!(invalid.hint.contains(TOKEN_ENV), "{}", invalid.hint);
        let no_state = no_state_dir(&bundle);
        assert!(no_state.hint.contains(STATE_DIR_ENV), "{}", no_state.hint);
        assert!(no_state.hint.contains("--state-dir"), "{}", no_state.hint);
        assert!(!no_state.hint.contains(TOKEN_ENV), "{}", no_state.hint);
    }
}
