"""The figures of the last `cargo bench` run as a Markdown table, with each ratio
to its floor and its target (docs/PERFORMANCE.md reads them).

    cargo bench
    python3 benches/report.py            # reads target/criterion/

Times are criterion's median estimates. Only the standard library is used.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (farmvault id, floor id, how to compare, target) per row of the table.
# "ratio": farmvault / floor <= target; "plus_ns": farmvault - floor <= target ns;
# "abs_s": farmvault <= target seconds; "scale": floor (1 thread) / farmvault (2).
ROWS = [
    ("get/farmvault/64", "get/floor/64", "ratio", 1.1),
    ("get/farmvault/1024", "get/floor/1024", "ratio", 1.1),
    ("get/farmvault/65536", "get/floor/65536", "ratio", 1.1),
    ("get/farmvault/64", "get/raw_sled/64", "ratio", 1.5),
    # sled alone on farmvault's own blinded keys and sealed records, against the
    # floor; then farmvault against that: the share a record-format change could cut.
    ("get/sled_records/64", "get/raw_sled/64", "ratio", None),
    ("get/farmvault/64", "get/sled_records/64", "ratio", None),
    ("get/farmvault/1024", "get/raw_sled/1024", "ratio", None),
    ("get/sled_records/1024", "get/raw_sled/1024", "ratio", None),
    ("get/farmvault/65536", "get/raw_sled/65536", "ratio", None),
    ("get/sled_records/65536", "get/raw_sled/65536", "ratio", None),
    ("put/farmvault/no_flush", "put/raw_sled/insert", "ratio", 1.5),
    ("put/sled_records/insert", "put/raw_sled/insert", "ratio", None),
    ("put/farmvault/no_flush", "put/sled_records/insert", "ratio", None),
    ("put/farmvault/durable", "put/raw_sled/insert_flush", "ratio", 1.1),
    ("put/farmvault/batch_1000", "put/raw_sled/batch_1000_flush", "ratio", 1.3),
    ("open/farmvault/key_file_100k", "open/raw_sled/open_100k", "ratio", 1.2),
    ("open/farmvault/passphrase_default_kdf", None, None, None),
    ("purge/farmvault/100k_expired", "purge/raw_sled/remove_same_keys", "abs_s", 1.0),
    ("ffi/c_abi/get_free", "ffi/rust/get", "plus_ns", 100),
    ("ffi/c_abi/get_view_free", "ffi/rust/get", "plus_ns", 100),
    ("ffi/c_abi/get_field_free", "ffi/rust/get", "plus_ns", 100),
    ("threads/farmvault/2", "threads/farmvault/1", "scale", None),
    ("threads/raw_sled/2", "threads/raw_sled/1", "scale", None),
    ("aead/seal/64", None, None, None),
    ("aead/open/64", None, None, None),
    ("aead/seal/65536", None, None, None),
    ("aead/open/65536", None, None, None),
]


def load(root: Path) -> dict[str, float]:
    """Median time in ns of every benchmark under `root`, by full id."""
    out = {}
    for bench in root.glob("**/new/benchmark.json"):
        full_id = json.loads(bench.read_text())["full_id"]
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        out[full_id] = estimates["median"]["point_estimate"]
    return out


def fmt(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main() -> None:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    times = load(target / "criterion")
    if not times:
        sys.exit(f"no criterion results under {target / 'criterion'}: run `cargo bench` first")
    print("| benchmark vs floor | time | floor | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for fv_id, floor_id, how, goal in ROWS:
        if fv_id not in times:
            continue
        fv = times[fv_id]
        floor = times.get(floor_id) if floor_id else None
        ratio, target_text, met = "", "", ""
        if how == "ratio" and floor:
            ratio = f"{fv / floor:.2f}x"
            if goal is not None:
                target_text, met = f"<= {goal}x", "yes" if fv / floor <= goal else "no"
        elif how == "plus_ns" and floor:
            ratio = f"+{fv - floor:.0f} ns"
            target_text, met = f"<= +{goal} ns", "yes" if fv - floor <= goal else "no"
        elif how == "abs_s":
            ratio = f"{fv / floor:.2f}x" if floor else ""
            target_text, met = f"<= {goal} s", "yes" if fv / 1e9 <= goal else "no"
        elif how == "scale" and floor:
            ratio = f"{floor / fv:.2f}x the 1-thread rate"
        print(f"| {fv_id} vs {floor_id or '-'} | {fmt(fv)} | {fmt(floor) if floor else ''} | {ratio} | {target_text} | {met} |")


if __name__ == "__main__":
    main()
