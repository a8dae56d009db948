"""Search commands: search, browse, index, reindex, and `eval search`."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from trialscout.cli import app_from_context, cli, console, err_console, eval_cli, fail
from trialscout.search.errors import SearchQueryError
from trialscout.search.models import SearchRequest, SearchResponse


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        fail(f"{option}: expected a date as YYYY-MM-DD, got {text!r}")
    return None


def _request(**fields: Any) -> SearchRequest:
    try:
        return SearchRequest(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        fail(f"invalid search: {problems}")
    raise AssertionError("unreachable")


def _run(ctx: typer.Context, request: SearchRequest) -> SearchResponse:
    app = app_from_context(ctx)
    try:
        return app.search(request)
    except SearchQueryError as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


def _print_response(response: SearchResponse) -> None:
    request = response.request
    first = (response.page - 1) * response.page_size + 1
    last = first + len(response.hits) - 1
    where = f" near {response.origin.name}" if response.origin else ""
    count = f"{response.total} trial{'' if response.total == 1 else 's'}{where}"
    if not response.hits:
        console.print(f"{count}; nothing on page {response.page}", highlight=False,
                      markup=False)
        if response.suggestion:
            console.print(f"did you mean: {response.suggestion}", highlight=False,
                          markup=False)
        return
    table = Table("NCT id", "status", "phase", "title", "nearest site", show_lines=False,
                  title=f"{count} — {first}-{last}", title_justify="left")
    for hit in response.hits:
        site = ""
        if hit.nearest_site is not None:
            s = hit.nearest_site
            place = ", ".join(p for p in (s.facility, s.city, s.country) if p)
            site = f"{place} ({s.distance:.0f} {s.unit})"
        phase = "/".join(p.replace("PHASE", "P") for p in hit.phases)
        table.add_row(hit.nct_id, (hit.overall_status or "").replace("_", " ").lower(), phase,
                      hit.title, site)
    console.print(table)
    if request.facets and response.facets.get("status"):
        counts = ", ".join(f"{f.value.lower()} {f.count}" for f in response.facets["status"])
        console.print(f"[dim]status: {counts}[/]", highlight=False)


@cli.command("search")
def search_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(
        help='Words, "phrases", AND / OR / NOT, -word, prefix*. Empty lists everything.')
    ] = "",
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Overall status, repeatable (RECRUITING, NOT_YET_RECRUITING, ...).")
    ] = None,
    site_status: Annotated[list[str] | None, typer.Option(
        "--site-status", help="Status of a site (the same site as the place filters).")
    ] = None,
    phase: Annotated[list[str] | None, typer.Option("--phase", help="PHASE1..PHASE4, NA.")
                     ] = None,
    study_type: Annotated[list[str] | None, typer.Option(
        "--study-type", help="INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS.")] = None,
    age: Annotated[float | None, typer.Option("--age", help="Patient age in years.")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="FEMALE or MALE.")] = None,
    healthy_volunteers: Annotated[bool | None, typer.Option(
        "--healthy-volunteers/--no-healthy-volunteers",
        help="Only trials that accept (or do not accept) healthy volunteers.")] = None,
    condition: Annotated[str | None, typer.Option("--condition")] = None,
    intervention: Annotated[str | None, typer.Option("--intervention")] = None,
    sponsor: Annotated[str | None, typer.Option("--sponsor")] = None,
    country: Annotated[str | None, typer.Option("--country")] = None,
    state: Annotated[str | None, typer.Option("--state")] = None,
    city: Annotated[str | None, typer.Option("--city")] = None,
    started_after: Annotated[str | None, typer.Option(
        "--started-after", help="YYYY-MM-DD (inclusive).")] = None,
    updated_after: Annotated[str | None, typer.Option(
        "--updated-after", help="YYYY-MM-DD (inclusive).")] = None,
    has_results: Annotated[bool | None, typer.Option(
        "--has-results/--no-results", help="Only trials with (or without) posted results.")
    ] = None,
    near: Annotated[str | None, typer.Option(
        "--near", help='A place ("Boston, MA", "Paris, France", a US state, a country) or '
        '"lat,lon".')] = None,
    radius: Annotated[float | None, typer.Option("--radius", help="Distance from --near.")
                      ] = None,
    unit: Annotated[str, typer.Option("--unit", help="km or mi.")] = "km",
    sort: Annotated[str, typer.Option(
        "--sort", help="relevance, last_update, start_date or distance.")] = "relevance",
    match: Annotated[str, typer.Option(
        "--match", help="all: every word must match; any: free text; auto.")] = "auto",
    page: Annotated[int, typer.Option("--page")] = 1,
    page_size: Annotated[int, typer.Option("--page-size")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the response as JSON.")
                       ] = False,
) -> None:
    """Search the stored trials."""
    request = _request(
        q=query, status=status, site_status=site_status, phase=phase, study_type=study_type,
        age=age, sex=sex.upper() if sex else None, healthy_volunteers=healthy_volunteers,
        condition=condition, intervention=intervention, sponsor=sponsor, country=country,
        state=state, city=city, started_after=_date(started_after, "--started-after"),
        updated_after=_date(updated_after, "--updated-after"), has_results=has_results,
        near=near, radius=radius, unit=unit, sort=sort, match=match, page=page,
        page_size=page_size, facets=as_json)
    response = _run(ctx, request)
    if as_json:
        print(response.model_dump_json(indent=2))
        return
    _print_response(response)


@cli.command("browse")
def browse_command(
    ctx: typer.Context,
    condition: Annotated[str | None, typer.Argument(
        help="List the trials for this condition; without it, list conditions.")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Conditions starting with.")
                      ] = None,
    letter: Annotated[str | None, typer.Option(
        "--letter", help="Conditions under this letter ('#' for digits and symbols).")
    ] = None,
    order: Annotated[str, typer.Option("--order", help="name or count.")] = "name",
    page: Annotated[int, typer.Option("--page")] = 1,
    page_size: Annotated[int, typer.Option("--page-size")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Browse conditions with their trial counts, or the trials for one condition."""
    if condition is not None:
        request = _request(condition=condition, sort="last_update", page=page,
                           page_size=min(page_size, 100), facets=False)
        response = _run(ctx, request)
        if as_json:
            print(response.model_dump_json(indent=2))
        else:
            _print_response(response)
        return
    if order not in ("name", "count"):
        fail("--order is name or count")
    app = app_from_context(ctx)
    try:
        rows = app.browse_conditions(prefix=prefix, letter=letter, page=page,
                                     page_size=page_size,
                                     order="count" if order == "count" else "name")
    except SearchQueryError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps([r.model_dump() for r in rows], indent=2))
        return
    table = Table("condition", "trials")
    for row in rows:
        table.add_row(row.condition, str(row.count))
    console.print(table)


