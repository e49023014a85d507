//! The backup every vault keeps of itself (snapshot + journal), `repair` from
//! it when the sled store will not open, and `backup_to` / `restore`.

use crate::support::*;
use farmvault::*;
use std::collections::BTreeMap;
use std::path::Path;

const SNAPSHOT: &str = "backup.fvbk";
const JOURNAL: &str = "journal.fvjl";

/// Every entry of `v`, name -> credential.
fn contents(v: &Vault) -> BTreeMap<String, Credential> {
    v.list("")
        .unwrap()
        .into_iter()
        .map(|m| (m.name.clone(), v.get(&m.name).unwrap().credential))
        .collect()
}

/// A vault through every kind of write, closed; returns what it holds.
fn busy_vault(fx: &Fx) -> BTreeMap<String, Credential> {
    let v = fx.create();
    for i in 0..40 {
        v.put(
            &format!("e/{i}"),
            format!("secret {i}").as_bytes(),
            &PutOptions::new(),
        )
        .unwrap();
    }
    v.put_credential("sk", &script_key(true), &ttl(3600))
        .unwrap();
    v.put_credential("st", &session_token(true), &PutOptions::new())
        .unwrap();
    v.put("e/0", b"overwritten", &ttl(100)).unwrap();
    v.delete("e/1").unwrap();
    v.renew("sk", Some(secs(7200))).unwrap();
    let mut b = Batch::new();
    b.put("batch/a", b"A", None);
    b.put_credential("batch/lp", login_password(false), Some(secs(50)));
    b.delete("e/2");
    v.apply(b).unwrap();
    v.put("short", b"gone soon", &ttl(5)).unwrap();
    fx.advance(10);
    assert_eq!(v.purge_expired().unwrap(), 1);
    for i in 0..5 {
        v.put(
            &format!("lazy/{i}"),
            b"not durable",
            &PutOptions::new().durable(false),
        )
        .unwrap();
    }
    v.flush().unwrap();
    let c = contents(&v);
    assert_eq!(c.len(), 40 - 2 + 2 + 2 + 5);
    c
}

/// Makes the sled store unopenable by overwriting its data file's start.
fn wreck_store(fx: &Fx) {
    let db = fx.data().join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let n = bytes.len().min(4096);
    bytes[..n].fill(0xA5);
    std::fs::write(&db, bytes).unwrap();
}

fn damaged_dirs(fx: &Fx) -> Vec<String> {
    std::fs::read_dir(&fx.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("damaged-"))
        .collect()
}

#[test]
fn every_vault_keeps_a_private_backup_that_matches_it() {
    let fx = Fx::empty();
    busy_vault(&fx);
    for name in [SNAPSHOT, JOURNAL] {
        let path = fx.data().join(name);
        assert!(path.is_file(), "{name} missing");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is {mode:o}");
        }
    }
    let v = fx.open();
    let report = v.verify_backup(&pw()).unwrap();
    assert_eq!(report.entries, 47);
    assert!(report.journal_frames > 0, "{report:?}");
}

#[test]
fn repair_rebuilds_a_store_sled_refuses_and_loses_no_acknowledged_write() {
    let fx = Fx::empty();
    let before = busy_vault(&fx);
    wreck_store(&fx);
    let refused = fx.open_with(&pw());
    assert!(
        matches!(refused, Err(Error::Corrupt { .. }) | Err(Error::Io { .. })),
        "{refused:?}"
    );
    // A wrong key moves nothing.
    assert!(matches!(
        fx.cfg().repair(&Unlock::passphrase("wrong"), false),
        Err(Error::WrongKey { .. })
    ));
    assert!(damaged_dirs(&fx).is_empty());

    let (v, report) = fx.cfg().repair(&pw(), false).unwrap();
    let report = report.expect("the store was rebuilt");
    assert_eq!(report.entries, before.len() as u64);
    assert!(report.journal_frames > 0);
    assert_eq!(report.ignored_journal_bytes, 0);
    assert_eq!(contents(&v), before);
    // Times and TTLs come back too.
    assert_eq!(v.metadata("sk").unwrap().expires, Some(UnixTime(T0 + 7200)));
    let aside = report.moved_aside.unwrap();
    assert!(aside.join("db").is_file());
    assert_eq!(damaged_dirs(&fx).len(), 1);
    v.verify_backup(&pw()).unwrap();
    v.put("after", b"repair", &PutOptions::new()).unwrap();
    drop(v);
    let v = fx.open();
    assert_eq!(v.get("after").unwrap().credential, opaque(b"repair"));
    // A healthy vault is left alone.
    drop(v);
    let (_, none) = fx.cfg().repair(&pw(), false).unwrap();
    assert!(none.is_none());
    assert_eq!(damaged_dirs(&fx).len(), 1);
}

#[test]
fn repair_works_when_the_store_files_are_gone() {
    let fx = Fx::empty();
    let before = busy_vault(&fx);
    std::fs::remove_file(fx.data().join("db")).unwrap();
    match fx.open_with(&pw()) {
        Err(Error::Corrupt { what, .. }) => assert!(what.contains("farmvault repair"), "{what}"),
        other => panic!("{other:?}"),
    }
    let (v, report) = fx.cfg().repair(&pw(), false).unwrap();
    assert!(report.is_some());
    assert_eq!(contents(&v), before);
}

