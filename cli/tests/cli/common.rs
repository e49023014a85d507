//! Shared helpers of the `farmvault` command-line tests: a private temporary
//! workspace, a cheap-KDF vault, runs of the real binary with stdin, and scans
//! for secrets in output and on disk.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The passphrase of test vaults.
pub const PW: &str = "correct horse battery staple";
/// The site of test credentials.
pub const HOST: &str = "https://mysite.shotgrid.autodesk.com";

/// Exit statuses, as documented in `farmvault --help`.
pub mod code {
    pub const OK: i32 = 0;
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const EXPIRED: i32 = 4;
    pub const WRONG_KEY: i32 = 5;
    pub const LOCKED: i32 = 6;
    pub const CORRUPT: i32 = 7;
    pub const INSECURE: i32 = 8;
    pub const IO: i32 = 9;
    pub const NO_VAULT: i32 = 10;
    pub const EXISTS: i32 = 11;
    pub const AGENT: i32 = 12;
    pub const EXEC_CANNOT_RUN: i32 = 126;
    pub const EXEC_NOT_FOUND: i32 = 127;
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the status, showing both streams when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Asserts the one-line error format `farmvault: <what> (<hint>)`.
    #[track_caller]
    pub fn one_line_error(&self) -> &Run {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.contains("warning:"))
            .collect();
        assert_eq!(lines.len(), 1, "stderr: {}", self.stderr);
        assert!(lines[0].starts_with("farmvault: "), "{}", lines[0]);
        assert!(lines[0].ends_with(')'), "{}", lines[0]);
        self
    }

    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A private temporary workspace with a vault path and a passphrase file.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub vault: PathBuf,
    pub passphrase_file: PathBuf,
}

/// Sets a Unix mode (a no-op elsewhere).
pub fn chmod(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Writes `contents` to a new file with mode 0600.
pub fn write_private(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).expect("write");
    chmod(path, 0o600);
}

impl Env {
    /// A workspace (mode 0700) whose vault does not exist yet.
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        chmod(dir.path(), 0o700);
        let passphrase_file = dir.path().join("passphrase");
        write_private(&passphrase_file, format!("{PW}\n").as_bytes());
        Env {
            vault: dir.path().join("vault"),
            passphrase_file,
            dir,
        }
    }

    /// A workspace with a vault created by `farmvault init`.
    pub fn with_vault() -> Env {
        let env = Env::new();
        env.run(&["init"], None).expect(code::OK);
        env
    }

    /// A path inside the workspace.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary with a clean environment: this vault, the passphrase file,
    /// cheap KDF. Nothing inherited can make it prompt or pick another vault.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_farmvault"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("FARMVAULT_")
                || k == "SHOTGUN_HOME"
                || k == "XDG_DATA_HOME"
            {
                c.env_remove(k);
            }
        }
        c.env("FARMVAULT_PATH", &self.vault)
            .env("FARMVAULT_PASSPHRASE_FILE", &self.passphrase_file)
            .env("FARMVAULT_INSECURE_KDF_FOR_TESTS", "1")
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path());
        c
    }

    /// Runs with `args` and `stdin`.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        run(self.cmd().args(args), stdin)
    }

    /// Runs `args` without stdin, expects success, returns stdout.
    #[track_caller]
    pub fn out(&self, args: &[&str]) -> String {
        self.run(args, None).expect(code::OK).stdout
    }

    /// Runs `args` without stdin, expects exit `code` and a one-line error.
    #[track_caller]
    pub fn fails(&self, args: &[&str], code: i32) -> Run {
        let r = self.run(args, None).expect(code);
        r.one_line_error();
        r
    }

    /// Stores opaque `secret` under `name` (through stdin).
    pub fn put(&self, name: &str, secret: &str, extra: &[&str]) -> Run {
        let mut args = vec!["put", name];
        args.extend_from_slice(extra);
        self.run(&args, Some(secret.as_bytes()))
    }

    /// Stores `login`'s session token (`--host HOST`) with `token` on stdin.
    pub fn put_session_token(&self, name: &str, login: &str, token: &str) -> Run {
        let args = [
            "put",
            name,
            "--kind",
            "session_token",
            "--host",
            HOST,
            "--login",
            login,
        ];
        self.run(&args, Some(token.as_bytes()))
    }

    /// Stores a script key (`--host HOST --script-name render_farm`) with `secret`
    /// on stdin and `extra` flags.
    pub fn put_script_key(&self, name: &str, secret: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "put",
            name,
            "--kind",
            "script_key",
            "--host",
            HOST,
            "--script-name",
            "render_farm",
        ];
        args.extend_from_slice(extra);
        self.run(&args, Some(secret.as_bytes()))
    }

    /// Opens the vault in this process (holding sled's lock until dropped).
    pub fn open_in_process(&self, clock_offset_secs: i64) -> farmvault::Vault {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let clock =
            farmvault::ManualClock::new(farmvault::UnixTime((now + clock_offset_secs) as u64));
        farmvault::Config::new(&self.vault)
            .clock(std::sync::Arc::new(clock))
            .open(&farmvault::Unlock::passphrase(PW))
            .expect("open the vault in the test process")
    }
}

