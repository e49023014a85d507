//! The child side of the crash tests: a workload of one kind of write that
//! prints, flushed, `READY` once the vault is open, `BEGIN <op>` before each
//! operation and `ACK` after it returns, until it is killed.

use crate::support::*;
use farmvault::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const CHILD: &str = "FARMVAULT_CRASH_CHILD";
/// Marks the child's lines among libtest's own output.
pub const TAG: &str = "FVCH";
/// The child's clock: far after the parent's `T0`, so the parent, whose snapshot
/// reads every entry and wants each read clean, never sees an entry as expired
/// while the child purges.
const CHILD_T: u64 = T0 + 10_000_000;

/// A tiny xorshift; the seed is printed so a failure can be replayed.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env(k: &str) -> String {
    std::env::var(format!("FARMVAULT_CRASH_{k}")).unwrap_or_default()
}

pub fn key_file(n: u64) -> KeyFile {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_be_bytes());
    b[8..16].copy_from_slice(b"crashkf!");
    b[16] = 1;
    KeyFile::from_bytes(&b).unwrap()
}

fn value_for(rng: &mut Rng, tag: &str) -> String {
    let pad = rng.below(3000) as usize;
    format!("{tag}|{}", "v".repeat(pad))
}

/// The child side: runs when the test binary is started again as a child (with
/// `CHILD` set to the kind of write), a no-op otherwise.
pub fn child() {
    let Ok(kind) = std::env::var(CHILD) else {
        return;
    };
    let dir = env("DIR");
    let round: u64 = env("ROUND").parse().unwrap();
    let mut rng = Rng(env("SEED").parse().unwrap());
    let pass = env("PW");
    let clock = ManualClock::new(UnixTime(CHILD_T + round * 1000));
    let v = Config::new(&dir)
        .kdf(cheap())
        .clock(Arc::new(clock.clone()))
        .lock_timeout(Duration::from_secs(10))
        .open(&Unlock::passphrase(pass.as_str()))
        .unwrap();
    // Existing names, with their expiries.
    let mut names: BTreeMap<String, Option<u64>> = v
        .list("")
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.expires.map(UnixTime::secs)))
        .collect();
    say(TAG, "READY");
    let mut seq = 0u64;
    let mut kf_next: u64 = env("KF_NEXT").parse().unwrap_or(0);
    let mut kf_present: Vec<u64> = env("KF")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let mut pw_next: u64 = env("PW_NEXT").parse().unwrap_or(0);
    loop {
        seq += 1;
        let tag = format!("{kind}-{round}-{seq}");
        let now = clock.now().secs();
        match kind.as_str() {
            "put" => {
                let name = format!("p{}", rng.below(40));
                let value = value_for(&mut rng, &tag);
                let ttl = (rng.below(2) == 0).then(|| 1_000_000 + rng.below(1000));
                let exp = ttl.map_or(0, |t| now + t);
                say(TAG, &format!("BEGIN P {name} {exp} {value}"));
                let opts = PutOptions {
                    ttl: ttl.map(secs),
                    durable: true,
                };
                v.put(&name, value.as_bytes(), &opts).unwrap();
                names.insert(name, ttl.map(|t| now + t));
            }
            "delete" => {
                if names.len() < 8 || rng.below(2) == 0 {
                    let name = format!("d{}", rng.below(1000));
                    let value = value_for(&mut rng, &tag);
                    say(TAG, &format!("BEGIN P {name} 0 {value}"));
                    v.put(&name, value.as_bytes(), &PutOptions::new()).unwrap();
                    names.insert(name, None);
                } else {
                    let i = rng.below(names.len() as u64) as usize;
                    let name = names.keys().nth(i).unwrap().clone();
                    say(TAG, &format!("BEGIN D {name}"));
                    v.delete(&name).unwrap();
                    names.remove(&name);
                }
            }
            "batch" => {
                let mut b = Batch::new();
                let mut desc = Vec::new();
                let mut touched = Vec::new();
                for _ in 0..1 + rng.below(5) {
                    let name = format!("b{}", rng.below(60));
                    if touched.contains(&name) {
                        continue;
                    }
                    let value = value_for(&mut rng, &tag);
                    let ttl = (rng.below(2) == 0).then(|| 1_000_000 + rng.below(1000));
                    b.put(&name, value.as_bytes(), ttl.map(secs));
                    desc.push(format!("P:{name}:{}:{value}", ttl.map_or(0, |t| now + t)));
                    touched.push(name.clone());
                    names.insert(name, ttl.map(|t| now + t));
                }
                if names.len() > 10 {
                    let i = rng.below(names.len() as u64) as usize;
                    let name = names.keys().nth(i).unwrap().clone();
                    if !touched.contains(&name) {
                        b.delete(&name);
                        desc.push(format!("D:{name}"));
                        names.remove(&name);
                    }
                }
                say(TAG, &format!("BEGIN B {}", desc.join(",")));
                v.apply(b).unwrap();
            }
            "renew" => {
                let i = rng.below(names.len() as u64) as usize;
                let name = names.keys().nth(i).unwrap().clone();
                let ttl = 1_000_000 + rng.below(1_000_000);
                say(TAG, &format!("BEGIN R {name} {}", now + ttl));
                v.renew(&name, Some(secs(ttl))).unwrap();
            }
            "purge" => {
                if rng.below(3) != 0 {
                    let name = format!("u{}", rng.below(200));
                    let value = value_for(&mut rng, &tag);
                    let ttl = 1 + rng.below(60);
                    say(TAG, &format!("BEGIN P {name} {} {value}", now + ttl));
                    v.put(&name, value.as_bytes(), &PutOptions::new().ttl(secs(ttl)))
                        .unwrap();
                } else {
                    clock.advance(secs(rng.below(40)));
                    let now = clock.now().secs();
                    say(TAG, &format!("BEGIN U {now}"));
                    v.purge_expired().unwrap();
                }
            }
            "passphrase" => {
                pw_next += 1;
                let new = format!("pw-{pw_next}");
                say(TAG, &format!("BEGIN C {new}"));
                v.change_passphrase(&SecretString::new(new)).unwrap();
            }
            "keyfile" => {
                if kf_present.is_empty() || (kf_present.len() < 3 && rng.below(2) == 0) {
                    kf_next += 1;
                    say(TAG, &format!("BEGIN KA {kf_next}"));
                    v.add_key_file(&key_file(kf_next)).unwrap();
                    kf_present.push(kf_next);
                } else {
                    let i = rng.below(kf_present.len() as u64) as usize;
                    let n = kf_present.remove(i);
                    say(TAG, &format!("BEGIN KR {n}"));
                    v.remove_key_file(&key_file(n)).unwrap();
                }
            }
            "compact" => {
                if rng.below(3) == 0 {
                    say(TAG, "BEGIN K");
                    v.compact(&mut |_, _| {}).unwrap();
                } else if names.len() > 12 && rng.below(2) == 0 {
                    let i = rng.below(names.len() as u64) as usize;
                    let name = names.keys().nth(i).unwrap().clone();
                    say(TAG, &format!("BEGIN D {name}"));
                    v.delete(&name).unwrap();
                    names.remove(&name);
                } else {
                    // New names each time, so sled keeps rolling segments.
                    let name = format!("c{tag}");
                    let value = value_for(&mut rng, &tag);
                    say(TAG, &format!("BEGIN P {name} 0 {value}"));
                    v.put(&name, value.as_bytes(), &PutOptions::new()).unwrap();
                    names.insert(name, None);
                }
            }
            "rotate" => {
                say(TAG, "BEGIN T");
                v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
                    .unwrap();
            }
            other => panic!("unknown kind {other}"),
        }
        say(TAG, "ACK");
        if seq > 100_000 {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
}
