//! Several handles on one vault inside one process (two plugins in one DCC
//! session): all read and write, each proves its own key, and key changes made
//! through one are seen by the others.

use crate::support::*;
use farmvault::*;
use std::time::Duration;

#[test]
fn two_handles_both_read_and_write() {
    let fx = Fx::empty();
    let kf = KeyFile::generate().unwrap();
    let h1 = fx.create();
    h1.add_key_file(&kf).unwrap();
    // A short lock wait: if the handles did not share one database, the
    // second open would fail with Locked instead of waiting long.
    let short = || fx.cfg().lock_timeout(Duration::from_millis(200));
    let h2 = short().open(&Unlock::KeyFile(kf.clone())).unwrap();
    h1.put("from-1", b"one", &PutOptions::new()).unwrap();
    h2.put_credential("from-2", &script_key(false), &ttl(60))
        .unwrap();
    assert_eq!(bytes_of(&h2, "from-1"), b"one");
    assert_eq!(h1.get("from-2").unwrap().credential, script_key(false));
    h2.put("from-1", b"one, again", &PutOptions::new()).unwrap();
    assert_eq!(bytes_of(&h1, "from-1"), b"one, again");
    h1.delete("from-2").unwrap();
    assert_not_found(h2.get("from-2"), "from-2");
    assert_eq!(h1.list("").unwrap(), h2.list("").unwrap());

    // A wrong key on a third handle is WrongKey, and takes nobody down.
    for bad in [
        Unlock::passphrase("wrong"),
        Unlock::KeyFile(KeyFile::generate().unwrap()),
    ] {
        match short().open(&bad) {
            Err(Error::WrongKey { path }) => assert_eq!(path, fx.canonical()),
            other => panic!("expected WrongKey, got {other:?}"),
        }
    }
    h1.put("after-wrong", b"1", &PutOptions::new()).unwrap();
    assert_eq!(bytes_of(&h2, "after-wrong"), b"1");
    assert_eq!(bytes_of(&h1, "from-1"), b"one, again");

    // Other spellings of the same directory share it too.
    let dotted = fx.dir.path().join(".").join("vault");
    let h3 = Config::new(&dotted)
        .kdf(cheap())
        .lock_timeout(Duration::from_millis(200))
        .open(&pw())
        .unwrap();
    assert_eq!(h3.path(), fx.canonical());
    assert_eq!(bytes_of(&h3, "after-wrong"), b"1");
    #[cfg(unix)]
    {
        // A link is refused unless insecure permissions are allowed (see
        // dir_perms.rs); then it is the same directory, so the same store.
        let link = fx.dir.path().join("link");
        std::os::unix::fs::symlink(&fx.path, &link).unwrap();
        let h4 = Config::new(&link)
            .kdf(cheap())
            .lock_timeout(Duration::from_millis(200))
            .allow_insecure_permissions(true)
            .open(&Unlock::KeyFile(kf))
            .unwrap();
        h4.put("via-link", b"l", &PutOptions::new()).unwrap();
        assert_eq!(bytes_of(&h1, "via-link"), b"l");
    }

    // Closing one leaves the others working; closing all closes the vault.
    drop(h1);
    h2.put("after-drop", b"2", &PutOptions::new()).unwrap();
    assert_eq!(bytes_of(&h3, "after-drop"), b"2");
    drop((h2, h3));
    let dump = raw_dump(&fx.path);
    assert_eq!(space(&dump, b'E').len(), 4);
}

#[test]
fn key_changes_through_one_handle_reach_the_others() {
    let fx = Fx::empty();
    let h1 = fx.create();
    for i in 0..5 {
        h1.put(&format!("e{i}"), format!("v{i}").as_bytes(), &ttl(100))
            .unwrap();
    }
    let h2 = fx.open();
    // Rotation by one handle: the other reads the re-encrypted entries and
    // writes under the new key.
    h1.rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap();
    for i in 0..5 {
        assert_eq!(bytes_of(&h2, &format!("e{i}")), format!("v{i}").as_bytes());
    }
    h2.put("written-after-rotation", b"w", &PutOptions::new())
        .unwrap();
    assert_eq!(bytes_of(&h1, "written-after-rotation"), b"w");
    assert!(h2.damaged().unwrap().is_empty());
    // A passphrase change by one handle: the other goes on working, new
    // opens need the new passphrase.
    h2.change_passphrase(&"second".into()).unwrap();
    h1.put("after-change", b"c", &PutOptions::new()).unwrap();
    assert!(matches!(fx.open_with(&pw()), Err(Error::WrongKey { .. })));
    let h3 = fx.open_with(&Unlock::passphrase("second")).unwrap();
    assert_eq!(h3.list("").unwrap().len(), 7);
    drop((h1, h2, h3));
    let v = fx.open_with(&Unlock::passphrase("second")).unwrap();
    assert_eq!(bytes_of(&v, "after-change"), b"c");
    assert_eq!(bytes_of(&v, "e4"), b"v4");
}

#[test]
fn handles_may_run_on_different_clocks() {
    // Each handle measures expiry on its own clock; entries are shared.
    let fx = Fx::empty();
    let h1 = fx.create();
    let late = ManualClock::new(UnixTime(T0 + 1000));
    let h2 = fx
        .cfg()
        .clock(std::sync::Arc::new(late.clone()))
        .open(&pw())
        .unwrap();
    h1.put("a", b"x", &ttl(10)).unwrap();
    assert_eq!(h2.purge_expired().unwrap(), 1);
    assert_not_found(h1.get("a"), "a");
    assert_eq!(h2.now(), UnixTime(T0 + 1000));
}

#[test]
fn threads_opening_one_vault_at_once_all_get_in_and_share_it() {
    let fx = Fx::empty();
    drop(fx.create());
    for round in 0..4u8 {
        let handles: Vec<Vault> = std::thread::scope(|s| {
            let spawned: Vec<_> = (0..8)
                .map(|_| s.spawn(|| fx.cfg().lock_timeout(Duration::from_secs(2)).open(&pw())))
                .collect();
            spawned
                .into_iter()
                .map(|h| h.join().unwrap().unwrap())
                .collect()
        });
        handles[round as usize]
            .put("r", &[round], &PutOptions::new())
            .unwrap();
        for h in &handles {
            assert_eq!(bytes_of(h, "r"), [round]);
        }
    }
}
