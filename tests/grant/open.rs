//! Job grants: issuing, the three ways of opening, the two clocks, the host
//! pattern, and reading through the same trait as a vault.

use crate::files::files_under;
use crate::support::*;
use farmvault::grant::{self, Grant, GrantAccess, GrantOpen, GrantSpec, ReadCredentials};
use farmvault::*;
use std::time::Duration;

fn script_key(r: &dyn ReadCredentials, name: &str) -> String {
    match r.get(name).unwrap().credential {
        Credential::ScriptKey(k) => k.api_key.expose().to_owned(),
        other => panic!("expected a script key, got {:?}", other.kind()),
    }
}

fn is_wrong_key<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(Error::WrongGrantKey { .. }))
}

#[test]
fn token_only_opens_with_its_token_and_reads_like_a_vault() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry("shotgun/"));
    assert_eq!(issued.info.access, GrantAccess::Token);
    assert_eq!(
        issued.info.entries.as_deref().unwrap(),
        [ARTIST, PUBLISH, RENDER]
    );
    let token = issued.token.clone().expect("token grants return a token");
    assert!(token.expose().starts_with(grant::TOKEN_PREFIX));

    let g = f
        .open(&issued.path, &f.how("a").token(token.clone()))
        .unwrap();
    // The same reads, through the same trait, as on the vault.
    assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    assert_eq!(script_key(&f.vault, RENDER), RENDER_KEY);
    assert_eq!(
        g.get(RENDER).unwrap(),
        f.vault.get(RENDER).unwrap().with_expiry(g.use_until())
    );
    assert_eq!(g.metadata(PUBLISH).unwrap().kind, Kind::ScriptKey);
    assert_eq!(g.metadata(PUBLISH).unwrap().host.as_deref(), Some(SITE));
    let names: Vec<String> = g
        .list("shotgun/")
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, [ARTIST, PUBLISH, RENDER]);
    assert!(g.list("nothing/").unwrap().is_empty());
    assert_eq!(g.info().entries.as_deref().unwrap().len(), 3);
    assert_eq!(g.info().id, issued.id);

    // Outside the grant: NotFound, even though the vault holds it.
    assert!(matches!(g.get(OTHER), Err(Error::NotFound { name }) if name == OTHER));
    assert!(matches!(
        g.metadata("shotgun/nope"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(g.get(""), Err(Error::InvalidArgument(_))));

    // Wrong token (same grant id, other secret), a token of another grant, no token.
    // The error speaks of the grant's token and identity, not of a passphrase.
    let wrong = f.open(&issued.path, &f.how("a").token(altered_token(&token)));
    let said = wrong.as_ref().map(|_| ()).unwrap_err().to_string();
    assert!(
        said.contains("token or farm identity")
            && said.contains(&issued.path.display().to_string())
            && !said.contains("passphrase"),
        "{said}"
    );
    assert!(is_wrong_key(wrong));
    let other = f.issue(&f.spec("other.fvg").entry(RENDER));
    assert!(is_wrong_key(
        f.open(&issued.path, &f.how("a").token(other.token.unwrap()))
    ));
    let (id_path, _) = f.identity("farm.key");
    assert!(is_wrong_key(
        f.open(&issued.path, &f.how("a").identity_file(&id_path))
    ));
    assert!(matches!(
        f.open(&issued.path, &f.how("a")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        f.open(&issued.path, &f.how("a").token("fvg1_not-a-token")),
        Err(Error::InvalidArgument(_))
    ));
}

/// `Entry` with its expiry replaced, to compare a vault read with a grant read.
trait WithExpiry {
    fn with_expiry(self, t: UnixTime) -> Self;
}

impl WithExpiry for Entry {
    fn with_expiry(mut self, t: UnixTime) -> Entry {
        self.meta.expires = Some(self.meta.expires.map_or(t, |e| e.min(t)));
        self
    }
}

#[test]
fn recipient_only_opens_with_a_farm_identity() {
    let f = Fixture::new();
    let (farm, farm_pub) = f.identity("farm.key");
    let (other, _) = f.identity("other.key");
    assert!(farm_pub.starts_with("age1"));
    assert_eq!(grant::farm_public_key(&farm).unwrap(), farm_pub);
    let issued = f.issue(
        &f.spec("job.fvg")
            .entry(RENDER)
            .recipient(&farm_pub)
            .token(false),
    );
    assert!(issued.token.is_none());
    assert_eq!(issued.info.access, GrantAccess::Recipient);
    assert_eq!(issued.info.recipients, 1);

    let g = f
        .open(&issued.path, &f.how("a").identity_file(&farm))
        .unwrap();
    assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    assert!(is_wrong_key(
        f.open(&issued.path, &f.how("a").identity_file(&other))
    ));
    let stray = f.issue(&f.spec("stray.fvg").entry(RENDER));
    assert!(is_wrong_key(
        f.open(&issued.path, &f.how("a").token(stray.token.unwrap()))
    ));
}

#[test]
fn several_recipients_each_open() {
    let f = Fixture::new();
    let (a, a_pub) = f.identity("a.key");
    let (b, b_pub) = f.identity("b.key");
    let recipients_file = f.path("farm.pub");
    std::fs::write(&recipients_file, format!("# farm\n{a_pub}\n\n{b_pub}\n")).unwrap();
    let listed = grant::read_recipients_file(&recipients_file).unwrap();
    let mut spec = f.spec("job.fvg").entry(RENDER).token(false);
    for r in listed {
        spec = spec.recipient(r);
    }
    let issued = f.issue(&spec);
    assert_eq!(issued.info.recipients, 2);
    for id in [&a, &b] {
        let g = f.open(&issued.path, &f.how("a").identity_file(id)).unwrap();
        assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    }
    // An identity file given where a public key is expected is refused by name.
    let secret_line = std::fs::read_to_string(&a).unwrap();
    let e = f
        .vault
        .grant(
            &f.spec("bad.fvg")
                .entry(RENDER)
                .recipient(secret_line.lines().last().unwrap()),
        )
        .unwrap_err();
    assert!(e.to_string().contains("identity"), "{e}");
    assert!(!e.to_string().contains("AGE-SECRET-KEY"), "{e}");
}

#[test]
fn token_or_recipient_opens_with_either() {
    let f = Fixture::new();
    let (farm, farm_pub) = f.identity("farm.key");
    let (other, _) = f.identity("other.key");
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).recipient(&farm_pub));
    assert_eq!(issued.info.access, GrantAccess::TokenOrRecipient);
    let token = issued.token.clone().unwrap();
    for how in [
        f.how("a").token(token.clone()),
        f.how("a").identity_file(&farm),
        f.how("a").token(token.clone()).identity_file(&farm),
        f.how("a").token(altered_token(&token)).identity_file(&farm),
        f.how("a").token(token.clone()).identity_file(&other),
    ] {
        let g = f.open(&issued.path, &how).unwrap();
        assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    }
    assert!(is_wrong_key(
        f.open(&issued.path, &f.how("a").token(altered_token(&token)))
    ));
    assert!(is_wrong_key(
        f.open(&issued.path, &f.how("a").identity_file(&other))
    ));
    assert!(is_wrong_key(
        f.open(
            &issued.path,
            &f.how("a")
                .token(altered_token(&token))
                .identity_file(&other)
        )
    ));
}

