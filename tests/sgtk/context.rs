//! `TANK_CONTEXT`: the samples of docs/TOOLKIT.md (what `Context.serialize` writes by
//! default and with `use_json=True`), told from users by structure, stored in a vault
//! and exported byte for byte in the form they came in; and, when python3 is
//! installed, the same contexts made by CPython's pickle as tk-core drives it.

use farmvault::sgtk::{self, export, parse, parse_tank_context};
use farmvault::{
    Config, Credential, Error, Field, KdfParams, Kind, PutOptions, SessionToken, Unlock,
};

const HOST: &str = "https://mysite.shotgrid.autodesk.com";

/// `Context.serialize()` (the default pickle), docs/TOOLKIT.md, "TANK_CONTEXT".
pub const CONTEXT_PICKLE: &str = "(dp0\nVproject\np1\n(dp2\nVtype\np3\nVProject\np4\nsVid\np5\nI65\nsVname\np6\nVdemo\np7\nssVentity\np8\n(dp9\ng3\nVShot\np10\nsg5\nI1184\nsg6\nVABC_0010\np11\nssVuser\np12\n(dp13\ng3\nVHumanUser\np14\nsg5\nI42\nsg6\nVJohn Doe\np15\nssVstep\np16\n(dp17\ng3\nVStep\np18\nsg5\nI7\nsg6\nVLighting\np19\nssVtask\np20\n(dp21\ng3\nVTask\np22\nsg5\nI4512\nsg6\nVlgt\np23\nssVadditional_entities\np24\n(lp25\n(dp26\ng3\nVAsset\np27\nsg5\nI1200\nsg6\nVtree\np28\nsasVsource_entity\np29\nNsVflow_project_id\np30\nNsVflow_draft_id\np31\nNsVflow_schema_version\np32\nNsV_pc_path\np33\nV/studio/configs/demo\np34\nsV_current_user\np35\nV(dp0\\u000aVtype\\u000ap1\\u000aVSessionUser\\u000ap2\\u000asVdata\\u000ap3\\u000a(dp4\\u000aVhttp_proxy\\u000ap5\\u000aNsVhost\\u000ap6\\u000aVhttps://mysite.shotgrid.autodesk.com\\u000ap7\\u000asVlogin\\u000ap8\\u000aVjdoe\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123sessiontoken\\u000ap11\\u000ass.\np36\ns.";

/// `Context.serialize(use_json=True)` of the same context.
pub const CONTEXT_JSON: &str = r#"{"project": {"type": "Project", "id": 65, "name": "demo"}, "entity": {"type": "Shot", "id": 1184, "name": "ABC_0010"}, "user": {"type": "HumanUser", "id": 42, "name": "John Doe"}, "step": {"type": "Step", "id": 7, "name": "Lighting"}, "task": {"type": "Task", "id": 4512, "name": "lgt"}, "additional_entities": [{"type": "Asset", "id": 1200, "name": "tree"}], "source_entity": null, "flow_project_id": null, "flow_draft_id": null, "flow_schema_version": null, "_pc_path": "/studio/configs/demo", "_current_user": "{\"type\": \"SessionUser\", \"data\": {\"http_proxy\": null, \"host\": \"https://mysite.shotgrid.autodesk.com\", \"login\": \"jdoe\", \"session_token\": \"abc123sessiontoken\"}}"}"#;

/// The default pickle of the same context for the user `josé`: the user's own pickle
/// carries `_payload_encoding`, its raw `é` makes the context's bytes non-UTF-8, and
/// tk-core adds the key to the context too and returns its Latin-1 text.
fn context_pickle_latin1_user() -> String {
    CONTEXT_PICKLE
        .replace(
            "Vjdoe\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123sessiontoken\\u000ap11\\u000ass.",
            "Vjos\u{e9}\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123sessiontoken\\u000ap11\\u000assV_payload_encoding\\u000ap12\\u000aVISO-8859-1\\u000ap13\\u000as.",
        )
        .replace("\np36\ns.", "\np36\nsV_payload_encoding\np37\nVISO-8859-1\np38\ns.")
}

fn jdoe(login: &str) -> Credential {
    Credential::SessionToken(SessionToken {
        host: HOST.into(),
        login: login.into(),
        session_token: "abc123sessiontoken".into(),
        http_proxy: None,
        session_metadata: None,
    })
}

fn latin1_bytes(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1"))
        .collect()
}

