//! The journal is the write-ahead log: a durable write returns once its
//! journal frame is synced, before sled has written it, and the next open
//! replays what sled lacks.
#![cfg(unix)]

use crate::rerun::alone;
use crate::support::*;
use farmvault::*;
use std::path::Path;

const REPLAY_CHILD: &str = "FARMVAULT_TEST_REPLAY_CHILD";
const PUTS: usize = 40;

/// The child of `acknowledged_writes_sled_never_wrote_are_replayed`: opens the
/// vault, makes durable puts, says each was acknowledged, and is SIGKILLed
/// by itself at once, before sled's background flush (every 500 ms) can write
/// them. A no-op in a normal run.
#[test]
fn replay_child() {
    let Ok(dir) = std::env::var(REPLAY_CHILD) else {
        return;
    };
    let v = Config::new(dir).kdf(cheap()).open(&pw()).unwrap();
    for i in 0..PUTS {
        v.put(
            &format!("k{i}"),
            format!("value {i}").as_bytes(),
            &PutOptions::new(),
        )
        .unwrap();
        say("acked", &format!("k{i}"));
    }
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &std::process::id().to_string()])
        .status();
    unreachable!("the child outlived its own SIGKILL");
}

/// The entry records a sled store holds, read raw from a copy of it.
fn sled_entries(vault: &Path, scratch: &Path) -> usize {
    let copy = scratch.join("sled-copy");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(data_dir(vault)).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    let db = sled::open(&copy).unwrap();
    let n = db.scan_prefix([b'E']).count();
    drop(db);
    std::fs::remove_dir_all(&copy).unwrap();
    n
}

#[test]
fn acknowledged_writes_sled_never_wrote_are_replayed() {
    // sled's flush might, rarely, land between the last put and the kill:
    // a run where sled holds every put proves nothing and is tried again.
    for attempt in 1..=5 {
        let fx = Fx::empty();
        drop(fx.create());
        let out = alone(module_path!(), "replay_child")
            .env(REPLAY_CHILD, &fx.path)
            .output()
            .unwrap();
        let acked = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("acked"))
            .count();
        assert_eq!(acked, PUTS, "the child did not finish its puts: {out:?}");

        let in_sled = sled_entries(&fx.path, fx.dir.path());
        if in_sled == PUTS {
            eprintln!("attempt {attempt}: sled had flushed every put; again");
            continue;
        }
        let v = fx.open();
        for i in 0..PUTS {
            assert_eq!(
                bytes_of(&v, &format!("k{i}")),
                format!("value {i}").as_bytes(),
                "k{i}: acknowledged, and lost (sled held {in_sled} of {PUTS})"
            );
        }
        // The replay reached sled for good: a second open needs none.
        drop(v);
        assert_eq!(sled_entries(&fx.path, fx.dir.path()), PUTS);
        return;
    }
    panic!("sled flushed every put in 5 attempts: the replay was never exercised");
}
