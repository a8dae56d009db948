"""Questions: plain language, the satisfying answer, and keys shared across phrasings."""

from __future__ import annotations

import pytest

from tests.criteria.helpers import one
from trialscout.criteria import parse_criteria, rules
from trialscout.criteria.item_questions import item_question
from trialscout.criteria.model import Concept, Constraint, Quantity, Question, Span, TimeWindow
from trialscout.criteria.questions import number, question_for, shown_name

EXC = "Exclusion Criteria:"


@pytest.mark.parametrize("phrasings,key", [
    (["HbA1c ≥ 7%", "HbA1c of 7% or higher", "Glycated hemoglobin \\>= 7.0 %",
      "HbA1c at least 53 mmol/mol", "A1c >=7"], "lab:hba1c:ge:7:%"),
    (["Received denosumab within the past 6 months", "Prolia in the last 6 months",
      "Treatment with Xgeva within 6 months prior to screening",
      "AMG 162 within the previous 6 months"], "drug:denosumab:within:6mo"),
    (["Type 2 diabetes", "T2DM", "Diagnosis of NIDDM", "diabetes mellitus type 2"],
     "condition:type_2_diabetes"),
    (["Oral bisphosphonate within the past 1 year", "oral bisphosphonates in the last year",
      "Oral bisphosphonate within 12 months"], "drug:oral_bisphosphonate:within:1y"),
    (["25-hydroxyvitamin D < 20 ng/mL", "Serum 25(OH)D below 50 nmol/L",
      "25-OH vitamin D < 20 ng/ml"], "lab:vitamin_d_25oh:lt:20:ng/mL"),
    (["eGFR < 30 mL/min/1.73m²", "eGFR below 30 ml/min/1.73 m2", "eGFR < 30 mL/min"],
     "lab:egfr:lt:30:mL/min/1.73m²"),
    (["ALT > 3 x ULN", "ALT more than 3 times the upper limit of normal",
      "alanine aminotransferase \\> 3xULN"], "lab:alt:gt:3:×ULN"),
    (["ECOG 0-1", "ECOG performance status of 0 or 1", "ECOG PS ≤ 1"], "performance:ecog:le:1"),
])
def test_same_meaning_same_key(phrasings: list[str], key: str) -> None:
    keys = {one(text, EXC).question.key for text in phrasings}
    assert keys == {key}


def test_keys_differ_when_meaning_differs() -> None:
    assert one("HbA1c ≥ 7%").question.key != one("HbA1c ≥ 8%").question.key
    assert one("Denosumab within 6 months", EXC).question.key != \
        one("Denosumab within 12 months", EXC).question.key


def test_question_text_and_answer() -> None:
    item = one("Received denosumab within the past 6 months", EXC)
    assert item.question.text == "Have you taken denosumab in the past 6 months?"
    assert (item.question.meets, item.question.answerable) == ("no", True)
    item = one("Type 2 diabetes for more than 10 years")
    assert item.question.text == "Have you had type 2 diabetes for more than 10 years?"
    assert item.question.meets == "yes"


def test_every_item_has_a_question() -> None:
    text = ("Inclusion Criteria:\n* Women aged 50-80\n* Signed informed consent\n"
            "* Something nobody can parse\nExclusion Criteria:\n* Pregnancy\n* Prior hip fracture")
    for item in parse_criteria(text).items:
        assert item.question.text and item.question.key
        assert item.question.meets in {"yes", "no"}
    # consent and a criterion nothing could be read from are for the study team
    assert [i.question.answerable for i in parse_criteria(text).items] == [
        True, False, False, True, True]


def test_questions_dedupe_across_items() -> None:
    parsed = parse_criteria("* Type 2 diabetes\n* T2DM\n* Hypertension")
    assert [q.key for q in parsed.questions()] == ["condition:type_2_diabetes",
                                                   "condition:hypertension"]


@pytest.mark.parametrize("value,text", [(7.0, "7"), (20.032, "20"), (-2.5, "-2.5"),
                                        (0.0, "0"), (126.109, "126"), (1.504, "1.5")])
def test_number_rendering(value: float, text: str) -> None:
    assert number(value) == text


def test_allergy_with_nothing_named_asks_about_allergies() -> None:
    item = one("No known allergy to E. coli protein or IL-10.", "Exclusion Criteria:")
    assert item.question.text == "Do you have any allergies?"
    assert item.question.key == "allergy:allergy"
    named = one("Known allergy to amoxicillin", "Exclusion Criteria:")
    assert named.question.text == "Are you allergic to amoxicillin?"


