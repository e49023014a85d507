//! The commands, one module per area.

mod entries;
mod exec;
mod grant;
mod grant_policy;
mod keys;
mod recovery;
mod sgtk;

use crate::args::{Cli, Command, KeyFileCommand};
use crate::error::CliError;

/// Runs the parsed command line; returns the exit status.
pub fn run(cli: Cli) -> Result<i32, CliError> {
    let g = &cli.global;
    match cli.command {
        Command::Init(a) => keys::init(g, &a),
        Command::Put(a) => entries::put(g, a),
        Command::Get(a) => entries::get(g, &a),
        Command::List(a) => entries::list(g, &a),
        Command::Rm(a) => entries::rm(g, &a.name),
        Command::Renew(a) => entries::renew(g, &a),
        Command::Purge(a) => entries::purge(g, a.json),
        Command::Check(a) => entries::check(g, &a),
        Command::Passwd => keys::passwd(g),
        Command::KeyFile(KeyFileCommand::Add { path, generate }) => {
            keys::key_file_add(g, &path, generate)
        }
        Command::KeyFile(KeyFileCommand::Remove { path }) => keys::key_file_remove(g, &path),
        Command::Rotate(a) => keys::rotate(g, &a),
        Command::ImportSgtk(a) => sgtk::import_sgtk(g, &a),
        Command::ExportSgtk(a) => sgtk::export_sgtk(g, &a),
        Command::ImportSessionCache(a) => sgtk::import_session_cache(g, &a),
        Command::Exec(a) => exec::exec(g, a),
        Command::Grant(a) => grant::grant(g, &a),
        Command::GrantInfo(a) => grant::grant_info(&a),
        Command::Grants(a) => grant::grants(g, a.json),
        Command::GrantPolicy(a) => grant_policy::grant_policy(g, &a),
        Command::FarmKeygen(a) => grant::farm_keygen(g, &a),
        Command::Backup(a) => recovery::backup(g, &a),
        Command::Restore(a) => recovery::restore(g, &a),
        Command::Repair(a) => recovery::repair(g, &a),
    }
}
