"""Patient commands: `match`, `patient import/show`, and the matching evaluations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from trialscout.cli import app_from_context, cli, console, err_console, eval_cli, fail

patient_cli = typer.Typer(no_args_is_help=True, help="Store and inspect patient profiles.")
cli.add_typer(patient_cli, name="patient")

_VERDICT_STYLE = {"eligible": "green", "possibly_eligible": "yellow", "not_eligible": "red"}


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of / --date must be YYYY-MM-DD, got {text!r}")
    return None


def _load(path: Path, reference: date | None, note: str | None = None) -> Any:
    """A patient file, ``-`` for standard input, or ``note`` (text given on the command
    line, always read as a clinical note)."""
    import sys

    from trialscout.patients.fhir import FhirImportError
    from trialscout.patients.loader import (
        LoadedPatient,
        PatientFileError,
        load_patient_bytes,
        load_patient_file,
    )
    from trialscout.patients.notes import NoteError, extract_note

    try:
        if note is not None:
            return LoadedPatient("note", extract_note(note, reference_date=reference))
        if str(path) == "-":
            return load_patient_bytes(sys.stdin.buffer.read(), reference_date=reference)
        return load_patient_file(path, reference_date=reference)
    except (PatientFileError, FhirImportError, NoteError) as exc:
        fail(f"{'--note' if note is not None else path}: {exc}")


PROFILE_TEMPLATE: dict[str, Any] = {
    "age_years": 67, "sex": "female", "menopause": "postmenopausal",
    "conditions": [{"name": "osteoporosis", "status": "active"},
                   {"name": "wrist fracture", "onset": "2023-05-10", "status": "resolved"}],
    "medications": [{"name": "alendronate", "start": "2021-01-01", "status": "stopped",
                     "stop": "2023-01-01"}],
    "measurements": [{"name": "lumbar spine T-score", "value": -2.9, "date": "2024-02-01"},
                     {"name": "eGFR", "value": 72, "unit": "mL/min/1.73m2"}],
    "allergies": [{"substance": "penicillin"}],
    "denied": [{"name": "diabetes", "kind": "condition"}],
    "family_history": [{"name": "hip fracture", "relative": "mother"}],
    "smoking": "former",
    "location": {"place": "Boston, MA"},
}


@patient_cli.command("template")
def template_command() -> None:
    """Print an example profile JSON to edit and pass to `match` (every field is optional;
    dates are YYYY-MM-DD; sex female/male/other; condition status active/resolved;
    medication status active/completed/stopped/unknown)."""
    print(json.dumps(PROFILE_TEMPLATE, indent=2))


@cli.command("match")
def match_command(
    ctx: typer.Context,
    patient_file: Annotated[Path | None, typer.Argument(
        help="A FHIR R4 Bundle (JSON), a TrialScout profile (JSON, see `trialscout patient "
        "template`) or a clinical note (text); - reads standard input.")] = None,
    note: Annotated[str | None, typer.Option(
        "--note", help="The clinical note itself, instead of a file.")] = None,
    near: Annotated[str | None, typer.Option(
        "--near", help="Place name or 'lat,lon': rank by distance to it too.")] = None,
    radius: Annotated[float | None, typer.Option(
        "--radius", help="Only trials with a site within this many km of --near.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500,
                                       help="How many trials to show.")] = 20,
    reference: Annotated[str | None, typer.Option(
        "--as-of", "--date", help="Reference date (YYYY-MM-DD) for ages and time windows, "
        "and the day a note file was written (default: today).")] = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Only trials with this overall status (repeatable).")] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Also list the trials the registry's age and sex fields removed "
        "before matching, each with that reason.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rank the stored trials for a patient, with a verdict and reasons for each."""
    from trialscout.matching.engine import MatchOptions
    from trialscout.search.errors import SearchQueryError

    if radius is not None and near is None:
        fail("--radius needs --near")
    ref = _parse_date(reference)
    if (patient_file is None) == (note is None):
        fail("give a patient file (or - for standard input) or --note TEXT, not both")
    loaded = _load(patient_file or Path("-"), ref, note)
    app = app_from_context(ctx)
    options = MatchOptions(near=near, radius_km=radius, reference_date=ref, limit=limit,
                           status=[s.upper() for s in status or []],
                           include_removed=show_all)
    try:
        response = app.match(loaded.profile, options)
    except (SearchQueryError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        console.print_json(response.model_dump_json())
        return
    console.print(f"patient file read as {loaded.kind}; {response.candidates} candidate "
                  f"trials checked on {response.reference_date}", highlight=False)
    table = Table("#", "trial", "verdict", "score", "km", "title / reason", show_lines=True)
    for match in response.results:
        style = _VERDICT_STYLE[match.verdict]
        reason = match.reason
        if match.open_questions:
            reason += "\nto answer: " + "; ".join(q.text for q in match.open_questions[:3])
        table.add_row(str(match.rank), match.nct_id,
                      f"[{style}]{match.verdict.replace('_', ' ')}[/]", f"{match.score:.3f}",
                      "" if match.distance_km is None else f"{match.distance_km:.0f}",
                      f"[bold]{match.title}[/]\n{reason}")
    console.print(table)
    if not response.results:
        console.print("no matching trials found")
    if show_all:
        _print_removed(response.removed)


def _print_removed(removed: list[Any]) -> None:
    if not removed:
        console.print("no trial was removed by the registry's age and sex fields")
        return
    table = Table("#", "trial", "km", "title / why it was removed", show_lines=True,
                  title="removed before matching by the registry's age and sex fields",
                  title_justify="left")
    for match in removed:
        table.add_row(str(match.rank), match.nct_id,
                      "" if match.distance_km is None else f"{match.distance_km:.0f}",
                      f"[bold]{escape(match.title)}[/]\n{escape(match.reason)}")
    console.print(table)


@patient_cli.command("import")
def patient_import(
    ctx: typer.Context,
    patient_file: Annotated[Path, typer.Argument(help="FHIR Bundle, profile JSON or note.")],
    patient_id: Annotated[int | None, typer.Option(
        "--id", help="Save as a new version of this patient.")] = None,
    reference: Annotated[str | None, typer.Option(
        "--date", help="Date the note was written (relative dates count back from it).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Store a patient profile; every change is kept as a new version."""
    from trialscout.patients.store import PatientNotFound

    loaded = _load(patient_file, _parse_date(reference))
    app = app_from_context(ctx)
    try:
        stored = app.save_patient(loaded.profile, patient_id, source=loaded.kind)
    except PatientNotFound as exc:
        fail(str(exc))
    result = {"patient_id": stored.patient_id, "version": stored.version, "kind": loaded.kind}
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(f"patient {stored.patient_id} version {stored.version} "
                      f"(from {loaded.kind})")


@patient_cli.command("show")
def patient_show(
    ctx: typer.Context,
    patient_id: Annotated[int, typer.Argument()],
    version: Annotated[int | None, typer.Option("--version")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a stored profile (the latest version unless --version)."""
    from trialscout.patients.store import PatientNotFound

    app = app_from_context(ctx)
    try:
        stored = app.patient(patient_id, version)
    except PatientNotFound as exc:
        fail(str(exc))
    if as_json:
        console.print_json(stored.profile.model_dump_json(exclude_none=True))
        return
    p = stored.profile
    console.print(f"patient {patient_id}, version {stored.version} ({stored.source})")
    lines = [f"age: {p.age_years if p.age_years is not None else p.birth_date}",
             f"sex: {p.sex}"]
    for label, items in (("conditions", p.conditions), ("medications", p.medications),
                         ("procedures", p.procedures), ("denied", p.denied)):
        if items:
            lines.append(f"{label}: " + ", ".join(i.name for i in items))
    if p.measurements:
        lines.append("labs: " + ", ".join(
            f"{m.name} {m.value if m.value is not None else m.text} {m.unit or ''}".strip()
            for m in p.measurements))
    console.print("\n".join(lines), highlight=False)


# ---------------------------------------------------------------------- evaluations
def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        console.print(report.as_text(), highlight=False, markup=False)


@eval_cli.command("criterion-matching")
def eval_criterion_matching(
    annotations: Annotated[Path, typer.Option(
        "--annotations", help="TrialGPT criterion annotations JSON (patient-criterion pairs).")],
    errors: Annotated[bool, typer.Option(
        "--errors", help="Also list each pair the closed-world reading gets wrong with its "
        "criterion, the patient text used and a failure kind.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Criterion-level accuracy on physician labels, next to GPT-4 on the same pairs, with
    the notes as given and without the sentences every note of the set carries."""
    from trialscout.evaluation.matching_eval import EvalInputError, criterion_matching

    try:
        report = criterion_matching(annotations, errors=errors)
    except EvalInputError as exc:
        fail(str(exc))
    _print_report(report, as_json)


@eval_cli.command("trec")
def eval_trec(
    topics: Annotated[Path, typer.Option("--topics", help="queries.jsonl (_id, text).")],
    qrels: Annotated[Path, typer.Option("--qrels", help="Judgments: TSV with header "
                                        "or NIST 'topic 0 doc label'.")],
    studies: Annotated[Path, typer.Option("--studies", help="Studies (.jsonl/.jsonl.gz, "
                                          "API v2 shape).")],
    pool: Annotated[str, typer.Option("--pool", help="criteria: judged trials with criteria "
                                      "text; text: judged trials with any text.")] = "criteria",
    errors: Annotated[bool, typer.Option(
        "--errors", help="Also list each judged pair matching got wrong (eligible called not "
        "eligible, excluded called eligible or possibly eligible) with its criterion, the "
        "patient text and a failure kind.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Trial-level NDCG@10, P@10 and AUROC against BM25 and search alone."""
    from trialscout.evaluation.matching_eval import EvalInputError
    from trialscout.evaluation.trec_eval import trec_matching

    if pool not in {"criteria", "text"}:
        fail("--pool must be 'criteria' or 'text'")
    try:
        report = trec_matching(topics, qrels, studies, pool=pool, errors=errors,
                               progress=None if as_json else _progress)
    except EvalInputError as exc:
        fail(str(exc))
    _print_report(report, as_json)


@eval_cli.command("target-trial")
def eval_target_trial(
    patients: Annotated[Path, typer.Option("--patients", help="jsonl: _id = 'P_' + NCT id, "
                                           "text = the patient.")],
    studies: Annotated[Path, typer.Option("--studies", help="All studies to rank.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """MRR and recall@10 of each synthetic patient's target trial among all studies."""
    from trialscout.evaluation.matching_eval import EvalInputError
    from trialscout.evaluation.trec_eval import target_trial

    try:
        report = target_trial(patients, studies, progress=None if as_json else _progress)
    except EvalInputError as exc:
        fail(str(exc))
    _print_report(report, as_json)


@eval_cli.command("exclusions")
def eval_exclusions(
    cases: Annotated[Path, typer.Option("--cases", help="YAML file of trials and short notes "
                                        "with the expected outcome of each pair (see "
                                        "tests/matching/data/osteoporosis_cases.yaml).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Missed exclusions and false exclusions: each note matched as `match` does, each pair
    judged by the label the user sees."""
    from trialscout.evaluation.exclusion_cases import evaluate_cases
    from trialscout.evaluation.matching_eval import EvalInputError

    try:
        report = evaluate_cases(cases)
    except EvalInputError as exc:
        fail(str(exc))
    _print_report(report, as_json)


def _progress(message: str) -> None:
    err_console.print(f"[dim]{message}[/]", highlight=False)