@cli.command("reindex")
def reindex_command(ctx: typer.Context) -> None:
    """Rebuild the search index from the store (imports keep it fresh on their own)."""
    app = app_from_context(ctx)
    started = time.perf_counter()
    count = app.reindex()
    console.print(f"indexed {count} trials in {time.perf_counter() - started:.1f} s")


@cli.command("index")
def index_command(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option(
        "--full", help="Rebuild the whole index instead of a delta of the changed trials.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Build and publish the search and similar-trials indexes web workers open.

    One builder at a time. Publishes a small delta segment of the trials changed since the
    last published search snapshot, or the whole index when there is none, the changes are
    many, or --full; then the similar-trials index when trials changed since its last one."""
    app = app_from_context(ctx)
    if app.search_engine.index_dir is None:
        fail("this store keeps its search index in memory (search_index_dir=none, or an "
             "in-memory database): there is nothing to publish")
    started = time.perf_counter()
    report = app.index(full=full)
    seconds = time.perf_counter() - started
    if as_json:
        print(json.dumps({**report.__dict__, "seconds": round(seconds, 3),
                          "index_dir": str(app.search_engine.index_dir)}, indent=2))
        return
    what = {"full": f"built the whole index ({report.trials} trials)",
            "delta": f"published a delta of {report.changed} changed trials "
                     f"({report.trials} trials in all)",
            "current": f"the published index is current ({report.trials} trials)"}
    console.print(f"{what[report.kind]}, generation {report.generation}, in {seconds:.1f} s",
                  highlight=False, markup=False)
    if report.similar is not None:
        console.print("similar-trials index: " + ("published" if report.similar == "built"
                                                  else "current"), highlight=False,
                      markup=False)


@eval_cli.command("search")
def eval_search_command(
    topics: Annotated[Path, typer.Option("--topics", help="queries.jsonl (_id, text).")],
    qrels: Annotated[Path, typer.Option(
        "--qrels", help="TSV with header query-id, corpus-id, score.")],
    studies: Annotated[Path, typer.Option("--studies", help="studies.jsonl(.gz), API v2.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search on TREC-style topics: NDCG@10, P@10, MRR, Recall@100 versus plain BM25."""
    from trialscout.evaluation.search_eval import EvaluationInputError, evaluate_search

    for path in (topics, qrels, studies):
        if not path.is_file():
            fail(f"no such file: {path}")
    try:
        result = evaluate_search(topics, qrels, studies, progress=None if as_json else
                                 lambda msg: err_console.print(f"[dim]{msg}[/]"))
    except EvaluationInputError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    data = result.as_dict()
    console.print(result.sets.as_text(), highlight=False, markup=False)
    table = Table("system", "NDCG@10", "P@10", "MRR", "Recall@100", "seconds",
                  title=f"{data['topics']} topics, pool of {data['pool']} trials, "
                  f"{data['judged_pairs']} judged pairs", title_justify="left")
    for system in data["systems"]:
        table.add_row(system["name"], *(f"{system[k]:.4f}" for k in
                                        ("NDCG@10", "P@10", "MRR", "Recall@100")),
                      f"{system['seconds']:.1f}")
    console.print(table)
    console.print(f"[dim]relevance: {data['relevance']}[/]")
