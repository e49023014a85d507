//! The bodies of farmvault's fuzz targets, shared word for word by the `cargo fuzz`
//! binaries (`fuzz/fuzz_targets/*.rs`, nightly) and the corpus replay test
//! (`tests/fuzz_corpus.rs`, stable), both through `#[path] mod targets;`.
//!
//! Each function takes arbitrary bytes and must never panic (beyond the property
//! asserts here, each of which is a bug in farmvault if it fires), hang, or read
//! out of bounds. The fixtures (a vault with one entry, a grant bundle and its
//! token; a vault's backup) are made once per process in a temporary directory.

use farmvault::format::{self, RecordMeta};
use farmvault::grant::{self, Grant, GrantOpen, GrantSpec};
use farmvault::{sgtk, Config, Credential, Error, KdfParams, ManualClock, UnixTime, Unlock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// A target body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("header", header),
    ("record", record),
    ("bundle", bundle),
    ("token", token),
    ("sgtk", sgtk_import),
    ("ffi", ffi),
    ("backup", backup),
    ("agent_frame", agent_frame),
];

const T0: u64 = 1_700_000_000;
const PW: &str = "fuzz passphrase";
const ENTRY: &str = "shotgun/render_farm";
const SECRET: &[u8] = b"fuzz-SECRET-0123456789";

struct Fixture {
    _dir: tempfile::TempDir,
    vault: PathBuf,
    record_key: Vec<u8>,
    record: Vec<u8>,
    bundle: PathBuf,
    scratch_bundle: PathBuf,
    token: String,
    state: PathBuf,
    lock: Mutex<()>,
}

fn cfg(path: &std::path::Path) -> Config {
    Config::new(path)
        .kdf(KdfParams::new(8, 1, 1).unwrap())
        .clock(Arc::new(ManualClock::new(UnixTime(T0))))
        .lock_timeout(Duration::from_secs(10))
}

fn how(token: &str, state: &std::path::Path) -> GrantOpen {
    GrantOpen::new()
        .token(token.to_owned())
        .clock(Arc::new(ManualClock::new(UnixTime(T0 + 60))))
        .state_dir(state)
        .hostname("render01.farm.example")
}

