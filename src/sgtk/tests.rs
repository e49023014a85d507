//! Unit tests of the formats' details that the public API does not reach alone.

use super::pickle_read::*;
use super::pickle_write::*;
use super::serialized::*;
use super::session_cache::*;
use super::user::*;
use super::yaml::*;
use crate::credential::{Credential, ScriptKey, SessionToken};
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
    assert!(
        message(decode_raw_unicode_escape(b"\\ud83d", 0).unwrap_err()).contains("lone surrogate")
    );
    assert!(
        message(decode_raw_unicode_escape(b"\\u12", 0).unwrap_err()).contains("truncated \\uXXXX")
    );
    assert!(decode_raw_unicode_escape(b"\\U00110000", 0).is_err());
}

#[test]
fn python2_string_opcode_decoding() {
    let s = decode_python_string(br"'a\'b\\c\n\x41\101\q'", 0).expect("decode");
    assert_eq!(s.expose(), "a'b\\c\nAA\\q");
    let utf8 = decode_python_string(br#""jos\xc3\xa9""#, 0).expect("utf-8");
    assert_eq!(utf8.expose(), "josé");
    assert!(message(decode_python_string(b"abc", 0).unwrap_err()).contains("not quoted"));
    assert!(message(decode_python_string(br"'\xe9'", 0).unwrap_err()).contains("not UTF-8"));
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