#[test]
fn require_both_needs_token_and_identity() {
    let f = Fixture::new();
    let (farm, farm_pub) = f.identity("farm.key");
    let (other, _) = f.identity("other.key");
    let issued = f.issue(
        &f.spec("job.fvg")
            .entry(RENDER)
            .recipient(&farm_pub)
            .require_both(true),
    );
    assert_eq!(issued.info.access, GrantAccess::TokenAndRecipient);
    let token = issued.token.clone().unwrap();
    let g = f
        .open(
            &issued.path,
            &f.how("a").token(token.clone()).identity_file(&farm),
        )
        .unwrap();
    assert_eq!(script_key(&g, RENDER), RENDER_KEY);

    for how in [
        f.how("a").token(token.clone()),
        f.how("a").identity_file(&farm),
        f.how("a").token(altered_token(&token)).identity_file(&farm),
        f.how("a").token(token.clone()).identity_file(&other),
    ] {
        assert!(is_wrong_key(f.open(&issued.path, &how)), "{how:?}");
    }
    // None of the refusals recorded a first open.
    assert!(!f.path("state-b").exists());
    for how in [
        f.how("b").token(token.clone()),
        f.how("b").identity_file(&farm),
    ] {
        assert!(is_wrong_key(f.open(&issued.path, &how)));
    }
    assert!(!f.path("state-b").exists());

    // Spec mistakes are caught before anything is written.
    for spec in [
        f.spec("x.fvg").entry(RENDER).require_both(true),
        f.spec("x.fvg")
            .entry(RENDER)
            .recipient(&farm_pub)
            .token(false)
            .require_both(true),
        f.spec("x.fvg").entry(RENDER).token(false),
    ] {
        assert!(matches!(
            f.vault.grant(&spec),
            Err(Error::InvalidArgument(_))
        ));
    }
    assert!(!f.path("x.fvg").exists());
}