fn fixture() -> (&'static Fixture, MutexGuard<'static, ()>) {
    static F: OnceLock<Fixture> = OnceLock::new();
    let f = F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        let v = cfg(&vault).create(&Unlock::passphrase(PW)).unwrap();
        v.put(ENTRY, SECRET, &farmvault::PutOptions::new()).unwrap();
        let bundle = dir.path().join("job.fvg");
        let issued = v
            .grant(
                &GrantSpec::new(&bundle, "fuzz")
                    .entry("shotgun/")
                    .claim_within(Duration::from_secs(3600))
                    .use_for(Duration::from_secs(3600)),
            )
            .unwrap();
        drop(v);
        let db = sled::open(farmvault::layout::data_dir(&vault).unwrap()).unwrap();
        let (record_key, record) = db
            .scan_prefix([format::space::ENTRY])
            .next()
            .unwrap()
            .unwrap();
        drop(db);
        Fixture {
            scratch_bundle: dir.path().join("fuzzed.fvg"),
            state: dir.path().join("state"),
            token: issued.token.unwrap().expose().to_owned(),
            vault,
            record_key: record_key.to_vec(),
            record: record.to_vec(),
            bundle,
            _dir: dir,
            lock: Mutex::new(()),
        }
    });
    (f, f.lock.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The header decoder: anything it accepts re-encodes to a body it decodes the same.
pub fn header(data: &[u8]) {
    if let Ok((body, authed, mac)) = format::decode_header(data) {
        assert_eq!(authed.len() + mac.len(), data.len());
        let again = format::encode_header(&body, |_| [0; 32]);
        let (body2, _, _) = format::decode_header(&again).expect("a re-encoded header decodes");
        assert_eq!(body, body2);
    }
}

/// The record decoder, then the record stored raw under the fixture's entry and
/// read through a vault: the original bytes read back the original secret; any
/// other bytes are an error (the record is authenticated end to end).
pub fn record(data: &[u8]) {
    if let Ok(meta) = RecordMeta::decode(data) {
        assert_eq!(&meta.encode()[..], &data[..format::RECORD_META_LEN]);
    }
    if data.len() > 4096 {
        return;
    }
    let (f, _guard) = fixture();
    {
        let db = sled::open(farmvault::layout::data_dir(&f.vault).unwrap()).unwrap();
        db.insert(&f.record_key, data).unwrap();
        db.flush().unwrap();
    }
    let v = cfg(&f.vault).open(&Unlock::passphrase(PW)).unwrap();
    match v.get(ENTRY) {
        Ok(e) => {
            assert_eq!(data, &f.record[..], "a changed record opened");
            assert_eq!(e.credential.secret(), SECRET);
        }
        Err(Error::Tampered { .. } | Error::Corrupt { .. } | Error::Expired { .. }) => {}
        Err(e) => panic!("unexpected error for a damaged record: {e:?}"),
    }
    let listed = v.list("").unwrap();
    assert!(listed.len() <= 1 && listed.iter().all(|m| m.name == ENTRY));
    let _ = v.damaged().unwrap();
    let _ = v.metadata(ENTRY);
}

/// The grant-bundle decoder: `read_info` on the bytes, and `Grant::open` with the
/// right token: it either refuses or reads back exactly what was granted.
pub fn bundle(data: &[u8]) {
    let (f, _guard) = fixture();
    std::fs::write(&f.scratch_bundle, data).unwrap();
    let _ = grant::read_info(&f.scratch_bundle);
    if let Ok(g) = Grant::open(&f.scratch_bundle, &how(&f.token, &f.state)) {
        for m in g.list("").unwrap() {
            assert_eq!(m.name, ENTRY);
        }
        match g.get(ENTRY) {
            Ok(e) => assert_eq!(e.credential.secret(), SECRET),
            Err(Error::NotFound { .. } | Error::Expired { .. }) => {}
            Err(e) => panic!("a grant that opened fails a read: {e:?}"),
        }
    }
}

/// The grant-token parser: only the real token (give or take surrounding
/// whitespace) opens the fixture's bundle.
pub fn token(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (f, _guard) = fixture();
    match Grant::open(&f.bundle, &how(&text, &f.state)) {
        Ok(g) => {
            assert_eq!(text.trim(), f.token, "another token opened the grant");
            assert_eq!(g.get(ENTRY).unwrap().credential.secret(), SECRET);
        }
        Err(e) => {
            // Never echoes the token: every refusal is one of a few fixed texts.
            let mut known: Vec<String> = ["wrong prefix", "wrong length", "not base64url"]
                .iter()
                .map(|why| {
                    format!(
                        "invalid argument: the grant token is malformed ({why}); a token is \
                         \"fvg1_\" followed by 64 base64url characters"
                    )
                })
                .collect();
            known.push(
                Error::WrongGrantKey {
                    path: f.bundle.clone(),
                }
                .to_string(),
            );
            assert!(
                known.contains(&e.to_string()),
                "a refusal that depends on the token: {e}"
            );
        }
    }
}

/// The Toolkit importer: a serialized user (JSON or pickle) and a `TANK_CONTEXT`.
/// A user it accepts and can write back as JSON reads back the same.
pub fn sgtk_import(data: &[u8]) {
    // Bytes, not only text: a pickle that is not UTF-8 is read as tk-core reads bytes.
    let parsed = [
        sgtk::parse_serialized_user(data),
        sgtk::parse_tank_context(data),
        sgtk::parse(data),
    ];
    for cred in parsed.iter().flatten() {
        check_round_trip(cred);
    }
    if let Ok(context @ Credential::TankContext(_)) = &parsed[2] {
        let exported = sgtk::export(context).expect("a context exports");
        assert_eq!(
            &exported[..],
            data,
            "a context did not export byte for byte"
        );
    }
    // Every opcode the reader accepts (MARK, dicts, lists, strings, ints, None, memo),
    // written back by the writer, reads as the same value.
    sgtk::check_pickle_round_trip(data);
}

fn check_round_trip(cred: &Credential) {
    // What the user formats hold of a context is its user.
    let user = match cred {
        Credential::TankContext(c) => c.user(),
        other => other,
    };
    if let Ok(json) = sgtk::to_serialized_user_json(cred) {
        let back = sgtk::parse_serialized_user(&json).expect("our own JSON parses");
        assert_eq!(&back, user, "JSON round trip changed the credential");
    }
    if let Ok(pickle) = sgtk::to_serialized_user_pickle(cred) {
        let back = sgtk::parse_serialized_user(&pickle).expect("our own pickle parses");
        assert_eq!(&back, user, "pickle round trip changed the credential");
    }
}

/// The C ABI fed arbitrary bytes and lengths: the Toolkit parsers, the credential
/// constructors with fields cut from the input, lengths past the limits (refused
/// before anything is read), NULLs, and a string with no NUL within its limit.
pub fn ffi(data: &[u8]) {
    use farmvault::ffi::fv_result::{self, *};
    use farmvault::ffi::*;
    use std::ffi::{c_char, CStr};
    use std::ptr::{null, null_mut};

    // Checks a constructor's outcome and frees what it made.
    let done = |r: fv_result, out: *mut fv_credential| {
        if r == FV_OK {
            assert!(!out.is_null());
            // SAFETY: `out` is the live credential the call just made.
            let kind = unsafe { fv_credential_kind(out) };
            for field in 0..16u32 {
                let mut s: *mut fv_secret = null_mut();
                // SAFETY: `out` is a live credential; `s` is a valid out-pointer.
                let fr = unsafe { fv_credential_field(out, field, &mut s) };
                if fr == FV_OK {
                    // SAFETY: `s` is a live secret from the call above.
                    unsafe {
                        let _ = fv_secret_len(s);
                        fv_secret_free(s);
                    }
                }
            }
            assert!(kind <= 5, "a credential of unknown kind {kind}");
            // SAFETY: `out` is live and freed once.
            unsafe { fv_credential_free(out) };
        } else {
            assert!(out.is_null(), "an out-param was written on failure");
            assert_ne!(r, FV_PANIC, "the library panicked");
            // SAFETY: the message is a valid C string until the next call on this thread.
            let msg = unsafe { CStr::from_ptr(fv_last_error_message()) };
            assert!(!msg.to_bytes().is_empty(), "a failure left no message");
        }
    };

    let (sel, rest) = data.split_first().unwrap_or((&0, &[]));
    // Fields: the input cut at NUL bytes; each piece is NUL-terminated.
    let mut pieces: Vec<Vec<u8>> = rest
        .split(|b| *b == 0)
        .map(|p| [p, &[0]].concat())
        .collect();
    while pieces.len() < 5 {
        pieces.push(vec![0]);
    }
    let c = |i: usize| pieces[i].as_ptr().cast::<c_char>();
    let last = &pieces[4][..pieces[4].len() - 1];
    let mut out: *mut fv_credential = null_mut();
    // SAFETY (for every call below): each pointer is NULL or points to a live
    // buffer valid for the length passed, or to a NUL-terminated piece; `out` is a
    // valid out-pointer reset to NULL before each call.
    unsafe {
        match sel % 8 {
            0 => done(fv_sgtk_parse(rest.as_ptr(), rest.len(), &mut out), out),
            1 => {
                done(
                    fv_sgtk_parse_tank_context(rest.as_ptr(), rest.len(), &mut out),
                    out,
                );
                out = null_mut();
                let r = fv_sgtk_parse_payload(rest.as_ptr(), rest.len(), &mut out);
                if r == FV_OK {
                    let mut exported: *mut fv_secret = null_mut();
                    if fv_sgtk_export(out, &mut exported) == FV_OK {
                        fv_secret_free(exported);
                    }
                }
                done(r, out);
            }
            2 => done(
                fv_credential_new_opaque(rest.as_ptr(), rest.len(), &mut out),
                out,
            ),
            3 => done(
                fv_credential_new_script_key(c(0), c(1), last.as_ptr(), last.len(), c(2), &mut out),
                out,
            ),
            4 => done(
                fv_credential_new_session_token(
                    c(0),
                    c(1),
                    last.as_ptr(),
                    last.len(),
                    c(2),
                    c(3),
                    &mut out,
                ),
                out,
            ),
            5 => done(
                fv_credential_new_login_password(
                    c(0),
                    c(1),
                    last.as_ptr(),
                    last.len(),
                    if rest.len() % 2 == 0 { null() } else { c(2) },
                    &mut out,
                ),
                out,
            ),
            6 => {
                // A length past the limit, with a buffer far shorter: refused unread.
                let extra = rest
                    .iter()
                    .take(8)
                    .fold(0usize, |a, b| a.wrapping_mul(256).wrapping_add(*b as usize));
                let len = fv_max_secret_len()
                    .saturating_add(1)
                    .saturating_add(extra % (usize::MAX / 2));
                for f in [
                    fv_sgtk_parse,
                    fv_sgtk_parse_tank_context,
                    fv_sgtk_parse_payload,
                    fv_credential_new_opaque,
                ] {
                    out = null_mut();
                    let r = f(rest.as_ptr(), len, &mut out);
                    assert_eq!(r, FV_INVALID_ARGUMENT);
                    done(r, out);
                }
                out = null_mut();
                let r =
                    fv_credential_new_script_key(c(0), c(1), rest.as_ptr(), len, null(), &mut out);
                assert_eq!(r, FV_INVALID_ARGUMENT);
                // NULL data with a length.
                out = null_mut();
                let r = fv_sgtk_parse(null(), rest.len().max(1), &mut out);
                assert_eq!(r, FV_INVALID_ARGUMENT);
                done(r, out);
            }
            _ => {
                // A string with no NUL within its limit: `limit + 1` non-NUL bytes,
                // then a NUL (so even a scan that overshot by one stays in bounds).
                let max = fv_max_text_len();
                let mut long: Vec<u8> = rest
                    .iter()
                    .map(|b| if *b == 0 { b'x' } else { *b })
                    .cycle()
                    .take(max + 1)
                    .collect();
                long.resize(max + 1, b'y');
                long.push(0);
                let l = long.as_ptr().cast::<c_char>();
                let r = fv_credential_new_script_key(l, c(1), b"k".as_ptr(), 1, null(), &mut out);
                assert_eq!(r, FV_INVALID_ARGUMENT);
                done(r, out);
                out = null_mut();
                let r =
                    fv_credential_new_session_token(c(0), l, b"t".as_ptr(), 1, null(), l, &mut out);
                assert_eq!(r, FV_INVALID_ARGUMENT);
                done(r, out);
            }
        }
    }
}

/// What a vault holds: entry name -> secret.
pub type Contents = BTreeMap<String, Vec<u8>>;

/// A vault's backup files, made by [`backup_sample`].
pub struct BackupSample {
    /// `backup.fvbk`: the entries of `states[0]`.
    pub snapshot: Vec<u8>,
    /// `journal.fvjl`: one frame per step of the recipe, then the close mark.
    pub journal: Vec<u8>,
    /// Where each journal frame ends (the head is `JOURNAL_HEAD_LEN` bytes).
    pub frame_ends: Vec<usize>,
    /// `Vault::backup_to` of the final state.
    pub exported: Vec<u8>,
    /// The vault directory's other files (sled's, bar `db`), by relative path.
    pub others: Vec<(PathBuf, Vec<u8>)>,
    /// `states[k]`: the entries once the snapshot and `k` frames are applied.
    pub states: Vec<Contents>,
}

const JOURNAL_HEAD_LEN: usize = 4 + 2 + 8 + 32;
const BACKUP_PW: &str = "fuzz backup passphrase";

/// A vault made by a fixed recipe (passphrase `BACKUP_PW`, so the samples of any
/// process restore in any other): two entries in its snapshot, then a journal of
/// overwrites, deletes, a batch, a non-durable put and the close mark.
pub fn backup_sample(dir: &Path) -> BackupSample {
    let path = dir.join("vault");
    let v = cfg(&path).create(&Unlock::passphrase(BACKUP_PW)).unwrap();
    let opts = farmvault::PutOptions::new();
    let mut now = Contents::new();
    let put = |now: &mut Contents, name: &str, secret: &[u8], o: &farmvault::PutOptions| {
        v.put(name, secret, o).unwrap();
        now.insert(name.to_owned(), secret.to_vec());
    };
    put(&mut now, "a", b"secret a1", &opts);
    put(&mut now, "b/x", b"secret b1", &opts);
    // A header change compacts: the snapshot now holds a and b/x.
    v.set_grant_policy(format::GrantPolicy {
        max_claim_secs: 600,
        max_use_secs: 600,
    })
    .unwrap();
    let mut states = vec![now.clone()];
    put(
        &mut now,
        "c",
        b"secret c1",
        &farmvault::PutOptions::new().ttl(Duration::from_secs(3600)),
    );
    states.push(now.clone());
    put(&mut now, "a", b"secret a2", &opts);
    states.push(now.clone());
    v.delete("b/x").unwrap();
    now.remove("b/x");
    states.push(now.clone());
    let mut batch = farmvault::Batch::new();
    batch.put("d", b"secret d1", None);
    batch.delete("c");
    v.apply(batch).unwrap();
    now.insert("d".into(), b"secret d1".to_vec());
    now.remove("c");
    states.push(now.clone());
    put(
        &mut now,
        "e",
        b"secret e1 (lazy)",
        &farmvault::PutOptions::new().durable(false),
    );
    v.flush().unwrap();
    states.push(now.clone());
    let exported = dir.join("exported.fvbk");
    v.backup_to(&exported).unwrap();
    drop(v);
    // The close mark changes nothing.
    states.push(now);
    let data = farmvault::layout::data_dir(&path).unwrap();
    let read = |name: &str| std::fs::read(data.join(name)).unwrap();
    let journal = read("journal.fvjl");
    let mut frame_ends = Vec::new();
    let mut at = JOURNAL_HEAD_LEN;
    while at < journal.len() {
        let len = u32::from_be_bytes(journal[at..at + 4].try_into().unwrap()) as usize;
        at += 4 + len + 32;
        frame_ends.push(at);
    }
    assert_eq!(
        at,
        journal.len(),
        "the sample journal ends with a whole frame"
    );
    assert_eq!(frame_ends.len() + 1, states.len(), "one frame per step");
    let mut others = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for e in std::fs::read_dir(path.join(&rel)).unwrap() {
            let e = e.unwrap();
            let rel = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                todo.push(rel);
            } else if !["db", "backup.fvbk", "journal.fvjl"]
                .contains(&&*e.file_name().to_string_lossy())
            {
                others.push((rel.clone(), std::fs::read(path.join(&rel)).unwrap()));
            }
        }
    }
    BackupSample {
        snapshot: read("backup.fvbk"),
        journal,
        frame_ends,
        exported: std::fs::read(exported).unwrap(),
        others,
        states,
    }
}

