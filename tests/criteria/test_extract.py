"""Typed constraints: every kind, comparators, units, windows, negation and disjunction."""

from __future__ import annotations

import pytest

from tests.criteria.helpers import constraints, evidence, one, only

EXC = "Exclusion Criteria:"


@pytest.mark.parametrize("text,comparator,value,high", [
    ("Age 18-75 years", "between", 18, 75),
    ("Aged between 18 and 65 years", "between", 18, 65),
    ("Men and women aged ≥ 18 years", "ge", 18, None),
    ("18 years of age or older", "ge", 18, None),
    ("Age \\>= 50", "ge", 50, None),
    ("Older than 40 years", "gt", 40, None),
    ("Patients younger than 12 years old", "lt", 12, None),
    ("Age: up to 80 years", "le", 80, None),
])
def test_age(text: str, comparator: str, value: float, high: float | None) -> None:
    c = only(text, "age")
    assert c.quantity is not None
    assert (c.quantity.comparator, c.quantity.value, c.quantity.value_high) == (
        comparator, value, high)
    assert c.polarity == "required"


def test_age_in_months() -> None:
    c = only("Children aged 6 months to 5 years", "age")
    assert c.quantity is not None and c.quantity.comparator == "between"
    assert (c.quantity.value, c.quantity.value_high, c.quantity.unit) == (6, 60, "month")
    assert (c.quantity.normalized_value, c.quantity.normalized_value_high) == (0.5, 5)


@pytest.mark.parametrize("text,value", [
    ("Postmenopausal women", "female"), ("Male subjects", "male"),
    ("Male or female", "any"), ("Men and women", "any")])
def test_sex(text: str, value: str) -> None:
    assert only(text, "sex").value == value


def test_sex_words_in_an_exclusion_about_pregnancy_are_not_a_sex_criterion() -> None:
    cs = constraints("Pregnant or breastfeeding women", section=EXC)
    assert {c.kind for c in cs} == {"pregnancy", "lactation"}
    assert all(c.polarity == "must_not" for c in cs)


def test_menopause_with_duration() -> None:
    c = only("Postmenopausal for more than 2 years", "menopause")
    assert c.concept is not None and c.concept.id == "postmenopausal"
    assert c.window is not None
    assert (c.window.relation, c.window.comparator, c.window.amount, c.window.unit) == (
        "duration", "gt", 2, "year")
    assert c.question is not None and c.question.key == "menopause:postmenopausal:duration:gt:2y"


def test_negative_pregnancy_test_means_not_pregnant() -> None:
    c = only("Negative serum pregnancy test at screening", "pregnancy")
    assert c.polarity == "must_not" and c.question is not None
    assert (c.question.key, c.question.meets) == ("pregnancy:pregnancy", "no")


def test_contraception_for_women_of_childbearing_potential() -> None:
    c = only("Women of childbearing potential must agree to use effective contraception",
             "pregnancy")
    assert c.concept is not None and c.concept.id == "contraception"
    assert c.question is not None and c.question.key == "pregnancy:contraception"


@pytest.mark.parametrize("text,analyte,comparator,value,unit,norm_value,norm_unit", [
    ("BMD T-score ≤ -2.5 at the lumbar spine", "bmd_t_score", "le", -2.5, None, -2.5, None),
    ("T-score of -2.5 or lower", "bmd_t_score", "le", -2.5, None, -2.5, None),
    ("eGFR < 60 mL/min/1.73m²", "egfr", "lt", 60, "mL/min/1.73m²", 60, "mL/min/1.73m²"),
    ("eGFR < 60 ml/min", "egfr", "lt", 60, "mL/min", 60, "mL/min/1.73m²"),
    ("25-hydroxyvitamin D < 20 ng/mL", "vitamin_d_25oh", "lt", 20, "ng/mL", 20, "ng/mL"),
    ("Serum 25(OH)D below 50 nmol/L", "vitamin_d_25oh", "lt", 50, "nmol/L", 20.03, "ng/mL"),
    ("ALT > 3 × ULN", "alt", "gt", 3, "×ULN", 3, "×ULN"),
    ("ALT >3xULN", "alt", "gt", 3, "×ULN", 3, "×ULN"),
    ("HbA1c ≥ 7%", "hba1c", "ge", 7, "%", 7, "%"),
    ("HbA1c of at least 53 mmol/mol", "hba1c", "ge", 53, "mmol/mol", 7.0, "%"),
    ("BMI between 18.5 and 30 kg/m2", "bmi", "between", 18.5, "kg/m²", 18.5, "kg/m²"),
    ("BMI > 30", "bmi", "gt", 30, "kg/m²", 30, "kg/m²"),
    ("Fasting plasma glucose > 7 mmol/L", "glucose", "gt", 7, "mmol/L", 126.1, "mg/dL"),
    ("Serum creatinine > 133 µmol/L", "creatinine", "gt", 133, "umol/L", 1.504, "mg/dL"),
    ("Hemoglobin < 9 g/dL", "hemoglobin", "lt", 9, "g/dL", 9, "g/dL"),
    ("Platelets ≥ 100,000/mm3", "platelets", "ge", 100000, "/mm³", 100, "10^9/L"),
    ("Platelet count \\>= 100 x 10^9/L", "platelets", "ge", 100, "10^9/L", 100, "10^9/L"),
])
def test_measurements(text: str, analyte: str, comparator: str, value: float,
                      unit: str | None, norm_value: float, norm_unit: str | None) -> None:
    c = only(text, "measurement")
    assert c.concept is not None and c.concept.id == analyte
    q = c.quantity
    assert q is not None
    assert (q.comparator, q.value, q.unit) == (comparator, value, unit)
    assert q.normalized_value == pytest.approx(norm_value, rel=1e-3)
    assert q.normalized_unit == norm_unit