#[test]
fn entries_expire_at_their_own_expiry_inside_the_grant() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).entry(ARTIST).entry(PUBLISH));
    f.clock.set(at_hours(1.0));
    let g = f
        .open(&issued.path, &f.how("a").token(issued.token.unwrap()))
        .unwrap();
    assert_eq!(g.use_until(), at_hours(5.0));
    // Each entry expires at the earlier of its own expiry and the grant's.
    assert_eq!(g.metadata(ARTIST).unwrap().expires, Some(at_hours(2.0)));
    assert_eq!(g.metadata(RENDER).unwrap().expires, Some(at_hours(5.0)));
    assert_eq!(g.metadata(PUBLISH).unwrap().expires, Some(at_hours(5.0)));
    assert!(g.get(ARTIST).is_ok());
    f.clock.set(at_hours(2.5));
    match g.get(ARTIST) {
        Err(Error::Expired { name, expired_at }) => {
            assert_eq!(name, ARTIST);
            assert_eq!(expired_at, at_hours(2.0).secs());
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    assert_eq!(
        g.list("").unwrap().len(),
        3,
        "list shows expired entries, as a vault does"
    );
}

#[test]
fn claim_by_and_use_window_follow_a_driven_clock() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    assert_eq!(issued.info.claim_by, at_hours(72.0));
    assert_eq!(issued.info.use_window, hours(4.0));
    let token = issued.token.unwrap();
    let how = |m: &str| f.how(m).token(token.clone());

    // Queued for 70 hours, then opened: reads at hour 73, Expired at hour 74.5.
    f.clock.set(at_hours(70.0));
    let g = f.open(&issued.path, &how("a")).unwrap();
    assert_eq!(g.first_opened(), at_hours(70.0));
    assert_eq!(g.use_until(), at_hours(74.0));
    f.clock.set(at_hours(73.0));
    assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    // A later open on the same machine counts from the recorded first open,
    // past the claim-by deadline too.
    let again = f.open(&issued.path, &how("a")).unwrap();
    assert_eq!(again.first_opened(), at_hours(70.0));
    assert_eq!(script_key(&again, RENDER), RENDER_KEY);
    f.clock.set(at_hours(74.5));
    for r in [
        g.get(RENDER).map(drop),
        g.metadata(RENDER).map(drop),
        g.list("").map(drop),
    ] {
        match r {
            Err(Error::Expired { name, expired_at }) => {
                assert!(name.contains(&issued.id.to_hex()), "{name}");
                assert_eq!(expired_at, at_hours(74.0).secs());
            }
            other => panic!("expected Expired, got {other:?}"),
        }
    }
    assert!(matches!(g.get(OTHER), Err(Error::Expired { .. })));
    assert!(matches!(
        f.open(&issued.path, &how("a")),
        Err(Error::Expired { .. })
    ));

    // A machine that never opened it before the deadline cannot start now.
    f.clock.set(at_hours(72.0));
    match f.open(&issued.path, &how("b")) {
        Err(Error::Expired { expired_at, .. }) => assert_eq!(expired_at, at_hours(72.0).secs()),
        other => panic!("expected Expired, got {other:?}"),
    }
    assert!(
        !f.path("state-b").exists(),
        "an expired claim records nothing"
    );
}

