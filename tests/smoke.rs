use farmvault::*;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let clock = ManualClock::new(UnixTime(1_000_000));
    let cfg = || {
        Config::new(&path)
            .kdf(KdfParams::new(8, 1, 1).unwrap())
            .clock(Arc::new(clock.clone()))
    };
    let v = cfg().create(&Unlock::passphrase("pw")).unwrap();
    v.put(
        "a",
        b"secret-a",
        &PutOptions::new().ttl(Duration::from_secs(10)),
    )
    .unwrap();
    assert_eq!(v.get("a").unwrap().credential.secret(), b"secret-a");
    drop(v);
    let v = cfg().open(&Unlock::passphrase("pw")).unwrap();
    assert_eq!(v.get("a").unwrap().credential.secret(), b"secret-a");
    assert!(matches!(
        cfg().open(&Unlock::passphrase("nope")),
        Err(Error::WrongKey { .. })
    ));
    clock.advance(Duration::from_secs(10));
    assert!(matches!(v.get("a"), Err(Error::Expired { .. })));
    assert!(matches!(v.get("a"), Err(Error::NotFound { .. })));
    v.put("b", b"x", &PutOptions::new().ttl(Duration::from_secs(1)))
        .unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(v.purge_expired().unwrap(), 1);
    let kf = KeyFile::generate().unwrap();
    v.add_key_file(&kf).unwrap();
    v.put("c", b"y", &PutOptions::new()).unwrap();
    assert!(v
        .rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap_err()
        .to_string()
        .contains("keyslot"));
    v.rotate_data_key(
        &RotateOptions {
            keep: vec![Unlock::KeyFile(kf.clone())],
            drop_other_slots: false,
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(v.get("c").unwrap().credential.secret(), b"y");
    drop(v);
    let v = cfg().open(&Unlock::KeyFile(kf)).unwrap();
    assert_eq!(v.list("").unwrap().len(), 1);
    let v2 = cfg().open(&Unlock::passphrase("pw")).unwrap();
    assert_eq!(v2.get("c").unwrap().credential.secret(), b"y");
}
