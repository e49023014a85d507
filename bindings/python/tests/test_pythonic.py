"""Python idioms over the vault: TTLs as text the command line takes, the
mapping protocol (``vault[name]``, ``name in vault``, iteration, ``del``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import farmvault
from farmvault import _args
from conftest import PW, T0, at, open_vault, script_key

#: cli/src/duration.rs's own table (parses_units_and_sums), in seconds.
GOOD = [
    ("90s", 90),
    ("15m", 900),
    ("8h", 8 * 3600),
    ("7d", 7 * 86400),
    ("2w", 14 * 86400),
    ("1h30m", 5400),
    ("1d2h3m4s", 93784),
    ("90m", 5400),
    ("2days", 2 * 86400),
    ("3hrs15mins", 3 * 3600 + 15 * 60),
    ("  8h\n", 8 * 3600),
]
#: What cli/src/duration.rs refuses (refuses_nonsense), and a few more.
BAD = ["", "   ", "10", "h", "1x", "1h30", "-1h", "+1h", "1.5h", "99999999999999999999999d",
       "1H", "1h 30m", "8 hours", "1h-", "١h"]


@pytest.mark.parametrize("text,secs", GOOD)
def test_ttl_text_means_what_it_means_on_the_command_line(vault: farmvault.Vault, text: str, secs: int) -> None:
    vault.put("a", b"x", ttl=text)
    assert vault.metadata("a").expires == at(T0 + secs)


def test_ttl_text_everywhere_a_ttl_is_taken(vault: farmvault.Vault) -> None:
    vault.put_credential("k", script_key(), ttl="8h")
    assert vault.metadata("k").expires == at(T0 + 8 * 3600)
    vault.renew("k", "1h30m")
    assert vault.metadata("k").expires == at(T0 + 5400)
    vault.renew("k", "none")
    assert vault.metadata("k").expires is None
    with vault.batch() as b:
        b.put("b", b"x", ttl="2w")
        b.put_credential("c", script_key(), ttl=" never ")
    assert vault.metadata("b").expires == at(T0 + 14 * 86400)
    assert vault.metadata("c").expires is None
    # Milliseconds round up to the second, as a float TTL does.
    vault.put("ms", b"x", ttl="500ms")
    assert vault.metadata("ms").expires == at(T0 + 1)
    # timedelta, as before.
    vault.put("td", b"x", ttl=timedelta(hours=1, minutes=30))
    assert vault.metadata("td").expires == at(T0 + 5400)


@pytest.mark.parametrize("text", BAD + ["0s", "0h0m"])
def test_a_bad_ttl_is_refused_naming_it(vault: farmvault.Vault, text: str) -> None:
    with pytest.raises(farmvault.InvalidArgument) as e:
        vault.put("a", b"x", ttl=text)
    assert isinstance(e.value, ValueError) and e.value.code == 7
    if text.strip():
        assert repr(text) in str(e.value)
    assert "ttl" in str(e.value)
    with pytest.raises(farmvault.NotFound):
        vault.get("a")


@pytest.mark.parametrize("text", BAD)
def test_the_duration_grammar_refuses_what_the_cli_refuses(text: str) -> None:
    with pytest.raises(farmvault.InvalidArgument):
        _args.parse_duration(text)


def test_durations_past_64_bits_of_milliseconds_are_too_long() -> None:
    assert _args.parse_duration(f"{2**64 - 1}ms") == 2**64 - 1
    with pytest.raises(farmvault.InvalidArgument, match="too long"):
        _args.parse_duration(f"{2**64}ms")
    assert _args.parse_duration("0s") == 0  # zero is a duration; a TTL of zero is not


def test_lock_timeout_takes_text_and_zero(vault_path: Path) -> None:
    with farmvault.Vault.open(vault_path, passphrase=PW, lock_timeout="0s"):
        pass
    with farmvault.Vault.open(vault_path, passphrase=PW, lock_timeout="1m30s"):
        pass
    with pytest.raises(farmvault.InvalidArgument, match="'soon'"):
        farmvault.Vault.open(vault_path, passphrase=PW, lock_timeout="soon")


def test_a_vault_reads_like_a_mapping(vault: farmvault.Vault) -> None:
    vault.put_credential("sg/farm", script_key())
    vault.put("blob", b"x")
    entry = vault["sg/farm"]
    assert isinstance(entry, farmvault.Entry) and entry.name == "sg/farm"
    assert entry.credential == vault.get("sg/farm").credential
    assert "sg/farm" in vault and "blob" in vault
    assert "missing" not in vault
    assert list(vault) == ["blob", "sg/farm"] == [e.name for e in vault.list()]
    assert sorted(vault) == list(vault)
    with pytest.raises(KeyError) as e:
        vault["missing"]
    assert isinstance(e.value, farmvault.NotFound) and str(e.value) == e.value.message
    del vault["blob"]
    assert "blob" not in vault and list(vault) == ["sg/farm"]
    with pytest.raises(KeyError):
        del vault["blob"]
    # A handle is truthy whatever it holds: there is no len() to make it false.
    del vault["sg/farm"]
    assert list(vault) == [] and bool(vault)
    with pytest.raises(TypeError):
        len(vault)  # type: ignore[arg-type]


def test_an_expired_entry_is_stored_but_not_in(vault_path: Path) -> None:
    with open_vault(vault_path, T0) as v:
        v.put("short", b"x", ttl="1m")
        v.put("long", b"x", ttl="1h")
    with open_vault(vault_path, T0 + 120) as v:
        assert "short" not in v and "long" in v
        # Iteration is what list() shows: the expired entry until a purge.
        assert list(v) == ["long", "short"]
        with pytest.raises(farmvault.Expired):
            v["short"]
        v.purge_expired()
        assert list(v) == ["long"]


def test_in_takes_names_as_every_call_does(vault: farmvault.Vault) -> None:
    for bad in (b"bytes", None, 42, ""):
        with pytest.raises(farmvault.InvalidArgument):
            bad in vault  # noqa: B015
    vault.close()
    with pytest.raises(farmvault.InvalidArgument, match="closed"):
        "a" in vault  # noqa: B015
    with pytest.raises(farmvault.InvalidArgument, match="closed"):
        list(vault)


def test_iteration_is_a_snapshot(vault: farmvault.Vault) -> None:
    for name in ("a", "b", "c"):
        vault.put(name, b"x")
    seen = []
    for name in vault:
        seen.append(name)
        vault.put(name + "2", b"x")
    assert seen == ["a", "b", "c"]
