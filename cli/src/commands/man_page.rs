//! `farmvault man-page [DIR]`: the manual in roff, made from the parser's own
//! definition (clap_mangen): `farmvault(1)` on stdout, or, given a directory,
//! `farmvault.1` and a `farmvault-COMMAND.1` per command written into it (what
//! `scripts/install.sh` installs into share/man/man1; older pages of the same
//! names are replaced).

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::{say, write_out};
use clap::{Args, CommandFactory};
use std::path::PathBuf;

/// `man-page`.
#[derive(Args, Debug)]
pub struct ManPageArgs {
    /// Write farmvault.1 and a farmvault-COMMAND.1 per command into this existing directory instead of farmvault.1 on stdout.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `man-page [DIR]`.
pub fn run(g: &Global, a: &ManPageArgs) -> Result<i32, CliError> {
    let cmd = crate::Cli::command();
    let Some(dir) = &a.dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| CliError::io("rendering the man page", &e))?;
        write_out(&page, true)?;
        return Ok(OK);
    };
    clap_mangen::generate_to(cmd, dir)
        .map_err(|e| CliError::io(format!("writing the man pages into {}", dir.display()), &e))?;
    say(g, format!("wrote the man pages into {}", dir.display()))?;
    Ok(OK)
}
