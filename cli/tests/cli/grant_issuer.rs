//! `grant-issuer` prints the vault's issuer key; a job that pins issuers
//! (FARMVAULT_ISSUERS) reads only grants that key signed, and `grant-info`
//! says whether this machine takes a bundle.

use crate::common::{code, json, Env};
use crate::grant::{env_with_entries, issue, job, job_env, LABEL, RENDER_KEY};

/// The vault's issuer key, as `grant-issuer` prints it.
fn issuer_of(env: &Env) -> String {
    let out = env.out(&["grant-issuer", "--public"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    out.trim().to_owned()
}

#[test]
fn a_job_that_pins_issuers_reads_only_what_they_signed() {
    let env = env_with_entries();
    let ours = issuer_of(&env);
    assert!(ours.starts_with("fvi1_") && ours.len() == 48, "{ours}");
    assert_eq!(issuer_of(&env), ours, "one key per vault");
    let as_json = json(&env.out(&["grant-issuer", "--json"]));
    assert_eq!(as_json["issuer"], ours.as_str());
    let theirs = issuer_of(&env_with_entries());
    assert_ne!(ours, theirs);

    let r = issue(&env, &["shotgun/render"], &["--label", LABEL]);
    let token = r.stdout.trim().to_owned();
    assert!(
        r.stderr.contains(&format!("issuer key {ours}")),
        "{}",
        r.stderr
    );
    let bundle = env.path(&format!("{LABEL}.fvgrant"));
    let get = ["get", "shotgun/render", "--field", "api_key"];

    fn pinned<'a>(
        bundle: &'a std::path::Path,
        token: &'a str,
        keys: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut vars = job_env(bundle, token).to_vec();
        vars.push(("FARMVAULT_ISSUERS", keys));
        vars
    }
    let ok = job(&env, &pinned(&bundle, &token, &ours), &get).expect(code::OK);
    assert_eq!(ok.stdout, format!("{RENDER_KEY}\n"));
    let both = format!("{theirs}, {ours}");
    job(&env, &pinned(&bundle, &token, &both), &get).expect(code::OK);

    let refused = job(&env, &pinned(&bundle, &token, &theirs), &get).expect(code::CORRUPT);
    assert!(
        refused.stderr.contains("is not from a trusted issuer")
            && refused.stderr.contains(&ours)
            && refused.stderr.contains("FARMVAULT_ISSUERS does not list"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(RENDER_KEY) && !refused.stderr.contains(&token));

    let info = job(
        &env,
        &pinned(&bundle, &token, &theirs),
        &["grant-info", bundle.to_str().unwrap()],
    )
    .expect(code::OK);
    assert!(
        info.stdout.contains("REFUSED: FARMVAULT_ISSUERS"),
        "{}",
        info.stdout
    );
    let info = job(
        &env,
        &pinned(&bundle, &token, &ours),
        &["grant-info", "--json", bundle.to_str().unwrap()],
    )
    .expect(code::OK);
    let v = json(&info.stdout);
    assert_eq!(v["signature"]["trusted"], true);
    assert_eq!(
        v["signature"]["pinned_by"],
        serde_json::json!(["FARMVAULT_ISSUERS"])
    );

    // A malformed pin names the variable and the position, not the text.
    let bad = job(&env, &pinned(&bundle, &token, "fvi1_not-a-key"), &get).expect(code::USAGE);
    assert!(
        bad.stderr.contains("FARMVAULT_ISSUERS, line 1") && !bad.stderr.contains("not-a-key"),
        "{}",
        bad.stderr
    );
}
