//! This test binary run again on one test, alone, in a process of its own. Most
//! tests of a binary share its process; the few that kill a child, change the
//! environment or measure the whole process need one to themselves.

use std::process::Command;

/// Set, to the test's name, in a process that [`in_own_process`] started.
const ALONE: &str = "FARMVAULT_TEST_ALONE";

/// libtest's name for the test `name` in the module `module` (the caller's
/// `module_path!()`): the path below the crate, as `process::child_process`.
fn test_name(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}

/// This test binary, set to run the one test `name` of `module` (the caller's
/// `module_path!()`) on a single thread, printing as it goes.
pub fn alone(module: &str, name: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args([
        "--exact",
        &test_name(module, name),
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd
}

/// Runs `body` in a process that runs nothing else: called from the test `name`
/// of `module` (the caller's `module_path!()`), it runs that test again
/// [`alone`] and asserts that it ran and passed; in that process, it runs `body`.
pub fn in_own_process(module: &str, name: &str, body: impl FnOnce()) {
    let test = test_name(module, name);
    if std::env::var_os(ALONE).is_some_and(|t| t == test.as_str()) {
        body();
        return;
    }
    let out = alone(module, name)
        .env(ALONE, &test)
        .output()
        .expect("running the test binary again");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    // Handed on, so that libtest shows it as the test's own output.
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed;"),
        "{test} in a process of its own: {} (its output is above)",
        out.status
    );
}
