//! The bodies of farmvault's fuzz targets, shared word for word by the `cargo fuzz`
//! binaries (`fuzz/fuzz_targets/*.rs`, nightly) and the corpus replay test
//! (`tests/fuzz_corpus.rs`, stable), both through `#[path] mod targets;`.
//!
//! Each function takes arbitrary bytes and must never panic (beyond the property
//! asserts here, each of which is a bug in farmvault if it fires), hang, or read
//! out of bounds. The fixtures (a vault with one entry, a grant bundle and its
//! token) are made once per process in a temporary directory.

use farmvault::format::{self, RecordMeta};
use farmvault::grant::{self, Grant, GrantOpen, GrantSpec};
use farmvault::{sgtk, Config, Credential, Error, KdfParams, ManualClock, UnixTime, Unlock};
use std::path::PathBuf;
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
        let db = sled::open(&vault).unwrap();
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
        let db = sled::open(&f.vault).unwrap();
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
                Error::WrongKey {
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
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = [
        sgtk::parse_serialized_user(text),
        sgtk::parse_tank_context(text),
    ];
    for cred in parsed.iter().flatten() {
        check_round_trip(cred);
    }
}

fn check_round_trip(cred: &Credential) {
    if let Ok(json) = sgtk::to_serialized_user_json(cred) {
        let back = sgtk::parse_serialized_user(&json).expect("our own JSON parses");
        assert_eq!(&back, cred, "JSON round trip changed the credential");
    }
    if let Ok(pickle) = sgtk::to_serialized_user_pickle(cred) {
        let back = sgtk::parse_serialized_user(&pickle).expect("our own pickle parses");
        assert_eq!(&back, cred, "pickle round trip changed the credential");
    }
}

/// The C ABI fed arbitrary bytes and lengths: the Toolkit parsers, the credential
/// constructors with fields cut from the input, lengths past the limits (refused
/// before anything is read), NULLs, and a string with no NUL within its limit.
pub fn ffi(data: &[u8]) {
    use farmvault::ffi::credential::*;
    use farmvault::ffi::info::*;
    use farmvault::ffi::result::fv_result::{self, *};
    use farmvault::ffi::result::*;
    use farmvault::ffi::secret::*;
    use farmvault::ffi::sgtk::*;
    use std::ffi::{c_char, CStr};
    use std::ptr::{null, null_mut};

    // Checks a constructor's outcome and frees what it made.
    let done = |r: fv_result, out: *mut fv_credential| {
        if r == FV_OK {
            assert!(!out.is_null());
            // SAFETY: `out` is the live credential the call just made.
            let kind = unsafe { fv_credential_kind(out) };
            for field in 0..8u32 {
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
            assert!(kind <= 3, "a credential of unknown kind {kind}");
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
            1 => done(
                fv_sgtk_parse_tank_context(rest.as_ptr(), rest.len(), &mut out),
                out,
            ),
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
