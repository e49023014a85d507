//! What a vault must hold after the operations a child acknowledged: the
//! operations as the child printed them, and the model they are applied to.

use std::collections::BTreeMap;

/// name -> (value, expires or 0)
pub type State = BTreeMap<String, (Vec<u8>, u64)>;

#[derive(Clone, Debug)]
pub enum Op {
    Put(String, u64, String),
    Del(String),
    Batch(Vec<Op>),
    Renew(String, u64),
    Purge(u64),
    Pass(String),
    KeyAdd(u64),
    KeyRemove(u64),
    Rotate,
    Compact,
}

pub fn parse_op(s: &str) -> Op {
    let mut it = s.splitn(2, ' ');
    let code = it.next().unwrap();
    let rest = it.next().unwrap_or("");
    let parts: Vec<&str> = rest.splitn(3, ' ').collect();
    match code {
        "P" => Op::Put(parts[0].into(), parts[1].parse().unwrap(), parts[2].into()),
        "D" => Op::Del(parts[0].into()),
        "B" => Op::Batch(
            rest.split(',')
                .map(|item| {
                    let f: Vec<&str> = item.splitn(4, ':').collect();
                    match f[0] {
                        "P" => Op::Put(f[1].into(), f[2].parse().unwrap(), f[3].into()),
                        _ => Op::Del(f[1].into()),
                    }
                })
                .collect(),
        ),
        "R" => Op::Renew(parts[0].into(), parts[1].parse().unwrap()),
        "U" => Op::Purge(parts[0].parse().unwrap()),
        "C" => Op::Pass(parts[0].into()),
        "KA" => Op::KeyAdd(parts[0].parse().unwrap()),
        "KR" => Op::KeyRemove(parts[0].parse().unwrap()),
        "T" => Op::Rotate,
        "K" => Op::Compact,
        other => panic!("unknown op {other}"),
    }
}

/// The model of one kind's vault.
#[derive(Clone, Debug)]
pub struct Model {
    pub entries: State,
    pub pw: String,
    pub pw_next: u64,
    pub key_files: Vec<u64>,
    pub kf_next: u64,
}

impl Model {
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::Put(n, e, v) => {
                self.entries.insert(n.clone(), (v.as_bytes().to_vec(), *e));
            }
            Op::Del(n) => {
                self.entries.remove(n);
            }
            Op::Batch(ops) => ops.iter().for_each(|o| self.apply(o)),
            Op::Renew(n, e) => self.entries.get_mut(n).unwrap().1 = *e,
            Op::Purge(now) => self.entries.retain(|_, (_, e)| *e == 0 || *e > *now),
            Op::Pass(p) => {
                self.pw = p.clone();
                self.pw_next = p[3..].parse().unwrap();
            }
            Op::KeyAdd(n) => {
                self.key_files.push(*n);
                self.kf_next = *n;
            }
            Op::KeyRemove(n) => self.key_files.retain(|k| k != n),
            Op::Rotate | Op::Compact => {}
        }
    }
}
