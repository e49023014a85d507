//! `farmvault grant-policy`: the vault's caps on both clocks of every job grant,
//! shown, changed, enforced at issue, and left alone by a refused change.

use crate::common::{self, code, json, Env};
use crate::grant::{env_with_entries, job, job_env, RENDER_KEY};

/// `grant-policy --json` as (max_claim_secs, max_use_secs), read by a fresh process.
fn policy(env: &Env) -> (u64, u64) {
    let v = json(&env.out(&["grant-policy", "--json"]));
    let secs = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (secs("max_claim_secs"), secs("max_use_secs"))
}

const DEFAULT_POLICY: (u64, u64) = (7 * 86_400, 86_400);

#[test]
fn grant_policy_shows_the_defaults() {
    let env = Env::with_vault();
    let r = env.run(&["grant-policy"], None).expect(code::OK);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[0].starts_with("max claim-by window: 7d (604800 s)"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("--claim-within"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("max use window:      24h (86400 s)"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("--use-for"), "{}", lines[1]);
    assert!(!r.stderr.contains("changed"), "showing changes nothing");

    let out = env.out(&["grant-policy", "--json"]);
    assert_eq!(
        json(&out),
        serde_json::json!({"max_claim_secs": 604_800, "max_use_secs": 86_400}),
        "exactly these keys"
    );
    assert_eq!(out.lines().count(), 1, "{out}");

    let help = env.out(&["grant-policy", "--help"]);
    for needle in [
        "7d",
        "24h",
        "--claim-within",
        "--use-for",
        "only grants issued after it",
        "farmvault grant-policy --max-use 72h",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn raising_the_use_limit_lets_a_longer_grant_through_and_issued_grants_keep_theirs() {
    let env = env_with_entries();
    // A use window over the default 24h limit.
    fn long(out: &str) -> [&str; 10] {
        [
            "grant",
            "shotgun/render",
            "--claim-within",
            "72h",
            "--use-for",
            "48h",
            "--label",
            "weekend",
            "--out",
            out,
        ]
    }
    // Refused under the default policy, pointing at the command that raises it.
    let r = env.fails(&long("before.fvgrant"), code::USAGE);
    assert!(
        r.stderr.contains("use window") && r.stderr.contains("limit"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("farmvault grant-policy --max-use 2d"),
        "the hint names the command and the value asked for: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("--max-claim"),
        "72h is within the claim-by limit: {}",
        r.stderr
    );
    assert!(!env.path("before.fvgrant").exists());

    // Raise it: the new policy on stdout, the note on stderr.
    let r = env
        .run(&["grant-policy", "--max-use", "72h"], None)
        .expect(code::OK);
    assert!(r.stdout.contains("3d (259200 s)"), "{}", r.stdout);
    assert!(r.stdout.contains("7d (604800 s)"), "kept: {}", r.stdout);
    assert!(
        r.stderr.contains("max use window was 24h")
            && r.stderr
                .contains("grants already issued keep their windows"),
        "{}",
        r.stderr
    );
    // A second process reads it back from the vault; the claim-by limit was kept.
    assert_eq!(policy(&env), (604_800, 259_200));
    let shown = env.out(&["grant-policy"]);
    assert!(shown.contains("3d (259200 s)"), "{shown}");

    // Now the 48h grant is issued, and opens.
    let r = env.run(&long("weekend.fvgrant"), None).expect(code::OK);
    let token = r.stdout.trim().to_owned();
    let bundle = env.path("weekend.fvgrant");
    let grants = json(&env.out(&["grants", "--json"]));
    assert_eq!(grants["grants"][0]["use_window_secs"], 172_800);

    // Lowering the limit again refuses new long grants, not the one issued.
    let r = env
        .run(&["grant-policy", "--max-use", "1h", "--json"], None)
        .expect(code::OK);
    assert_eq!(
        json(&r.stdout),
        serde_json::json!({"max_claim_secs": 604_800, "max_use_secs": 3_600})
    );
    env.fails(&long("after.fvgrant"), code::USAGE);
    let grants = json(&env.out(&["grants", "--json"]));
    assert_eq!(grants["grants"][0]["use_window_secs"], 172_800);
    let got = job(
        &env,
        &job_env(&bundle, &token),
        &["get", "shotgun/render", "--field", "api_key"],
    )
    .expect(code::OK);
    assert_eq!(got.stdout, format!("{RENDER_KEY}\n"));
}

#[test]
fn a_claim_window_over_the_limit_points_at_max_claim() {
    let env = env_with_entries();
    let args = [
        "grant",
        "shotgun/render",
        "--claim-within",
        "10d",
        "--use-for",
        "30h",
        "--label",
        "x",
    ];
    let r = env.fails(&args, code::USAGE);
    assert!(
        r.stderr
            .contains("farmvault grant-policy --max-claim 10d --max-use 30h"),
        "both limits it is over: {}",
        r.stderr
    );
    env.out(&["grant-policy", "--max-claim", "2w", "--max-use", "30h"]);
    assert_eq!(policy(&env), (14 * 86_400, 30 * 3_600));
    env.run(&args, None).expect(code::OK);

    // Over the ceiling no policy can reach: no command is suggested that would be refused.
    let mut too_long = args;
    too_long[3] = "400d";
    let r = env.fails(&too_long, code::USAGE);
    assert!(
        r.stderr.contains("no grant window can be longer than 366d")
            && !r.stderr.contains("--max-claim 400d"),
        "{}",
        r.stderr
    );
}

#[test]
fn zero_or_unparsable_limits_name_the_option_and_change_nothing() {
    let env = Env::with_vault();
    for (args, option, why) in [
        (&["--max-use", "0s"][..], "--max-use", "zero"),
        (&["--max-claim", "0h"][..], "--max-claim", "zero"),
        (&["--max-use", "banana"][..], "--max-use", "not a duration"),
        (&["--max-claim", "72"][..], "--max-claim", "without a unit"),
        (
            &["--max-use", "1500ms"][..],
            "--max-use",
            "whole number of seconds",
        ),
        (&["--max-use", "367d"][..], "--max-use", "at most 366d"),
        // A valid option does not go through beside an invalid one.
        (
            &["--max-claim", "14d", "--max-use", "0s"][..],
            "--max-use",
            "zero",
        ),
    ] {
        let mut argv = vec!["grant-policy"];
        argv.extend_from_slice(args);
        let r = env.fails(&argv, code::USAGE);
        assert!(
            r.stderr.contains(option) && r.stderr.contains(why),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert_eq!(policy(&env), DEFAULT_POLICY, "{args:?} changed the policy");
    }
}

#[test]
fn a_wrong_passphrase_or_key_file_changes_no_policy() {
    let env = Env::with_vault();
    let wrong_pass = env.path("wrong-passphrase");
    common::write_private(&wrong_pass, b"not the passphrase\n");
    let wrong_key = env.path("wrong.key");
    common::write_private(&wrong_key, &[7u8; 32]);
    for (var, path) in [
        ("FARMVAULT_PASSPHRASE_FILE", &wrong_pass),
        ("FARMVAULT_KEY_FILE", &wrong_key),
    ] {
        for args in [
            &["grant-policy", "--max-use", "72h"][..],
            &["grant-policy", "--max-claim", "30d", "--json"][..],
            &["grant-policy"][..],
        ] {
            let r = common::run(env.cmd().env(var, path).args(args), None).expect(code::WRONG_KEY);
            r.one_line_error();
            assert!(r.stdout.is_empty(), "{var} {args:?}: {}", r.stdout);
        }
    }
    assert_eq!(policy(&env), DEFAULT_POLICY);
}