def test_hip_surgery_is_asked_about_not_only_the_scan() -> None:
    item = one("Conditions that preclude bone mineral density measurement (lumbar spine/bilateral "
               "hip surgery with hardware in place, abdominal clips, umbilical ring [not willing "
               "to remove] or weight that exceeds the DEXA machine limitation)",
               "Exclusion Criteria:")
    concepts = [c.concept.id for c in item.constraints if c.concept is not None]
    assert "hip_surgery" in concepts
    assert item.question.text != "Have you ever had DXA scan?"
    assert one("Prior hip surgery", "Exclusion Criteria:").question.text == \
        "Have you ever had hip surgery?"


# ------------------------------------------------------- questions built from constraints
# The constraints below are built directly (as the parser would build them), so each
# test pins the question for one reading, whatever the parser's state.

def concept(cid: str, name: str, kind: str = "condition", text: str | None = None,
            start: int = 0) -> Concept:
    written = text or name
    return Concept(id=cid, name=name, kind=kind, text=written,
                   span=Span(start=start, end=start + len(written)))


def constraint(kind: str, item_text: str, of: Concept | None = None, *,
               any_of: list[Concept] | None = None, polarity: str = "required",
               experiencer: str = "patient", modality: str = "actual",
               quantity: Quantity | None = None, window: TimeWindow | None = None,
               value: str | None = None) -> Constraint:
    c = Constraint.model_validate({
        "kind": kind, "polarity": polarity, "concept": of, "any_of": any_of or [],
        "quantity": quantity, "window": window, "value": value, "text": item_text,
        "span": Span(start=0, end=len(item_text)), "experiencer": experiencer,
        "modality": modality})
    c.question = question_for(c, item_text)
    return c


def asked(item_text: str, *cs: Constraint, section: str = "inclusion") -> Question:
    return item_question(list(cs), section, item_text)


def at(text: str, word: str) -> int:
    return text.index(word)


def test_parental_history_asks_about_relatives_not_the_patient() -> None:
    text = "parental history of hip fracture"
    hip = concept("hip_fracture", "hip fracture", start=at(text, "hip"))
    c = constraint("condition", text, hip, experiencer="family")
    q = asked(text, c)
    assert q.text == "Has a parent, brother, sister or child of yours had hip fracture?"
    assert (q.kind, q.key, q.answerable) == ("family_history", "family:condition:hip_fracture",
                                            True)
    own = constraint("condition", "prior hip fracture", concept("hip_fracture", "hip fracture"))
    assert own.question is not None and own.question.key != q.key, \
        "a relative's fracture must not share answers with the patient's own"


def test_planned_procedure_asks_about_the_plan() -> None:
    text = "Invasive dental procedure planned during the study"
    c = constraint("procedure", text, concept("dental_surgery", "dental surgery", "procedure",
                                              "Invasive dental procedure"),
                   polarity="must_not", modality="planned")
    q = asked(text, c, section="exclusion")
    assert q.text == "Do you have dental surgery planned or scheduled?"
    assert (q.kind, q.key, q.meets) == ("planned_procedure", "planned:procedure:dental_surgery",
                                        "no")
    drug = constraint("medication", "planned start of insulin",
                      concept("insulin", "insulin", "drug"), modality="planned")
    assert drug.question is not None and drug.question.kind == "planned_medication"
    assert drug.question.key == "planned:drug:insulin"


def test_contraindication_is_not_an_allergy() -> None:
    text = "contraindication to MRI or PET"
    mri = concept("mri", "MRI", "procedure", start=at(text, "MRI"))
    pet = concept("pet_scan", "PET scan", "procedure", "PET", start=at(text, "PET"))
    # read as an allergy cue by an older parser; the modality decides the question
    c = constraint("allergy", text, mri, any_of=[mri, pet], polarity="must_not",
                   modality="contraindication")
    q = asked(text, c, section="exclusion")
    assert "allergic" not in q.text and "MRI" in q.text and "PET" in q.text
    assert q.kind == "contraindication"
    assert q.key == "any:contraindication:mri|contraindication:pet_scan"
    alone = constraint("procedure", "Contraindication to MRI", mri, polarity="must_not",
                       modality="contraindication")
    assert alone.question is not None and alone.question.key == "contraindication:mri"
    assert "pacemaker" in alone.question.text
    drug = constraint("medication", "contraindication to metformin",
                      concept("metformin", "metformin", "drug"), modality="contraindication")
    assert drug.question is not None
    assert drug.question.text == "Is there a medical reason you cannot take metformin?"


