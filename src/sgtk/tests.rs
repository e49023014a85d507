//! Unit tests of the formats' details that the public API does not reach alone.

use super::flow::*;
use super::input::*;
use super::json::*;
use super::pickle_read::*;
use super::pickle_write::*;
use super::round_trip::check_pickle_round_trip;
use super::serialized::*;
use super::session_cache::*;
use super::user::*;
use super::yaml::*;
use crate::clock::UnixTime;
use crate::credential::{Credential, FlowToken, ScriptKey, SessionToken};
use crate::error::Error;

fn session(login: &str, token: &str) -> Credential {
    Credential::SessionToken(SessionToken {
        host: "https://mysite.shotgrid.autodesk.com".into(),
        login: login.into(),
        session_token: token.into(),
        http_proxy: None,
        session_metadata: None,
    })
}

fn message(e: Error) -> String {
    match e {
        Error::InvalidArgument(m) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn json_string_escapes_match_python() {
    let mut out = String::new();
    push_json_str(&mut out, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é€😀/");
    assert_eq!(
        out,
        r#""a\"b\\c\n\r\t\b\f\u0001\u001f\u007f\u00e9\u20ac\ud83d\ude00/""#
    );
}

#[test]
fn pickle_escapes_match_python() {
    // In the token: a login may not hold control characters.
    let cred = session("jdoe", "a\\b\nc\rd\0e\u{1a}f€😀\té");
    let text = to_serialized_user_pickle(&cred).expect("pickle");
    // Checked against CPython 3.11's pickle.dumps(..., protocol=0).
    assert!(
        text.contains("Va\\u005cb\\u000ac\\u000dd\\u0000e\\u001af\\u20ac\\U0001f600\té\np"),
        "{text:?}"
    );
    assert!(text.ends_with("sV_payload_encoding\np12\nVISO-8859-1\np13\ns."));
}

#[test]
fn one_character_values_share_a_memo_entry_like_cpython() {
    // The host is a URL (the library refuses anything else), so the two
    // equal one-character values are the script name and the key.
    let cred = Credential::ScriptKey(ScriptKey {
        host: "https://h".into(),
        script_name: "k".into(),
        api_key: "k".into(),
        http_proxy: Some("".into()),
    });
    let text = to_serialized_user_pickle(&cred).expect("pickle");
    assert_eq!(
        text,
        "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nV\np6\n\
         sVhost\np7\nVhttps://h\np8\nsVapi_script\np9\nVk\np10\nsVapi_key\np11\ng10\nss."
    );
    assert_eq!(parse_serialized_user(&text).expect("parse"), cred);
}

#[test]
fn raw_unicode_escape_decoding() {
    let s = decode_raw_unicode_escape(b"a\\u00e9\\U0001f600\\x\\\\u0041\xe9\\", 0).expect("decode");
    // `\\` followed by a non-u byte keeps both; a trailing backslash stays.
    assert_eq!(s.expose(), "aé😀\\x\\\\u0041é\\");
    let pair = decode_raw_unicode_escape(b"\\ud83d\\ude00", 0).expect("pair");
    assert_eq!(pair.expose(), "😀");
    assert!(decode_raw_unicode_escape(b"\\ud83d", 0)
        .unwrap_err()
        .contains("lone surrogate"));
    assert!(decode_raw_unicode_escape(b"\\u12", 0)
        .unwrap_err()
        .contains("truncated \\uXXXX"));
    assert!(decode_raw_unicode_escape(b"\\U00110000", 0).is_err());
}

#[test]
fn python2_string_opcode_decoding() {
    let s = decode_python_string(br"'a\'b\\c\n\x41\101\q'", 0).expect("decode");
    assert_eq!(s.expose(), "a'b\\c\nAA\\q");
    let utf8 = decode_python_string(br#""jos\xc3\xa9""#, 0).expect("utf-8");
    assert_eq!(utf8.expose(), "josé");
    assert!(decode_python_string(b"abc", 0)
        .unwrap_err()
        .contains("not quoted"));
    assert!(decode_python_string(br"'\xe9'", 0)
        .unwrap_err()
        .contains("not UTF-8"));
    assert!(decode_python_string(br"'\x4'", 0).is_err());
}

#[test]
fn python2_pickle_with_s_strings_and_memo_from_one() {
    let text = "(dp1\nS'type'\np2\nS'ScriptUser'\np3\nsS'data'\np4\n(dp5\nS'http_proxy'\np6\n\
                NsS'host'\np7\nS'https://x.example'\np8\nsS'api_script'\np9\nS'farm'\np10\n\
                sS'api_key'\np11\nS'k3y'\np12\nss.";
    let cred = parse_serialized_user(text).expect("parse");
    assert_eq!(
        cred,
        Credential::ScriptKey(ScriptKey {
            host: "https://x.example".into(),
            script_name: "farm".into(),
            api_key: "k3y".into(),
            http_proxy: None,
        })
    );
}

#[test]
fn setitems_empty_dict_and_get_are_accepted() {
    let text = "}(Vtype\nVSessionUser\nVdata\n}(Vhost\nVh.example\np0\nVlogin\ng0\n\
                Vsession_token\nVtok\nuu.";
    let cred = parse_serialized_user(text).expect("parse");
    match cred {
        Credential::SessionToken(s) => {
            assert_eq!(s.login, "h.example");
            assert_eq!(s.session_token.expose(), "tok");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn interpreter_limits() {
    let deep = format!("{}.", "(".repeat(MAX_STACK + 1));
    assert!(message(parse_serialized_user(&deep).unwrap_err()).contains("stack exceeds"));
    let nested = format!("}}{}{}.", "Vk\n}".repeat(20), "s".repeat(20));
    assert!(message(parse_serialized_user(&nested).unwrap_err()).contains("nest deeper"));
    let big = "x".repeat(MAX_INPUT_LEN / 2);
    let bomb = format!("(dp0\nVa\np1\nV{big}\np2\ns{}.", "Vb\ng2\ns".repeat(20));
    assert!(message(parse_serialized_user(&bomb).unwrap_err()).contains("strings exceed"));
    let self_ref = "(dp0\nVa\ng0\ns.";
    assert!(message(parse_serialized_user(self_ref).unwrap_err()).contains("refers to a dict"));
    let many_puts = format!(
        "N{}.",
        (0..=MAX_MEMO)
            .map(|i| format!("p{i}\n"))
            .collect::<String>()
    );
    assert!(message(parse_serialized_user(&many_puts).unwrap_err()).contains("memo exceeds"));
}

#[test]
fn payload_encoding_needs_latin1_text() {
    let text = "(dp0\nVtype\np1\nV€\np2\nsV_payload_encoding\np3\nVISO-8859-1\np4\ns.";
    // Valid as UTF-8, but the declared Latin-1 cannot hold the euro sign.
    let err = message(parse_serialized_user(text).unwrap_err());
    assert!(err.contains("above U+00FF"), "{err}");
    let other = "(dp0\nV_payload_encoding\np1\nVcp1252\np2\ns.";
    assert!(message(parse_serialized_user(other).unwrap_err()).contains("unsupported"));
}

#[test]
fn yaml_strings_stay_strings_for_yaml_1_1() {
    let mut out = String::new();
    for s in [
        "jdoe",
        "j.doe@studio.com",
        "yes",
        "On",
        "1:20",
        "0777",
        "",
        "a b",
        "é",
        "=",
        "<<",
    ] {
        emit_yaml_str(s, &mut out);
        out.push('|');
    }
    assert_eq!(
        out,
        "jdoe|j.doe@studio.com|\"yes\"|\"On\"|\"1:20\"|\"0777\"|\"\"|\"a b\"|\"\\xe9\"|\"=\"|\"<<\"|"
    );
    assert_eq!(yaml11_float(1e20), "1.0e+20");
    assert_eq!(yaml11_float(1.5e-7), "1.5e-7");
    assert_eq!(yaml11_float(0.25), "0.25");
}

#[test]
fn site_names_follow_tk_core() {
    assert_eq!(
        session_cache_site_name("https://MySite.shotgunstudio.com:8080/x"),
        "mysite"
    );
    assert_eq!(
        session_cache_site_name("https://mysite.shotgrid.autodesk.com"),
        "mysite"
    );
    assert_eq!(
        session_cache_site_name("http://sg.internal.studio"),
        "sg.internal.studio"
    );
    assert_eq!(
        session_cache_site_name("mysite.shotgrid.autodesk.com"),
        "mysite"
    );
    assert_eq!(
        host_for_site("sg.internal.studio", &[]),
        "https://sg.internal.studio"
    );
    assert_eq!(
        host_for_site("mysite", &[]),
        "https://mysite.shotgrid.autodesk.com"
    );
    let hosts = vec!["https://mysite.shotgunstudio.com".to_owned()];
    assert_eq!(
        host_for_site("mysite", &hosts),
        "https://mysite.shotgunstudio.com"
    );
}

/// What tk-core 0.24 on CPython writes for `Context.serialize()` of a context with a
/// project, shot, user, step, task and one additional entity, and a session user
/// (docs/TOOLKIT.md has it line by line). The entity dicts' keys are interned
/// literals in tk-core, so CPython writes each after its first as a memo GET.
const CONTEXT_PICKLE: &str = "(dp0\nVproject\np1\n(dp2\nVtype\np3\nVProject\np4\nsVid\np5\nI65\nsVname\np6\nVdemo\np7\nssVentity\np8\n(dp9\ng3\nVShot\np10\nsg5\nI1184\nsg6\nVABC_0010\np11\nssVuser\np12\n(dp13\ng3\nVHumanUser\np14\nsg5\nI42\nsg6\nVJohn Doe\np15\nssVstep\np16\n(dp17\ng3\nVStep\np18\nsg5\nI7\nsg6\nVLighting\np19\nssVtask\np20\n(dp21\ng3\nVTask\np22\nsg5\nI4512\nsg6\nVlgt\np23\nssVadditional_entities\np24\n(lp25\n(dp26\ng3\nVAsset\np27\nsg5\nI1200\nsg6\nVtree\np28\nsasVsource_entity\np29\nNsVflow_project_id\np30\nNsVflow_draft_id\np31\nNsVflow_schema_version\np32\nNsV_pc_path\np33\nV/studio/configs/demo\np34\nsV_current_user\np35\nV(dp0\\u000aVtype\\u000ap1\\u000aVSessionUser\\u000ap2\\u000asVdata\\u000ap3\\u000a(dp4\\u000aVhttp_proxy\\u000ap5\\u000aNsVhost\\u000ap6\\u000aVhttps://mysite.shotgrid.autodesk.com\\u000ap7\\u000asVlogin\\u000ap8\\u000aVjdoe\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123sessiontoken\\u000ap11\\u000ass.\np36\ns.";

fn entity<'a>(ty: &'a str, id: i64, name: &'a str) -> PickleValue<'a> {
    PickleValue::Dict(vec![
        ("type", PickleValue::Str(ty)),
        ("id", PickleValue::Int(id)),
        ("name", PickleValue::Str(name)),
    ])
}

fn context_value<'a>(project: &'a str, user: &'a str) -> PickleValue<'a> {
    PickleValue::Dict(vec![
        ("project", entity("Project", 65, project)),
        ("entity", entity("Shot", 1184, "ABC_0010")),
        ("user", entity("HumanUser", 42, "John Doe")),
        ("step", entity("Step", 7, "Lighting")),
        ("task", entity("Task", 4512, "lgt")),
        (
            "additional_entities",
            PickleValue::List(vec![entity("Asset", 1200, "tree")]),
        ),
        ("source_entity", PickleValue::None),
        ("flow_project_id", PickleValue::None),
        ("flow_draft_id", PickleValue::None),
        ("flow_schema_version", PickleValue::None),
        ("_pc_path", PickleValue::Str("/studio/configs/demo")),
        ("_current_user", PickleValue::Str(user)),
    ])
}

#[test]
fn the_writer_writes_a_context_as_cpython_does() {
    let user = to_serialized_user_pickle(&session("jdoe", "abc123sessiontoken")).expect("user");
    assert_eq!(tk_core_dumps(context_value("demo", &user)), CONTEXT_PICKLE);
    // A Latin-1 name makes the bytes non-UTF-8: the key goes last, the text is Latin-1.
    let latin1 = tk_core_dumps(context_value("Café", &user));
    assert!(latin1.contains("VCafé\np7\n"), "{latin1:?}");
    assert!(latin1.ends_with("p36\nsV_payload_encoding\np37\nVISO-8859-1\np38\ns."));
    // Beyond 32 bits CPython writes LONG with Python 2's L; booleans are INT 01 / 00.
    let scalars = PickleValue::List(vec![
        PickleValue::Int(-2_147_483_648),
        PickleValue::Int(2_147_483_648),
        PickleValue::Bool(true),
        PickleValue::Bool(false),
    ]);
    assert_eq!(
        &dumps(&scalars)[..],
        b"(lp0\nI-2147483648\naL2147483648L\naI01\naI00\na."
    );
}

#[test]
fn the_reader_reads_ints_lists_and_nested_dicts() {
    let Val::Dict(top) = unpickle(CONTEXT_PICKLE.as_bytes()).expect("context") else {
        panic!("not a dict");
    };
    let Some(Val::Dict(project)) = top.map.get("project") else {
        panic!("no project");
    };
    assert_eq!(project.map.get("id"), Some(&Val::Int(65)));
    let Some(Val::List(extra)) = top.map.get("additional_entities") else {
        panic!("no list");
    };
    assert_eq!(extra.items.len(), 1);
    assert_eq!(top.map.get("flow_draft_id"), Some(&Val::Null));
    assert_eq!(top.depth, 2, "top dict > list > entity dict");
    let list = unpickle(b"(lp0\nL-9L\naI01\na(I3\nVx\np1\ng1\ne]a.").expect("list");
    let Val::List(list) = list else {
        panic!("not a list")
    };
    assert_eq!(list.items[0], Val::Int(-9));
    assert_eq!(list.items[1], Val::Bool(true));
    assert_eq!(list.items[2], Val::Int(3));
    assert_eq!(list.items.len(), 6);
    // APPEND onto a dict, or a key that is not a string, is refused.
    assert!(unpickle(b"}I1\na.").unwrap_err().contains("needs a list"));
    assert!(unpickle(b"}I1\nI2\ns.")
        .unwrap_err()
        .contains("only string keys"));
    assert!(unpickle(b"I99999999999999999999\n.")
        .unwrap_err()
        .contains("64 bits"));
    assert!(unpickle(b"I1x\n.")
        .unwrap_err()
        .contains("not a decimal integer"));
    // A list is no more shareable than a dict.
    assert!(unpickle(b"(lp0\ng0\na.")
        .unwrap_err()
        .contains("refers to a list"));
}

#[test]
fn unsupported_opcodes_are_named_with_their_offset() {
    let err = unpickle(b"(dp0\nVa\np1\ncos\nsystem\n").unwrap_err();
    assert!(
        err.contains("unsupported pickle opcode 'c' (GLOBAL) at offset 11"),
        "{err}"
    );
    for (bytes, name) in [
        (&b"(dp0\nVa\nF1.5\ns."[..], "FLOAT"),
        (b"(dp0\nVa\n(tp1\ns.", "TUPLE"),
        (b"(dp0\nVa\nR.", "REDUCE"),
        (b"N0.", "POP"),
    ] {
        let err = unpickle(bytes).unwrap_err();
        assert!(err.contains(name), "{err}");
    }
    let values = format!("(l{}.", "]a".repeat(MAX_VALUES));
    assert!(unpickle(values.as_bytes())
        .unwrap_err()
        .contains("more than"));
    assert!(unpickle(b"]]a.").is_ok());
    let nested = format!("{}{}.", "]".repeat(9), "a".repeat(8));
    assert!(unpickle(nested.as_bytes())
        .unwrap_err()
        .contains("nest deeper"));
}

#[test]
fn input_is_text_or_a_pickle_s_own_bytes() {
    let user = session("josé", "abc123sessiontoken");
    let text = to_serialized_user_pickle(&user).expect("pickle");
    // The text as UTF-8, and as tk-core's raw Latin-1 bytes: both read as tk-core reads them.
    assert_eq!(parse_serialized_user(&text).expect("text"), user);
    let latin1: Vec<u8> = text.chars().map(|c| c as u8).collect();
    assert!(std::str::from_utf8(&latin1).is_err());
    assert_eq!(parse_serialized_user(&latin1).expect("bytes"), user);
    // JSON after a byte order mark; a BOM before anything else is named.
    let json = to_serialized_user_json(&user).expect("json");
    assert_eq!(
        parse_serialized_user(format!("\u{feff}{json}")).expect("bom"),
        user
    );
    let err = message(parse_serialized_user(format!("\u{feff}{text}")).unwrap_err());
    assert!(err.contains("byte order mark"), "{err}");
    // Not UTF-8 but shaped like JSON, not JSON and not a pickle: named as such.
    let err = message(parse_serialized_user(b"{\"type\": \"\xe9\"}").unwrap_err());
    assert!(err.contains("not UTF-8"), "{err}");
    let err = message(parse_serialized_user("-not-a-payload").unwrap_err());
    assert!(err.contains("not JSON") && err.contains("pickle"), "{err}");
    let err = message(parse_serialized_user("zzz").unwrap_err());
    assert!(
        err.contains("not JSON") && err.contains("no pickle opcode"),
        "{err}"
    );
    let err = message(parse_serialized_user("hunter2").unwrap_err());
    assert!(
        err.contains("BINGET at offset 0") && !err.contains("'h'"),
        "{err}"
    );
}

#[test]
fn shapes_are_told_by_their_keys() {
    let context = decode(CONTEXT_PICKLE.as_bytes()).expect("context");
    assert_eq!(shape(&context), Ok(Shape::Context));
    let user = decode(
        to_serialized_user_json(&session("jdoe", "t"))
            .expect("json")
            .as_bytes(),
    )
    .expect("user");
    assert_eq!(shape(&user), Ok(Shape::User));
    let other = decode(b"{\"project\": null}").expect("json");
    assert!(shape(&other).unwrap_err().contains("neither"));
}

#[test]
fn writer_and_reader_agree() {
    assert!(check_pickle_round_trip(CONTEXT_PICKLE.as_bytes()));
    assert!(check_pickle_round_trip(b"(lp0\nL-9L\naI01\na]a}a."));
    assert!(!check_pickle_round_trip(b"cos\nsystem\n."));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
    #[test]
    fn any_tree_the_writer_writes_reads_back(tree in arb_tree()) {
        let owned = tree;
        let value = as_value(&owned);
        let bytes = dumps(&value);
        proptest::prop_assert!(check_pickle_round_trip(&bytes));
    }
}

/// An owned tree for proptest, turned into a `PickleValue` by `as_value`.
#[derive(Clone, Debug)]
enum Tree {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Tree>),
    Dict(Vec<(String, Tree)>),
}

fn arb_tree() -> impl proptest::strategy::Strategy<Value = Tree> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Tree::None),
        any::<bool>().prop_map(Tree::Bool),
        any::<i64>().prop_map(Tree::Int),
        "\\PC{0,12}".prop_map(Tree::Str),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tree::List),
            proptest::collection::vec(("[a-zé€]{0,4}", inner), 0..6).prop_map(Tree::Dict),
        ]
    })
}

