"""Event times from notes and FHIR: each time expression, which mention it belongs to,
start / end / last dose / current, and "unknown" when the record does not say.

The sentences are written for these tests (no benchmark text).
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from trialscout.patients.fhir import import_bundle
from trialscout.patients.notes import extract_note, implied_date
from trialscout.patients.times import EventTime, event_time

REF = date(2024, 6, 1)
DATA = Path(__file__).parent / "data"


def at(sentence: str, word: str, kind: str = "condition", age: float | None = None
       ) -> EventTime:
    i = sentence.index(word)
    return event_time(sentence, i, i + len(word), REF, kind=kind, age=age)


def days_ago(n: float) -> date:
    return REF - timedelta(days=n)


# ---------------------------------------------------------------------- each expression
def test_n_units_ago_is_a_day() -> None:
    t = at("He had a wrist fracture 2 years ago.", "wrist fracture")
    assert t.start == (days_ago(730.5), days_ago(730.5))
    assert at("Pneumonia three weeks ago.", "Pneumonia").start == (days_ago(21), days_ago(21))


def test_more_than_n_ago_is_earlier_than_n_ago() -> None:
    plain = at("Stroke 6 months ago.", "Stroke").first_day
    more = at("Stroke more than 6 months ago.", "Stroke").first_day
    assert plain is not None and more is not None and more < plain


def test_since_a_year_or_a_month_is_a_range_and_ongoing() -> None:
    t = at("Asthma since 2019, well controlled.", "Asthma")
    assert t.start == (date(2019, 1, 1), date(2019, 12, 31)) and t.current is True
    t = at("He has had gout since March 2020.", "gout")
    assert t.start == (date(2020, 3, 1), date(2020, 3, 31))


def test_for_a_duration_counts_back_to_the_onset() -> None:
    t = at("She has had type 2 diabetes for 6 years.", "diabetes")
    assert t.start == (days_ago(6 * 365.25), days_ago(6 * 365.25))
    assert t.duration_days == pytest.approx(6 * 365.25) and t.current is True


def test_an_n_year_history_of_belongs_to_what_follows() -> None:
    t = at("A 12-year history of hypertension and gout.", "hypertension")
    assert t.first_day == days_ago(12 * 365.25)


def test_last_dose_injection_or_infusion_is_the_last_dose_not_the_start() -> None:
    t = at("Her last denosumab injection was 7 months ago.", "denosumab", "medication")
    assert t.last is not None and t.start is None
    assert t.last[0] == days_ago(7 * 30.4375)
    t = at("Received the last infusion of zoledronic acid in May 2023.", "zoledronic acid",
           "medication")
    assert t.last == (date(2023, 5, 1), date(2023, 5, 31))


def test_stopped_in_a_year_is_an_end_and_not_current() -> None:
    t = at("She stopped prednisone in 2022.", "prednisone", "medication")
    assert t.end == (date(2022, 1, 1), date(2022, 12, 31)) and t.current is False
    assert t.start is None


def test_a_duration_before_a_stop_date_counts_back_from_the_stop() -> None:
    t = at("He took allopurinol for 4 years and stopped it in 2021.", "allopurinol",
           "medication")
    assert t.end == (date(2021, 1, 1), date(2021, 12, 31))
    assert t.start == (date(2017, 1, 1), date(2017, 12, 31))


def test_diagnosed_at_age_uses_the_patients_age() -> None:
    t = at("Hypertension diagnosed at age 50.", "Hypertension", age=70.0)
    assert t.start == (days_ago(21 * 365.25), days_ago(20 * 365.25))
    assert not at("Hypertension diagnosed at age 50.", "Hypertension").known


def test_currently_on_and_is_taking_are_current() -> None:
    assert at("She is currently receiving chemotherapy.", "chemotherapy",
              "medication").current is True
    assert at("He is taking metformin.", "metformin", "medication").current is True


def test_explicit_dates() -> None:
    assert at("Knee replacement on 2021-03-05.", "Knee replacement",
              "procedure").start == (date(2021, 3, 5), date(2021, 3, 5))
    assert at("Colonoscopy in 04/2022 was normal.", "Colonoscopy",
              "procedure").start == (date(2022, 4, 1), date(2022, 4, 30))
    assert at("In 2015 she underwent a hysterectomy.", "hysterectomy",
              "procedure").start == (date(2015, 1, 1), date(2015, 12, 31))


def test_a_future_date_is_not_a_time_of_the_past() -> None:
    assert at("Surgery in 2030.", "Surgery", "procedure").start is None


def test_no_time_in_the_sentence_is_unknown() -> None:
    t = at("She has osteoporosis.", "osteoporosis")
    assert not t.known and t.start is None and t.end is None and t.current is None


# ---------------------------------------------------------------------- attachment
def test_a_duration_belongs_to_the_drug_it_follows_not_the_condition_before() -> None:
    sentence = "A 70-year-old woman with postmenopausal osteoporosis, on alendronate for 3 years."
    assert not at(sentence, "osteoporosis").known
    drug = at(sentence, "alendronate", "medication")
    assert drug.first_day == days_ago(3 * 365.25) and drug.current is True


def test_each_condition_takes_its_own_time() -> None:
    sentence = "She has had asthma for 20 years and hypertension since 2016."
    assert at(sentence, "asthma").first_day == days_ago(20 * 365.25)
    assert at(sentence, "hypertension").start == (date(2016, 1, 1), date(2016, 12, 31))


def test_the_nearest_cue_decides_start_or_stop() -> None:
    sentence = "She stopped warfarin and started apixaban in March 2020."
    assert at(sentence, "apixaban", "medication").start == (date(2020, 3, 1),
                                                             date(2020, 3, 31))
    assert not at(sentence, "warfarin", "medication").known


def test_a_treatment_verb_does_not_end_a_condition() -> None:
    t = at("She had chemotherapy for her lymphoma, which was completed 4 months ago.",
           "lymphoma")
    assert t.end is None


# ---------------------------------------------------------------------- the note reader
def test_note_facts_carry_start_end_last_dose_and_status() -> None:
    p = extract_note(
        "A 69-year-old woman with osteoporosis, on alendronate for 3 years. Her last "
        "denosumab injection was 7 months ago. She stopped prednisone in 2022. She is "
        "currently taking metformin. Lisinopril. Gout resolved in 2019. Hypertension "
        "diagnosed at age 50.", reference_date=REF)
    conditions = {c.concept: c for c in p.conditions}
    meds = {m.concept: m for m in p.medications}
    assert conditions["osteoporosis"].onset is None  # the defect: it got alendronate's time
    assert meds["alendronate"].start == days_ago(3 * 365.25)
    assert meds["alendronate"].status == "active"
    assert meds["denosumab"].last_dose == days_ago(7 * 30.4375)
    assert meds["denosumab"].start is None
    assert meds["prednisone"].stop == date(2022, 1, 1)
    assert meds["prednisone"].status == "stopped"
    assert meds["metformin"].status == "active"
    assert meds["lisinopril"].status == "unknown"
    assert conditions["gout"].status == "resolved"
    assert conditions["gout"].abatement == date(2019, 1, 1)
    onset = conditions["hypertension"].onset
    assert onset is not None and days_ago(20 * 365.25 + 366) <= onset <= days_ago(19 * 365.25)


def test_implied_date_follows_the_same_attachment() -> None:
    sentence = "Osteoporosis, on alendronate for 3 years."
    assert implied_date(sentence, 0, 12, REF) is None
    i = sentence.index("alendronate")
    assert implied_date(sentence, i, i + 11, REF) == days_ago(3 * 365.25)


# ---------------------------------------------------------------------- family, defects
def test_a_relatives_event_told_as_a_verb_is_family_history() -> None:
    p = extract_note("A 64-year-old woman. Her mother broke her hip at 80. She broke her "
                     "wrist 2 years ago. Family history of breast cancer.", reference_date=REF)
    family = {f.concept: f for f in p.family_history}
    assert family["hip_fracture"].relative == "mother"
    assert "breast_cancer" in family and family["breast_cancer"].relative is None
    own = {c.concept: c for c in p.conditions}
    assert "hip_fracture" not in own and "breast_cancer" not in own
    assert own["wrist_fracture"].onset == days_ago(730.5)


def test_a_note_measurement_does_not_repeat_its_label() -> None:
    p = extract_note("DXA T-score -2.8 at the hip. BP 142/88.", reference_date=REF)
    t_score = next(m for m in p.measurements if m.analyte == "bmd_t_score")
    assert t_score.value == -2.8 and t_score.text is None
    assert all(m.text is None for m in p.measurements)


# ---------------------------------------------------------------------- FHIR
@pytest.fixture
def bundle() -> dict[str, Any]:
    return json.loads((DATA / "bundle_valid.json").read_text())


def _resource(bundle: dict[str, Any], rtype: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == rtype)


def _with(bundle: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out["entry"].append({"resource": resource})
    return out


CODE = {"text": "Gout"}


def test_fhir_condition_onset_age_needs_the_birth_date(bundle: dict[str, Any]) -> None:
    birth = date.fromisoformat(_resource(bundle, "Patient")["birthDate"])
    p = import_bundle(_with(bundle, {"resourceType": "Condition", "id": "g", "code": CODE,
                                     "subject": {"reference": "Patient/p1"},
                                     "onsetAge": {"value": 40, "unit": "a", "code": "a"}}))
    gout = next(c for c in p.conditions if c.name == "Gout")
    assert gout.onset == birth + timedelta(days=40 * 365.25)
    no_birth = copy.deepcopy(bundle)
    _resource(no_birth, "Patient").pop("birthDate")
    p = import_bundle(_with(no_birth, {"resourceType": "Condition", "id": "g", "code": CODE,
                                       "subject": {"reference": "Patient/p1"},
                                       "onsetAge": {"value": 40, "unit": "a"}}))
    assert next(c for c in p.conditions if c.name == "Gout").onset is None


def test_fhir_condition_abatement_and_recorded_date(bundle: dict[str, Any]) -> None:
    p = import_bundle(_with(bundle, {
        "resourceType": "Condition", "id": "g", "code": CODE,
        "subject": {"reference": "Patient/p1"}, "recordedDate": "2015-04-02",
        "abatementPeriod": {"start": "2018-01-01", "end": "2018-03-01"}}))
    gout = next(c for c in p.conditions if c.name == "Gout")
    assert gout.recorded == date(2015, 4, 2) and gout.onset is None
    assert gout.abatement == date(2018, 3, 1) and gout.status == "resolved"


def test_fhir_completed_statement_with_one_time_is_a_last_dose(bundle: dict[str, Any]
                                                                 ) -> None:
    p = import_bundle(_with(bundle, {
        "resourceType": "MedicationStatement", "id": "dmab", "status": "completed",
        "medicationCodeableConcept": {"text": "Denosumab 60 mg injection"},
        "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2023-10-15"}))
    med = next(m for m in p.medications if m.name.startswith("Denosumab"))
    assert med.last_dose == date(2023, 10, 15) and med.start is None
    assert med.status == "completed"


@pytest.mark.parametrize("status", ["intended", "on-hold"])
def test_fhir_planned_or_paused_medication_is_not_current(bundle: dict[str, Any],
                                                          status: str) -> None:
    p = import_bundle(_with(bundle, {
        "resourceType": "MedicationStatement", "id": "x", "status": status,
        "medicationCodeableConcept": {"text": "Romosozumab"},
        "subject": {"reference": "Patient/p1"}}))
    assert next(m for m in p.medications if m.name == "Romosozumab").status == "unknown"


def test_fhir_procedure_in_preparation_has_not_happened(bundle: dict[str, Any]) -> None:
    planned = {"resourceType": "Procedure", "id": "plan", "status": "preparation",
               "code": {"text": "Dental implant"}, "subject": {"reference": "Patient/p1"}}
    p = import_bundle(_with(bundle, planned))
    assert "Dental implant" not in [x.name for x in p.procedures]
    done = dict(planned, status="completed", performedPeriod={"start": "2022-02-01",
                                                              "end": "2022-02-03"})
    p = import_bundle(_with(bundle, done))
    assert next(x for x in p.procedures if x.name == "Dental implant").date == date(2022, 2, 1)


def test_fhir_observation_effective_instant(bundle: dict[str, Any]) -> None:
    p = import_bundle(_with(bundle, {
        "resourceType": "Observation", "id": "a1c2", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveInstant": "2024-02-03T10:00:00Z",
        "valueQuantity": {"value": 6.9, "unit": "%", "code": "%"}}))
    assert any(m.value == 6.9 and m.date == date(2024, 2, 3) for m in p.measurements)


def test_the_record_shown_to_the_patient_has_neither_defect() -> None:
    from trialscout.web.patient_match import record_facts

    profile = extract_note("A 71-year-old woman with postmenopausal osteoporosis, on "
                           "alendronate for 3 years. DXA T-score -2.8.", reference_date=REF)
    shown = record_facts(profile)
    assert shown.conditions == ["postmenopausal osteoporosis"]
    assert shown.measurements == ["T-score: -2.8"]
    assert any(m.startswith("alendronate") for m in shown.medications)


def test_recent_words_are_ranges_before_the_note() -> None:
    t = at("Gout was diagnosed last month.", "Gout")
    assert t.start is not None and t.start[1] == REF and t.start[0] >= REF - timedelta(62)
    assert at("She fell and broke a rib yesterday.", "rib").start == (days_ago(1), days_ago(1))
    gout = at("She has had gout for the past year.", "gout")
    assert gout.first_day == days_ago(365.25)


def test_from_until_gives_start_and_end() -> None:
    t = at("She took alendronate from 2015 until 2018.", "alendronate", "medication")
    assert t.start == (date(2015, 1, 1), date(2015, 12, 31))
    assert t.end == (date(2018, 1, 1), date(2018, 12, 31)) and t.current is False


def test_a_time_after_a_for_complement_belongs_to_the_treatment() -> None:
    sentence = "She finished chemotherapy for breast cancer in 2020."
    assert at(sentence, "chemotherapy", "medication").end == (date(2020, 1, 1),
                                                               date(2020, 12, 31))
    assert not at(sentence, "breast cancer").known


@pytest.mark.parametrize(("note", "since"), [
    ("A 64-year-old woman whose menstrual periods stopped 12 years ago.", days_ago(12 * 365.25)),
    ("A 55-year-old woman; her last menstrual period was 2 years ago.", days_ago(730.5)),
    ("A 61-year-old woman. Menopause at age 50.", days_ago(11 * 365.25)),
])
def test_menopause_and_since_when(note: str, since: date) -> None:
    p = extract_note(note, reference_date=REF)
    assert p.menopause == "postmenopausal" and p.menopause_date == since


def test_periods_stopped_months_ago_is_not_menopause_yet() -> None:
    p = extract_note("A 49-year-old woman whose last period was 3 months ago.",
                     reference_date=REF)
    assert p.menopause_date is None


def test_an_age_at_an_event_is_not_the_patients_age() -> None:
    p = extract_note("Diabetes diagnosed at age 41. She is a 66-year-old woman.",
                     reference_date=REF)
    assert p.age_years == 66


def test_a_note_measurement_takes_the_date_its_sentence_gives() -> None:
    p = extract_note("A 66-year-old woman. HbA1c 8.2% in March 2023. Creatinine 1.1 mg/dL.",
                     reference_date=REF)
    dated = {m.analyte: m.date for m in p.measurements}
    assert dated["hba1c"] == date(2023, 3, 1) and dated["creatinine"] is None


def test_a_dose_is_not_a_year() -> None:
    assert not at("Vitamin D in 2000 IU doses.", "Vitamin D", "medication").known
    assert at("Spinal fusion in 2019 at L4.", "Spinal fusion", "procedure").start == (
        date(2019, 1, 1), date(2019, 12, 31))