#[test]
fn deleting_the_state_restarts_the_window_only_before_the_deadline() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = issued.token.unwrap();
    let how = f.how("a").token(token);
    f.clock.set(at_hours(10.0));
    f.open(&issued.path, &how).unwrap();
    let state = f.path("state-a").join(issued.id.to_hex());
    assert!(state.is_file());

    std::fs::remove_file(&state).unwrap();
    f.clock.set(at_hours(20.0));
    let g = f.open(&issued.path, &how).unwrap();
    assert_eq!(g.first_opened(), at_hours(20.0), "the state is advisory");

    // A recorded first open past the deadline is clamped to it.
    std::fs::write(
        &state,
        format!(
            "farmvault-grant-state 1\nfirst_open {}\n",
            at_hours(500.0).secs()
        ),
    )
    .unwrap();
    f.clock.set(at_hours(75.0));
    let g = f.open(&issued.path, &how).unwrap();
    assert_eq!(g.use_until(), at_hours(76.0));
    assert_eq!(g.use_until(), g.info().latest_end());

    std::fs::remove_file(&state).unwrap();
    assert!(matches!(
        f.open(&issued.path, &how),
        Err(Error::Expired { .. })
    ));

    std::fs::write(&state, "not a state file").unwrap();
    assert!(matches!(
        f.open(&issued.path, &how),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn host_pattern_is_enforced_before_the_clock_starts() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).hosts("render*"));
    assert_eq!(issued.info.host_pattern.as_deref(), Some("render*"));
    let token = issued.token.unwrap();
    match f.open(
        &issued.path,
        &f.how("a").token(token.clone()).hostname("comp01.studio"),
    ) {
        Err(e @ Error::HostNotAllowed { .. }) => {
            let Error::HostNotAllowed { hostname, pattern } = &e else {
                unreachable!()
            };
            assert_eq!(
                (hostname.as_str(), pattern.as_str()),
                ("comp01.studio", "render*")
            );
            let msg = e.to_string();
            assert!(
                msg.contains("comp01.studio") && msg.contains("render*"),
                "{msg}"
            );
        }
        other => panic!("expected a host refusal, got {other:?}"),
    }
    assert!(
        !f.path("state-a").exists(),
        "a refused host does not burn the claim"
    );
    for host in ["render01", "RENDER99.farm.example", "render"] {
        let g = f
            .open(
                &issued.path,
                &f.how("a").token(token.clone()).hostname(host),
            )
            .unwrap();
        assert_eq!(script_key(&g, RENDER), RENDER_KEY);
    }
    // Only `*` and `?` are wildcards; anything richer is refused at issue.
    assert!(matches!(
        f.vault
            .grant(&f.spec("bad.fvg").entry(RENDER).hosts("render[0-9]")),
        Err(Error::InvalidArgument(_))
    ));
    // A grant without a pattern opens on this machine's real hostname.
    let anywhere = f.issue(&f.spec("any.fvg").entry(RENDER));
    let how = GrantOpen::new()
        .token(anywhere.token.unwrap())
        .state_dir(f.path("state-real"))
        .clock(std::sync::Arc::new(f.clock.clone()));
    assert!(Grant::open(&anywhere.path, &how).is_ok());
}

