"""farmvault.logmask.SecretFilter on real logging handlers: the secrets a tool
read never reach the log, in messages, arguments, tracebacks or stack info."""

from __future__ import annotations

import io
import logging
from typing import Iterator, Tuple

import pytest

import farmvault
from conftest import script_key
from farmvault.logmask import MASK, SecretFilter

KEY = script_key().api_key.text()


@pytest.fixture
def logged() -> Iterator[Tuple[logging.Logger, io.StringIO, SecretFilter]]:
    """A logger whose handler writes to a buffer through a fresh filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    mask = SecretFilter()
    handler.addFilter(mask)
    logger = logging.getLogger("farmvault-test-logmask")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, out, mask
    finally:
        logger.removeHandler(handler)
        mask.clear()


def test_a_secret_read_from_the_vault_is_masked_everywhere_a_record_carries_it(
    vault: farmvault.Vault, logged: Tuple[logging.Logger, io.StringIO, SecretFilter]
) -> None:
    logger, out, mask = logged
    vault.put_credential("shotgun/render_farm", script_key())
    logger.info("before the read: %s", "nothing secret")
    secret = vault.get("shotgun/render_farm").secret  # read after the filter exists: watched
    logger.info("connecting with %s", secret.text())
    logger.warning("url https://site/api?key=" + secret.text() + "&x=1")
    logger.debug("kwargs %r", {"api_key": secret.text()})
    try:
        raise RuntimeError(f"auth failed for key {secret.text()}")
    except RuntimeError:
        logger.exception("login failed")
    logger.info("where", stack_info=True)
    text = out.getvalue()
    assert KEY not in text, text
    assert text.count(MASK) == 4, text
    assert "RuntimeError: auth failed for key ***" in text
    assert "connecting with ***" in text
    assert "key=***&x=1" in text
    assert "nothing secret" in text


def test_the_longest_secret_wins_and_short_ones_are_refused(
    logged: Tuple[logging.Logger, io.StringIO, SecretFilter]
) -> None:
    logger, out, mask = logged
    mask.add("token-abcd")
    mask.add("token-abcd-extended")
    logger.info("a token-abcd-extended b token-abcd c")
    assert out.getvalue().strip() == "INFO a *** b *** c"
    with pytest.raises(farmvault.InvalidArgument, match="at least 4 bytes"):
        mask.add("abc")


def test_clear_wipes_the_copies_and_stops_masking(
    logged: Tuple[logging.Logger, io.StringIO, SecretFilter]
) -> None:
    logger, out, mask = logged
    mask.add(KEY)
    held = list(mask._secrets)
    mask.clear()
    assert all(not any(s.buffer()) for s in held), "wiped"
    logger.info("%s", "plain")
    assert out.getvalue().strip() == "INFO plain"


def test_a_filter_that_does_not_watch_reads_masks_only_what_it_was_given(
    vault: farmvault.Vault,
) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    mask = SecretFilter(watch_reads=False)
    handler.addFilter(mask)
    logger = logging.getLogger("farmvault-test-logmask-manual")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        vault.put_credential("shotgun/render_farm", script_key())
        secret = vault.get("shotgun/render_farm").secret
        logger.warning("%s", secret.text())
        assert KEY in out.getvalue(), "not watched: logged as it is"
        mask.add(secret)
        logger.warning("%s", secret.text())
        assert out.getvalue().splitlines()[-1] == MASK
    finally:
        logger.removeHandler(handler)
        mask.clear()
