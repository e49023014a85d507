"""Editing a closed vault's sled log in place, the way an attacker with write access
to the vault directory could, for the tamper and corruption tests.

sled 0.34 writes each page update as a log message: ``crc32:u32le ‖ kind:u8 ‖
len ‖ segment ‖ page_id`` (sled varints) then ``len`` bytes of body, and checks
``crc32(body ‖ header[4:]) ^ 0xFFFFFFFF`` when it reads the message back. Values are
stored as they are (no compression), so a farmvault record can be found by its
clear prefix (format.rs: ``version:u8 ‖ created ‖ updated ‖ expires``, u64
big-endian) and edited; recomputing the message's CRC makes sled hand the edited
bytes to farmvault, whose own authentication must then refuse them.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Optional, Tuple

#: sled's MessageKind values of inline page data (InlineMeta, InlineNode, InlineLink).
_INLINE_KINDS = {6, 8, 10}


def _varint(data: bytes, at: int) -> Tuple[int, int]:
    """sled's u64 varint at ``at``: (value, length)."""
    b0 = data[at]
    if b0 <= 240:
        return b0, 1
    if b0 <= 248:
        return 240 + 256 * (b0 - 241) + data[at + 1], 2
    if b0 == 249:
        return 2288 + 256 * data[at + 1] + data[at + 2], 3
    size = b0 - 247
    return int.from_bytes(data[at + 1 : at + 1 + size], "little"), size + 1


def _crc(data: bytes, start: int, header_len: int, body_len: int) -> int:
    body = data[start + header_len : start + header_len + body_len]
    return (zlib.crc32(body + data[start + 4 : start + header_len]) ^ 0xFFFFFFFF) & 0xFFFFFFFF


def _message_around(data: bytes, pos: int, n: int) -> Optional[Tuple[int, int, int]]:
    """(start, header_len, body_len) of the valid message whose body holds data[pos:pos+n]."""
    for start in range(pos - 6, max(-1, pos - (1 << 17)), -1):
        if data[start + 4] not in _INLINE_KINDS:
            continue
        try:
            at = start + 5
            body_len, k = _varint(data, at)
            at += k
            for _ in range(2):  # segment number, page id
                _, k = _varint(data, at)
                at += k
        except IndexError:
            continue
        header_len = at - start
        if not (start + header_len <= pos and pos + n <= start + header_len + body_len):
            continue
        stored = struct.unpack_from("<I", data, start)[0]
        if stored == _crc(data, start, header_len, body_len):
            return start, header_len, body_len
    return None


def data_dir(vault_dir: Path) -> Path:
    """Where a vault's live store is: the generation directory its ``CURRENT``
    file names (docs/FORMAT.md), or the vault directory itself."""
    current = vault_dir / "CURRENT"
    if current.is_file():
        return vault_dir / current.read_text().strip()
    return vault_dir


def patch(vault_dir: Path, find: bytes, replace: bytes) -> int:
    """Replaces every occurrence of ``find`` in the vault's sled log with ``replace``
    (same length), fixing each enclosing message's CRC; returns how many."""
    assert len(find) == len(replace)
    db = data_dir(vault_dir) / "db"
    data = bytearray(db.read_bytes())
    count = 0
    pos = data.find(find)
    while pos != -1:
        msg = _message_around(bytes(data), pos, len(find))
        if msg is None:
            raise AssertionError(f"no valid sled message around offset {pos} of {db}")
        start, header_len, body_len = msg
        data[pos : pos + len(find)] = replace
        struct.pack_into("<I", data, start, _crc(bytes(data), start, header_len, body_len))
        count += 1
        pos = data.find(find, pos + len(find))
    db.write_bytes(bytes(data))
    return count


def record_prefix(created: int, updated: int, expires: int) -> bytes:
    """The clear times of a record (after its version byte)."""
    return struct.pack(">QQQ", created, updated, expires)