fn message<T: std::fmt::Debug>(r: farmvault::Result<T>) -> String {
    match r {
        Err(Error::InvalidArgument(m)) => {
            assert!(!m.contains("abc123sessiontoken"), "leaks the token: {m}");
            m
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn both_forms_are_contexts_carrying_their_user() {
    for input in [CONTEXT_PICKLE, CONTEXT_JSON] {
        let cred = parse(input).expect("context");
        assert_eq!(cred.kind(), Kind::TankContext);
        let Credential::TankContext(ctx) = &cred else {
            panic!("{cred:?}");
        };
        assert_eq!(ctx.user(), &jdoe("jdoe"));
        assert_eq!(ctx.payload(), input.as_bytes());
        // Its fields are the user's, plus the context itself.
        assert_eq!(cred.host(), Some(HOST));
        assert_eq!(cred.field(Field::Login), Some(&b"jdoe"[..]));
        assert_eq!(cred.secret(), b"abc123sessiontoken");
        assert_eq!(cred.field(Field::TankContext), Some(input.as_bytes()));
        assert_eq!(cred.field(Field::ApiKey), None);
        // Exported exactly as it came in; the user alone as tk-core's JSON.
        assert_eq!(&export(&cred).expect("export")[..], input.as_bytes());
        assert_eq!(
            sgtk::to_serialized_user_json(&cred).expect("user"),
            sgtk::to_serialized_user_json(&jdoe("jdoe")).expect("user")
        );
        // parse_tank_context still gives the user alone.
        assert_eq!(parse_tank_context(input).expect("user"), jdoe("jdoe"));
    }
}

#[test]
fn latin1_contexts_come_back_in_the_form_they_came_in() {
    let text = context_pickle_latin1_user();
    let as_utf8 = text.as_bytes().to_vec();
    let as_raw = latin1_bytes(&text);
    assert!(
        std::str::from_utf8(&as_raw).is_err(),
        "raw Latin-1 is not UTF-8"
    );
    for input in [as_utf8, as_raw] {
        let cred = parse(&input).expect("Latin-1 context");
        let Credential::TankContext(ctx) = &cred else {
            panic!("{cred:?}");
        };
        assert_eq!(ctx.user(), &jdoe("jos\u{e9}"));
        assert_eq!(&export(&cred).expect("export")[..], &input[..]);
    }
}

#[test]
fn a_byte_order_mark_before_json_is_kept() {
    let input = format!("\u{feff}{CONTEXT_JSON}");
    let cred = parse(&input).expect("BOM");
    assert_eq!(&export(&cred).expect("export")[..], input.as_bytes());
}

#[test]
fn users_and_contexts_are_told_apart_by_structure() {
    // A user whose values hold the text "_current_user" is still a user.
    let tricky = Credential::SessionToken(SessionToken {
        host: HOST.into(),
        login: "jdoe".into(),
        session_token: "abc123sessiontoken".into(),
        http_proxy: None,
        session_metadata: Some("\"_current_user\": \"_pc_path\"".into()),
    });
    let json = sgtk::to_serialized_user_json(&tricky).expect("json");
    let pickle = sgtk::to_serialized_user_pickle(&tricky).expect("pickle");
    assert_eq!(parse(&json).expect("user"), tricky);
    assert_eq!(parse(&pickle).expect("user"), tricky);
    // A user handed to the context reader is named as one.
    let msg = message(parse_tank_context(&json));
    assert!(msg.contains("serialized user, not a context"), "{msg}");
    // Neither a user nor a context.
    let msg = message(parse(r#"{"project": null}"#));
    assert!(msg.contains("neither a serialized user"), "{msg}");
}

#[test]
fn a_context_without_a_user_is_refused() {
    for input in [
        CONTEXT_JSON.replace(
            &CONTEXT_JSON[CONTEXT_JSON.find(", \"_current_user\"").expect("user")..],
            "}",
        ),
        CONTEXT_PICKLE.replace(
            &CONTEXT_PICKLE[CONTEXT_PICKLE.find("V_current_user").expect("user")..],
            ".",
        ),
        CONTEXT_JSON.replace(
            &CONTEXT_JSON[CONTEXT_JSON.find("\"_current_user\"").expect("user")..],
            "\"_current_user\": \"\"}",
        ),
    ] {
        let msg = message(parse(&input));
        assert!(msg.starts_with("TANK_CONTEXT: no user"), "{msg}");
    }
    let msg = message(parse(
        CONTEXT_JSON.replace(r#"\"SessionUser\""#, r#"\"Nobody\""#),
    ));
    assert!(
        msg.starts_with("TANK_CONTEXT \"_current_user\": unknown type \"Nobody\""),
        "{msg}"
    );
    let msg = message(parse(CONTEXT_JSON.replace("\"id\": 65", "\"id\": 65,,")));
    assert!(msg.contains("malformed JSON at line 1"), "{msg}");
}

#[test]
fn a_stored_context_reads_back_and_exports_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = Config::new(dir.path().join("vault"))
        .kdf(KdfParams::new(8, 1, 1).expect("cheap kdf"))
        .create(&Unlock::passphrase("pw"))
        .expect("vault");
    let raw = latin1_bytes(&context_pickle_latin1_user());
    for (name, input) in [
        ("ctx/pickle", CONTEXT_PICKLE.as_bytes().to_vec()),
        ("ctx/json", CONTEXT_JSON.as_bytes().to_vec()),
        ("ctx/raw", raw),
    ] {
        let cred = parse(&input).expect("context");
        vault
            .put_credential(name, &cred, &PutOptions::new())
            .expect("put");
        let entry = vault.get(name).expect("get");
        assert_eq!(entry.meta.kind, Kind::TankContext);
        assert_eq!(entry.meta.host.as_deref(), Some(HOST));
        assert_eq!(entry.credential, cred);
        assert_eq!(&export(&entry.credential).expect("export")[..], &input[..]);
        let printed = format!("{:?}", entry.credential);
        assert!(!printed.contains("abc123sessiontoken"), "{printed}");
    }
}

// ---------------------------------------------------------------------------------------
// Against CPython
// ---------------------------------------------------------------------------------------

/// tk-core's `Context.serialize` reduced to what shapes its output: `to_dict` with
/// entity dicts rebuilt from server-like results (their keys are literals, so
/// interned), `_pc_path`, `_current_user` from `serialize_user`, and `util/pickle.py`'s
/// `dumps`. Prints each context's text as UTF-8 hex, one per line.
const CONTEXT_PY: &str = r#"
import json, pickle, sys

def dumps(data):
    try:
        return pickle.dumps(data, protocol=0).decode("utf-8")
    except UnicodeError:
        data["_payload_encoding"] = "ISO-8859-1"
        return pickle.dumps(data, protocol=0).decode("ISO-8859-1")

def fresh(s):
    return json.loads(json.dumps(s))

def user(login, use_json):
    d = {"type": "SessionUser", "data": {"http_proxy": None, "host": fresh("https://mysite.shotgrid.autodesk.com"),
         "login": fresh(login), "session_token": fresh("abc123sessiontoken")}}
    return json.dumps(d) if use_json else dumps(d)

def cleanup(e):
    f = {"type": e["type"], "id": e["id"]}
    if "name" in e:
        f["name"] = e["name"]
    return f

def context(login, use_json):
    sg = json.loads
    data = {
        "project": cleanup(sg('{"type": "Project", "id": 65, "name": "demo"}')),
        "entity": cleanup(sg('{"type": "Shot", "id": 1184, "name": "ABC_0010"}')),
        "user": cleanup(sg('{"type": "HumanUser", "id": 42, "name": "John Doe"}')),
        "step": cleanup(sg('{"type": "Step", "id": 7, "name": "Lighting"}')),
        "task": cleanup(sg('{"type": "Task", "id": 4512, "name": "lgt"}')),
        "additional_entities": [cleanup(sg('{"type": "Asset", "id": 1200, "name": "tree"}'))],
        "source_entity": None,
        "flow_project_id": None,
        "flow_draft_id": None,
        "flow_schema_version": None,
    }
    data["_pc_path"] = fresh("/studio/configs/demo")
    data["_current_user"] = user(login, use_json)
    return json.dumps(data) if use_json else dumps(data)

for login, use_json in (("jdoe", False), ("jdoe", True), ("jos\u00e9", False)):
    print(context(login, use_json).encode("utf-8").hex())
"#;

#[test]
fn the_samples_are_what_cpython_writes_through_tk_core() {
    let Ok(out) = std::process::Command::new("python3")
        .args(["-c", CONTEXT_PY])
        .output()
    else {
        eprintln!("note: python3 not available; skipping the CPython comparison");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let texts: Vec<String> = String::from_utf8(out.stdout)
        .expect("hex")
        .lines()
        .map(|hex| {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            String::from_utf8(bytes).expect("UTF-8")
        })
        .collect();
    assert_eq!(
        texts,
        [
            CONTEXT_PICKLE.to_owned(),
            CONTEXT_JSON.to_owned(),
            context_pickle_latin1_user()
        ]
    );
}
