"""Time loading an index and preparing it for search (what a server or `ask` does before answering).

    .venv/bin/python bench/index_load.py --index DIR [--repeat 3]

Prints seconds of `load_index` and of `retrieval.prepare` per repeat (imports excluded) and
the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import faiss  # noqa: F401 - imported before timing: import time is not load time

    from assistant.index.store import load_index
    from assistant.search.retrieval import prepare

    rounds = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        loaded = load_index(args.index)
        loaded_at = time.perf_counter()
        prepare(loaded)
        rounds.append((loaded_at - started, time.perf_counter() - loaded_at))
    print("load_index / prepare (s): " + ", ".join(f"{load:.3f} / {ready:.3f}" for load, ready in rounds))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