struct BackupFixture {
    dir: tempfile::TempDir,
    sample: BackupSample,
    lock: Mutex<()>,
}

fn backup_fixture() -> (&'static BackupFixture, MutexGuard<'static, ()>) {
    static F: OnceLock<BackupFixture> = OnceLock::new();
    let f = F.get_or_init(|| {
        // Every exec fsyncs a few files: on tmpfs where there is one.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        let sample = backup_sample(&dir.path().join("sample"));
        BackupFixture {
            dir,
            sample,
            lock: Mutex::new(()),
        }
    });
    (f, f.lock.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Every entry of a vault, read back (each must read: it was authenticated).
fn contents(v: &farmvault::Vault) -> Contents {
    assert!(
        v.damaged().unwrap().is_empty(),
        "a recovered record is damaged"
    );
    v.list("")
        .unwrap()
        .into_iter()
        .map(|m| {
            let e = v
                .get(&m.name)
                .unwrap_or_else(|e| panic!("{}: {e:?}", m.name));
            (m.name, e.credential.secret().to_vec())
        })
        .collect()
}

/// Whether a restore of `snapshot` costs at most a cheap Argon2id: a header
/// inside may ask for up to 4 GiB x 64 passes per passphrase slot (the bound
/// `KdfParams` accepts), which unlocking pays before the MAC can refuse it. Walks
/// the items as the format documents them; any header item counts.
fn cheap_to_unlock(snapshot: &[u8]) -> bool {
    let Some(count) = snapshot.get(14..22) else {
        return true;
    };
    let count = u64::from_be_bytes(count.try_into().unwrap());
    let mut at = 22usize;
    let mut cost = 0u64;
    for _ in 0..count {
        let Some(k) = snapshot.get(at..at + 2) else {
            break;
        };
        let key_end = at + 2 + u16::from_be_bytes([k[0], k[1]]) as usize;
        let Some(v) = snapshot.get(key_end..key_end + 4) else {
            break;
        };
        let value_end = key_end + 4 + u32::from_be_bytes(v.try_into().unwrap()) as usize;
        let Some(value) = snapshot.get(key_end + 4..value_end) else {
            break;
        };
        if &snapshot[at + 2..key_end] == format::space::HEADER {
            if let Ok((body, _, _)) = format::decode_header(value) {
                for slot in &body.slots {
                    if let format::SlotKind::Passphrase { kdf, .. } = &slot.kind {
                        cost += u64::from(kdf.m_kib) * u64::from(kdf.t);
                    }
                }
            }
        }
        at = value_end;
    }
    cost <= 4096
}

/// A journal edited by a little program over the sample's frames: 3-byte steps
/// `op, arg:u16`. Frame steps (drop, duplicate, swap with the next, move to the
/// end) come first, byte steps (truncate, flip bits, append) on the joined result.
fn edit_journal(s: &BackupSample, program: &[u8]) -> Vec<u8> {
    let mut frames: Vec<&[u8]> = std::iter::once(JOURNAL_HEAD_LEN)
        .chain(s.frame_ends.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| &s.journal[w[0]..w[1]])
        .collect();
    let steps: Vec<(u8, usize)> = program
        .chunks_exact(3)
        .map(|c| (c[0], usize::from(u16::from_be_bytes([c[1], c[2]]))))
        .collect();
    for &(op, arg) in &steps {
        let n = frames.len();
        if n == 0 {
            break;
        }
        let i = arg % n;
        match op & 7 {
            0 => {
                frames.remove(i);
            }
            1 => frames.insert(i, frames[i]),
            2 if i + 1 < n => frames.swap(i, i + 1),
            3 => {
                let f = frames.remove(i);
                frames.push(f);
            }
            _ => {}
        }
    }
    let mut out = [&s.journal[..JOURNAL_HEAD_LEN]]
        .into_iter()
        .chain(frames)
        .collect::<Vec<_>>()
        .concat();
    for &(op, arg) in &steps {
        match op & 7 {
            4 => out.truncate(arg % (out.len() + 1)),
            5 if !out.is_empty() => {
                let at = arg % out.len();
                out[at] ^= (op >> 3).max(1);
            }
            6 => out.extend_from_slice(&(arg as u16).to_be_bytes()),
            _ => {}
        }
    }
    out
}

/// Restore and repair, which parse a backup before they can authenticate it (the
/// MAC key is in the header inside). The first byte picks the mode:
/// - 0: the rest is a backup file for `Config::restore`. It restores to one of
///   the sample's states or is refused; the sample's own snapshot and export
///   always restore, to their state.
/// - 1, 2, 3: `repair` of a copy of the sample vault without its `db`, the real
///   snapshot kept and the journal replaced by: the rest (1); the real journal
///   head then the rest (2); the real journal edited by the rest (3, see
///   `edit_journal`). The repair always succeeds, with exactly the snapshot and
///   the frames the new journal shares whole with the real one, in order.
pub fn backup(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (f, _guard) = backup_fixture();
    let s = &f.sample;
    let scratch = f.dir.path().join("scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir(&scratch).unwrap();
    let unlock = Unlock::passphrase(BACKUP_PW);
    match mode % 4 {
        0 => {
            if !cheap_to_unlock(rest) {
                return;
            }
            let from = scratch.join("in.fvbk");
            std::fs::write(&from, rest).unwrap();
            let exact = if rest == s.snapshot {
                Some(&s.states[0])
            } else if rest == s.exported {
                s.states.last()
            } else {
                None
            };
            match cfg(&scratch.join("restored")).restore(&from, &unlock) {
                Ok((v, report)) => {
                    let got = contents(&v);
                    assert!(
                        s.states.contains(&got),
                        "a restore read wrong entries: {got:?}"
                    );
                    assert_eq!(report.entries, got.len() as u64);
                    if let Some(want) = exact {
                        assert_eq!(&got, want);
                    }
                }
                Err(e) => assert!(exact.is_none(), "a real backup fails to restore: {e:?}"),
            }
        }
        m => {
            let journal = match m {
                1 => rest.to_vec(),
                2 => [&s.journal[..JOURNAL_HEAD_LEN], rest].concat(),
                _ => edit_journal(s, rest),
            };
            let vault = scratch.join("vault");
            for (rel, bytes) in &s.others {
                let p = vault.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
            let data = farmvault::layout::data_dir(&vault).unwrap();
            std::fs::create_dir_all(&data).unwrap();
            std::fs::write(data.join("backup.fvbk"), &s.snapshot).unwrap();
            std::fs::write(data.join("journal.fvjl"), &journal).unwrap();
            // Private, as farmvault makes a vault directory: a looser one is refused.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
            // What must apply: the frames the journal shares whole with the real one.
            let same = journal
                .iter()
                .zip(&s.journal)
                .take_while(|(a, b)| a == b)
                .count();
            let (frames, used) = if same < JOURNAL_HEAD_LEN {
                (0, None)
            } else {
                let k = s.frame_ends.iter().take_while(|&&e| e <= same).count();
                (
                    k,
                    Some(
                        k.checked_sub(1)
                            .map_or(JOURNAL_HEAD_LEN, |i| s.frame_ends[i]),
                    ),
                )
            };
            let (v, report) = match cfg(&vault).repair(&unlock, false) {
                Ok((v, Some(report))) => (v, report),
                Ok((_, None)) => panic!("a vault without its db opened"),
                Err(e) => panic!("repair from a sound snapshot failed: {e:?}"),
            };
            let got = contents(&v);
            assert_eq!(got, s.states[frames], "repair applied the wrong frames");
            assert_eq!(report.journal_frames, frames as u64);
            match used {
                None => assert!(report.journal_skipped.is_some()),
                Some(used) => {
                    assert!(report.journal_skipped.is_none(), "{report:?}");
                    // Zeros after the frames are space the journal grew ahead into.
                    let unused = journal[used..]
                        .iter()
                        .rposition(|b| *b != 0)
                        .map_or(0, |i| i + 1);
                    assert_eq!(report.ignored_journal_bytes, unused as u64);
                }
            }
        }
    }
}

/// What an agent reads from a client: frames back to back, as one connection
/// carries them, each decoded as a request (and, for the client's side, as a
/// reply). Nothing may panic, allocate past the frame cap, or hang; a request
/// that decodes must encode again into a frame that decodes.
pub fn agent_frame(data: &[u8]) {
    use farmvault::agent::protocol::{decode, read_frame, write_frame, Request, Response};
    let mut rest = data;
    while let Ok(body) = read_frame(&mut rest) {
        if let Ok(req) = decode::<Request>(&body) {
            let mut again = Vec::new();
            write_frame(&mut again, &req).expect("a decoded request encodes");
            let body = read_frame(&mut again.as_slice()).expect("its frame reads back");
            assert!(
                decode::<Request>(&body).is_ok(),
                "a re-encoded request does not decode"
            );
        }
        let _ = decode::<Response>(&body);
    }
}
