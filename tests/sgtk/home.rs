//! `default_shotgun_home`. The test runs in a process of its own, because it
//! changes the process environment, which no other thread may be reading at the
//! same time.

use crate::rerun::in_own_process;
use farmvault::sgtk::default_shotgun_home;
use std::path::PathBuf;

#[test]
fn shotgun_home_follows_tk_core() {
    in_own_process(
        module_path!(),
        "shotgun_home_follows_tk_core",
        shotgun_home_follows_tk_core_alone,
    );
}

/// The test itself, run where no other test shares the environment.
fn shotgun_home_follows_tk_core_alone() {
    // $SHOTGUN_HOME wins, with variables and ~ expanded as Python's expandvars and
    // expanduser do (unset variables stay as written).
    std::env::set_var("FARMVAULT_SGTK_TEST_VAR", "/opt/sg");
    std::env::set_var(
        "SHOTGUN_HOME",
        "$FARMVAULT_SGTK_TEST_VAR/x/${FARMVAULT_SGTK_TEST_VAR}/$NOPE_NOT_SET_42/$",
    );
    assert_eq!(
        default_shotgun_home(),
        Some(PathBuf::from("/opt/sg/x//opt/sg/$NOPE_NOT_SET_42/$"))
    );

    let home = std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" });
    if let Some(home) = home.filter(|h| !h.is_empty()) {
        std::env::set_var("SHOTGUN_HOME", "~/sg-home");
        assert_eq!(
            default_shotgun_home(),
            Some(PathBuf::from(&home).join("sg-home"))
        );

        // Empty counts as unset, as in tk-core; then the per-OS default.
        std::env::set_var("SHOTGUN_HOME", "");
        let default = default_shotgun_home().expect("a default root");
        if cfg!(target_os = "macos") {
            assert_eq!(default, PathBuf::from(&home).join("Library/Caches/Shotgun"));
        } else if cfg!(unix) {
            assert_eq!(default, PathBuf::from(&home).join(".shotgun"));
        }
    }

    // A relative SHOTGUN_HOME is made absolute against the current folder.
    std::env::set_var("SHOTGUN_HOME", "relative/sg");
    let cwd = std::env::current_dir().expect("cwd");
    assert_eq!(default_shotgun_home(), Some(cwd.join("relative/sg")));
}
