//! No secret in errors, `Debug` or the C ABI's messages: a distinctive secret is
//! stored (as an opaque value, an API key, a session token, a password), every
//! error path the test can reach is triggered through the Rust API and the C ABI,
//! and everything printed (each error's `Display` and `Debug`, `Debug` of every
//! value handed back, `fv_last_error_message` after each failing C call) is
//! searched for the secrets, the passphrase, the key file's bytes and the grant
//! token's secret.
#![cfg(unix)]

use crate::rerun::alone;
use crate::support::*;
use farmvault::ffi::fv_result::{self, *};
use farmvault::ffi::*;
use farmvault::grant::{self, Grant, GrantOpen, GrantSpec};
use farmvault::*;
use std::ffi::{CStr, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::ptr::{null, null_mut};
use std::sync::Arc;

const SECRET: &str = "S3CR3T-leak-canary-7f3a9c";
const PASS: &str = "PASS-leak-canary-91b2e4";
const WRONG_PASS: &str = "WRONGPASS-leak-canary-55d0";
const NEW_PASS: &str = "NEWPASS-leak-canary-c3c3";
const KEY_BYTES: [u8; 32] = *b"KEYFILE-leak-canary-0123456789ab";
const CHILD: &str = "FARMVAULT_LEAK_CHILD";

/// Everything printed, with where it came from.
#[derive(Default)]
struct Printed(Vec<(String, String)>);

impl Printed {
    fn add(&mut self, what: &str, text: impl Into<String>) {
        self.0.push((what.to_owned(), text.into()));
    }
    fn err<T: std::fmt::Debug>(&mut self, what: &str, r: Result<T>) -> Error {
        match r {
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
            Err(e) => {
                self.add(what, format!("{e}"));
                self.add(what, format!("{e:?}"));
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    self.add(what, format!("{s} / {s:?}"));
                    src = s.source();
                }
                e
            }
        }
    }
    fn debug(&mut self, what: &str, v: &dyn std::fmt::Debug) {
        self.add(what, format!("{v:?}"));
        self.add(what, format!("{v:#?}"));
    }
    /// The C ABI's message after a failing call.
    fn c(&mut self, what: &str, r: fv_result) {
        assert_ne!(r, FV_OK, "{what}: expected a failure");
        // SAFETY: the message is a valid C string until the next call on this thread.
        let msg = unsafe { CStr::from_ptr(fv_last_error_message()) };
        let msg = msg.to_string_lossy().into_owned();
        assert!(!msg.is_empty(), "{what}: no message");
        self.add(what, msg);
    }
}

fn needles(token_secret: Option<&str>) -> Vec<String> {
    let mut n = vec![
        SECRET.to_owned(),
        "leak-canary".to_owned(),
        PASS.to_owned(),
        WRONG_PASS.to_owned(),
        NEW_PASS.to_owned(),
        hex(SECRET.as_bytes()),
        hex(&KEY_BYTES),
        String::from_utf8_lossy(&KEY_BYTES).into_owned(),
        format!("{:?}", SECRET.as_bytes()),
        format!("{:?}", &SECRET.as_bytes()[..8]),
    ];
    n.extend(token_secret.map(str::to_owned));
    n
}

fn script(api_key: &str, host: &str) -> Credential {
    Credential::ScriptKey(ScriptKey {
        host: host.into(),
        script_name: "render_farm".into(),
        api_key: api_key.into(),
        http_proxy: Some(format!("farm:{SECRET}@proxy:3128").into()),
    })
}

/// Holds the vault in another process, so this one gets `Locked`.
#[test]
fn leak_child_holds_the_vault() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let _v = Config::new(dir)
        .kdf(cheap())
        .open(&Unlock::passphrase(PASS))
        .unwrap();
    println!("LEAK-CHILD-READY");
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink).unwrap();
}

