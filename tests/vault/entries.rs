//! Entries: every credential kind round-trips, list/prefix/metadata, delete,
//! renew, overwrite, batches, and that nothing returned prints a secret.

use crate::support::*;
use farmvault::*;

fn all_kinds() -> Vec<(&'static str, Credential)> {
    let binary: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    vec![
        ("opaque/binary", opaque(&binary)),
        ("opaque/text", opaque(b"opaque-SECRET-text")),
        ("shotgun/script", script_key(false)),
        ("shotgun/script-proxy", script_key(true)),
        ("shotgun/session", session_token(false)),
        ("shotgun/session-full", session_token(true)),
        ("shotgun/login", login_password(false)),
        ("shotgun/login-proxy", login_password(true)),
    ]
}

#[test]
fn every_credential_kind_round_trips_as_the_same_type() {
    let fx = Fx::empty();
    let v = fx.create();
    for (name, c) in all_kinds() {
        v.put_credential(name, &c, &PutOptions::new()).unwrap();
    }
    let check = |v: &Vault| {
        for (name, c) in all_kinds() {
            let e = v.get(name).unwrap();
            assert_eq!(e.credential, c, "{name}");
            assert_eq!(e.credential.kind(), c.kind(), "{name}");
            assert_eq!(e.meta.kind, c.kind(), "{name}");
            assert_eq!(e.meta.name, name);
            assert_eq!(e.meta.host.as_deref(), c.host(), "{name}");
            // Read back as the same type, field by field.
            match (&e.credential, &c) {
                (Credential::Opaque(a), Credential::Opaque(b)) => {
                    assert_eq!(a.expose(), b.expose())
                }
                (Credential::ScriptKey(a), Credential::ScriptKey(b)) => {
                    assert_eq!(a.host, b.host);
                    assert_eq!(a.script_name, b.script_name);
                    assert_eq!(a.api_key.expose(), b.api_key.expose());
                    assert_eq!(
                        a.http_proxy.as_ref().map(|p| p.expose()),
                        b.http_proxy.as_ref().map(|p| p.expose())
                    );
                }
                (Credential::SessionToken(a), Credential::SessionToken(b)) => {
                    assert_eq!(a.host, b.host);
                    assert_eq!(a.login, b.login);
                    assert_eq!(a.session_token.expose(), b.session_token.expose());
                    assert_eq!(
                        a.http_proxy.as_ref().map(|p| p.expose()),
                        b.http_proxy.as_ref().map(|p| p.expose())
                    );
                    assert_eq!(
                        a.session_metadata.as_ref().map(|p| p.expose()),
                        b.session_metadata.as_ref().map(|p| p.expose())
                    );
                }
                (Credential::LoginPassword(a), Credential::LoginPassword(b)) => {
                    assert_eq!(a.host, b.host);
                    assert_eq!(a.login, b.login);
                    assert_eq!(a.password.expose(), b.password.expose());
                    assert_eq!(
                        a.http_proxy.as_ref().map(|p| p.expose()),
                        b.http_proxy.as_ref().map(|p| p.expose())
                    );
                }
                (got, want) => panic!(
                    "{name}: read back {:?}, stored {:?}",
                    got.kind(),
                    want.kind()
                ),
            }
        }
    };
    check(&v);
    // The optional fields really are optional: absent ones come back absent.
    match v.get("shotgun/session").unwrap().credential {
        Credential::SessionToken(s) => {
            assert!(s.http_proxy.is_none() && s.session_metadata.is_none())
        }
        other => panic!("{:?}", other.kind()),
    }
    drop(v);
    check(&fx.open());
}

#[test]
fn list_is_sorted_and_filtered_by_prefix() {
    let fx = Fx::empty();
    let v = fx.create();
    let stored = [
        "shotgun/zeta",
        "other/a",
        "shotgun/alpha",
        "shotgun",
        "shotgun/Beta",
        "shotgunX/y",
        "a",
        "shotgun/é-unicode",
    ];
    for (i, n) in stored.iter().enumerate() {
        let c = if i % 2 == 0 {
            script_key(false)
        } else {
            opaque(n.as_bytes())
        };
        v.put_credential(n, &c, &PutOptions::new()).unwrap();
    }
    let mut all: Vec<String> = stored.iter().map(|s| s.to_string()).collect();
    all.sort();
    let listed = v.list("").unwrap();
    assert_eq!(names(&listed), all);
    assert_eq!(
        names(&v.list("shotgun/").unwrap()),
        [
            "shotgun/Beta",
            "shotgun/alpha",
            "shotgun/zeta",
            "shotgun/é-unicode"
        ]
    );
    assert_eq!(
        names(&v.list("shotgun").unwrap()),
        [
            "shotgun",
            "shotgun/Beta",
            "shotgun/alpha",
            "shotgun/zeta",
            "shotgun/é-unicode",
            "shotgunX/y"
        ]
    );
    assert!(v.list("nope/").unwrap().is_empty());
    // The listing's metadata is the same as metadata() reports.
    for m in &listed {
        assert_eq!(&v.metadata(&m.name).unwrap(), m);
    }
}