#[test]
fn a_torn_journal_tail_is_ignored_and_cut_off() {
    let fx = Fx::empty();
    let before = busy_vault(&fx);
    let journal = fx.data().join(JOURNAL);
    let mut bytes = std::fs::read(&journal).unwrap();
    // What a crash mid-append leaves: a frame header promising more than is there.
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&journal, &bytes).unwrap();
    wreck_store(&fx);
    let (v, report) = fx.cfg().repair(&pw(), false).unwrap();
    let report = report.unwrap();
    assert_eq!(report.ignored_journal_bytes, 7);
    assert_eq!(contents(&v), before);
    drop(v);

    // Opening a healthy vault cuts a torn tail off before appending after it.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap()
        .write_all_at_end(&[9; 50]);
    let v = fx.open();
    v.put("new", b"value", &PutOptions::new()).unwrap();
    drop(v);
    wreck_store(&fx);
    let (v, report) = fx.cfg().repair(&pw(), false).unwrap();
    assert_eq!(report.unwrap().ignored_journal_bytes, 0);
    assert_eq!(v.get("new").unwrap().credential, opaque(b"value"));
}

trait WriteAll {
    fn write_all_at_end(self, bytes: &[u8]);
}

impl WriteAll for std::fs::File {
    fn write_all_at_end(mut self, bytes: &[u8]) {
        use std::io::Write;
        self.write_all(bytes).unwrap();
    }
}

#[test]
fn a_damaged_snapshot_is_rewritten_by_an_open_and_refused_by_repair() {
    let fx = Fx::empty();
    busy_vault(&fx);
    let snapshot = fx.data().join(SNAPSHOT);
    let clean = std::fs::read(&snapshot).unwrap();
    let mut bytes = clean.clone();
    *bytes.last_mut().unwrap() ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();
    // A vault that opens rewrites a damaged backup from its store.
    drop(fx.open());
    assert_ne!(std::fs::read(&snapshot).unwrap(), bytes);
    fx.open().verify_backup(&pw()).unwrap();
    let clean = std::fs::read(&snapshot).unwrap();
    wreck_store(&fx);
    // Wherever the damage is (MAC, a record, a keyslot, the framing), repair
    // refuses, names the file, and moves nothing.
    for at in [clean.len() - 1, clean.len() / 2, 30, 3] {
        let mut bytes = clean.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&snapshot, &bytes).unwrap();
        match fx.cfg().repair(&pw(), false) {
            Err(Error::Corrupt { path, .. }) => assert!(path.ends_with(SNAPSHOT), "{path:?}"),
            other => panic!("flip at {at}: {other:?}"),
        }
    }
    assert!(damaged_dirs(&fx).is_empty());
    assert!(fx.data().join("db").is_file());
}

#[test]
fn a_damaged_journal_frame_stops_the_replay_there_and_never_yields_wrong_bytes() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("first", b"one", &PutOptions::new()).unwrap();
    v.put("second", b"two", &PutOptions::new()).unwrap();
    v.put("third", b"three", &PutOptions::new()).unwrap();
    drop(v);
    let journal = fx.data().join(JOURNAL);
    let mut bytes = std::fs::read(&journal).unwrap();
    // The journal's head is 46 bytes; flip a byte inside the second frame.
    let first_len = u32::from_be_bytes(bytes[46..50].try_into().unwrap()) as usize;
    let second = 46 + 4 + first_len + 32;
    bytes[second + 10] ^= 0x40;
    std::fs::write(&journal, &bytes).unwrap();
    wreck_store(&fx);
    let (v, report) = fx.cfg().repair(&pw(), false).unwrap();
    let report = report.unwrap();
    assert_eq!(report.journal_frames, 1);
    assert!(report.ignored_journal_bytes > 0);
    assert_eq!(v.get("first").unwrap().credential, opaque(b"one"));
    for name in ["second", "third"] {
        assert!(matches!(v.get(name), Err(Error::NotFound { .. })));
    }
}

#[test]
fn the_backup_follows_header_changes_and_rotation() {
    let fx = Fx::empty();
    let before = busy_vault(&fx);
    let v = fx.open();
    v.change_passphrase(&SecretString::from("a new passphrase"))
        .unwrap();
    v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap();
    v.put("post-rotation", b"x", &PutOptions::new()).unwrap();
    drop(v);
    wreck_store(&fx);
    // The old passphrase's keyslot is not in the backup any more.
    assert!(matches!(
        fx.cfg().repair(&pw(), false),
        Err(Error::WrongKey { .. })
    ));
    let new = Unlock::passphrase("a new passphrase");
    let (v, _) = fx.cfg().repair(&new, false).unwrap();
    let mut expected = before;
    expected.insert("post-rotation".into(), opaque(b"x"));
    assert_eq!(contents(&v), expected);
}