def test_one_value_serves_a_list_of_labs() -> None:
    cs = constraints("AST, ALT < 2.5 x ULN", "measurement")
    assert sorted(c.concept.id for c in cs if c.concept) == ["alt", "ast"]
    assert all(c.quantity is not None and c.quantity.value == 2.5 for c in cs)


def test_qualitative_measurement() -> None:
    c = only("Normal TSH", "measurement")
    assert c.qualitative == "normal" and c.quantity is None


@pytest.mark.parametrize("text,concept,relation,amount,unit", [
    ("Received denosumab within the past 6 months", "denosumab", "within", 6, "month"),
    ("Prolia in the last 6 months", "denosumab", "within", 6, "month"),
    ("Oral bisphosphonate within the past 1 year", "oral_bisphosphonate", "within", 1, "year"),
    ("Treatment with teriparatide within 12 weeks prior to randomization", "teriparatide",
     "within", 12, "week"),
    ("Zoledronic acid more than 2 years ago", "zoledronic_acid", "before", 2, "year"),
])
def test_medication_exposure_windows(text: str, concept: str, relation: str, amount: float,
                                     unit: str) -> None:
    c = only(text, "medication", EXC)
    assert c.concept is not None and c.concept.id == concept
    assert c.window is not None
    assert (c.window.relation, c.window.amount, c.window.unit) == (relation, amount, unit)
    assert c.polarity == "must_not"


def test_current_medication() -> None:
    c = only("Currently taking warfarin", "medication", EXC)
    assert c.window is not None and c.window.relation == "current"
    assert c.question is not None and c.question.key == "drug:warfarin:current"


def test_stable_dose() -> None:
    c = only("On a stable dose of metformin for at least 3 months", "medication")
    assert c.value == "stable" and c.window is not None
    assert c.question is not None and c.question.key == "drug:metformin:stable:ge:3mo"


def test_procedure_history_with_window() -> None:
    c = only("Major surgery within 4 weeks before enrollment", "procedure", EXC)
    assert c.concept is not None and c.concept.id == "surgery"
    assert c.window is not None and (c.window.amount, c.window.unit) == (4, "week")


def test_disease_duration() -> None:
    c = only("Type 2 diabetes for more than 10 years", "disease_duration")
    assert c.concept is not None and c.concept.id == "type_2_diabetes"
    assert c.question is not None
    assert c.question.text == "Have you had type 2 diabetes for more than 10 years?"
    assert c.question.key == "condition:type_2_diabetes:duration:gt:10y"


def test_diabetes_with_comparator_duration() -> None:
    c = only("History of diabetes > 10 years", "disease_duration")
    assert c.window is not None and (c.window.comparator, c.window.amount) == ("gt", 10)


@pytest.mark.parametrize("text,name,comparator,value,high", [
    ("ECOG performance status 0-1", "ecog", "le", 1, None),
    ("ECOG performance status of 0, 1 or 2", "ecog", "le", 2, None),
    ("ECOG ≤ 2", "ecog", "le", 2, None),
    ("Karnofsky performance status ≥ 70%", "karnofsky", "ge", 70, None),
    ("KPS 60-100", "karnofsky", "ge", 60, None),
    ("NYHA class III or IV heart failure", "nyha_class", "ge", 3, None),
])
def test_performance_status(text: str, name: str, comparator: str, value: float,
                            high: float | None) -> None:
    c = only(text, "performance_status")
    assert c.concept is not None and c.concept.id == name
    assert c.quantity is not None
    assert (c.quantity.comparator, c.quantity.value, c.quantity.value_high) == (
        comparator, value, high)