#[test]
fn metadata_reports_kind_host_and_times() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put_credential("shotgun/script", &script_key(true), &ttl(3600))
        .unwrap();
    v.put("blob", b"opaque-SECRET-text", &PutOptions::new())
        .unwrap();
    fx.advance(7);
    let m = v.metadata("shotgun/script").unwrap();
    assert_eq!(
        m,
        EntryMeta {
            name: "shotgun/script".into(),
            kind: Kind::ScriptKey,
            host: Some("https://studio.shotgrid.autodesk.com".into()),
            created: UnixTime(T0),
            updated: UnixTime(T0),
            expires: Some(UnixTime(T0 + 3600)),
        }
    );
    assert!(!m.is_expired_at(UnixTime(T0 + 3599)));
    assert!(m.is_expired_at(UnixTime(T0 + 3600)));
    let b = v.metadata("blob").unwrap();
    assert_eq!(
        (b.kind, b.host.as_deref(), b.expires),
        (Kind::Opaque, None, None)
    );
    assert_eq!(b.created, UnixTime(T0));
    assert!(!b.is_expired_at(UnixTime(u64::MAX)));
}

#[test]
fn nothing_returned_prints_a_secret() {
    let fx = Fx::empty();
    let v = fx.create();
    for (name, c) in all_kinds() {
        v.put_credential(name, &c, &ttl(60)).unwrap();
    }
    let mut printed = String::new();
    for (name, c) in all_kinds() {
        let e = v.get(name).unwrap();
        // The secrets really are in there, so the check below means something.
        assert!(!e.credential.secret().is_empty());
        printed += &format!("{e:?}\n{e:#?}\n{:?}\n{c:?}\n", e.credential);
        printed += &format!("{:?}\n", v.metadata(name).unwrap());
    }
    printed += &format!("{:?}\n{:#?}\n", v.list("").unwrap(), v);
    printed += &format!("{:?}\n", v.keyslots().unwrap());
    printed += &format!(
        "{:?} {:?}\n",
        pw(),
        Unlock::KeyFile(KeyFile::generate().unwrap())
    );
    for s in SAMPLE_SECRETS.iter().chain(&["opaque-SECRET-text", PW]) {
        assert!(!printed.contains(s), "{s:?} printed in:\n{printed}");
    }
    assert!(printed.contains("[REDACTED]"));
    // Opaque bytes printed as a byte list would not contain the text; check the
    // opaque entry's Debug holds no long run of its bytes' decimal values either.
    assert!(
        !printed.contains("111, 112, 97, 113, 117, 101"),
        "{printed}"
    );
}

#[test]
fn delete_then_not_found() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"1", &ttl(100)).unwrap();
    v.put("b", b"2", &PutOptions::new()).unwrap();
    v.delete("a").unwrap();
    assert_not_found(v.get("a"), "a");
    assert_not_found(v.metadata("a"), "a");
    assert_not_found(v.renew("a", Some(secs(5))), "a");
    assert_not_found(v.delete("a"), "a");
    assert_eq!(names(&v.list("").unwrap()), ["b"]);
    assert_eq!(bytes_of(&v, "b"), b"2");
    // Its expiry-index item went with it: nothing to purge later.
    fx.advance(1000);
    assert_eq!(v.purge_expired().unwrap(), 0);
    drop(v);
    let v = fx.open();
    assert_not_found(v.get("a"), "a");
    let dump = raw_dump_closed(&fx, v);
    assert_eq!(space(&dump, b'E').len(), 1);
    assert!(space(&dump, b'X').is_empty());
}

fn raw_dump_closed(fx: &Fx, v: Vault) -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    drop(v);
    raw_dump(&fx.path)
}