def test_a_generic_name_falls_back_to_what_the_study_team_checks() -> None:
    text = "prior treatment with any anti-amyloid monoclonal antibody"
    c = constraint("procedure", text, concept("treatment", "treatment", "procedure",
                                              "prior treatment"), polarity="must_not")
    q = asked(text, c, section="exclusion")
    assert q.text != "Have you ever had treatment?"
    assert (q.kind, q.answerable) == ("study_team", False)
    assert q.text.startswith("The study team will check")
    assert text not in q.text and "“" not in q.text
    assert q.key != "procedure:treatment", "a vague question must not share answers"


def test_a_generic_word_beside_the_named_thing_is_left_out() -> None:
    text = "prior treatment with alendronate"
    generic = constraint("procedure", text, concept("treatment", "treatment", "procedure"),
                         polarity="must_not")
    named = constraint("medication", text, concept("alendronate", "alendronate", "drug",
                                                   start=at(text, "alendronate")),
                       polarity="must_not")
    q = asked(text, generic, named, section="exclusion")
    assert (q.text, q.key) == ("Have you ever taken alendronate?", "drug:alendronate")
    # with only "women" left there is nothing to ask that says the criterion
    women = constraint("sex", "women who received treatment", value="female",
                       polarity="must_not")
    assert not asked("women who received treatment", women, generic,
                     section="exclusion").answerable


def test_a_truncated_name_falls_back() -> None:
    text = "Logical Memory II score ≥ 1 SD below the mean"
    c = constraint("measurement", text, concept("ii", "II", "lab", start=at(text, "II")),
                   quantity=Quantity(comparator="ge", value=1))
    q = asked(text, c)
    assert not q.answerable and q.kind == "study_team"
    assert "II" not in q.text and "most recent" not in q.text


def test_a_scan_that_shows_the_finding_is_not_asked_about() -> None:
    text = "amyloid positive by PET"
    c = constraint("procedure", text, concept("pet_scan", "PET scan", "procedure", "PET",
                                              start=at(text, "PET")))
    q = asked(text, c)
    assert q.text != "Have you ever had PET scan?"
    assert not q.answerable
    assert q.text == "The study team will check the results of your PET scan."


def test_bone_density_is_asked_in_words() -> None:
    text = ("BMD T-score ≤ -2.5 at the lumbar spine, total hip, or femoral neck by central "
            "DXA reading")
    score = constraint("measurement", text, concept("bmd_t_score", "T-score", "lab",
                                                    "BMD T-score"),
                       quantity=Quantity(comparator="le", value=-2.5))
    dxa = constraint("procedure", text, concept("dxa_scan", "DXA scan", "procedure", "DXA",
                                                start=at(text, "DXA")))
    q = asked(text, score, dxa)
    assert q.text == ("Has a bone density (DXA) scan shown a T-score of -2.5 or lower at "
                      "your spine or hip?")
    assert (q.key, q.kind) == ("lab:bmd_t_score:le:-2.5", "measurement")


def test_a_score_has_its_own_kind_and_wording() -> None:
    c = constraint("measurement", "MMSE score between 20 and 26",
                   concept("mmse", "MMSE score", "lab"),
                   quantity=Quantity(comparator="between", value=20, value_high=26))
    assert c.question is not None
    assert c.question.kind == "score"
    assert c.question.text == ("Has a doctor or nurse told you that your MMSE score is "
                               "between 20 and 26?")
    assert c.question.key == "lab:mmse:between:20:26"
    lab = constraint("measurement", "HbA1c ≥ 7%", concept("hba1c", "HbA1c", "lab"),
                     quantity=Quantity(comparator="ge", value=7, unit="%"))
    assert lab.question is not None and lab.question.kind == "measurement"


@pytest.mark.parametrize("text,kind", [
    ("Aged 18 or older", "age"), ("Women", "sex"), ("Pregnancy", "pregnancy"),
    ("Breastfeeding", "lactation"), ("Postmenopausal", "menopause"),
    ("Known allergy to penicillin", "allergy"), ("Prior denosumab", "medication"),
    ("Type 2 diabetes", "condition"), ("Prior hip surgery", "procedure"),
    ("HbA1c ≥ 7%", "measurement"), ("ECOG performance status 0-1", "performance"),
    ("Type 2 diabetes for more than 10 years", "duration"),
])
def test_each_constraint_kind_has_its_question_kind(text: str, kind: str) -> None:
    item = one(text, EXC if kind in {"pregnancy", "lactation", "allergy", "medication",
                                     "procedure"} else "Inclusion Criteria:")
    assert (item.question.kind, item.question.answerable) == (kind, True), item.question
    assert item.question.text.endswith("?")


