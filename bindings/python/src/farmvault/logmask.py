"""A :class:`logging.Filter` that replaces secret values with ``***`` in log
records, as ``farmvault exec --mask`` does for a child's output.

Farm tools log a great deal: a URL with a key in its query, a dict of
connection arguments, an exception whose message quotes a token. Put one filter
on the handler that writes the log, and no secret the tool read through the
package reaches the file, the farm manager's log view or a crash report::

    import logging
    import farmvault
    from farmvault.logmask import SecretFilter

    mask = SecretFilter()              # keep it: it watches reads while it lives
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)

    with farmvault.from_env() as vault:
        key = vault.get("shotgun/render_farm").secret   # read: from now on it logs as ***
        logging.info("connecting with %s", key.text())   # "connecting with ***"

By default a filter masks every secret the package reads in this process after
the filter was made (``watch_reads=False``: only those given to :meth:`add`):
keys, tokens and passwords read from a vault or a grant, and the secrets passed
in to a call. Give it those read before it existed, or obtained elsewhere,
with :meth:`add`.

The filter formats each record's message with its arguments (what a handler
would print) and masks that, and masks a traceback's text and ``stack_info``
too. On a handler it sees records from every logger, which is what makes it
hold; on a logger it sees only that logger's own records (``logging`` does not
run a logger's filters for records propagated from its children).

The secrets are kept as :class:`~farmvault.Secret` copies and wiped by
:meth:`SecretFilter.clear`. A secret shorter than :data:`MIN_LENGTH` bytes is
refused: masking every ``a`` in a log hides nothing and garbles everything.
"""

from __future__ import annotations

import logging
import threading
from typing import List

from . import _secret
from ._errors import InvalidArgument
from ._secret import Secret, SecretLike

__all__ = ["SecretFilter", "MASK", "MIN_LENGTH"]

#: What replaces a secret.
MASK = "***"
#: The shortest secret masked.
MIN_LENGTH = 4


class SecretFilter(logging.Filter):
    """Masks the secrets it was given in every record it sees; it never drops a
    record. Safe to share between threads and handlers."""

    def __init__(self, *secrets: SecretLike, watch_reads: bool = True) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: List[Secret] = []
        for s in secrets:
            self.add(s)
        if watch_reads:
            _secret.watch_reads(self)

    def saw(self, secret: Secret) -> None:
        """Told of each secret the package reads (with ``watch_reads``): masked
        from now on, unless shorter than :data:`MIN_LENGTH`."""
        if len(secret.buffer()) >= MIN_LENGTH:
            self.add(secret)

    def add(self, secret: SecretLike) -> None:
        """Masks ``secret`` (a :class:`~farmvault.Secret`, ``str`` or bytes; for
        an entry, pass ``entry.secret``) from now on. A copy is kept."""
        copy = Secret(secret)
        if len(copy.buffer()) < MIN_LENGTH:
            copy.wipe()
            raise InvalidArgument(
                f"a secret to mask must be at least {MIN_LENGTH} bytes: a shorter one "
                "would mask ordinary text"
            )
        with self._lock:
            if any(s.buffer() == copy.buffer() for s in self._secrets):
                copy.wipe()
                return
            self._secrets.append(copy)
            # Longest first, so a secret that contains another is masked whole.
            self._secrets.sort(key=lambda s: len(s.buffer()), reverse=True)

    def clear(self) -> None:
        """Forgets and wipes every secret."""
        with self._lock:
            for s in self._secrets:
                s.wipe()
            self._secrets = []

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        with self._lock:
            if not self._secrets:
                return text
            data = text.encode("utf-8", "surrogateescape")
            for s in self._secrets:
                data = data.replace(s.buffer(), MASK.encode())
        return data.decode("utf-8", "surrogateescape")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # Formatted here, as a handler's formatter would, so the masked text
            # is what it prints (it reuses exc_text when set).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True