#[test]
fn issuing_is_all_or_nothing_and_bounded_by_the_policy() {
    let f = Fixture::new();
    let missing = f
        .vault
        .grant(&f.spec("j.fvg").entry(RENDER).entry("shotgun/missing"));
    assert!(matches!(missing, Err(Error::NotFound { name }) if name == "shotgun/missing"));
    assert!(matches!(
        f.vault.grant(&f.spec("j.fvg").entry("nothing/")),
        Err(Error::NotFound { .. })
    ));
    f.clock.set(at_hours(3.0));
    let expired = f.vault.grant(&f.spec("j.fvg").entry(RENDER).entry(ARTIST));
    assert!(matches!(expired, Err(Error::Expired { name, .. }) if name == ARTIST));
    // Under a prefix, expired entries are left out rather than failing the grant.
    f.vault
        .put_credential(
            ARTIST,
            &f.vault.get(RENDER).unwrap().credential,
            &PutOptions::new().ttl(hours(1.0)),
        )
        .unwrap();
    f.clock.set(at_hours(4.5));
    let issued = f.issue(&f.spec("prefix.fvg").entry("shotgun/"));
    assert_eq!(issued.info.entries.as_deref().unwrap(), [PUBLISH, RENDER]);
    assert!(!f.path("j.fvg").exists());
    assert_eq!(f.vault.list_grants().unwrap().len(), 1);

    // The policy itself has a ceiling (a year), and a refused one changes nothing.
    let before = f.vault.grant_policy().unwrap();
    for (claim, use_for, over) in [
        (367 * 86_400, 3600, "max claim-by window"),
        (3600, GrantPolicy::MAX_LIMIT_SECS + 1, "max use window"),
    ] {
        let r = f.vault.set_grant_policy(GrantPolicy {
            max_claim_secs: claim,
            max_use_secs: use_for,
        });
        assert!(
            matches!(&r, Err(Error::InvalidArgument(m)) if m.contains("366 days") && m.contains(over)),
            "{r:?}"
        );
        assert_eq!(f.vault.grant_policy().unwrap(), before);
    }
    f.vault
        .set_grant_policy(GrantPolicy {
            max_claim_secs: GrantPolicy::MAX_LIMIT_SECS,
            max_use_secs: GrantPolicy::MAX_LIMIT_SECS,
        })
        .unwrap();

    // Both clocks are required, non-zero, and within the vault's policy.
    f.vault
        .set_grant_policy(GrantPolicy {
            max_claim_secs: 48 * 3600,
            max_use_secs: 2 * 3600,
        })
        .unwrap();
    let over_claim = f
        .vault
        .grant(&f.spec("j.fvg").entry(RENDER).use_for(hours(1.0)));
    match over_claim {
        Err(Error::InvalidArgument(msg)) => {
            assert!(
                msg.contains("3d") && msg.contains("2d"),
                "names both: {msg}"
            );
            assert!(
                msg.contains("259200 s") && msg.contains("172800 s"),
                "{msg}"
            );
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    let over_use = f
        .vault
        .grant(&f.spec("j.fvg").entry(RENDER).claim_within(hours(1.0)));
    assert!(
        matches!(over_use, Err(Error::InvalidArgument(m)) if m.contains("4h") && m.contains("2h"))
    );
    let zero = GrantSpec::new(f.path("j.fvg"), "job")
        .entry(RENDER)
        .claim_within(hours(1.0))
        .use_for(Duration::ZERO);
    assert!(matches!(
        f.vault.grant(&zero),
        Err(Error::InvalidArgument(_))
    ));
    let unbounded = GrantSpec::new(f.path("j.fvg"), "job")
        .entry(RENDER)
        .use_for(hours(1.0));
    assert!(matches!(
        f.vault.grant(&unbounded),
        Err(Error::InvalidArgument(_))
    ));
    let no_entries = GrantSpec::new(f.path("j.fvg"), "job")
        .claim_within(hours(1.0))
        .use_for(hours(1.0));
    assert!(matches!(
        f.vault.grant(&no_entries),
        Err(Error::InvalidArgument(_))
    ));
    let bad_label = GrantSpec::new(f.path("j.fvg"), "")
        .entry(RENDER)
        .claim_within(hours(1.0))
        .use_for(hours(1.0));
    assert!(matches!(
        f.vault.grant(&bad_label),
        Err(Error::InvalidArgument(_))
    ));
    assert!(!f.path("j.fvg").exists());

    // An existing file is never overwritten.
    let exists = f.path("exists.fvg");
    std::fs::write(&exists, b"keep me").unwrap();
    let e = f
        .vault
        .grant(
            &GrantSpec::new(&exists, "job")
                .entry(RENDER)
                .claim_within(hours(1.0))
                .use_for(hours(1.0)),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert_eq!(std::fs::read(&exists).unwrap(), b"keep me");
    assert_eq!(f.vault.list_grants().unwrap().len(), 1);
}

#[test]
fn grant_info_reads_the_header_without_a_key() {
    let f = Fixture::new();
    let (_, farm_pub) = f.identity("farm.key");
    let issued = f.issue(
        &f.spec("job.fvg")
            .entry("shotgun/")
            .recipient(&farm_pub)
            .hosts("render??"),
    );
    let info = grant::read_info(&issued.path).unwrap();
    assert_eq!(info.entries, None, "names are sealed");
    let mut expected = issued.info.clone();
    expected.entries = None;
    assert_eq!(info, expected);
    assert_eq!(info.entry_count, 3);
    assert_eq!(info.label, "job-4711");
    assert_eq!(info.created, UnixTime(T0));
    assert_eq!(info.latest_end(), at_hours(76.0));
    assert!(matches!(
        grant::read_info(
            farmvault::layout::data_dir(&f.path("vault"))
                .unwrap()
                .join("db")
        ),
        Err(Error::Corrupt { .. })
    ));
    assert!(matches!(
        grant::read_info(f.path("nope.fvg")),
        Err(Error::Io { .. })
    ));
}

#[cfg(unix)]
#[test]
fn bundle_identity_and_state_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let (farm, farm_pub) = f.identity("farm.key");
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).recipient(&farm_pub));
    f.open(&issued.path, &f.how("a").identity_file(&farm))
        .unwrap();
    let state = f.path("state-a").join(issued.id.to_hex());
    for p in [&issued.path, &farm, &state] {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    let leftovers: Vec<_> = files_under(f.dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The identity file is in age-keygen's format and never overwritten.
    let text = std::fs::read_to_string(&farm).unwrap();
    assert!(text.lines().any(|l| l.starts_with("AGE-SECRET-KEY-1")));
    assert!(text.contains(&farm_pub));
    assert!(grant::generate_farm_identity(&farm).is_err());
}

#[test]
fn debug_output_shows_no_secret() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry("shotgun/"));
    let token = issued.token.clone().unwrap();
    let g = f
        .open(&issued.path, &f.how("a").token(token.clone()))
        .unwrap();
    let printed = format!(
        "{issued:?} {g:?} {:?} {:?} {:?}",
        f.how("a").token(token.clone()),
        g.get(RENDER).unwrap(),
        g.info()
    );
    assert!(!printed.contains(&token.expose()[5..]), "{printed}");
    for s in [RENDER_KEY, PUBLISH_KEY, ARTIST_TOKEN] {
        assert!(!printed.contains(s), "{s} in {printed}");
    }
}

#[test]
fn grants_are_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Grant>();
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry("shotgun/"));
    let g = std::sync::Arc::new(
        f.open(&issued.path, &f.how("a").token(issued.token.unwrap()))
            .unwrap(),
    );
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let g = g.clone();
            std::thread::spawn(move || script_key(&*g, RENDER))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), RENDER_KEY);
    }
}

#[test]
fn racing_first_opens_agree_on_one_first_open() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = issued.token.unwrap();
    let opened: Vec<UnixTime> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|i| {
                let how = f
                    .how("a")
                    .token(token.clone())
                    .clock(std::sync::Arc::new(ManualClock::new(UnixTime(T0 + 60 * i))));
                let path = issued.path.clone();
                s.spawn(move || Grant::open(&path, &how).unwrap().first_opened())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(opened.iter().all(|t| *t == opened[0]), "{opened:?}");
}
