"""The application object: settings in, engine and services out, nothing at import time.

CLI commands and web routes receive a :class:`TrialScout` and call its methods; they never
build engines or read settings themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from trialscout.alerts.changes import record_changes as record_alert_changes
from trialscout.criteria.store import register as register_criteria
from trialscout.registry.importer import ImportReport, WriteHook, relaxed_gc, write_batches
from trialscout.registry.model import Trial
from trialscout.search.store import mark_changed as mark_search_changes
from trialscout.settings import Settings, load_settings
from trialscout.store import database, trials

if TYPE_CHECKING:
    from datetime import date

    from trialscout.contact.service import ContactService
    from trialscout.criteria.model import ParsedCriteria
    from trialscout.criteria.store import ReparseReport
    from trialscout.guides.service import GuideService
    from trialscout.matching.engine import MatchOptions
    from trialscout.matching.model import MatchResponse, TrialMatch
    from trialscout.patients.model import PatientProfile
    from trialscout.patients.store import StoredProfile, VersionInfo
    from trialscout.registry.sync import SyncQuery, SyncReport
    from trialscout.search.engine import BrowseOrder, PublishReport, SearchEngine
    from trialscout.search.models import ConditionCount, SearchRequest, SearchResponse
    from trialscout.similar.service import SimilarService
    from trialscout.summaries.service import SummaryService


class TrialScout:
    """One configured TrialScout: a store plus the services built on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self.write_hooks: list[WriteHook] = []

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = database.make_engine(self.settings.database_url)
        return self._engine

    def migrate(self) -> None:
        database.upgrade(self.engine)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def import_paths(self, paths: Iterable[Path], on_item: Callable[[], None] | None = None,
                     *, on_parse: Callable[[int, int], None] | None = None,
                     limit: int | None = None) -> ImportReport:
        """Store the records in ``paths`` (the first ``limit`` of them), then parse the
        criteria the import left unparsed."""
        report = self.store_paths(paths, on_item, limit=limit)
        report.criteria_parsed = self.reparse_criteria(on_progress=on_parse).parsed
        self._publish_index(report)
        return report

    def _publish_index(self, report: ImportReport) -> None:
        """After an import or sync that changed trials, publish the saved search index
        (a delta when the changes are few) so web workers pick it up."""
        engine = self.search_engine
        if report.imported + report.updated and engine.index_dir is not None \
                and engine.builds:
            engine.publish()

    def store_paths(self, paths: Iterable[Path], on_item: Callable[[], None] | None = None,
                    *, limit: int | None = None,
                    hooks: Iterable[WriteHook] | None = None) -> ImportReport:
        """Store the records in ``paths`` without parsing criteria. A large import is read
        in a second process (``import_reader_process``) while this one writes."""
        from trialscout.registry import reader_process

        listed = [Path(p) for p in paths]
        read = (reader_process.batches_from_process
                if reader_process.use_reader_process(listed, self.settings.import_reader_process)
                else reader_process.batches_inline)
        with relaxed_gc():
            return write_batches(
                self.engine, read(listed, self.settings.import_batch_size, limit, on_item),
                hooks=self.write_hooks if hooks is None else hooks)

    def sync(self, query: SyncQuery | None = None, *, full: bool = False,
             on_parse: Callable[[int, int], None] | None = None, **options: Any) -> SyncReport:
        """Fetch new and updated trials from ClinicalTrials.gov (see registry.sync.run_sync),
        then parse the criteria the sync left unparsed."""
        from trialscout.registry.sync import SyncQuery, run_sync

        report = run_sync(self.engine, self.settings, query or SyncQuery(), full=full,
                          hooks=self.write_hooks, **options)
        report.criteria_parsed = self.reparse_criteria(on_progress=on_parse).parsed
        self._publish_index(report)
        return report

    def trial(self, nct_id: str) -> Trial | None:
        with self.engine.connect() as conn:
            return trials.load_trial(conn, nct_id)

    def trial_count(self) -> int:
        with self.engine.connect() as conn:
            return trials.count_trials(conn)

    def connect(self) -> Connection:
        return self.engine.connect()

    # ------------------------------------------------------------------ criteria
    def parsed_criteria(self, nct_id: str) -> ParsedCriteria | None:
        """A trial's parsed criteria: the stored parse, or parsed now when the store has
        none from this parser version yet (between an import and its parsing step)."""
        from trialscout.criteria.parser import PARSER_VERSION, parse_criteria
        from trialscout.criteria.store import load_parsed_criteria

        with self.engine.connect() as conn:
            stored = load_parsed_criteria(conn, nct_id)
        if stored is not None and stored.parser_version == PARSER_VERSION:
            return stored
        trial = self.trial(nct_id)
        return None if trial is None else parse_criteria(trial.eligibility.criteria)

    def reparse_criteria(self, *, everything: bool = False,
                         on_progress: Callable[[int, int], None] | None = None
                         ) -> ReparseReport:
        """Parse the criteria of trials with no parse from this parser version (or all),
        on ``criteria_workers`` processes when there are many."""
        from trialscout.criteria.parallel import worker_count
        from trialscout.criteria.store import reparse

        return reparse(self.engine, everything=everything, on_progress=on_progress,
                       workers=worker_count(self.settings.criteria_workers))

    # ------------------------------------------------------------------ search
    @property
    def search_engine(self) -> SearchEngine:
        """The full-text index and search service, created on first use."""
        existing = self.__dict__.get("_search_engine")
        if existing is None:
            from trialscout.search.engine import SearchEngine
            from trialscout.search.location import builds_index, index_dir_for

            existing = SearchEngine(lambda: self.engine, index_dir_for(self.settings),
                                    builds=builds_index(self.settings))
            self.__dict__["_search_engine"] = existing
        return existing

    def search(self, request: SearchRequest) -> SearchResponse:
        """Full-text search with filters, facets, distance and paging (see trialscout.search)."""
        return self.search_engine.search(request)

    def browse_conditions(self, prefix: str | None = None, letter: str | None = None,
                          page: int = 1, page_size: int = 50, order: BrowseOrder = "name"
                          ) -> list[ConditionCount]:
        """Conditions with their trial counts; list one's trials with search(condition=...)."""
        return self.search_engine.browse_conditions(prefix, letter, page, page_size, order)

    def reindex(self) -> int:
        """Rebuild the search index from the store; returns the number of trials indexed."""
        return self.search_engine.rebuild().n_live

    def index(self, *, full: bool = False) -> PublishReport:
        """Publish the search index for web workers: a delta of the trials changed since
        the published snapshot, or a full build (one builder at a time, under a lock)."""
        from dataclasses import replace

        report = self.search_engine.publish(full=full)
        if self.similar.snapshot_dir is None:
            return report
        return replace(report, similar=self.similar.publish())

    # ------------------------------------------------------------------ patients and matching
    def save_patient(self, profile: PatientProfile, patient_id: int | None = None,
                     source: str = "form") -> StoredProfile:
        """Store a profile as a new patient, or as the next version of ``patient_id``."""
        from trialscout.patients.store import save_profile

        with self.engine.begin() as conn:
            return save_profile(conn, profile, patient_id=patient_id, source=source)

    def patient(self, patient_id: int, version: int | None = None) -> StoredProfile:
        """The latest (or a given) version of a patient; raises PatientNotFound."""
        from trialscout.patients.store import load_profile

        with self.engine.connect() as conn:
            return load_profile(conn, patient_id, version)

    def patient_versions(self, patient_id: int) -> list[VersionInfo]:
        from trialscout.patients.store import list_versions

        with self.engine.connect() as conn:
            return list_versions(conn, patient_id)

    def delete_patient(self, patient_id: int) -> bool:
        from trialscout.patients.store import delete_patient

        with self.engine.begin() as conn:
            return delete_patient(conn, patient_id)

    def import_patient(self, path: Path, patient_id: int | None = None,
                       reference_date: date | None = None) -> StoredProfile:
        """Read a FHIR Bundle, profile JSON or note file and store it (a new version)."""
        from trialscout.patients.loader import load_patient_file

        loaded = load_patient_file(Path(path), reference_date=reference_date,
                                   max_note_chars=self.settings.max_note_chars)
        return self.save_patient(loaded.profile, patient_id, source=loaded.kind)

    def match(self, patient: PatientProfile | int, options: MatchOptions | None = None, *,
              save: bool = False) -> MatchResponse:
        """Rank trials for a profile, or for the latest version of a stored patient.

        With ``save`` (stored patients only) the results are kept with the profile version
        they were computed from.
        """
        from trialscout.matching.engine import match_profile
        from trialscout.patients.store import save_matches

        patient_id = version = None
        if isinstance(patient, int):
            stored = self.patient(patient)
            profile, patient_id, version = stored.profile, stored.patient_id, stored.version
        else:
            profile = patient
        response = match_profile(self, profile, options, patient_id=patient_id,
                                 version=version)
        if save and patient_id is not None and version is not None:
            with self.engine.begin() as conn:
                save_matches(conn, patient_id, version, response.reference_date,
                             [(m.nct_id, m.verdict, m.score, m.model_dump_json().encode())
                              for m in response.results])
        return response

    def saved_matches(self, patient_id: int, version: int | None = None) -> list[TrialMatch]:
        from trialscout.matching.model import TrialMatch
        from trialscout.patients.store import load_matches

        with self.engine.connect() as conn:
            return [TrialMatch.model_validate(d) for d in load_matches(conn, patient_id,
                                                                       version)]

    # ------------------------------------------------------------------ summaries, similar, guides
    @property
    def summaries(self) -> SummaryService:
        """Plain-language trial summaries (offline; LLM-rewritten when configured)."""
        if getattr(self, "_summaries", None) is None:
            from trialscout.summaries.service import SummaryService

            self._summaries = SummaryService(self.engine, self.settings)
        return self._summaries

    @property
    def similar(self) -> SimilarService:
        """Similar trials with reasons; the index follows imports on its own."""
        if getattr(self, "_similar", None) is None:
            from trialscout.search.location import builds_index, index_dir_for
            from trialscout.similar.service import SimilarService

            index_dir = index_dir_for(self.settings)
            self._similar = SimilarService(
                self.engine, self.settings.similar_backend,
                snapshot_dir=None if index_dir is None else index_dir / "similar",
                builds=builds_index(self.settings))
        return self._similar

    @property
    def guides(self) -> GuideService:
        """Condition and drug guides, their trials, and visitor questions."""
        if getattr(self, "_guides", None) is None:
            from trialscout.guides.service import GuideService

            self._guides = GuideService(self.engine, self.settings)
        return self._guides

    @property
    def contact(self) -> ContactService:
        """Inquiries to study teams, coordinator claims and their audit log."""
        existing = self.__dict__.get("_contact")
        if existing is None:
            from trialscout.contact.service import ContactService

            existing = self.__dict__["_contact"] = ContactService(self)
        return existing


def create_app(settings: Settings | None = None, *, migrate: bool = True,
               **overrides: Any) -> TrialScout:
    """Build an app from settings (or from the environment plus ``overrides``)."""
    app = TrialScout(settings or load_settings(overrides))
    app.write_hooks.append(mark_search_changes)
    app.write_hooks.append(record_alert_changes)
    register_criteria(app)
    if migrate:
        app.migrate()
    return app
