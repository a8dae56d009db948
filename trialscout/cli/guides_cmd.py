"""Summary, similar-trial, guide and visitor-question commands, and their evaluations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markdown import Markdown
from rich.table import Table

from trialscout.cli import app_from_context, cli, console, err_console, eval_cli, fail

guides_cli = typer.Typer(no_args_is_help=True, help="Condition and drug guides.")
questions_cli = typer.Typer(no_args_is_help=True,
                            help="Questions visitors sent from guide and trial pages.")
cli.add_typer(guides_cli, name="guides")
cli.add_typer(questions_cli, name="questions")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print_json(data: object) -> None:
    console.print_json(json.dumps(data, default=str))


@cli.command("summary")
def summary_command(
    ctx: typer.Context,
    nct_id: Annotated[str, typer.Argument(help="Trial id, e.g. NCT09000001.")],
    as_json: JsonOption = False,
    offline: Annotated[bool, typer.Option(
        "--offline", help="Never call the LLM, even when one is configured.")] = False,
) -> None:
    """A trial's plain-language summary, each sentence with the record fields it restates."""
    app = app_from_context(ctx)
    summary = app.summaries.for_trial(nct_id.strip().upper(),
                                      use_llm=False if offline else None)
    if summary is None:
        fail(f"no trial {nct_id} in the store")
    if as_json:
        _print_json(summary.model_dump())
        return
    for section in summary.sections():
        console.print(f"[bold]{section.title}[/]")
        console.print(section.text, highlight=False)
    console.print(f"[dim]{summary.backend} summary, reading grade {summary.grade}[/]")
    if summary.fallback_reason:
        console.print(f"[dim]{summary.fallback_reason}[/]", highlight=False)