/// Runs `cmd` with `stdin` (or none), capturing both streams.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn farmvault");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        // The child may exit before reading (a refusal): a broken pipe is fine.
        let _ = pipe.write_all(input);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Where a vault's live store is: the generation directory its `CURRENT`
/// file names (docs/FORMAT.md), or the vault directory itself.
pub fn data_dir(vault: &Path) -> PathBuf {
    match std::fs::read_to_string(vault.join("CURRENT")) {
        Ok(name) => vault.join(name.trim_end()),
        Err(_) => vault.to_path_buf(),
    }
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path);
                }
            }
        }
    }
    hits
}

/// Parses JSON output.
#[track_caller]
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `script` from util-linux, to run a command on a pseudo-terminal; `None` when absent.
pub fn script_binary() -> Option<PathBuf> {
    let out = Command::new("script").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    (out.status.success() && text.contains("util-linux")).then(|| PathBuf::from("script"))
}

/// Quotes `s` for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Whether strace runs and may trace here (it is missing, or ptrace is refused,
/// on some machines); prints why not, for the test that then skips.
pub fn strace_works() -> bool {
    let ok = Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: strace is missing or cannot trace on this machine");
    }
    ok
}

/// `cmd` (program, arguments, environment, directory) run under
/// `strace -f -qq -o log <strace_args>`.
pub fn under_strace(cmd: &Command, strace_args: &[&str], log: &Path) -> Command {
    let mut traced = Command::new("strace");
    traced.args(["-f", "-qq", "-o"]).arg(log).args(strace_args);
    traced.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => traced.env(k, v),
            None => traced.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        traced.current_dir(dir);
    }
    traced
}

/// The uid of `nobody`, the other user of the other-user tests.
#[cfg(unix)]
pub const NOBODY: u32 = 65534;

/// Whether this process can drop to another user.
#[cfg(unix)]
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A command that runs the binary as `nobody`, with `env`'s environment and
/// working directory; `None` (saying why) when this cannot be done here.
#[cfg(unix)]
pub fn as_nobody(env: &Env, test: &str) -> Option<Command> {
    as_user(env, NOBODY, test)
}

/// A command that runs the binary as `uid` (group `uid`, no other groups),
/// with `env`'s environment and working directory; `None` (saying why) when
/// this cannot be done here.
#[cfg(unix)]
pub fn as_user(env: &Env, uid: u32, test: &str) -> Option<Command> {
    if !is_root() {
        eprintln!("skipped {test}: dropping to another user (uid {uid}) needs root");
        return None;
    }
    let found = |name: &str| {
        ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    };
    let template = env.cmd();
    let bin = template.get_program().to_owned();
    let mut c = if let Some(setpriv) = found("setpriv") {
        let mut c = Command::new(setpriv);
        c.args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
            "--".into(),
        ]);
        c
    } else if let Some(runuser) = found("runuser").filter(|_| uid == NOBODY) {
        let mut c = Command::new(runuser);
        c.args(["-u", "nobody", "--"]);
        c
    } else {
        eprintln!("skipped {test}: setpriv is not installed (runuser serves nobody only)");
        return None;
    };
    c.arg(bin);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.current_dir(template.get_current_dir().expect("Env::cmd sets one"));
    Some(c)
}