#[test]
fn the_journal_is_compacted_into_the_snapshot_as_it_grows() {
    let fx = Fx::empty();
    let v = fx.create();
    let big = vec![7u8; 4096];
    for i in 0..400 {
        v.put(&format!("big/{i}"), &big, &PutOptions::new().durable(false))
            .unwrap();
    }
    v.flush().unwrap();
    let snapshot_len = std::fs::metadata(fx.data().join(SNAPSHOT)).unwrap().len();
    let journal_len = std::fs::metadata(fx.data().join(JOURNAL)).unwrap().len();
    assert!(snapshot_len > 1 << 20, "snapshot {snapshot_len}");
    assert!(
        journal_len <= snapshot_len.max(1 << 20),
        "journal {journal_len}"
    );
    let report = v.verify_backup(&pw()).unwrap();
    assert_eq!(report.entries, 400);
    assert!(report.generation > 1, "{report:?}");
    drop(v);
    // A backup this large is checked only at its ends on open; after a clean
    // close it is taken up as it is, not rewritten.
    let v = fx.open();
    assert_eq!(
        v.verify_backup(&pw()).unwrap().generation,
        report.generation
    );
    v.put("one more", b"x", &PutOptions::new()).unwrap();
    drop(v);
    // A journal that does not end with its close mark is rewritten from the store.
    let journal = fx.data().join(JOURNAL);
    let mut bytes = std::fs::read(&journal).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    std::fs::write(&journal, &bytes).unwrap();
    let v = fx.open();
    assert_eq!(
        v.verify_backup(&pw()).unwrap().generation,
        report.generation + 1
    );
    drop(v);
    wreck_store(&fx);
    let (v, _) = fx.cfg().repair(&pw(), false).unwrap();
    assert_eq!(v.list("big/").unwrap().len(), 400);
    assert_eq!(v.get("one more").unwrap().credential, opaque(b"x"));
}

#[test]
fn backup_to_and_restore() {
    let fx = Fx::empty();
    let before = busy_vault(&fx);
    let v = fx.open();
    let file = fx.dir.path().join("studio.fvbk");
    let report = v.backup_to(&file).unwrap();
    assert_eq!(report.entries, before.len() as u64);
    assert!(matches!(
        v.backup_to(fx.dir.path()),
        Err(Error::InvalidArgument(_))
    ));
    drop(v);

    let other = Fx::empty();
    assert!(matches!(
        other.cfg().restore(&file, &Unlock::passphrase("wrong")),
        Err(Error::WrongKey { .. })
    ));
    assert!(!other.path.join("db").exists());
    let (restored, report) = other.cfg().restore(&file, &pw()).unwrap();
    assert_eq!(report.entries, before.len() as u64);
    assert_eq!(contents(&restored), before);
    restored.verify_backup(&pw()).unwrap();
    drop(restored);
    // Never over an existing vault.
    assert!(matches!(
        other.cfg().restore(&file, &pw()),
        Err(Error::AlreadyExists { .. })
    ));
    // A truncated backup names itself.
    let bytes = std::fs::read(&file).unwrap();
    let cut = fx.dir.path().join("cut.fvbk");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let third = Fx::empty();
    match third.cfg().restore(&cut, &pw()) {
        Err(Error::Corrupt { path, .. }) => assert_eq!(path, cut),
        other => panic!("{other:?}"),
    }
    assert!(!third.path.exists());
    assert!(matches!(
        third.cfg().restore(Path::new("/nonexistent/backup"), &pw()),
        Err(Error::Io { .. })
    ));
}

/// `backup_to` creates its file exclusively: whatever is at the path (a file,
/// or a link planted there by whoever can write the folder, pointing at a file
/// they want overwritten, or at one they want created) is refused by the create
/// itself, with no check before it to race, and left as it was.
#[cfg(unix)]
#[test]
fn backup_to_never_overwrites_or_follows_what_is_at_the_path() {
    let fx = Fx::empty();
    busy_vault(&fx);
    let v = fx.open();
    let exists = |r: Result<RecoveryReport>, what: &str| match r {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {}
        other => panic!("{what}: {other:?}"),
    };
    let existing = fx.dir.path().join("existing.fvbk");
    std::fs::write(&existing, b"precious").unwrap();
    exists(v.backup_to(&existing), "an existing file");
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");

    let victim = fx.dir.path().join("victim");
    std::fs::write(&victim, b"the victim's file").unwrap();
    let planted = fx.dir.path().join("planted.fvbk");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    exists(v.backup_to(&planted), "a link to a file");
    assert_eq!(std::fs::read(&victim).unwrap(), b"the victim's file");
    assert_eq!(std::fs::read_link(&planted).unwrap(), victim);

    let elsewhere = fx.dir.path().join("made-through-the-link");
    let dangling = fx.dir.path().join("dangling.fvbk");
    std::os::unix::fs::symlink(&elsewhere, &dangling).unwrap();
    exists(v.backup_to(&dangling), "a link to nothing");
    assert!(!elsewhere.exists());

    // A new path is written, private.
    use std::os::unix::fs::PermissionsExt;
    let fresh = fx.dir.path().join("fresh.fvbk");
    v.backup_to(&fresh).unwrap();
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
