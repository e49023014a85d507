//! `fv_grant_open` on the system clock and this machine's hostname: the two clocks,
//! the use window, the host pattern, and the options that would pin either, refused.
//!
//! A C caller cannot pin the clock, so a first open in the past is recorded through
//! the Rust API on the fixture's driven clock (the `test-overrides` feature) before
//! the C ABI opens the grant on the same "machine" (state directory). Every call of an
//! exported function sits in an `unsafe` block; the pointers passed are NULL,
//! literals, live locals or handles the library returned.

use crate::ffi::*;
use crate::ffi_support::*;
use crate::files::files_under;
use crate::support::*;
use farmvault::ffi::fv_result::*;
use farmvault::ffi::*;
use farmvault::{SecretString, UnixTime};
use std::path::Path;
use std::ptr::{null, null_mut};

/// Records the first open of `bundle` on `machine` at `at` (Unix seconds), through
/// the Rust API on the fixture's clock: the past a C caller cannot pin.
fn first_open_at(f: &Fixture, bundle: &Path, token: &SecretString, machine: &str, at: u64) {
    f.clock.set(UnixTime(at));
    let grant = f
        .open(bundle, &f.how(machine).token(token.clone()))
        .unwrap();
    assert_eq!(grant.first_opened(), UnixTime(at));
}

#[test]
fn the_two_clocks_through_the_c_abi() {
    // Issued over three days ago, in the order the vault's clock moves (forward).
    let now = wall();
    let f = Fixture::at(now - 73 * HOUR);
    // 72 h to claim, from 73 h ago: its claim-by deadline passed an hour ago.
    let late = f.issue(&f.spec("late.fvg").entry(RENDER));
    // 100 h to claim, from 72 h ago, holding the session token (2 h TTL from 73 h
    // ago: live at issue, expired by now) and a script key.
    f.clock.set(UnixTime(now - 72 * HOUR));
    let session = f.issue(
        &f.spec("session.fvg")
            .entry(ARTIST)
            .entry(RENDER)
            .claim_within(hours(100.0)),
    );
    f.clock.set(UnixTime(now - 70 * HOUR));
    // 72 h to claim, from 70 h ago: claimable for 2 h more, 4 h of use.
    let job = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = job.token.clone().unwrap();
    let ctok = ctoken(&token);

    // First opened 5 h ago on "b": its use window ended an hour ago.
    first_open_at(&f, &job.path, &token, "b", now - 5 * HOUR);
    // First opened 3 h ago on "a": reads for one more hour.
    first_open_at(&f, &job.path, &token, "a", now - 3 * HOUR);
    let g = open_on(&f, &job.path, Some(&ctok), None, "a").unwrap();
    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    assert_eq!(use_window(g), Ok((now - 3 * HOUR, now + HOUR)));
    close(g);
    assert_eq!(
        open_on(&f, &job.path, Some(&ctok), None, "b"),
        Err(FV_EXPIRED)
    );
    assert!(msg().contains("job-4711"), "{}", msg());
    // A machine that first opens it past the claim-by deadline is refused, and
    // nothing is recorded.
    let late_token = ctoken(late.token.as_ref().unwrap());
    assert_eq!(
        open_on(&f, &late.path, Some(&late_token), None, "c"),
        Err(FV_EXPIRED)
    );
    assert!(!f.path("state-c").exists() || files_under(&f.path("state-c")).is_empty());
    // An entry whose own TTL ended before the window: Expired, and the grant still reads.
    let g = open_on(
        &f,
        &session.path,
        Some(&ctoken(session.token.as_ref().unwrap())),
        None,
        "d",
    )
    .unwrap();
    assert_eq!(
        read_field(g, ARTIST, fv_field::SessionToken),
        Err(FV_EXPIRED)
    );
    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    close(g);
}

#[test]
fn options_with_a_fixed_time_or_a_hostname_are_refused_for_grants() {
    let f = Fixture::at(wall());
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).hosts("*"));
    let token = ctoken(issued.token.as_ref().unwrap());
    let opts = options(&f, "a");
    // SAFETY: a live options handle and literals; freed once.
    unsafe {
        assert_eq!(fv_options_set_fixed_time(opts, wall() - HOUR), FV_OK);
        assert_eq!(
            open(&issued.path, Some(&token), None, opts),
            Err(FV_INVALID_ARGUMENT)
        );
        let m = msg();
        assert!(
            m.contains("a pinned clock is refused for job grants: their windows are measured against the system clock"),
            "{m}"
        );
        // Cleared, the same options open the grant (and start its window now).
        assert_eq!(fv_options_set_fixed_time(opts, 0), FV_OK);
        assert_eq!(fv_options_set_hostname(opts, c"render01".as_ptr()), FV_OK);
        assert_eq!(
            open(&issued.path, Some(&token), None, opts),
            Err(FV_INVALID_ARGUMENT)
        );
        let m = msg();
        assert!(
            m.contains("a hostname is refused for job grants")
                && m.contains("/etc/farmvault/grant-hostname"),
            "{m}"
        );
        assert!(
            !f.path("state-a").exists(),
            "a refused open records no first open"
        );
        assert_eq!(fv_options_set_hostname(opts, null()), FV_OK);
        let g = open(&issued.path, Some(&token), None, opts).unwrap();
        assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
        close(g);
        // A vault still takes a fixed time from the same options.
        let path = cpath(&f.path("vault-pinned"));
        let mut vault = null_mut();
        assert_eq!(fv_options_set_kdf(opts, 8, 1, 1), FV_OK);
        assert_eq!(fv_options_set_fixed_time(opts, T0), FV_OK);
        let r = fv_vault_create_passphrase(path.as_ptr(), b"pw".as_ptr(), 2, opts, &mut vault);
        assert_eq!(r, FV_OK, "{}", msg());
        assert_eq!(
            fv_vault_put(vault, c"k".as_ptr(), b"v".as_ptr(), 1, 60),
            FV_OK
        );
        let mut entry = null_mut();
        assert_eq!(fv_vault_metadata(vault, c"k".as_ptr(), &mut entry), FV_OK);
        assert_eq!(fv_entry_expires(entry), T0 + 60);
        fv_entry_free(entry);
        fv_vault_close(vault);
        fv_options_free(opts);
    }
}

