"""Criteria parsing benchmark: trials/s, items/s and the share of items left as "other".

Parses the eligibility criteria of every study in ../shared/data/ctgov/studies.jsonl.gz on
one core (this process), after a warm-up that loads the rules, the lexicons and the unit
registry (one-off costs reported separately). Target: at least 500 trials/s, so a
registry-sized corpus (about 560,000 trials) parses in under 20 minutes.

Reported: wall-clock and CPU rates over the studies that have criteria text (the ones
that cost anything) and over all studies, items per second, the share of items typed as
"other", the kinds of items, and the machine's load average (other work on the same cores
slows the wall clock; CPU seconds show the parser's own time). Texts are parsed under
the bulk parse's garbage-collector thresholds (``criteria.parallel.bulk_collection``).

The parser runs as this interpreter imports it: an editable install (the development
setup) is pure Python; a regular install or wheel has the hot modules compiled with mypyc
(see setup.py). The report says which. To measure the compiled build:

    python3 -m venv /tmp/ts-wheel && /tmp/ts-wheel/bin/pip install .
    /tmp/ts-wheel/bin/python bench/bench_criteria.py

    python bench/bench_criteria.py                # the whole file
    python bench/bench_criteria.py --limit 500    # a quick run
    python bench/bench_criteria.py --json         # one JSON object
"""

from __future__ import annotations

import argparse
import collections
import gzip
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "ctgov" / "studies.jsonl.gz"
TARGET_TRIALS_PER_S = 500
REGISTRY_SIZE = 560_000


def load_texts(path: Path, limit: int | None) -> tuple[int, list[str]]:
    total = 0
    texts: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            total += 1
            module = json.loads(line)["protocolSection"].get("eligibilityModule", {})
            text = module.get("eligibilityCriteria")
            if text:
                texts.append(text)
                if limit is not None and len(texts) >= limit:
                    break
    return total, texts


def run(source: Path, limit: int | None) -> dict[str, Any]:
    if importlib.util.find_spec("trialscout") is None:
        sys.path.insert(0, str(REPO))
    t0 = time.perf_counter()
    from trialscout.criteria import parse_criteria, units
    from trialscout.criteria.build import compiled_modules, parser_build
    from trialscout.criteria.lexicon import lexicon
    from trialscout.criteria.parallel import bulk_collection

    lexicon()
    units.registry()
    units.convert(1.0, "mmol/L", "mg/dL", "glucose")
    parse_criteria("Inclusion Criteria:\n* HbA1c ≥ 7%\nExclusion Criteria:\n* Prolia")
    warmup = time.perf_counter() - t0

    total_studies, texts = load_texts(source, limit)
    kinds: collections.Counter[str] = collections.Counter()
    items = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with bulk_collection():
        for text in texts:
            parsed = parse_criteria(text)
            items += len(parsed.items)
            for item in parsed.items:
                kinds[item.kind] += 1
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    studies = total_studies if limit is None else len(texts)
    with_criteria_cpu = len(texts) / cpu if cpu else 0.0
    return {
        "source": str(source),
        "build": parser_build(),
        "compiled_modules": list(compiled_modules()),
        "studies_read": studies,
        "trials_with_criteria": len(texts),
        "items": items,
        "warmup_s": round(warmup, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "trials_per_s_wall": round(len(texts) / wall, 1) if wall else None,
        "trials_per_s_cpu": round(with_criteria_cpu, 1),
        "all_studies_per_s_cpu": round(studies / cpu, 1) if cpu else None,
        "items_per_s_cpu": round(items / cpu, 1) if cpu else None,
        "other_share": round(kinds["other"] / items, 4) if items else 0.0,
        "kinds": dict(kinds.most_common()),
        "registry_minutes_cpu": round(REGISTRY_SIZE / with_criteria_cpu / 60, 1)
        if with_criteria_cpu else None,
        "target_trials_per_s": TARGET_TRIALS_PER_S,
        "meets_target": with_criteria_cpu >= TARGET_TRIALS_PER_S,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--limit", type=int, default=None,
                        help="Parse only the first N studies that have criteria.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    args = parser.parse_args()
    if not args.source.is_file():
        print(f"no such file: {args.source} (it lives in ../shared/data)", file=sys.stderr)
        raise SystemExit(2)
    result = run(args.source, args.limit)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"source: {result['source']}")
    print(f"criteria parser build: {result['build']} "
          f"({len(result['compiled_modules'])} modules compiled)")
    print(f"studies read: {result['studies_read']}, with criteria: "
          f"{result['trials_with_criteria']}, items: {result['items']}")
    print(f"warm-up (rules, lexicons, unit registry): {result['warmup_s']} s")
    print(f"parse: {result['wall_s']} s wall, {result['cpu_s']} s CPU "
          f"(load average {result['load_average']})")
    print(f"trials/s (with criteria): {result['trials_per_s_cpu']} per CPU second, "
          f"{result['trials_per_s_wall']} per wall second")
    print(f"all studies/s (CPU): {result['all_studies_per_s_cpu']}")
    print(f"items/s (CPU): {result['items_per_s_cpu']}")
    print(f"share of items typed 'other': {result['other_share']:.1%}")
    print(f"registry of {REGISTRY_SIZE:,} trials: {result['registry_minutes_cpu']} CPU minutes")
    print(f"target {TARGET_TRIALS_PER_S} trials/s: "
          f"{'met' if result['meets_target'] else 'NOT met'}")
    print("kinds: " + ", ".join(f"{k} {v}" for k, v in result["kinds"].items()))


if __name__ == "__main__":
    main()
