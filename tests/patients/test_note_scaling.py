"""Reading a long note: linear by construction (bounded sentences, bounded look-back),
the same facts per copy when a note is repeated, and a clear error past the size limit.

No test here measures time (``bench/bench_notes.py`` does); they check the properties that
make the reader linear and that the changes made for it left ordinary notes alone.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscout.patients.context import default_context
from trialscout.patients.loader import PatientFileError, load_patient_text
from trialscout.patients.note_spans import words_before
from trialscout.patients.notes import NoteError, extract_note
from trialscout.patients.sentences import MAX_SENTENCE, split_sentences
from trialscout.settings import load_settings

REF = date(2025, 3, 1)

NOTE = ("A 66-year-old woman with rheumatoid arthritis and atrial fibrillation. "
        "Creatinine 1.1 mg/dL and HbA1c 6.9%. Her brother had colon cancer. "
        "She denies any history of stroke. ")


def _facts(text: str) -> dict[str, set[str | None]]:
    profile = extract_note(text, reference_date=REF)
    return {"conditions": {c.concept for c in profile.conditions},
            "medications": {m.concept for m in profile.medications},
            "denied": {d.concept for d in profile.denied},
            "family": {f.concept for f in profile.family_history}}


@pytest.mark.parametrize("copies", [2, 5, 17])
def test_a_note_repeated_k_times_reads_k_times_the_same(copies: int) -> None:
    once = extract_note(NOTE, reference_date=REF)
    many = extract_note(NOTE * copies, reference_date=REF)
    # Every copy gives its sentences and measured values again ...
    assert len(split_sentences(NOTE * copies)) == copies * len(split_sentences(NOTE))
    assert len(many.measurements) == copies * len(once.measurements)
    # ... and the same conditions, drugs, denials and family history (kept once each).
    assert _facts(NOTE * copies) == _facts(NOTE)
    assert many.age_years == once.age_years and many.sex == once.sex


def test_a_run_on_sentence_is_cut_into_bounded_pieces_at_clause_breaks() -> None:
    clause = "prior hip fracture, type 2 diabetes, treated with insulin, "
    text = clause * 200
    pieces = split_sentences(text)
    assert len(pieces) > 1
    assert all(len(p.text) <= MAX_SENTENCE for p in pieces)
    assert all(text[p.start:p.end] == p.text for p in pieces)
    assert [p.index for p in pieces] == list(range(len(pieces)))
    # cuts fall after a comma, never inside a word
    assert all(text[p.end - 1] == "," for p in pieces[:-1])
    profile = extract_note(text, reference_date=REF)
    assert "type_2_diabetes" in {c.concept for c in profile.conditions}


def test_a_long_line_without_spaces_is_still_cut() -> None:
    text = "x" * (3 * MAX_SENTENCE + 7)
    pieces = split_sentences(text)
    assert "".join(p.text for p in pieces) == text
    assert all(len(p.text) <= MAX_SENTENCE for p in pieces)


def test_numbered_notes_with_a_giant_line_fall_back_to_plain_numbering() -> None:
    text = "0. A 50-year-old man.\n1. " + "gout, " * 400 + "\n2. He smokes."
    pieces = split_sentences(text)
    assert len({p.index for p in pieces}) == len(pieces)


@given(st.lists(st.sampled_from(["Dr.", "e.g.", "vs.", "Smith.", "Pain.", "no."]),
                min_size=1, max_size=60))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_sentence_offsets_are_exact_with_runs_of_abbreviations(words: list[str]) -> None:
    text = " ".join(words)
    for sentence in split_sentences(text):
        assert text[sentence.start:sentence.end] == sentence.text


@given(st.text(alphabet=st.sampled_from(list("ab '-/,.")), max_size=300),
       st.integers(min_value=0, max_value=300), st.integers(min_value=1, max_value=6))
@settings(max_examples=200, deadline=None)
def test_bounded_look_back_finds_the_same_words_as_a_full_scan(text: str, at: int,
                                                               count: int) -> None:
    import re

    position = min(at, len(text))
    full = list(re.finditer(r"[\w'/+-]+", text[:position]))[::-1][:count]
    got = words_before(text, position, count)
    assert [(m.start(), m.end()) for m in got] == [(m.start(), m.end()) for m in full]


@given(st.text(alphabet=st.sampled_from(list("ab '-/,.")), max_size=300),
       st.integers(min_value=0, max_value=300), st.integers(min_value=1, max_value=8))
@settings(max_examples=200, deadline=None)
def test_backward_cue_windows_match_a_full_scan(text: str, at: int, count: int) -> None:
    import re

    from trialscout.patients.context import _before_words

    position = min(at, len(text))
    starts = [m.start() for m in re.finditer(r"[\w'/-]+", text[:position])]
    expected = 0 if len(starts) <= count else starts[-count]
    assert _before_words(text, position, count) == expected


def test_backward_cues_stop_at_the_nearest_terminator() -> None:
    sentence = "She had a fall but a fracture was ruled out on the scan."
    mods = {m.cue: m for m in default_context().modifiers(sentence)}
    ruled = mods["was ruled out"]
    assert (ruled.scope_start, ruled.scope_end) == (sentence.index("but") + 3,
                                                    sentence.index("was ruled out"))
    assert "negated" in default_context().categories(
        sentence, sentence.index("fracture"), sentence.index("fracture") + 8, list(mods.values()))
    assert "negated" not in default_context().categories(
        sentence, sentence.index("fall"), sentence.index("fall") + 4, list(mods.values()))


def test_a_note_over_the_limit_is_refused_with_a_clear_message() -> None:
    with pytest.raises(NoteError, match=r"too long \(1,001 characters; at most 1,000, "
                                        r"the max_note_chars setting\)"):
        extract_note("a" * 1_001, reference_date=REF, max_chars=1_000)
    assert extract_note("A 50-year-old man." + " " * 900, reference_date=REF,
                        max_chars=1_000).age_years == 50
    with pytest.raises(PatientFileError, match="max_note_chars"):
        load_patient_text("b" * 600, max_note_chars=500)


def test_max_note_chars_is_a_setting_with_a_ceiling() -> None:
    assert load_settings(environ={}).max_note_chars == 200_000
    assert load_settings(environ={"TRIALSCOUT_MAX_NOTE_CHARS": "50000"}).max_note_chars == \
        50_000
    with pytest.raises(ValueError):
        load_settings(environ={"TRIALSCOUT_MAX_NOTE_CHARS": "500000"})


@pytest.mark.slow
def test_note_benchmark_smoke_run() -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "bench/bench_notes.py", "--lengths", "3000", "6000",
                           "--json"], cwd=root, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert {(r["shape"], r["chars"]) for r in rows} == {
        (s, n) for s in ("prose", "run_on", "dense") for n in (3000, 6000)}
    assert all(r["facts"] > 0 and r["cpu_s"] >= 0 for r in rows)
