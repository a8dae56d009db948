"""Criteria commands: parse a criteria text, reparse stored trials, evaluate on corpora."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trialscout.cli import app_from_context, cli, console, err_console, eval_cli, fail
from trialscout.criteria import PARSER_VERSION, ParsedCriteria, parse_criteria
from trialscout.criteria.build import parser_build
from trialscout.criteria.model import Constraint

criteria_cli = typer.Typer(no_args_is_help=True,
                           help="Parse eligibility criteria into typed criteria and questions.")
cli.add_typer(criteria_cli, name="criteria")


def _describe(c: Constraint) -> str:
    parts: list[str] = [c.kind]
    if c.polarity == "must_not":
        parts.append("NOT")
    if c.exception:
        parts.append("(exception)")
    if c.any_of:
        parts.append(" | ".join(a.id for a in c.any_of))
    elif c.concept is not None:
        parts.append(c.concept.id)
    if c.quantity is not None:
        q = c.quantity
        value = f"{q.value:g}" + (f"-{q.value_high:g}" if q.value_high is not None else "")
        parts.append(f"{q.comparator} {value}{' ' + q.unit if q.unit else ''}")
    if c.qualitative:
        parts.append(c.qualitative)
    if c.window is not None:
        w = c.window
        amount = f" {w.amount:g} {w.unit}" if w.amount is not None else ""
        parts.append(f"[{w.relation}{amount}]")
    if c.value and c.kind == "sex":
        parts.append(c.value)
    return " ".join(parts)


def _table(parsed: ParsedCriteria) -> Table:
    table = Table("#", "section", "criterion", "typed as", "question", show_lines=True,
                  title=f"parser {parsed.parser_version}")
    for item in parsed.items:
        indent = "  " * item.depth
        text = item.text if len(item.text) < 200 else item.text[:197] + "..."
        question = item.question.text
        table.add_row(str(item.index), item.section[:3], indent + text,
                      "\n".join(_describe(c) for c in item.constraints),
                      f"{question} → {item.question.meets}\n[dim]{item.question.key}[/dim]")
    return table


@criteria_cli.command("parse")
def parse_command(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(
        help="Criteria text, or - to read standard input.")] = None,
    nct: Annotated[str | None, typer.Option("--nct", help="Parse a stored trial's criteria.")
                   ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Parse eligibility criteria (TEXT, - for stdin, or --nct ID) into typed criteria."""
    if (text is None) == (nct is None):
        fail("give either a criteria TEXT (or -) or --nct ID")
    if nct is not None:
        app = app_from_context(ctx)
        trial = app.trial(nct.strip().upper())
        if trial is None:
            fail(f"no trial {nct} in the store")
        assert trial is not None
        if not trial.eligibility.criteria:
            fail(f"{trial.nct_id} has no eligibility criteria text")
        stored = app.parsed_criteria(trial.nct_id)
        parsed = stored if stored is not None and stored.parser_version == PARSER_VERSION \
            else parse_criteria(trial.eligibility.criteria)
    else:
        source = sys.stdin.read() if text == "-" else (text or "")
        parsed = parse_criteria(source)
    if as_json:
        console.print_json(parsed.model_dump_json())
        return
    if not parsed.items:
        console.print("no criteria found")
        return
    console.print(_table(parsed))


@criteria_cli.command("reparse")
def reparse_command(
    ctx: typer.Context,
    everything: Annotated[bool, typer.Option(
        "--all", help="Parse every trial again, not only those from another parser version.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Parse again the stored trials whose criteria came from another parser version."""
    app = app_from_context(ctx)
    with Progress(TextColumn("[bold]parsing criteria"), BarColumn(bar_width=None),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("reparse", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = app.reparse_criteria(everything=everything, on_progress=advance)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
        return
    share = report.other / report.items if report.items else 0.0
    console.print(f"parsed {report.parsed} trials ({report.items} items, "
                  f"{share:.1%} other) with parser {PARSER_VERSION} "
                  f"({parser_build()})")


@eval_cli.command("criteria")
def eval_criteria_command(
    brat: Annotated[Path | None, typer.Option(
        "--brat", help="Directory of brat .txt/.ann files (Chia or LCT layout).")] = None,
    tsv: Annotated[Path | None, typer.Option(
        "--tsv", help="Facebook Clinical-Trial-Parser NER TSV file.")] = None,
    corpus: Annotated[str | None, typer.Option(
        help="Label mapping to use (chia, lct, facebook); detected when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Entity-level precision, recall and F1 (exact and relaxed) of criteria parsing."""
    from trialscout.criteria import rules
    from trialscout.evaluation.criteria_eval import evaluate_brat, evaluate_tsv

    if (brat is None) == (tsv is None):
        fail("give exactly one of --brat DIR or --tsv FILE")
    known = set(rules.eval_labels().corpora)
    if corpus is not None and corpus not in known:
        fail(f"unknown corpus {corpus!r}; known: {', '.join(sorted(known))}")
    if brat is not None:
        if not brat.is_dir():
            fail(f"not a directory: {brat}")
        report = evaluate_brat(brat, corpus)
    else:
        assert tsv is not None
        if not tsv.is_file():
            fail(f"no such file: {tsv}")
        report = evaluate_tsv(tsv, corpus or "facebook")
    data = report.as_dict()
    if as_json:
        console.print_json(json.dumps(data))
        return
    console.print(report.sets.as_text(), highlight=False, markup=False)
    table = Table("type", "gold", "predicted", "exact P / R / F1", "relaxed P / R / F1",
                  title=f"{data['corpus']}: {data['documents']} documents")
    rows = [*data["types"].items(), ("overall", data["overall"])]
    for name, score in rows:
        exact, relaxed = score["exact"], score["relaxed"]
        table.add_row(name, str(score["gold"]), str(score["predicted"]),
                      f"{exact['precision']:.3f} / {exact['recall']:.3f} / {exact['f1']:.3f}",
                      f"{relaxed['precision']:.3f} / {relaxed['recall']:.3f} / "
                      f"{relaxed['f1']:.3f}")
    console.print(table)


@eval_cli.command("knowledge")
def eval_knowledge_command(
    studies: Annotated[Path, typer.Option("--studies", help="studies.jsonl(.gz), API v2.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    top: Annotated[int, typer.Option("--top", min=1)] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Share of condition, drug and procedure mentions in criteria that the knowledge base
    places in its hierarchy, and the most frequent ones it does not."""
    from trialscout.evaluation.knowledge_eval import KnowledgeEvalError, evaluate_coverage, render

    try:
        report = evaluate_coverage(studies, limit=limit)
    except KnowledgeEvalError as exc:
        fail(str(exc))
    from trialscout.evaluation.sets import roles_for

    roles = roles_for([studies])
    if as_json:
        console.print_json(json.dumps({"benchmark_sets": roles.as_dict(),
                                       **report.as_dict(top)}))
        return
    console.print(roles.as_text(), highlight=False, markup=False)
    for line in render(report, top):
        console.print(line, markup=False, highlight=False)