def test_keys_are_stable_across_trials() -> None:
    """The same question asked by two trials, in other words around it, has one key."""
    hip = concept("hip_fracture", "hip fracture")
    first = asked("Family history of hip fracture",
                  constraint("condition", "Family history of hip fracture", hip,
                             experiencer="family"))
    second = asked("A parent with a hip fracture after age 50",
                   constraint("condition", "A parent with a hip fracture after age 50", hip,
                              experiencer="family"))
    assert (first.key, first.text) == (second.key, second.text)


def test_a_hypothetical_is_for_the_study_team() -> None:
    c = constraint("pregnancy", "if pregnancy occurs during the study",
                   concept("pregnancy", "pregnancy", "pregnancy"), polarity="must_not",
                   modality="hypothetical")
    assert c.question is not None and not c.question.answerable
    assert c.question.text.startswith("The study team will")


def test_several_questions_are_asked_as_one_sentence() -> None:
    text = "Women aged 55 to 85 years"
    women = constraint("sex", text, value="female")
    aged = constraint("age", text, quantity=Quantity(comparator="between", value=55,
                                                     value_high=85, unit="year"))
    q = asked(text, women, aged)
    assert q.text == "Are you female, and are you between 55 and 85 years old?"
    assert (q.key, q.kind, q.answerable) == ("all:age:between:55:85&sex:female", "combined",
                                             True)


def test_alternatives_are_joined_with_or_and_share_the_any_key() -> None:
    text = "Pregnant or breastfeeding women"
    pregnant = constraint("pregnancy", text, concept("pregnancy", "pregnancy", "pregnancy"),
                          polarity="must_not")
    nursing = constraint("lactation", text, concept("breastfeeding", "breastfeeding",
                                                    "lactation"), polarity="must_not")
    women = constraint("sex", text, value="female", polarity="must_not")
    q = asked(text, pregnant, nursing, women, section="exclusion")
    assert q.text == "Are you pregnant, or are you breastfeeding?"
    assert q.key == "any:lactation:breastfeeding|pregnancy:pregnancy"
    same = [constraint("condition", "Asthma or COPD", concept(cid, name), polarity="must_not")
            for cid, name in [("asthma", "asthma"), ("copd", "COPD")]]
    joined = asked("Asthma or COPD", *same, section="exclusion")
    assert joined.text == "Have you ever been diagnosed with asthma or COPD?"


def test_what_cannot_be_one_plain_question_is_for_the_study_team() -> None:
    text = "Adults with hypertension, without diabetes"
    adult = constraint("age", text, quantity=Quantity(comparator="ge", value=18, unit="year"))
    has = constraint("condition", text, concept("hypertension", "hypertension"))
    lacks = constraint("condition", text, concept("diabetes", "diabetes"),
                       polarity="must_not")
    q = asked(text, adult, has, lacks)
    assert not q.answerable and q.kind == "study_team", "answers of opposite sense"
    text = "Asthma, on insulin, after a hip operation, with HbA1c above 7%"
    four = [constraint("condition", text, concept("asthma", "asthma")),
            constraint("medication", text, concept("insulin", "insulin", "drug"),
                       window=TimeWindow(relation="current")),
            constraint("procedure", text, concept("hip_surgery", "hip surgery", "procedure")),
            constraint("measurement", text, concept("hba1c", "HbA1c", "lab"),
                       quantity=Quantity(comparator="gt", value=7, unit="%"))]
    assert not asked(text, *four).answerable, "four different questions in one"


