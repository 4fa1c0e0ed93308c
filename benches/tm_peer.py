"""The peer side of `benches/tm.rs`: translate-toolkit's matcher on the same TMX and queries.

Usage: python benches/tm_peer.py UNITS.tmx QUERIES.txt EXPECTED.txt
Prints one JSON object: build seconds, per-query latency p50/p99 (ms), right unit first (%).
"""
import json
import sys
import time

# The matcher is only at its best with rapidfuzz; without it translate-toolkit falls back to a
# pure-Python Levenshtein (and only logs a warning). Refuse to measure that.
try:
    import rapidfuzz  # noqa: F401
except ImportError:
    sys.exit("peer degraded: rapidfuzz is not installed (make bench-deps installs it)")

from translate.search import match
from translate.storage import tmx

# translate-toolkit's heap compares units when two candidates tie; give them an order.
tmx.tmxunit.__lt__ = lambda a, b: id(a) < id(b)


def main():
    units_path, queries_path, expected_path = sys.argv[1:4]
    t0 = time.perf_counter()
    with open(units_path, "rb") as f:
        store = tmx.tmxfile(f, sourcelanguage="ru", targetlanguage="en")
    # max_length=1000: the default (70 characters) never looks at most news sentences.
    matcher = match.matcher(store, max_candidates=10, min_similarity=75, max_length=1000)
    build = time.perf_counter() - t0
    queries = open(queries_path, encoding="utf-8").read().splitlines()
    expected = open(expected_path, encoding="utf-8").read().splitlines()
    times, right = [], 0
    for q, want in zip(queries, expected):
        t = time.perf_counter()
        found = matcher.matches(q)
        times.append((time.perf_counter() - t) * 1000)
        if found and found[0].source == want:
            right += 1
    times.sort()
    pick = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(json.dumps({
        "units": len(store.units),
        "build_s": build,
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "right_first_pct": 100.0 * right / max(1, len(queries)),
    }))


if __name__ == "__main__":
    main()
