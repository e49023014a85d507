//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through exactly the
//! code the `cargo fuzz` targets run (`fuzz/targets.rs`), so a regression on any
//! input the fuzzers found interesting fails on stable, without nightly.
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` regenerates the
//! seed files from real samples (a vault's header and record, a grant bundle and
//! its token, Toolkit serialized users, a vault's backup); the fuzzers add theirs
//! beside them.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

#[test]
fn every_corpus_file_replays_cleanly() {
    let mut total = 0;
    for (name, run) in targets::TARGETS {
        let dir = corpus_dir(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{name}: only {} seed files", files.len());
        for f in &files {
            let data = std::fs::read(f).unwrap();
            let r = std::panic::catch_unwind(|| run(&data));
            assert!(r.is_ok(), "{name}: {} fails its target", f.display());
        }
        total += files.len();
    }
    eprintln!("replayed {total} corpus files");
}

/// `Context.serialize()` of docs/TOOLKIT.md's sample context.
const CONTEXT_PICKLE: &str = "(dp0\nVproject\np1\n(dp2\nVtype\np3\nVProject\np4\nsVid\np5\nI65\nsVname\np6\nVdemo\np7\nssVentity\np8\n(dp9\ng3\nVShot\np10\nsg5\nI1184\nsg6\nVABC_0010\np11\nssVuser\np12\n(dp13\ng3\nVHumanUser\np14\nsg5\nI42\nsg6\nVJohn Doe\np15\nssVstep\np16\n(dp17\ng3\nVStep\np18\nsg5\nI7\nsg6\nVLighting\np19\nssVtask\np20\n(dp21\ng3\nVTask\np22\nsg5\nI4512\nsg6\nVlgt\np23\nssVadditional_entities\np24\n(lp25\n(dp26\ng3\nVAsset\np27\nsg5\nI1200\nsg6\nVtree\np28\nsasVsource_entity\np29\nNsVflow_project_id\np30\nNsVflow_draft_id\np31\nNsVflow_schema_version\np32\nNsV_pc_path\np33\nV/studio/configs/demo\np34\nsV_current_user\np35\nV(dp0\\u000aVtype\\u000ap1\\u000aVSessionUser\\u000ap2\\u000asVdata\\u000ap3\\u000a(dp4\\u000aVhttp_proxy\\u000ap5\\u000aNsVhost\\u000ap6\\u000aVhttps://mysite.shotgrid.autodesk.com\\u000ap7\\u000asVlogin\\u000ap8\\u000aVjdoe\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123sessiontoken\\u000ap11\\u000ass.\np36\ns.";

/// Writes the seed corpus from real samples. Run by hand; the files are committed.
#[test]
#[ignore = "regenerates the committed seed corpus"]
fn write_seed_corpus() {
    use farmvault::grant::GrantSpec;
    use farmvault::*;
    use std::sync::Arc;
    use std::time::Duration;

    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("vault");
    let v = Config::new(&path)
        .kdf(KdfParams::new(8, 1, 1).unwrap())
        .clock(Arc::new(ManualClock::new(UnixTime(1_700_000_000))))
        .create(&Unlock::passphrase("seed passphrase"))
        .unwrap();
    let script = Credential::ScriptKey(ScriptKey {
        host: "https://mysite.shotgrid.autodesk.com".into(),
        script_name: "render_farm".into(),
        api_key: "0123456789abcdef".into(),
        http_proxy: Some("proxy.studio:3128".into()),
    });
    let session = Credential::SessionToken(SessionToken {
        host: "https://mysite.shotgrid.autodesk.com".into(),
        login: "jdoe".into(),
        session_token: "c0ffee-session".into(),
        http_proxy: None,
        session_metadata: Some("c2Vzc2lvbg==".into()),
    });
    v.put("shotgun/opaque", b"opaque secret bytes", &PutOptions::new())
        .unwrap();
    v.put_credential(
        "shotgun/render_farm",
        &script,
        &PutOptions::new().ttl(Duration::from_secs(3600)),
    )
    .unwrap();
    v.put_credential("shotgun/jdoe", &session, &PutOptions::new())
        .unwrap();
    let kf = KeyFile::from_bytes(&[7; 32]).unwrap();
    let bundle = tmp.path().join("job.fvg");
    let issued = v
        .grant(
            &GrantSpec::new(&bundle, "job-4711")
                .entry("shotgun/")
                .claim_within(Duration::from_secs(3600))
                .use_for(Duration::from_secs(3600))
                .hosts("render*"),
        )
        .unwrap();
    let identity = tmp.path().join("farm.key");
    let public = grant::generate_farm_identity(&identity).unwrap();
    let bundle2 = tmp.path().join("rcpt.fvg");
    v.grant(
        &GrantSpec::new(&bundle2, "job-4712")
            .entry("shotgun/jdoe")
            .claim_within(Duration::from_secs(3600))
            .use_for(Duration::from_secs(3600))
            .recipient(public)
            .require_both(true),
    )
    .unwrap();
    let header1 = {
        drop(v);
        let db = sled::open(farmvault::layout::data_dir(&path).unwrap()).unwrap();
        db.get("H").unwrap().unwrap().to_vec()
    };
    let v = Config::new(&path)
        .kdf(KdfParams::new(8, 1, 1).unwrap())
        .open(&Unlock::passphrase("seed passphrase"))
        .unwrap();
    v.add_key_file(&kf).unwrap();
    drop(v);
    let db = sled::open(farmvault::layout::data_dir(&path).unwrap()).unwrap();
    let header2 = db.get("H").unwrap().unwrap().to_vec();
    write("header", "passphrase", &header1);
    write("header", "with-key-file", &header2);
    write("header", "truncated", &header2[..header2.len() / 2]);
    for (i, kv) in db.scan_prefix([b'E']).enumerate() {
        let (_, rec) = kv.unwrap();
        write("record", &format!("entry-{i}"), &rec);
        if i == 0 {
            write("record", "truncated", &rec[..30]);
        }
    }
    drop(db);
    let b1 = std::fs::read(&bundle).unwrap();
    let b2 = std::fs::read(&bundle2).unwrap();
    write("bundle", "token", &b1);
    write("bundle", "recipient-both", &b2);
    write("bundle", "header-only", &b1[..60.min(b1.len())]);
    let token = issued.token.unwrap().expose().to_owned();
    write("token", "real", token.as_bytes());
    write("token", "spaced", format!("  {token}\n").as_bytes());
    write(
        "token",
        "wrong-prefix",
        token.replacen("fvg1_", "fvg2_", 1).as_bytes(),
    );
    write("token", "short", &token.as_bytes()[..20]);
    let with = |sel: u8, rest: &[u8]| [&[sel][..], rest].concat();
    let json_session = sgtk::to_serialized_user_json(&session).unwrap();
    let json_script = sgtk::to_serialized_user_json(&script).unwrap();
    let pickle_script = sgtk::to_serialized_user_pickle(&script).unwrap();
    let pickle_session = sgtk::to_serialized_user_pickle(&session).unwrap();
    let context = serde_json::json!({
        "project": {"type": "Project", "id": 65, "name": "demo"},
        "entity": null,
        "_current_user": pickle_script,
    })
    .to_string();
    for (name, text) in [
        ("json-session", &json_session),
        ("json-script", &json_script),
        ("pickle-script", &pickle_script),
        ("pickle-session", &pickle_session),
        ("tank-context", &context),
    ] {
        write("sgtk", name, text.as_bytes());
    }
    // What Context.serialize writes by default: ints, lists, nested dicts, memo GETs;
    // and its Latin-1 form as raw bytes (docs/TOOLKIT.md).
    let context_pickle = CONTEXT_PICKLE.as_bytes();
    write("sgtk", "context-pickle", context_pickle);
    let latin1: Vec<u8> = CONTEXT_PICKLE
        .replacen("Vdemo\np7", "Vcaf\u{e9}\np7", 1)
        .replacen(
            "\np36\ns.",
            "\np36\nsV_payload_encoding\np37\nVISO-8859-1\np38\ns.",
            1,
        )
        .chars()
        .map(|c| c as u8)
        .collect();
    write("sgtk", "context-latin1-bytes", &latin1);
    write(
        "sgtk",
        "data-opcodes",
        b"(lp0\nL-9L\naI01\na(I3\nVx\np1\ng1\ne]a}a.",
    );
    write("ffi", "1-context-pickle", &with(1, context_pickle));
    write("ffi", "0-json", &with(0, json_session.as_bytes()));
    write("ffi", "1-context", &with(1, context.as_bytes()));
    write("ffi", "2-opaque", &with(2, b"opaque secret"));
    write(
        "ffi",
        "3-script",
        &with(
            3,
            b"https://mysite.shotgrid.autodesk.com\0render_farm\0\0\x000123456789abcdef",
        ),
    );
    write(
        "ffi",
        "4-session",
        &with(
            4,
            b"https://mysite.shotgrid.autodesk.com\0jdoe\0proxy:3128\0meta\0token",
        ),
    );
    write("ffi", "5-login", &with(5, b"https://site\0render\0\0\0pw"));
    write("ffi", "6-long-length", &with(6, b"\x01\x02"));
    write("ffi", "7-unterminated", &with(7, b"host"));

    // The backup target: a sample vault made by the target's own recipe (same
    // passphrase, so its snapshot restores in any process). Its journal chains to
    // its own snapshot, not the fixture's: the journal seeds feed the parser, and
    // mode 3 edits the fixture's real journal instead.
    let b = targets::backup_sample(&tmp.path().join("backup"));
    write("backup", "0-snapshot", &with(0, &b.snapshot));
    write("backup", "0-exported", &with(0, &b.exported));
    write(
        "backup",
        "0-truncated",
        &with(0, &b.exported[..b.exported.len() / 2]),
    );
    write("backup", "1-journal", &with(1, &b.journal));
    write("backup", "1-head-only", &with(1, &b.journal[..46]));
    write("backup", "2-frames", &with(2, &b.journal[46..]));
    // Mode 3 programs (op, arg:u16): none; drop frame 2; swap frames 1 and 2;
    // duplicate the last frame; cut in the middle of frame 3; flip a MAC bit.
    write("backup", "3-intact", &with(3, b""));
    write("backup", "3-drop", &with(3, &[0, 0, 2]));
    write("backup", "3-swap", &with(3, &[2, 0, 1]));
    write("backup", "3-duplicate", &with(3, &[1, 0, 5]));
    let mid = (b.frame_ends[2] + b.frame_ends[3]) / 2;
    write(
        "backup",
        "3-torn",
        &with(3, &[4, (mid >> 8) as u8, mid as u8]),
    );
    let mac = b.frame_ends[1] - 1;
    write(
        "backup",
        "3-flip",
        &with(3, &[5, (mac >> 8) as u8, mac as u8]),
    );

    // The agent's frames: a connection's requests, as a client sends them.
    use farmvault::agent::protocol::{write_frame, Request};
    let frames = |reqs: &[Request]| {
        let mut out = Vec::new();
        for r in reqs {
            write_frame(&mut out, r).unwrap();
        }
        out
    };
    let hello = || Request::Hello { version: 1 };
    write(
        "agent_frame",
        "hello-get-list",
        &frames(&[
            hello(),
            Request::Get {
                name: "shotgun/render_farm".into(),
            },
            Request::List {
                prefix: "shotgun/".into(),
            },
            Request::Status,
        ]),
    );
    write(
        "agent_frame",
        "put-renew-delete",
        &frames(&[
            hello(),
            Request::Put {
                name: "shotgun/render_farm".into(),
                credential: Credential::ScriptKey(ScriptKey {
                    host: "https://mysite.shotgrid.autodesk.com".into(),
                    script_name: "render_farm".into(),
                    api_key: SecretString::new("0123456789abcdef".into()),
                    http_proxy: None,
                }),
                ttl_secs: Some(3600),
                durable: true,
            },
            Request::Renew {
                name: "shotgun/render_farm".into(),
                ttl_secs: None,
            },
            Request::Delete {
                name: "shotgun/render_farm".into(),
            },
        ]),
    );
    write(
        "agent_frame",
        "batch-unlock-stop",
        &frames(&[
            hello(),
            Request::Batch {
                ops: vec![
                    (
                        "a".into(),
                        Some((Credential::Opaque(SecretBytes::from_slice(b"x")), None)),
                    ),
                    ("b".into(), None),
                ],
            },
            Request::Unlock {
                tty: Some("/dev/pts/3".into()),
            },
            Request::Lock,
            Request::Stop,
        ]),
    );
}