def test_a_list_of_the_same_question_is_asked_once() -> None:
    text = "History of stroke, myocardial infarction, heart failure, angina or arrhythmia"
    names = ["stroke", "myocardial infarction", "heart failure", "angina", "arrhythmia"]
    listed = [constraint("condition", text, concept(n.replace(" ", "_"), n),
                         polarity="must_not") for n in names]
    q = asked(text, *listed, section="exclusion")
    assert q.text == ("Have you ever been diagnosed with stroke, myocardial infarction, "
                      "heart failure, angina or arrhythmia?")
    assert q.key.startswith("any:") and q.key.count("|") == 4
    mixed = asked("Asthma or COPD, or inhaled steroids",
                  *[constraint("condition", "x", concept(c, c), polarity="must_not")
                    for c in ("asthma", "COPD")],
                  constraint("medication", "x", concept("inhaled_steroid", "inhaled steroids",
                                                        "drug"), polarity="must_not"),
                  section="exclusion")
    assert mixed.text == ("Have you ever been diagnosed with asthma or COPD, or have you "
                          "ever taken inhaled steroids?")


def test_no_question_quotes_the_raw_criterion() -> None:
    texts = ["Something nobody can parse", "Able to attend every visit",
             "Signed informed consent", "The investigator judges the patient unfit"]
    for text in texts:
        q = one(text).question
        assert text not in q.text and "“" not in q.text, q.text
        assert q.kind == "study_team" and not q.answerable
    templates = str(rules.questions().templates)
    assert "Does this describe you" not in templates


def test_the_age_of_an_event_is_asked_with_the_event() -> None:
    """"fracture after age 45" asks when the fracture happened, not how old the patient is,
    and does not share answers with "aged 45 or older with a fracture"."""
    text = "prior low-trauma fracture after age 45"
    fracture = constraint("condition", text, concept("fragility_fracture", "fragility fracture",
                                                     text="low-trauma fracture", start=6))
    aged = Constraint.model_validate({
        "kind": "age", "polarity": "required", "text": "45",
        "span": Span(start=at(text, "45"), end=at(text, "45") + 2),
        "quantity": Quantity(comparator="ge", value=45, unit="year")})
    aged.question = question_for(aged, text)
    q = asked(text, fracture, aged)
    assert q.text == "Have you ever been diagnosed with fragility fracture after age 45?"
    now = "Aged 45 or older with a prior fragility fracture"
    older = Constraint.model_validate({
        "kind": "age", "polarity": "required", "text": "45",
        "span": Span(start=at(now, "45"), end=at(now, "45") + 2),
        "quantity": Quantity(comparator="ge", value=45, unit="year")})
    older.question = question_for(older, now)
    plain = asked(now, older, fracture)
    assert plain.text.startswith("Are you 45 years old or older, and ")
    assert plain.key != q.key


@pytest.mark.parametrize("name,shown", [
    ("Head and Neck Neoplasms", "head and neck neoplasms"), ("Temozolomide", "temozolomide"),
    ("HIV infection", "HIV infection"), ("Gilbert Disease", "Gilbert disease"),
    ("Paget's disease of bone", "Paget's disease of bone"),
    ("Hodgkin Lymphoma", "Hodgkin lymphoma"),
    ("Insulin Aspart (rDNA Origin)", "insulin aspart (rDNA origin)"), ("T-score", "T-score"),
])
def test_names_read_as_words_inside_a_sentence(name: str, shown: str) -> None:
    assert shown_name(name) == shown


def test_what_a_criterion_excepts_is_named_in_its_question() -> None:
    text = "History of cancer, except for non-melanoma skin cancer"
    cancer = constraint("condition", text, concept("cancer", "cancer"), polarity="must_not")
    skin = constraint("condition", text, concept("skin_cancer", "skin cancer",
                                                 start=at(text, "skin")), polarity="must_not")
    skin.exception = True
    q = asked(text, cancer, skin, section="exclusion")
    assert q.text == "Have you ever been diagnosed with cancer (not counting skin cancer)?"
    assert q.key == "condition:cancer;except:skin_cancer", "not the plain cancer question"


def test_a_criterion_that_applies_only_if_something_holds_is_not_asked() -> None:
    text = "Stable dose of memantine for at least 12 weeks, if used"
    c = constraint("medication", text, concept("memantine", "memantine", "drug"),
                   value="stable", window=TimeWindow(relation="duration", amount=12,
                                                     unit="week", comparator="ge"))
    q = asked(text, c)
    assert not q.answerable, "a patient not on memantine would answer no and fail"


def test_a_scan_named_only_when_it_is_the_one_way_shown() -> None:
    text = "Amyloid positive by PET or by spinal fluid test"
    pet = constraint("procedure", text, concept("pet_scan", "PET scan", "procedure", "PET",
                                                start=at(text, "PET")))
    assert asked(text, pet).text == "The study team will check the results of your tests and scans."