def test_allergy() -> None:
    cs = constraints("Known hypersensitivity to zoledronic acid or other bisphosphonates",
                     "allergy", EXC)
    assert len(cs) == 1
    assert {a.id for a in cs[0].any_of} == {"zoledronic_acid", "bisphosphonate"}
    assert cs[0].question is not None and cs[0].question.meets == "no"


def test_generic_allergy() -> None:
    c = only("History of severe allergic reactions", "allergy", EXC)
    assert c.concept is not None and c.concept.id == "allergy"


@pytest.mark.parametrize("text,kind", [
    ("Signed informed consent", "consent"),
    ("Able to provide written informed consent", "consent"),
    ("Any condition that, in the opinion of the investigator, would interfere with the study",
     "investigator"),
    ("Participation in another clinical trial within 30 days", "administrative"),
    ("Willing and able to comply with the study procedures", "administrative"),
])
def test_items_a_patient_cannot_check(text: str, kind: str) -> None:
    item = one(text)
    assert item.kind == kind
    assert item.question.answerable is False


def test_condition_and_polarity_by_section() -> None:
    inc = only("Diagnosis of osteoporosis", "condition")
    exc = only("Diagnosis of osteoporosis", "condition", EXC)
    assert (inc.polarity, exc.polarity) == ("required", "must_not")
    assert inc.question is not None and exc.question is not None
    assert inc.question.key == exc.question.key == "condition:osteoporosis"
    assert (inc.question.meets, exc.question.meets) == ("yes", "no")


@pytest.mark.parametrize("text", ["No history of stroke", "Without stroke",
                                  "Patients with no prior stroke", "Stroke-free"])
def test_negation_flips_polarity(text: str) -> None:
    c = only(text, "condition")
    assert c.negated is True and c.polarity == "must_not"


def test_pseudo_negation_is_not_negation() -> None:
    c = only("Including but not limited to hypertension", "condition")
    assert c.negated is False


def test_treatment_naive() -> None:
    c = only("Bisphosphonate-naive", "medication")
    assert c.negated is True and c.polarity == "must_not"


def test_disjunction() -> None:
    c = only("History of stroke or myocardial infarction", "condition", EXC)
    assert [a.id for a in c.any_of] == ["stroke", "myocardial_infarction"]
    assert c.question is not None and c.question.key == \
        "any:condition:myocardial_infarction|condition:stroke"
    assert c.question.text == \
        "Have you ever been diagnosed with stroke or myocardial infarction?"


def test_conjunction_gives_separate_constraints() -> None:
    cs = constraints("Type 2 diabetes and hypertension", "condition")
    assert sorted(c.concept.id for c in cs if c.concept) == ["hypertension", "type_2_diabetes"]


def test_exception_is_marked() -> None:
    cs = constraints("History of cancer except basal cell carcinoma of the skin", section=EXC)
    by_id = {c.concept.id: c for c in cs if c.concept}
    assert by_id["cancer"].exception is False
    assert by_id["skin_cancer"].exception is True
    assert one("History of cancer except basal cell carcinoma of the skin", EXC).question.key \
        == "condition:cancer;except:skin_cancer"


def test_condition_window() -> None:
    c = only("Myocardial infarction within the past 6 months", "condition", EXC)
    assert c.window is not None and (c.window.relation, c.window.amount) == ("within", 6)
    assert c.question is not None and c.question.key == "condition:myocardial_infarction:within:6mo"


def test_current_condition() -> None:
    c = only("Active hepatitis B infection", "condition", EXC)
    assert c.window is not None and c.window.relation == "current"


def test_other_keeps_text() -> None:
    item = one("Blah blah something odd")
    assert item.kind == "other"
    assert item.constraints[0].text == "Blah blah something odd"
    assert item.question.kind == "study_team" and "Blah" not in item.question.text


def test_evidence_spans_are_inside_the_item() -> None:
    item = one("Received \\>= 1 dose of denosumab (Prolia) within the past 6 months", EXC)
    c = item.constraints[0]
    assert evidence(item, c).startswith("denosumab")
    assert evidence(item, c).endswith("6 months")
    assert c.concept is not None
    assert item.text[c.concept.span.start:c.concept.span.end] == "denosumab (Prolia)"
    assert c.window is not None and c.window.span is not None
    assert item.text[c.window.span.start:c.window.span.end] == "within the past 6 months"


def test_synonyms_normalize_to_canonical_concepts() -> None:
    ids = {c.concept.id for c in constraints("T2DM, NIDDM or diabetes mellitus type 2",
                                             "condition") if c.concept}
    ids |= {a.id for c in constraints("T2DM, NIDDM or diabetes mellitus type 2", "condition")
            for a in c.any_of}
    assert ids == {"type_2_diabetes"}
