//! `farmvault completions SHELL`: the shell's completion script for every
//! command and option, on stdout, made from the parser's own definition
//! (clap_complete), so it never offers an option the parser refuses.

use crate::error::{CliError, OK};
use crate::print::write_out;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// `completions`.
#[derive(Args, Debug)]
#[command(after_help = "\
Install (or let `scripts/install.sh` do it):
  bash:       farmvault completions bash > ~/.local/share/bash-completion/completions/farmvault
  zsh:        farmvault completions zsh > ~/.zfunc/_farmvault   (with fpath+=(~/.zfunc) before compinit)
  fish:       farmvault completions fish > ~/.config/fish/completions/farmvault.fish
  powershell: farmvault completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_parser = ["bash", "zsh", "fish", "powershell"])]
    pub shell: String,
}

/// `completions SHELL`.
pub fn run(a: &CompletionsArgs) -> Result<i32, CliError> {
    let shell = match a.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::Cli::command(), "farmvault", &mut script);
    write_out(&script, true)?;
    Ok(OK)
}