#[test]
fn renew_moves_expiry_and_updated_but_not_created() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put_credential("tok", &session_token(true), &ttl(100))
        .unwrap();
    fx.advance(50);
    let m = v.renew("tok", Some(secs(200))).unwrap();
    assert_eq!(m.created, UnixTime(T0));
    assert_eq!(m.updated, UnixTime(T0 + 50));
    assert_eq!(m.expires, Some(UnixTime(T0 + 250)));
    assert_eq!(v.metadata("tok").unwrap(), m);
    assert_eq!(v.get("tok").unwrap().credential, session_token(true));
    // Past the old expiry, still live.
    fx.set(T0 + 249);
    assert!(v.get("tok").is_ok());
    // Renew to "never".
    let m = v.renew("tok", None).unwrap();
    assert_eq!(m.expires, None);
    assert_eq!(m.updated, UnixTime(T0 + 249));
    fx.set(T0 + 1_000_000);
    assert_eq!(v.purge_expired().unwrap(), 0);
    assert_eq!(v.get("tok").unwrap().meta, m);
    drop(v);
    assert_eq!(fx.open().metadata("tok").unwrap(), m);
}

#[test]
fn overwrite_keeps_created_and_replaces_the_rest() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("k", b"first", &ttl(10)).unwrap();
    fx.advance(5);
    v.put_credential("k", &script_key(false), &PutOptions::new())
        .unwrap();
    let e = v.get("k").unwrap();
    assert_eq!(e.credential, script_key(false));
    assert_eq!(e.meta.kind, Kind::ScriptKey);
    assert_eq!(e.meta.created, UnixTime(T0));
    assert_eq!(e.meta.updated, UnixTime(T0 + 5));
    assert_eq!(e.meta.expires, None);
    // The old TTL's index item is gone: nothing expires.
    fx.advance(100);
    assert_eq!(v.purge_expired().unwrap(), 0);
    assert!(v.get("k").is_ok());
    assert_eq!(v.list("").unwrap().len(), 1);
}

#[test]
fn batch_applies_everything_or_nothing() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("old", b"o", &ttl(10)).unwrap();
    let mut b = Batch::new();
    b.put("a", b"1", Some(secs(5)));
    b.put_credential("s", script_key(false), None);
    b.put("a", b"2", Some(secs(50)));
    b.delete("old");
    assert_eq!(b.len(), 4);
    v.apply(b).unwrap();
    assert_eq!(bytes_of(&v, "a"), b"2");
    assert_eq!(v.metadata("a").unwrap().expires, Some(UnixTime(T0 + 50)));
    assert_eq!(v.get("s").unwrap().credential, script_key(false));
    assert_not_found(v.get("old"), "old");
    // The overwritten-in-batch TTL left no index item behind.
    fx.advance(20);
    assert_eq!(v.purge_expired().unwrap(), 0);

    let before = v.list("").unwrap();
    let mut bad = Batch::new();
    bad.put("new1", b"x", None);
    bad.put("", b"x", None);
    assert_invalid(v.apply(bad), "1 to 1024");
    let mut missing = Batch::new();
    missing.put("new2", b"x", None);
    missing.delete("a");
    missing.delete("no-such");
    assert_not_found(v.apply(missing), "no-such");
    let mut zero = Batch::new();
    zero.put("new3", b"x", Some(secs(0)));
    assert_invalid(v.apply(zero), "TTL");
    assert_eq!(v.list("").unwrap(), before);
    assert_eq!(bytes_of(&v, "a"), b"2");
    assert!(format!("{:?}", Batch::new()).contains("Batch"));

    // The same name deleted then put, and put then deleted, in one batch.
    let mut b = Batch::new();
    b.delete("a");
    b.put("a", b"3", Some(secs(5)));
    b.put("gone", b"x", Some(secs(5)));
    b.delete("gone");
    v.apply(b).unwrap();
    assert_eq!(bytes_of(&v, "a"), b"3");
    assert_not_found(v.get("gone"), "gone");
    fx.advance(5);
    // Only "a" is left to expire: "gone" left no index item behind.
    assert_eq!(v.purge_expired().unwrap(), 1);
}

#[test]
fn writes_not_flushed_by_the_call_are_on_disk_once_the_handle_is_closed() {
    let fx = Fx::empty();
    let v = fx.create();
    let lazy = PutOptions::new().durable(false);
    for i in 0..20u8 {
        v.put(&format!("lazy/{i}"), &[i; 100], &lazy).unwrap();
    }
    drop(v);
    let v = fx.open();
    assert_eq!(v.list("lazy/").unwrap().len(), 20);
    assert_eq!(bytes_of(&v, "lazy/19"), [19; 100]);
}