#[test]
fn the_host_pattern_against_this_machines_hostname() {
    let f = Fixture::at(wall());
    let elsewhere = f.issue(
        &f.spec("elsewhere.fvg")
            .entry(RENDER)
            .hosts("farmvault-no-such-host-??"),
    );
    let token = ctoken(elsewhere.token.as_ref().unwrap());
    if node_hostname_file_present() {
        return;
    }
    let this = this_hostname();
    assert_eq!(
        open_on(&f, &elsewhere.path, Some(&token), None, "a"),
        Err(FV_HOST_NOT_ALLOWED)
    );
    let m = msg();
    assert!(
        m.contains(&format!("{this:?}")) && m.contains("\"farmvault-no-such-host-??\""),
        "{m}"
    );
    assert!(
        !f.path("state-a").exists(),
        "a refused host does not start the clock"
    );
    let Some(pattern) = pattern_for(&this) else {
        return;
    };
    let here = f.issue(&f.spec("here.fvg").entry(RENDER).hosts(&pattern));
    let token = ctoken(here.token.as_ref().unwrap());
    let g = open_on(&f, &here.path, Some(&token), None, "a").unwrap();
    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    close(g);
}

#[test]
fn the_use_window_is_the_grants_own() {
    let now = wall();
    let f = Fixture::at(now - 2 * HOUR);
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = issued.token.clone().unwrap();
    let ctok = ctoken(&token);
    let p = &issued.path;

    // First opened an hour ago on "a": 4 h of use, to 3 h from now.
    first_open_at(&f, p, &token, "a", now - HOUR);
    let g = open_on(&f, p, Some(&ctok), None, "a").unwrap();
    let window = use_window(g).unwrap();
    assert_eq!(window, (now - HOUR, now + 3 * HOUR));
    // The entries inside expire with it.
    let render = ctext(RENDER);
    // SAFETY: live handle, string and out-param; the entry is freed once.
    unsafe {
        let mut entry = null_mut();
        assert_eq!(fv_vault_metadata(g, render.as_ptr(), &mut entry), FV_OK);
        assert_eq!(fv_entry_expires(entry), window.1);
        fv_entry_free(entry);
    }
    close(g);
    // What the Rust API says of the same grant on the same machine.
    f.clock.set(UnixTime(now));
    let grant = f.open(p, &f.how("a").token(token)).unwrap();
    assert_eq!(
        window,
        (grant.first_opened().secs(), grant.use_until().secs())
    );
    // Another machine's window starts at its own first open: now.
    let before = wall();
    let g = open_on(&f, p, Some(&ctok), None, "b").unwrap();
    let after = wall();
    let (first, until) = use_window(g).unwrap();
    assert!(
        (before..=after).contains(&first),
        "{before} <= {first} <= {after}"
    );
    assert_eq!(until, first + 4 * HOUR);
    close(g);
}

#[test]
fn the_use_window_answers_after_it_is_over() {
    // Two seconds of use (one could run out between the open recording its first
    // open and checking the window).
    let f = Fixture::at(wall());
    let spec = f
        .spec("short.fvg")
        .entry(RENDER)
        .use_for(std::time::Duration::from_secs(2));
    let issued = f.issue(&spec);
    let token = ctoken(issued.token.as_ref().unwrap());
    let opts = options(&f, "a");
    let before = wall();
    let g = open(&issued.path, Some(&token), None, opts).unwrap();
    let after = wall();
    // SAFETY: a live options handle, freed once.
    unsafe { fv_options_free(opts) };
    let (first, until) = use_window(g).unwrap();
    assert!(
        (before..=after).contains(&first),
        "{before} <= {first} <= {after}"
    );
    assert_eq!(until, first + 2);

    while wall() < until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        read_field(g, RENDER, fv_field::ApiKey),
        Err(FV_EXPIRED),
        "every read past the window is FV_EXPIRED"
    );
    assert!(msg().contains("job-4711"), "{}", msg());
    // Not a read: the window is still there to report.
    assert_eq!(use_window(g), Ok((first, until)), "{}", msg());
    close(g);
}