@cli.command("similar")
def similar_command(
    ctx: typer.Context,
    nct_id: Annotated[str, typer.Argument(help="Trial id.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=50,
                                   help="How many similar trials.")] = 5,
    near: Annotated[str | None, typer.Option(
        "--near", help="A place (city, country, or 'lat,lon') to show distances from.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Trials similar to one trial, each with the reasons it was picked."""
    app = app_from_context(ctx)
    origin = None
    if near:
        from trialscout.search.places import gazetteer

        try:
            place = gazetteer().resolve(near)
        except ValueError as exc:
            fail(str(exc))
        origin = (place.lat, place.lon)
    results = app.similar.similar(nct_id.strip().upper(), k, origin=origin)
    if results is None:
        fail(f"no trial {nct_id} in the store")
    if as_json:
        _print_json([r.model_dump() for r in results])
        return
    table = Table("trial", "title", "why", "score")
    for r in results:
        table.add_row(r.nct_id, r.title, r.explanation, f"{r.score:.3f}")
    console.print(table)


@guides_cli.command("list")
def guides_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every guide, with how many stored trials it lists."""
    app = app_from_context(ctx)
    rows: list[dict[str, str | int]] = []
    for guide in app.guides.all():
        found = app.guides.trials(guide.slug, limit=0)
        rows.append({"slug": guide.slug, "title": guide.title, "kind": guide.kind,
                     "trials": found.total if found else 0, "summary": guide.summary})
    if as_json:
        _print_json(rows)
        return
    table = Table("slug", "title", "kind", "trials", "summary")
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("slug", "title", "kind", "trials", "summary")))
    console.print(table)


@guides_cli.command("show")
def guides_show(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Guide slug, e.g. denosumab.")],
    trials: Annotated[int, typer.Option("--trials", min=0, help="Trials to list.")] = 10,
    open_only: Annotated[bool, typer.Option("--open", help="Only trials open to people.")
                         ] = False,
    as_json: JsonOption = False,
) -> None:
    """A guide and the trials it lists (linked through the synonym vocabulary)."""
    app = app_from_context(ctx)
    guide = app.guides.get(slug)
    if guide is None:
        fail(f"no guide {slug!r}; see `trialscout guides list`")
    found = app.guides.trials(slug, limit=trials, open_only=open_only)
    assert found is not None
    if as_json:
        _print_json({"guide": guide.model_dump(), "trials": found.model_dump()})
        return
    console.print(Markdown(f"# {guide.title}\n\n_{guide.disclaimer}_\n\n{guide.markdown}"))
    console.print(f"[bold]Trials ({found.total})[/]")
    for t in found.trials:
        console.print(f"{t.nct_id}  {t.status or '-':<22} {t.title}  [dim]{t.matched[0]}[/]",
                      highlight=False)


@questions_cli.command("list")
def questions_list(
    ctx: typer.Context,
    status: Annotated[str, typer.Option("--status", help="open, answered or all.")] = "open",
    guide: Annotated[str | None, typer.Option("--guide", help="Only this guide.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Questions for the admin (emails shown here only)."""
    if status not in {"open", "answered", "all"}:
        fail("--status must be open, answered or all")
    app = app_from_context(ctx)
    chosen: Literal["open", "answered", "all"] = status  # type: ignore[assignment]
    items = app.guides.questions(chosen, guide_slug=guide, limit=limit)
    if as_json:
        _print_json([q.model_dump() for q in items])
        return
    if not items:
        console.print(f"no {status} questions")
    for q in items:
        where = q.guide_slug or q.nct_id or "-"
        console.print(f"[bold]#{q.id}[/] {q.created_at:%Y-%m-%d %H:%M} {where} "
                      f"{q.email or ''} [{q.status}]", highlight=False)
        console.print(q.text, markup=False, highlight=False)
        if q.answer:
            console.print(f"  answer: {q.answer}", markup=False, highlight=False)


@questions_cli.command("answer")
def questions_answer(
    ctx: typer.Context,
    question_id: Annotated[int, typer.Argument(help="Question number.")],
    answer: Annotated[str, typer.Argument(help="The answer text.")],
    publish: Annotated[bool, typer.Option(
        "--publish", help="Show the question and answer on the guide page (never the email).")
    ] = False,
) -> None:
    """Answer a question (replaces an earlier answer)."""
    from trialscout.guides.questions import QuestionError

    app = app_from_context(ctx)
    try:
        q = app.guides.answer(question_id, answer, publish=publish)
    except QuestionError as exc:
        fail(exc.message)
    console.print(f"answered #{q.id}" + (" (published)" if q.published else ""))


@questions_cli.command("delete")
def questions_delete(ctx: typer.Context,
                     question_id: Annotated[int, typer.Argument(help="Question number.")]
                     ) -> None:
    """Delete a question and its answer (for example on the visitor's request)."""
    app = app_from_context(ctx)
    if not app.guides.delete_question(question_id):
        fail(f"no question #{question_id}")
    console.print(f"deleted #{question_id}")


@eval_cli.command("readability")
def eval_readability(
    studies: Annotated[Path, typer.Option("--studies", exists=True, dir_okay=False,
                                          help="Studies file (API v2 JSON lines, .gz ok).")],
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    as_json: JsonOption = False,
) -> None:
    """Reading grade (Flesch-Kincaid, textstat) of the offline summaries of every study."""
    from trialscout.evaluation.readability_eval import evaluate_readability

    report = evaluate_readability(studies, limit=limit)
    if as_json:
        _print_json(report.as_dict())
        return
    console.print(report.sets.as_text(), highlight=False, markup=False)
    table = Table("studies", "count", "mean", "median", "p90", "max", "share <= 8")
    for name, d in report.grades.items():
        table.add_row(name, str(d.count), f"{d.mean:.2f}", f"{d.median:.2f}", f"{d.p90:.2f}",
                      f"{d.max:.2f}", f"{d.share_at_or_below_8:.2%}")
    console.print(table)
    console.print(f"{report.studies} studies ({report.rejected} unreadable), "
                  f"{report.sentences} sentences, {report.dropped_sentences} dropped by the "
                  f"fact check, {report.summaries_with_fact_problems} summaries with facts "
                  f"not in the record, {report.seconds:.0f} s")


@eval_cli.command("similar")
def eval_similar(
    studies: Annotated[Path, typer.Option("--studies", exists=True, dir_okay=False,
                                          help="Studies file (API v2 JSON lines, .gz ok).")],
    k: Annotated[int, typer.Option("-k", min=1, max=50)] = 5,
    backend: Annotated[list[str] | None, typer.Option(
        "--backend", help="lexical and/or embeddings (default: both).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=2)] = None,
    as_json: JsonOption = False,
) -> None:
    """Share of the top k similar trials with the same primary condition / an intervention."""
    from trialscout.evaluation.similar_eval import evaluate_similar

    report = evaluate_similar(studies, k=k, backends=backend or ["lexical", "embeddings"],
                              limit=limit)
    if as_json:
        _print_json(report.as_dict())
        return
    console.print(report.sets.as_text(), highlight=False, markup=False)
    table = Table("backend", "mode", "condition share", "condition hit", "intervention share",
                  "intervention hit", "seconds")
    for r in report.results:
        table.add_row(r.backend, r.mode, f"{r.condition_share:.3f}", f"{r.condition_hit:.3f}",
                      f"{r.intervention_share:.3f}", f"{r.intervention_hit:.3f}",
                      f"{r.seconds:.0f}")
    console.print(table)
    console.print(f"{report.studies} studies; random top-{k} shares: condition "
                  f"{report.random_condition_share:.3f}, intervention "
                  f"{report.random_intervention_share:.3f}")
    for name, reason in report.skipped.items():
        err_console.print(f"[yellow]skipped {name}[/]: {reason}", highlight=False)
