//! `grant-revoke`: the job's next open of a revoked grant fails (exit 4) with
//! the list beside the bundle, or in a directory FARMVAULT_REVOCATIONS names.

use crate::common::code;
use crate::grant::{env_with_entries, issue, job, job_env, LABEL, RENDER_KEY};

#[test]
fn a_revoked_grant_fails_its_next_open() {
    let env = env_with_entries();
    let token = issue(&env, &["shotgun/render"], &["--label", LABEL, "--json"]).stdout;
    let issued: serde_json::Value = serde_json::from_str(&token).unwrap();
    let (id, token) = (
        issued["id"].as_str().unwrap().to_owned(),
        issued["token"].as_str().unwrap().to_owned(),
    );
    let bundle = env.path(issued["path"].as_str().unwrap());
    let get = ["get", "shotgun/render", "--field", "api_key"];
    let ok = job(&env, &job_env(&bundle, &token), &get).expect(code::OK);
    assert_eq!(ok.stdout, format!("{RENDER_KEY}\n"));

    // Written elsewhere: only nodes told where to look see it.
    std::fs::create_dir(env.path("lists")).unwrap();
    let lists = env.path("lists");
    let r = env
        .run(
            &["grant-revoke", &id, "--dir", lists.to_str().unwrap()],
            None,
        )
        .expect(code::OK);
    let list = r.stdout.trim().to_owned();
    assert!(
        list.ends_with(".fvrl") && list.starts_with(lists.to_str().unwrap()),
        "{list}"
    );
    assert!(r.stderr.contains("revoked 1 grant"), "{}", r.stderr);
    job(&env, &job_env(&bundle, &token), &get).expect(code::OK);
    let mut vars = job_env(&bundle, &token).to_vec();
    vars.push(("FARMVAULT_REVOCATIONS", lists.to_str().unwrap()));
    let refused = job(&env, &vars, &get).expect(code::EXPIRED);
    assert!(
        refused.stderr.contains(&format!("grant {id} was revoked"))
            && refused.stderr.contains("new grant"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(RENDER_KEY));

    // Beside the bundle: every open sees it.
    let dir = bundle.parent().unwrap().to_str().unwrap().to_owned();
    env.run(&["grant-revoke", &id, "--dir", &dir], None)
        .expect(code::OK);
    job(&env, &job_env(&bundle, &token), &get).expect(code::EXPIRED);

    // An id the vault never issued: nothing written, the id named.
    let unknown = "00112233445566778899aabbccddeeff";
    let r = env.fails(&["grant-revoke", unknown, "--dir", &dir], code::NOT_FOUND);
    assert!(r.stderr.contains(unknown), "{}", r.stderr);
}
