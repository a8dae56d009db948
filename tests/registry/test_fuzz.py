"""Property tests at the import boundary: any input gives a Trial or a RecordError."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import study
from trialscout.registry.api_v2 import trial_from_api_v2
from trialscout.registry.errors import RecordError
from trialscout.registry.importer import import_items
from trialscout.registry.legacy_xml import parse_legacy_xml
from trialscout.registry.sources import iter_path

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
MODULES = ["identificationModule", "statusModule", "designModule", "eligibilityModule",
           "conditionsModule", "contactsLocationsModule", "armsInterventionsModule",
           "sponsorCollaboratorsModule", "descriptionModule", "outcomesModule"]


@st.composite
def mutated_studies(draw: st.DrawFn) -> dict:
    base = study("NCT09990001")
    proto = base["protocolSection"]
    for _ in range(draw(st.integers(1, 4))):
        module = draw(st.sampled_from(MODULES))
        if draw(st.booleans()):
            proto[module] = draw(json_values)
        else:
            target = proto.setdefault(module, {})
            if isinstance(target, dict):
                target[draw(st.sampled_from(["nctId", "overallStatus", "phases", "conditions",
                                             "minimumAge", "maximumAge", "locations", "sex",
                                             "enrollmentInfo", "startDateStruct",
                                             "eligibilityCriteria"]))] = draw(json_values)
    return base


@given(mutated_studies())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_normalizer_never_crashes(payload: dict) -> None:
    try:
        trial = trial_from_api_v2(payload)
    except RecordError as exc:
        assert exc.reason
    else:
        assert trial.nct_id.startswith("NCT")


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=200)
def test_xml_parser_never_crashes(data: bytes) -> None:
    try:
        parse_legacy_xml(data)
    except RecordError as exc:
        assert exc.reason


def test_xml_parser_does_not_expand_entities() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<clinical_study><id_info><nct_id>NCT09990001</nct_id></id_info>'
            b'<brief_title>&lol2;</brief_title></clinical_study>')
    result = parse_legacy_xml(bomb)
    title = result["protocolSection"]["identificationModule"]["briefTitle"]
    assert title is None or "lollol" not in title


@given(st.lists(st.one_of(st.builds(lambda i: json.dumps(study(f"NCT0999{i:04d}")),
                                    st.integers(0, 9999)),
                          st.text(max_size=40)), max_size=12))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_jsonl_batches_store_every_good_line(tmp_path_factory, lines: list[str]) -> None:
    from trialscout.app import create_app

    path = tmp_path_factory.mktemp("fuzz") / "batch.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n")
    app = create_app(database_url="sqlite://")
    report = import_items(app.engine, iter_path(Path(path)), batch_size=3)
    good = {json.loads(x)["protocolSection"]["identificationModule"]["nctId"]
            for x in lines if x.startswith('{"protocolSection"')}
    assert app.trial_count() == len(good)
    assert report.imported == len(good)
    app.close()