fn as_value(t: &Tree) -> PickleValue<'_> {
    match t {
        Tree::None => PickleValue::None,
        Tree::Bool(b) => PickleValue::Bool(*b),
        Tree::Int(n) => PickleValue::Int(*n),
        Tree::Str(s) => PickleValue::Str(s),
        Tree::List(items) => PickleValue::List(items.iter().map(as_value).collect()),
        Tree::Dict(items) => PickleValue::Dict(
            items
                .iter()
                .map(|(k, v)| (k.as_str(), as_value(v)))
                .collect(),
        ),
    }
}

#[test]
fn json_members_are_cut_as_json_dumps_would_write_the_rest() {
    let text = r#"{"a": {"x": "1", "y": [1, {"z": "}"}], "w": null}, "b": {}}"#;
    let top = object_members(text, 0).expect("top");
    assert_eq!(
        top.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let inner = object_members(text, top[0].value.start).expect("inner");
    let keys: Vec<&str> = inner.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["x", "y", "w"]);
    let cut = |remove: &[usize]| apply_cuts(text, member_cuts(&inner, remove));
    assert_eq!(cut(&[1]), r#"{"a": {"x": "1", "w": null}, "b": {}}"#);
    assert_eq!(
        cut(&[0]),
        r#"{"a": {"y": [1, {"z": "}"}], "w": null}, "b": {}}"#
    );
    assert_eq!(
        cut(&[2]),
        r#"{"a": {"x": "1", "y": [1, {"z": "}"}]}, "b": {}}"#
    );
    assert_eq!(cut(&[0, 1]), r#"{"a": {"w": null}, "b": {}}"#);
    assert_eq!(cut(&[0, 1, 2]), r#"{"a": {}, "b": {}}"#);
    assert!(object_members("[1]", 0).is_err());
}

/// A JWT with the payload `{"exp": <exp>, "sub": "jdoe"}` (header and signature are
/// not read).
fn jwt(exp: &str) -> String {
    use base64ct::Encoding as _;
    let payload = format!("{{\"exp\": {exp}, \"sub\": \"jdoe\"}}");
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
        base64ct::Base64UrlUnpadded::encode_string(payload.as_bytes())
    )
}

#[test]
fn flow_token_expiry_is_the_jwt_exp() {
    assert_eq!(
        flow_token_expiry(&jwt("1700003600")),
        Some(UnixTime(1_700_003_600))
    );
    assert_eq!(
        flow_token_expiry(&jwt("1700003600.9")),
        Some(UnixTime(1_700_003_600))
    );
    for bad in [
        jwt("\"soon\""),
        jwt("0"),
        "not-a-jwt".to_owned(),
        "a.b".to_owned(),
        "a.!!!.c".to_owned(),
        "a.b.c.d".to_owned(),
    ] {
        assert_eq!(flow_token_expiry(&bad), None, "{bad}");
    }
}

#[test]
fn flow_tokens_are_written_as_tk_core_writes_them() {
    let token = FlowToken {
        app_id: DEFAULT_FLOW_APP_ID.into(),
        profile: "jdoe".into(),
        access_token: "eyJ.x.y".into(),
        refresh_token: Some("r3fr3sh".into()),
    };
    assert_eq!(
        to_flow_tokens_json(&token),
        "{\"adsk.flow.8QyoQKXZ7HDuQFmptJGrzsp2GwpATmyV.access_token\": {\"jdoe\": \"eyJ.x.y\"}, \
         \"adsk.flow.8QyoQKXZ7HDuQFmptJGrzsp2GwpATmyV.refresh_token\": {\"jdoe\": \"r3fr3sh\"}}"
    );
    let alone = FlowToken {
        refresh_token: None,
        profile: "josé".into(),
        ..token
    };
    assert_eq!(
        to_flow_tokens_json(&alone),
        "{\"adsk.flow.8QyoQKXZ7HDuQFmptJGrzsp2GwpATmyV.access_token\": {\"jos\\u00e9\": \"eyJ.x.y\"}}"
    );
}
