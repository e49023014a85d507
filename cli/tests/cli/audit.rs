//! The agent's audit log, with a real agent and real clients: what it records
//! (and that no secret reaches it), `farmvault audit` and `--verify` against an
//! edited, reordered or truncated log, fail-closed gets on a full disk, and the
//! copy sent to a syslog socket.
#![cfg(unix)]

use crate::agent::AgentProc;
use crate::common::{code, files_containing, Env};
use std::os::unix::net::UnixDatagram;
use std::path::Path;

const SECRET: &str = "s3cr3t-audit-value-7f1c";

fn audit_json(env: &Env, agent: &AgentProc) -> serde_json::Value {
    let r = agent.run(env, &["audit", "--json"], None).expect(code::OK);
    serde_json::from_str(&r.stdout).unwrap()
}

fn lines(vault: &Path) -> Vec<String> {
    std::fs::read_to_string(vault.join("audit.log"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_agent_records_who_read_or_changed_what_and_never_a_secret() {
    let env = Env::with_vault();
    let agent = AgentProc::start(&env, &[]);
    agent
        .run(&env, &["put", "shot/render"], Some(SECRET.as_bytes()))
        .expect(code::OK);
    let r = agent
        .run(&env, &["get", "shot/render"], None)
        .expect(code::OK);
    assert_eq!(r.stdout.trim(), SECRET);
    agent
        .run(&env, &["get", "shot/missing"], None)
        .expect(code::NOT_FOUND);
    agent.run(&env, &["list"], None).expect(code::OK);
    agent
        .run(&env, &["rm", "shot/render"], None)
        .expect(code::OK);

    let report = audit_json(&env, &agent);
    assert_eq!(report["verified"], true, "{report}");
    let records = report["records"].as_array().unwrap();
    let ops: Vec<&str> = records.iter().map(|r| r["op"].as_str().unwrap()).collect();
    // A list reads no secret and is not recorded.
    assert_eq!(
        ops,
        ["start", "unlock", "put", "get", "get", "delete"],
        "{report}"
    );
    let get = &records[3];
    assert_eq!(get["entries"], serde_json::json!(["shot/render"]));
    assert_eq!(get["result"], "ok");
    assert_eq!(get["uid"], rustix::process::geteuid().as_raw());
    assert!(get["pid"].as_u64().unwrap() > 0);
    assert!(
        get["exe"].as_str().unwrap().ends_with("/farmvault"),
        "the client's executable: {get}"
    );
    assert!(
        records[4]["result"].as_str().unwrap().contains("no entry"),
        "{report}"
    );
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64);
    }

    // The secret is in no file of the vault directory but the encrypted store.
    drop(agent);
    let plain = files_containing(&env.vault, SECRET.as_bytes());
    assert!(plain.is_empty(), "the secret is in plain text in {plain:?}");
    // Nor an entry's name: names never reach the vault's disk in the clear.
    let text = std::fs::read_to_string(env.vault.join("audit.log")).unwrap();
    assert!(!text.contains(SECRET));
    assert!(!text.contains("shot/"), "{text}");
    assert!(text.contains("\"op\":\"get\""), "{text}");
}

#[test]
fn verify_finds_an_edited_reordered_or_truncated_log_and_the_agent_refuses_it() {
    let env = Env::with_vault();
    let agent = AgentProc::start(&env, &[]);
    for i in 0..3 {
        agent
            .run(&env, &["put", &format!("shot/{i}")], Some(b"x"))
            .expect(code::OK);
    }
    let r = agent
        .run(&env, &["audit", "--verify"], None)
        .expect(code::OK);
    assert!(r.stderr.contains("verified"), "{}", r.stderr);
    agent
        .run(
            &env,
            &["agent", "stop", "--socket", agent.socket.to_str().unwrap()],
            None,
        )
        .expect(code::OK);
    // Without the agent, `audit` opens the vault itself (its key MACs the log).
    env.run(&["audit", "--verify"], None).expect(code::OK);

    let good = lines(&env.vault);
    let write =
        |l: &[String]| std::fs::write(env.vault.join("audit.log"), l.join("\n") + "\n").unwrap();
    let mut edited = good.clone();
    let uid = format!("\"uid\":{}", rustix::process::geteuid().as_raw());
    assert!(edited[3].contains(&uid), "{}", edited[3]);
    edited[3] = edited[3].replace(&uid, "\"uid\":4242");
    let mut reordered = good.clone();
    reordered.swap(3, 4);
    let cases: [(&str, Vec<String>, &str); 3] = [
        ("edited", edited, "line 4 of audit.log does not verify"),
        (
            "reordered",
            reordered,
            "line 4 of audit.log has sequence number 4",
        ),
        ("truncated", good[..3].to_vec(), "it was truncated"),
    ];
    for (what, log, says) in cases {
        write(&log);
        let r = env.run(&["audit", "--verify"], None).expect(code::CORRUPT);
        r.one_line_error();
        assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
        // The records before the damage still print, and the run still fails.
        let r = env.run(&["audit", "--json"], None).expect(code::CORRUPT);
        let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(report["verified"], false, "{what}");
        assert!(report["problem"].as_str().unwrap().contains(says), "{what}");
        // An agent does not start over evidence.
        let r = env
            .run(
                &[
                    "agent",
                    "start",
                    "--socket",
                    env.path("run2").join("s").to_str().unwrap(),
                ],
                None,
            )
            .expect(code::AGENT);
        assert!(
            r.stderr
                .contains("the audit log does not verify, so the agent does not start"),
            "{what}: {}",
            r.stderr
        );
    }
    write(&good);
    env.run(&["audit", "--verify"], None).expect(code::OK);
}

#[test]
fn since_keeps_the_recent_records() {
    let env = Env::with_vault();
    let agent = AgentProc::start(&env, &[]);
    agent.run(&env, &["put", "a"], Some(b"x")).expect(code::OK);
    let r = agent
        .run(&env, &["audit", "--since", "1h"], None)
        .expect(code::OK);
    assert!(
        r.stdout.contains("put") && r.stdout.contains(" a "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.starts_with("TIME"), "{}", r.stdout);
    // Once every line is older than --since, none is printed.
    assert!(lines(&env.vault).len() >= 3);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = agent
        .run(&env, &["audit", "--json", "--since", "0s"], None)
        .expect(code::OK);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["records"], serde_json::json!([]), "{report}");
    assert_eq!(report["verified"], true);
}

#[cfg(target_os = "linux")]
#[test]
fn a_get_whose_record_cannot_be_written_sends_no_secret() {
    use crate::full_disk::SmallDisk;
    let mut env = Env::new();
    let Some(disk) = SmallDisk::mount(&env.path("disk"), "8m") else {
        return;
    };
    env.vault = disk.0.join("vault");
    env.run(&["init"], None).expect(code::OK);
    env.put("shot/render", SECRET, &[]).expect(code::OK);
    let agent = AgentProc::start(&env, &[]);
    agent
        .run(&env, &["get", "shot/render"], None)
        .expect(code::OK);

    // Fill the disk: the page the log is on has room for a few more lines,
    // then a line cannot be written.
    let filler = disk.0.join("filler");
    disk.fill(&filler);
    let mut refused = None;
    for _ in 0..200 {
        let r = agent.run(&env, &["get", "shot/render"], None);
        if r.code != code::OK {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("a get failed once the log could not grow");
    assert_eq!(r.code, code::IO, "{}", r.stderr);
    assert!(
        r.stdout.is_empty(),
        "a secret was sent without its record: {}",
        r.stdout
    );
    assert!(r.stderr.contains("audit log"), "{}", r.stderr);
    assert!(!r.stderr.contains(SECRET));
    // Every get fails while it cannot be recorded.
    let r = agent
        .run(&env, &["get", "shot/render"], None)
        .expect(code::IO);
    assert!(r.stdout.is_empty());

    // Room again: the agent goes on, and the log verifies (the partial line was cut).
    std::fs::remove_file(&filler).unwrap();
    let r = agent
        .run(&env, &["get", "shot/render"], None)
        .expect(code::OK);
    assert_eq!(r.stdout.trim(), SECRET);
    agent
        .run(&env, &["audit", "--verify"], None)
        .expect(code::OK);
}

#[test]
fn the_syslog_copy_gets_every_record_and_its_loss_fails_the_request() {
    let env = Env::with_vault();
    env.put("shot/render", SECRET, &[]).expect(code::OK);
    let sock = env.path("log.sock");
    let syslog = UnixDatagram::bind(&sock).unwrap();
    syslog
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let agent = AgentProc::start(&env, &["--audit-syslog", sock.to_str().unwrap()]);
    agent
        .run(&env, &["get", "shot/render"], None)
        .expect(code::OK);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.iter().any(|m: &String| m.contains("\"op\":\"get\"")) {
        let n = syslog.recv(&mut buf).expect("a syslog message");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let get = got.iter().find(|m| m.contains("\"op\":\"get\"")).unwrap();
    // <86>: facility authpriv (10) * 8 + severity info (6).
    assert!(get.starts_with("<86>"), "{get}");
    assert!(get.contains("farmvault-agent["), "{get}");
    // The line as stored: the entry names stay sealed.
    assert!(!get.contains("shot/render"), "{get}");
    assert!(got.iter().all(|m| !m.contains(SECRET)));

    // No one listening: the get fails rather than go unrecorded there.
    drop(syslog);
    std::fs::remove_file(&sock).unwrap();
    let r = agent
        .run(&env, &["get", "shot/render"], None)
        .expect(code::IO);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("syslog"), "{}", r.stderr);
}
