"""Note reading benchmark: seconds to read a clinical note into a profile, by note length.

Reading a note must stay linear in its length: a visitor can upload a note of up to
``max_note_chars`` characters (200,000 by default), and the reader used to be quadratic (a
199 KB note cost two minutes of CPU). Target: a 200,000-character note in under 2 s.

Three made-up note shapes (written for this benchmark, no real or benchmark text):

* ``prose``: ordinary sentences with ages, conditions, drugs, labs, family history and
  times, repeated to the length;
* ``run_on``: one "sentence" with commas and no full stops (a pasted problem list, or
  hostile input): the shape that made the reader quadratic;
* ``dense``: drug-like and condition-like words separated only by spaces.

Each note is read once after a warm-up (rule compilation and the vocabulary are one-off
costs, reported separately). Reported per shape and length: CPU and wall seconds, facts
found, and the machine's load average.

    python bench/bench_notes.py                  # 12.5k, 25k, 50k, 100k, 200k characters
    python bench/bench_notes.py --lengths 200000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date
from typing import Any

LENGTHS = (12_500, 25_000, 50_000, 100_000, 200_000)
REF = date(2025, 1, 15)

PROSE = (
    "Mrs. K. is a 71-year-old woman seen for bone health follow-up. She has had type 2 "
    "diabetes for 9 years and hypertension since 2016. Her osteoporosis was diagnosed at "
    "age 64; she took alendronate for 4 years and stopped it in 2022. Her last denosumab "
    "injection was 5 months ago. She currently takes metformin and lisinopril. Her sister "
    "had breast cancer and her father broke his hip. She denies kidney stones. Labs: "
    "creatinine 0.9 mg/dL, eGFR 71, HbA1c 7.4%, calcium 9.6 mg/dL. DXA T-score -2.7 at the "
    "lumbar spine. She underwent a cholecystectomy in 2009.\n"
)
RUN_ON = (
    "chronic kidney disease stage 3, prior vertebral fracture, history of breast cancer, "
    "atrial fibrillation on apixaban 3 years ago, rheumatoid arthritis treated with "
    "methotrexate, no history of stroke, mother with osteoporosis, "
)
DENSE = "osteopenia denosumab fracture risedronate anemia surgery prednisone biopsy "


def make_note(shape: str, length: int) -> str:
    unit = {"prose": PROSE, "run_on": RUN_ON, "dense": DENSE}[shape]
    return (unit * (length // len(unit) + 1))[:length]


def measure(shape: str, length: int) -> dict[str, Any]:
    from trialscout.patients.notes import extract_note

    text = make_note(shape, length)
    cpu, wall = time.process_time(), time.perf_counter()
    profile = extract_note(text, reference_date=REF)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    facts = sum(len(getattr(profile, f)) for f in (
        "conditions", "medications", "procedures", "measurements", "denied",
        "family_history"))
    return {"shape": shape, "chars": length, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "facts": facts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--shapes", nargs="+", default=["prose", "run_on", "dense"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    from trialscout.patients.notes import extract_note

    started = time.process_time()
    extract_note("A 60-year-old woman with osteoporosis.", reference_date=REF)
    warm_up = time.process_time() - started
    rows = [measure(shape, length) for shape in args.shapes for length in args.lengths]
    report = {"warm_up_cpu_s": round(warm_up, 3), "load_average": os.getloadavg(),
              "target": "200,000 characters in under 2 s", "rows": rows}
    if args.json:
        print(json.dumps(report))
        return
    print(f"warm-up (rules, vocabulary): {warm_up:.2f} CPU s; "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'shape':<8} {'chars':>8} {'CPU s':>7} {'wall s':>7} {'facts':>6}")
    for row in rows:
        print(f"{row['shape']:<8} {row['chars']:>8} {row['cpu_s']:>7.2f} "
              f"{row['wall_s']:>7.2f} {row['facts']:>6}")


if __name__ == "__main__":
    main()
