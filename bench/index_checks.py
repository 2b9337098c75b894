"""What the integrity checks cost: load an index with and without checksums, then verify it.

    python bench/index_checks.py --index /tmp/hardening/index

Prints milliseconds per load (page cache warm after the first) and the `verify` report.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from assistant.index.store import load_index, verify_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    load_index(args.index)  # warm the page cache
    for checksums in (False, True):
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            load_index(args.index, checksums=checksums)
            times.append((time.perf_counter() - started) * 1000)
        print(f"load with checksums={checksums}: best {min(times):.0f} ms, median {sorted(times)[len(times) // 2]:.0f} ms")
    print(json.dumps(verify_index(args.index)))


if __name__ == "__main__":
    main()