#[test]
fn no_error_message_or_debug_output_carries_a_secret() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let mut p = Printed::default();
    let fx = Fx::empty();
    let cfg = || fx.cfg();
    let v = cfg().create(&Unlock::passphrase(PASS)).unwrap();
    p.debug("Vault", &v);
    p.debug("Config", &cfg());
    let opaque = Credential::Opaque(SecretBytes::from_slice(SECRET.as_bytes()));
    v.put("leak/opaque", SECRET.as_bytes(), &PutOptions::new())
        .unwrap();
    v.put_credential(
        "leak/script",
        &script(SECRET, "https://site"),
        &PutOptions::new(),
    )
    .unwrap();
    let session = Credential::SessionToken(SessionToken {
        host: "https://site".into(),
        login: "jdoe".into(),
        session_token: SECRET.into(),
        http_proxy: None,
        session_metadata: Some(SECRET.into()),
    });
    let login = Credential::LoginPassword(LoginPassword {
        host: "https://site".into(),
        login: "render".into(),
        password: SECRET.into(),
        http_proxy: None,
    });
    v.put_credential("leak/session", &session, &PutOptions::new())
        .unwrap();
    v.put_credential("leak/login", &login, &ttl(60)).unwrap();
    let context = sgtk::parse(
        serde_json::json!({
            "_pc_path": "/p",
            "_current_user": sgtk::to_serialized_user_pickle(&session).unwrap(),
        })
        .to_string(),
    )
    .unwrap();
    let flow = Credential::FlowToken(farmvault::FlowToken {
        app_id: "APP".into(),
        profile: "jdoe".into(),
        access_token: SECRET.into(),
        refresh_token: Some(SECRET.into()),
    });
    v.put_credential("leak/context", &context, &PutOptions::new())
        .unwrap();
    v.put_credential("leak/flow", &flow, &PutOptions::new())
        .unwrap();
    for c in [
        &opaque,
        &session,
        &login,
        &script(SECRET, "h"),
        &context,
        &flow,
    ] {
        p.debug("Credential", c);
    }
    p.debug("SecretBytes", &SecretBytes::from_slice(SECRET.as_bytes()));
    p.debug("SecretString", &SecretString::from(SECRET));
    p.debug("Unlock", &Unlock::passphrase(PASS));
    let kf = KeyFile::from_bytes(&KEY_BYTES).unwrap();
    p.debug("KeyFile", &kf);
    p.debug("Unlock", &Unlock::KeyFile(kf.clone()));
    let mut b = Batch::new();
    b.put("leak/b", SECRET.as_bytes(), None);
    b.put_credential("leak/b2", session.clone(), None);
    p.debug("Batch", &b);
    for name in [
        "leak/opaque",
        "leak/script",
        "leak/session",
        "leak/login",
        "leak/context",
        "leak/flow",
    ] {
        let e = v.get(name).unwrap();
        p.debug("Entry", &e);
        p.debug("EntryMeta", &e.meta);
        p.debug("metadata", &v.metadata(name).unwrap());
    }
    p.debug("list", &v.list("").unwrap());
    p.debug("keyslots", &v.keyslots().unwrap());

    // Invalid arguments carrying the secret in a value.
    p.err(
        "empty name",
        v.put("", SECRET.as_bytes(), &PutOptions::new()),
    );
    p.err(
        "name too long",
        v.put(
            &"n".repeat(MAX_NAME_LEN + 1),
            SECRET.as_bytes(),
            &PutOptions::new(),
        ),
    );
    let big = format!("{SECRET}{}", "x".repeat(MAX_SECRET_LEN));
    p.err(
        "secret too large",
        v.put("leak/big", big.as_bytes(), &PutOptions::new()),
    );
    p.err(
        "ttl too long",
        v.put("leak/ttl", SECRET.as_bytes(), &ttl(MAX_TTL.as_secs() + 1)),
    );
    p.err(
        "empty host",
        v.put_credential("leak/badhost", &script(SECRET, ""), &PutOptions::new()),
    );
    p.err(
        "empty api key",
        v.put_credential(
            "leak/badkey",
            &script("", "https://site"),
            &PutOptions::new(),
        ),
    );
    let mut bad = Batch::new();
    bad.put("leak/ok", SECRET.as_bytes(), None);
    bad.delete("leak/missing");
    p.err("batch delete missing", v.apply(bad));
    p.err("not found", v.get("leak/missing"));
    p.err("delete missing", v.delete("leak/missing"));
    p.err("renew missing", v.renew("leak/missing", None));
    p.err(
        "empty new passphrase",
        v.change_passphrase(&SecretString::from("")),
    );
    p.err("remove unknown key file", v.remove_key_file(&kf));
    v.add_key_file(&kf).unwrap();
    p.err("add key file twice", v.add_key_file(&kf));
    p.err(
        "rotate with another slot",
        v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {}),
    );
    p.err(
        "grant policy zero",
        v.set_grant_policy(GrantPolicy {
            max_claim_secs: 0,
            max_use_secs: 0,
        }),
    );

    // Grants.
    let dir = fx.dir.path();
    let bundle = dir.join("job.fvg");
    let issued = v
        .grant(
            &GrantSpec::new(&bundle, "job-leak")
                .entry("leak/")
                .claim_within(secs(3600))
                .use_for(secs(3600))
                .hosts("render*"),
        )
        .unwrap();
    p.debug("IssuedGrant", &issued);
    let token = issued.token.clone().unwrap();
    let token_secret = token.expose()["fvg1_".len()..].to_owned();
    p.debug("GrantInfo", &grant::read_info(&bundle).unwrap());
    p.debug("list_grants", &v.list_grants().unwrap());
    let how = |t: &str| {
        GrantOpen::new()
            .token(t.to_owned())
            .clock(Arc::new(fx.clock.clone()))
            .state_dir(dir.join("state"))
            .hostname("render01.farm.example")
    };
    p.debug("GrantOpen", &how(token.expose()));
    let g = Grant::open(&bundle, &how(token.expose())).unwrap();
    p.debug("Grant", &g);
    p.debug("grant entry", &g.get("leak/script").unwrap());
    p.err("grant not found", g.get("leak/missing"));
    p.err(
        "grant spec empty",
        v.grant(&GrantSpec::new(dir.join("x.fvg"), "x").entry("nothing/")),
    );
    p.err(
        "malformed token",
        Grant::open(&bundle, &how(&format!("fvg1_{SECRET}"))),
    );
    p.err("not a token", Grant::open(&bundle, &how(SECRET)));
    let mut wrong = token.expose().to_owned();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    p.err("wrong token", Grant::open(&bundle, &how(&wrong)));
    p.err(
        "wrong host",
        Grant::open(&bundle, &how(token.expose()).hostname("workstation")),
    );
    p.err(
        "no bundle",
        Grant::open(dir.join("none.fvg"), &how(token.expose())),
    );
    p.err("no token", Grant::open(&bundle, &GrantOpen::new()));
    let mut flipped = std::fs::read(&bundle).unwrap();
    let at = flipped.len() - 20;
    flipped[at] ^= 1;
    std::fs::write(dir.join("flipped.fvg"), &flipped).unwrap();
    p.err(
        "tampered bundle",
        Grant::open(dir.join("flipped.fvg"), &how(token.expose())),
    );
    std::fs::write(
        dir.join("secret.key"),
        format!("AGE-SECRET-KEY-1{SECRET}\n"),
    )
    .unwrap();
    p.err(
        "bad identity",
        Grant::open(
            &bundle,
            &GrantOpen::new().identity_file(dir.join("secret.key")),
        ),
    );
    p.err(
        "recipient is a secret key",
        v.grant(
            &GrantSpec::new(dir.join("r.fvg"), "r")
                .entry("leak/")
                .recipient(format!("AGE-SECRET-KEY-1{SECRET}")),
        ),
    );
    fx.advance(2 * 3600);
    p.err("grant expired", g.get("leak/script"));
    p.err(
        "grant expired open",
        Grant::open(&bundle, &how(token.expose())),
    );
    p.err("entry expired", v.get("leak/login"));
    fx.set(T0);

    // Toolkit imports carrying the secret in a malformed or incomplete user.
    for text in [
        format!(r#"{{"type": "ScriptUser", "data": {{"api_key": "{SECRET}"}}}}"#),
        format!(
            r#"{{"type": "SessionUser", "data": {{"session_token": "{SECRET}", "host": ""}}}}"#
        ),
        format!(r#"{{"type": "Nope", "data": {{"password": "{SECRET}"}}}}"#),
        format!(r#"{{"type": "ScriptUser", "data": {{"api_key": "{SECRET}""#),
        format!(
            "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVapi_key\np5\nV{SECRET}\np6\nss."
        ),
        format!("(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\ncos\nsystem\n(V{SECRET}\ntR."),
    ] {
        p.err("sgtk parse", sgtk::parse_serialized_user(&text));
        let ctx = serde_json::json!({ "_current_user": text }).to_string();
        p.err("tank context", sgtk::parse_tank_context(&ctx));
    }
    p.err(
        "tank context bare",
        sgtk::parse_tank_context(format!("{{\"x\": \"{SECRET}\"")),
    );
    p.err("sgtk opaque", sgtk::to_serialized_user_json(&opaque));
    p.err("sgtk login", sgtk::to_serialized_user_pickle(&login));
    drop(g);
    drop(v);

    // Wrong keys, then a corrupt header and a tampered record.
    p.err(
        "wrong passphrase",
        cfg().open(&Unlock::passphrase(WRONG_PASS)),
    );
    p.err(
        "wrong key file",
        cfg().open(&Unlock::KeyFile(KeyFile::from_bytes(&[9; 32]).unwrap())),
    );
    p.err(
        "no vault",
        Config::new(dir.join("none")).open(&Unlock::passphrase(PASS)),
    );
    p.err("exists", cfg().create(&Unlock::passphrase(PASS)));
    p.err(
        "empty passphrase create",
        Config::new(dir.join("new"))
            .kdf(cheap())
            .create(&Unlock::passphrase("")),
    );
    // Backup, restore and repair: their reports and every refusal.
    let pass = || Unlock::passphrase(PASS);
    let wrong = || Unlock::passphrase(WRONG_PASS);
    let v = cfg().open(&pass()).unwrap();
    let copy = dir.join("copy.fvbk");
    p.debug("backup_to", &v.backup_to(&copy).unwrap());
    p.debug("verify_backup", &v.verify_backup(&pass()).unwrap());
    p.err("verify_backup wrong key", v.verify_backup(&wrong()));
    p.err("backup_to a directory", v.backup_to(dir));
    drop(v);
    let restored = || Config::new(dir.join("restored")).kdf(cheap());
    p.err("restore wrong key", restored().restore(&copy, &wrong()));
    let mut cut = std::fs::read(&copy).unwrap();
    cut.truncate(cut.len() / 2);
    let cut_path = dir.join("cut.fvbk");
    std::fs::write(&cut_path, &cut).unwrap();
    p.err("restore truncated", restored().restore(&cut_path, &pass()));
    let (r, report) = restored().restore(&copy, &pass()).unwrap();
    p.debug("restore report", &report);
    drop(r);
    p.err("restore over a vault", restored().restore(&copy, &pass()));
    std::fs::remove_file(data_dir(&dir.join("restored")).join("db")).unwrap();
    p.err("repair wrong key", restored().repair(&wrong(), false));
    let (r, report) = restored().repair(&pass(), false).unwrap();
    p.debug("repair report", &report);
    drop(r);

    let record_key = raw_edit(&fx.path, |db| {
        let (k, mut rec) = db
            .scan_prefix(b"E")
            .map(|kv| kv.unwrap())
            .find(|(_, r)| r.len() < 200)
            .map(|(k, r)| (k.to_vec(), r.to_vec()))
            .unwrap();
        let n = rec.len();
        rec[n - 20] ^= 1;
        db.insert(&k, rec).unwrap();
        k
    });
    let v = cfg().open(&Unlock::passphrase(PASS)).unwrap();
    let damaged = v.damaged().unwrap();
    assert_eq!(damaged.len(), 1);
    p.debug("damaged", &damaged);
    let mut tampered = 0;
    for name in [
        "leak/opaque",
        "leak/script",
        "leak/session",
        "leak/login",
        "leak/context",
        "leak/flow",
    ] {
        if let Err(e @ Error::Tampered { .. }) = v.get(name) {
            p.err("tampered", Err::<(), _>(e));
            tampered += 1;
        }
    }
    assert_eq!(tampered, 1);
    p.err(
        "rotate over a tampered entry",
        v.rotate_data_key(
            &RotateOptions {
                drop_other_slots: true,
                ..Default::default()
            },
            &mut |_, _| {},
        ),
    );
    drop(v);
    raw_edit(&fx.path, |db| db.remove(&record_key).unwrap());

    // Locked: another process holds the vault.
    let mut child = alone(module_path!(), "leak_child_holds_the_vault")
        .env(CHILD, &fx.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "holder died");
        if line.contains("LEAK-CHILD-READY") {
            break;
        }
    }
    let locked = p.err(
        "locked",
        cfg()
            .lock_timeout(std::time::Duration::from_millis(100))
            .open(&Unlock::passphrase(PASS)),
    );
    assert!(matches!(locked, Error::Locked { .. }), "{locked:?}");

    // The C ABI (the holder still has the vault: FV_LOCKED first).
    let path = CString::new(fx.path.to_str().unwrap()).unwrap();
    let mut opts: *mut fv_options = null_mut();
    let mut vault: *mut fv_vault = null_mut();
    // SAFETY (for the C calls below): every pointer is NULL, a live handle from
    // an earlier call, or a buffer valid for the length passed; out-pointers are
    // valid locals.
    unsafe {
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        assert_eq!(fv_options_set_kdf(opts, 8, 1, 1), FV_OK);
        assert_eq!(fv_options_set_lock_timeout_ms(opts, 100), FV_OK);
        p.c(
            "C locked",
            fv_vault_open_passphrase(path.as_ptr(), PASS.as_ptr(), PASS.len(), opts, &mut vault),
        );
        drop(child.stdin.take());
        child.wait().unwrap();
        assert_eq!(fv_options_set_lock_timeout_ms(opts, 5000), FV_OK);
        p.c(
            "C wrong passphrase",
            fv_vault_open_passphrase(
                path.as_ptr(),
                WRONG_PASS.as_ptr(),
                WRONG_PASS.len(),
                opts,
                &mut vault,
            ),
        );
        p.c(
            "C empty passphrase",
            fv_vault_open_passphrase(path.as_ptr(), PASS.as_ptr(), 0, opts, &mut vault),
        );
        let r =
            fv_vault_open_passphrase(path.as_ptr(), PASS.as_ptr(), PASS.len(), opts, &mut vault);
        assert_eq!(r, FV_OK);
        let bad_name = CString::new("").unwrap();
        let name = CString::new("leak/c").unwrap();
        let missing = CString::new("leak/missing").unwrap();
        p.c(
            "C put empty name",
            fv_vault_put(vault, bad_name.as_ptr(), SECRET.as_ptr(), SECRET.len(), 0),
        );
        p.c(
            "C put huge ttl",
            fv_vault_put(
                vault,
                name.as_ptr(),
                SECRET.as_ptr(),
                SECRET.len(),
                u64::MAX,
            ),
        );
        p.c(
            "C put too large",
            fv_vault_put(vault, name.as_ptr(), SECRET.as_ptr(), MAX_SECRET_LEN + 1, 0),
        );
        p.c(
            "C put null",
            fv_vault_put(vault, name.as_ptr(), null(), 5, 0),
        );
        let mut entry: *mut fv_entry = null_mut();
        p.c(
            "C get missing",
            fv_vault_get(vault, missing.as_ptr(), &mut entry),
        );
        p.c("C delete missing", fv_vault_delete(vault, missing.as_ptr()));
        p.c(
            "C renew missing",
            fv_vault_renew(vault, missing.as_ptr(), 10),
        );
        p.c(
            "C change passphrase empty",
            fv_vault_change_passphrase(vault, NEW_PASS.as_ptr(), 0),
        );
        let no_utf8 = [0xffu8, 0xfe, b'S', 0];
        p.c(
            "C name not utf8",
            fv_vault_get(vault, no_utf8.as_ptr().cast(), &mut entry),
        );
        let mut cred: *mut fv_credential = null_mut();
        let empty = CString::new("").unwrap();
        let host = CString::new("https://site").unwrap();
        let proxy = CString::new(format!("x:{SECRET}@p")).unwrap();
        p.c(
            "C script key empty host",
            fv_credential_new_script_key(
                empty.as_ptr(),
                host.as_ptr(),
                SECRET.as_ptr(),
                SECRET.len(),
                proxy.as_ptr(),
                &mut cred,
            ),
        );
        let bad_utf8 = [SECRET.as_bytes(), &[0xff]].concat();
        p.c(
            "C script key bad utf8",
            fv_credential_new_script_key(
                host.as_ptr(),
                host.as_ptr(),
                bad_utf8.as_ptr(),
                bad_utf8.len(),
                null(),
                &mut cred,
            ),
        );
        p.c(
            "C opaque too long",
            fv_credential_new_opaque(SECRET.as_ptr(), MAX_SECRET_LEN + 1, &mut cred),
        );
        for text in [
            format!(r#"{{"type": "ScriptUser", "data": {{"api_key": "{SECRET}"}}}}"#),
            format!(r#"{{"type": "ScriptUser", "data": {{"api_key": "{SECRET}""#),
            format!("(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\ncos\nsystem\n(V{SECRET}\ntR."),
        ] {
            p.c(
                "C sgtk parse",
                fv_sgtk_parse(text.as_ptr(), text.len(), &mut cred),
            );
            p.c(
                "C tank context",
                fv_sgtk_parse_tank_context(text.as_ptr(), text.len(), &mut cred),
            );
        }
        fv_vault_close(vault);
        fv_options_free(opts);
    }

    // Nothing printed carries a secret.
    let needles = needles(Some(&token_secret));
    let mut leaks = Vec::new();
    for (what, text) in &p.0 {
        for n in &needles {
            if text.contains(n.as_str()) {
                leaks.push(format!("{what}: {n:?} in {text:?}"));
            }
        }
    }
    eprintln!(
        "searched {} printed texts for {} secrets",
        p.0.len(),
        needles.len()
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    assert!(p.0.len() > 100, "only {} texts", p.0.len());
    let _ = fv_result::FV_OK;
}
