"""Which benchmark sets an evaluation ran on, and whether each is a development set.

A number measured on a set the project has tuned on (a *development* set) shows progress,
not how TrialScout does on data it has never seen; only a *report* set gives that. The
registry (``benchmark_sets.yaml``) names every known set with its role and the reason, and
every ``trialscout eval`` command reports the roles of the sets it read (recognized from
the paths it was given), in its text and in its JSON. A file the registry does not know
is reported as unregistered, with its role unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REGISTRY = Path(__file__).with_name("benchmark_sets.yaml")
PACKAGE = Path(__file__).resolve().parents[1]
ROLES = ("development", "report")


@dataclass(frozen=True)
class BenchmarkSet:
    name: str
    title: str
    role: str
    reason: str
    paths: tuple[str, ...] = ()
    available: bool = True

    @property
    def tuned(self) -> tuple[str, ...]:
        """The rule files that name this set in their ``tuned_on``."""
        return tuned_files().get(self.name, ())

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "role": self.role,
                "reason": self.reason, "tuned_files": list(self.tuned)}


@cache
def registry(path: Path = REGISTRY) -> dict[str, BenchmarkSet]:
    """The registered sets by name (validated: a role and a reason for each)."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or "version" not in data or "tuned_on" not in data \
            or not isinstance(data.get("sets"), dict):
        raise ValueError(f"{path.name}: expected version, tuned_on and a 'sets' mapping")
    out: dict[str, BenchmarkSet] = {}
    for name, spec in data["sets"].items():
        if not isinstance(spec, dict) or spec.get("role") not in ROLES \
                or not str(spec.get("reason") or "").strip():
            raise ValueError(f"{path.name}: set {name!r} needs a role ({', '.join(ROLES)}) "
                             "and a reason")
        out[str(name)] = BenchmarkSet(
            name=str(name), title=str(spec.get("title") or name), role=str(spec["role"]),
            reason=" ".join(str(spec["reason"]).split()),
            paths=tuple(str(p).strip("/") for p in spec.get("paths") or ()),
            available=bool(spec.get("available", True)))
    return out


@cache
def tuned_files() -> dict[str, tuple[str, ...]]:
    """Set name -> the rule and knowledge files whose ``tuned_on`` names it."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.yaml")):
        try:
            with path.open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError):
            continue
        names = data.get("tuned_on") if isinstance(data, dict) else None
        for name in names if isinstance(names, list) else []:
            found.setdefault(str(name), []).append(path.relative_to(PACKAGE).as_posix())
    return {name: tuple(files) for name, files in found.items()}


def _matches(path: str, ending: str) -> bool:
    """Whether ``ending`` (folder or file path parts) occurs in ``path`` at part borders."""
    parts, wanted = path.split("/"), ending.split("/")
    n = len(wanted)
    return any(parts[i:i + n] == wanted for i in range(len(parts) - n + 1))


def identify(path: Path | str) -> BenchmarkSet | None:
    """The registered set a file or folder belongs to (the most specific path wins)."""
    text = Path(path).expanduser().resolve().as_posix()
    best: tuple[int, BenchmarkSet] | None = None
    for bench in registry().values():
        for ending in bench.paths:
            if _matches(text, ending):
                specificity = ending.count("/") + 1
                if best is None or specificity > best[0]:
                    best = (specificity, bench)
    return None if best is None else best[1]


@dataclass
class SetRoles:
    """The sets one evaluation read, with their roles; printed before its numbers."""

    sets: list[BenchmarkSet] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)

    @property
    def development(self) -> list[BenchmarkSet]:
        return [s for s in self.sets if s.role == "development"]

    @property
    def report(self) -> list[BenchmarkSet]:
        return [s for s in self.sets if s.role == "report"]

    @property
    def all_development(self) -> bool:
        return bool(self.sets) and not self.report and not self.unregistered

    @staticmethod
    def held_out() -> list[BenchmarkSet]:
        return [s for s in registry().values() if s.role == "report" and not s.available]

    def as_dict(self) -> dict[str, Any]:
        return {"sets": [s.as_dict() for s in self.sets],
                "development": [s.name for s in self.development],
                "report": [s.name for s in self.report],
                "unregistered": list(self.unregistered),
                "all_development": self.all_development,
                "held_out_report_sets": [s.name for s in self.held_out()]}

    def as_text(self) -> str:
        lines = ["benchmark sets of this run:"]
        for s in self.sets:
            lines.append(f"  {s.name} ({s.title}): {s.role.upper()} set: {s.reason}")
            if s.tuned:
                lines.append(f"    rule files tuned on it ({len(s.tuned)}): "
                             + ", ".join(s.tuned))
        for path in self.unregistered:
            lines.append(f"  {path}: not in the registry (evaluation/benchmark_sets.yaml); "
                         "role unknown")
        if self.all_development:
            lines.append("  every set of this run is a development set: these numbers show "
                         "progress, not how TrialScout does on unseen data")
        elif self.report:
            lines.append("  report sets: " + ", ".join(s.name for s in self.report))
        held = self.held_out()
        if held:
            lines.append("  held-out report sets (not in ../shared/data, measured by the "
                         "lead): " + ", ".join(s.name for s in held))
        return "\n".join(lines)


def roles_for(paths: Iterable[Path | str | None], names: Iterable[str] = ()) -> SetRoles:
    """The roles of the sets behind ``paths`` (and of sets named outright, e.g. a corpus)."""
    found: dict[str, BenchmarkSet] = {}
    unregistered: list[str] = []
    known = registry()
    for name in names:
        if name in known:
            found.setdefault(name, known[name])
    for path in paths:
        if path is None:
            continue
        bench = identify(path)
        if bench is None:
            if str(path) not in unregistered:
                unregistered.append(str(path))
        else:
            found.setdefault(bench.name, bench)
    return SetRoles(list(found.values()), unregistered)
