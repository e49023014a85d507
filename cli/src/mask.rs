//! Masking of secret values in a stream of output, as it streams: every
//! occurrence of a secret becomes `***`, also one split across writes.
//!
//! Bounded latency: after each write, everything is passed on except the
//! longest tail that could still be the start of a secret, which is shorter
//! than the longest secret. A secret holds no newline in practice, so such a
//! tail never spans a line end: text is held back by at most part of one line,
//! binary output by fewer bytes than the longest secret.

use zeroize::Zeroizing;

/// What replaces a secret.
pub const MASK: &[u8] = b"***";

/// A stream's masker: the secrets, and what is held back.
pub struct Masker {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<Zeroizing<Vec<u8>>>,
    held: Zeroizing<Vec<u8>>,
}

impl Masker {
    /// A masker of `secrets` (empty ones are ignored).
    pub fn new(secrets: &[Zeroizing<Vec<u8>>]) -> Masker {
        let mut secrets: Vec<Zeroizing<Vec<u8>>> =
            secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Masker {
            secrets,
            held: Zeroizing::new(Vec::new()),
        }
    }

    /// Takes `chunk`; returns what can be passed on now.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(chunk);
        let (out, keep_from) = self.scan(false);
        let rest = self.held[keep_from..].to_vec();
        self.held.clear();
        self.held.extend_from_slice(&rest);
        out
    }

    /// The end of the stream: what is held back goes out (masked where whole).
    pub fn finish(&mut self) -> Vec<u8> {
        let (out, _) = self.scan(true);
        self.held.clear();
        out
    }

    /// Masks `held`; returns the output and where the tail that is held back
    /// begins (`held.len()` when nothing is, always at the end).
    fn scan(&self, at_end: bool) -> (Vec<u8>, usize) {
        let buf = &self.held[..];
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'next: while i < buf.len() {
            for s in &self.secrets {
                if buf[i..].starts_with(s) {
                    out.extend_from_slice(MASK);
                    i += s.len();
                    continue 'next;
                }
            }
            if !at_end && self.could_start_a_secret(&buf[i..]) {
                return (out, i);
            }
            out.push(buf[i]);
            i += 1;
        }
        (out, buf.len())
    }

    /// Whether `tail` (the rest of what is held) is a proper prefix of a secret:
    /// the next write may complete it.
    fn could_start_a_secret(&self, tail: &[u8]) -> bool {
        self.secrets
            .iter()
            .any(|s| tail.len() < s.len() && s.starts_with(tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(secrets: &[&str]) -> Masker {
        let s: Vec<Zeroizing<Vec<u8>>> = secrets
            .iter()
            .map(|s| Zeroizing::new(s.as_bytes().to_vec()))
            .collect();
        Masker::new(&s)
    }

    /// Feeds `chunks` and finishes; returns the whole output.
    fn run(m: &mut Masker, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            out.extend(m.feed(c));
        }
        out.extend(m.finish());
        out
    }

    #[test]
    fn every_occurrence_is_masked() {
        let mut m = masker(&["s3cr3t"]);
        assert_eq!(
            run(&mut m, &[b"key=s3cr3t and again s3cr3ts3cr3t\n"]),
            b"key=*** and again ******\n"
        );
    }

    #[test]
    fn a_secret_split_across_writes_is_masked_at_every_split() {
        let text = b"token: abcdefgh end\n";
        for split in 0..=text.len() {
            for split2 in split..=text.len() {
                let mut m = masker(&["abcdefgh"]);
                let out = run(
                    &mut m,
                    &[&text[..split], &text[split..split2], &text[split2..]],
                );
                assert_eq!(out, b"token: *** end\n", "{split} {split2}");
            }
        }
        // One byte at a time.
        let mut m = masker(&["abcdefgh"]);
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(run(&mut m, &chunks), b"token: *** end\n");
    }

    #[test]
    fn what_is_held_back_is_shorter_than_the_longest_secret_and_never_a_line_end() {
        let mut m = masker(&["abcdefgh", "xyz"]);
        // Nothing that could start a secret: all of it goes out at once.
        assert_eq!(m.feed(b"hello\n"), b"hello\n");
        // A possible start is held, at most 7 bytes, and only from there.
        assert_eq!(m.feed(b"line two abcdefg"), b"line two ");
        assert_eq!(m.held.len(), 7);
        // It was not the secret after all: it goes out with what follows.
        assert_eq!(m.feed(b"X\n"), b"abcdefgX\n");
        assert!(m.held.is_empty());
    }

    #[test]
    fn a_longer_secret_that_contains_a_shorter_one_is_masked_whole() {
        let mut m = masker(&["abc", "xxabcxx"]);
        assert_eq!(run(&mut m, &[b"1 xxabcxx 2 abc"]), b"1 *** 2 ***");
    }

    #[test]
    fn a_prefix_left_at_the_end_of_the_stream_goes_out_unmasked() {
        let mut m = masker(&["abcdefgh"]);
        assert_eq!(run(&mut m, &[b"ends with abcd"]), b"ends with abcd");
    }

    #[test]
    fn binary_output_passes_through_byte_for_byte() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut m = masker(&["\u{1}\u{2}\u{3}zz"]);
        let chunks: Vec<&[u8]> = bytes.chunks(333).collect();
        assert_eq!(run(&mut m, &chunks), bytes);
    }
}
