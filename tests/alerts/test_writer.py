"""The alert writer on both backends: each pair once, only for saved searches that exist,
and a saved search's alerts go with it (a trigger, not a foreign key)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func, select, update

from tests.alerts.helpers import make_account, store, trial
from trialscout.accounts.owners import delete_owner
from trialscout.alerts.compute import compute_alerts
from trialscout.alerts.models import SavedSearchCreate
from trialscout.alerts.service import AlertService
from trialscout.alerts.tables import AlertRow, SavedSearchRow, TrialChangeRow
from trialscout.alerts.writer import AlertWriter
from trialscout.app import TrialScout
from trialscout.mail.outbox import utcnow
from trialscout.search.models import SearchRequest


def _save(app: TrialScout, owner: str, q: str) -> int:
    create = SavedSearchCreate(request=SearchRequest(q=q), delivery="daily")
    return AlertService(app).save(owner, create).id


def _pairs(app: TrialScout) -> list[tuple[int, int]]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(
            AlertRow.saved_search_id, AlertRow.change_id).order_by(AlertRow.id))]


def _changes(app: TrialScout) -> dict[int, tuple[str, str]]:
    with app.engine.connect() as conn:
        return {r.id: (r.nct_id, r.kind) for r in conn.execute(
            select(TrialChangeRow.id, TrialChangeRow.nct_id, TrialChangeRow.kind))}


def test_deleting_a_saved_search_deletes_its_alerts(backend_app: TrialScout,
                                                    tmp_path: Path) -> None:
    owner = make_account(backend_app, "del@example.org")
    kept, gone = _save(backend_app, owner, "osteoporosis"), _save(backend_app, owner, "denosumab")
    other = make_account(backend_app, "other@example.org")
    theirs = _save(backend_app, other, "osteoporosis")
    store(backend_app, tmp_path, [trial("NCT09004001"), trial("NCT09004002")])
    assert compute_alerts(backend_app.engine).alerts == 6
    with backend_app.engine.begin() as conn:
        conn.execute(delete(SavedSearchRow).where(SavedSearchRow.id == gone))
    assert {s for s, _ in _pairs(backend_app)} == {kept, theirs}
    with backend_app.engine.begin() as conn:
        delete_owner(conn, [other])
    assert {s for s, _ in _pairs(backend_app)} == {kept}


def test_the_writer_skips_searches_that_no_longer_exist(backend_app: TrialScout,
                                                        tmp_path: Path) -> None:
    owner = make_account(backend_app, "w@example.org")
    search = _save(backend_app, owner, "osteoporosis")
    store(backend_app, tmp_path, [trial("NCT09004101"), trial("NCT09004102")])
    changes = _changes(backend_app)
    ids = tuple(sorted(changes))
    writer = AlertWriter(backend_app.engine.dialect.name, utcnow(), changes)
    with backend_app.engine.begin() as conn:
        assert writer.write(conn, [(search, ids), (search + 1000, ids)]) == 2
    assert _pairs(backend_app) == [(search, i) for i in ids]


def test_a_second_write_of_the_same_pairs_adds_nothing(backend_app: TrialScout,
                                                       tmp_path: Path) -> None:
    owner = make_account(backend_app, "twice@example.org")
    first, second = _save(backend_app, owner, "osteoporosis"), _save(backend_app, owner, "bone")
    store(backend_app, tmp_path, [trial("NCT09004201"), trial("NCT09004202")])
    changes = _changes(backend_app)
    ids = tuple(sorted(changes))
    writer = AlertWriter(backend_app.engine.dialect.name, utcnow(), changes)
    with backend_app.engine.begin() as conn:
        writer.write(conn, [(first, ids[:1])])
    with backend_app.engine.begin() as conn:  # one pair is there already, three are new
        assert writer.write(conn, [(first, ids), (second, ids)]) == 4
    with backend_app.engine.begin() as conn:  # and the next chunk is written as usual
        assert writer.write(conn, [(second, ids)]) == 2
    assert sorted(_pairs(backend_app)) == sorted([(first, i) for i in ids]
                                                 + [(second, i) for i in ids])


def test_a_search_saved_after_a_change_does_not_get_it(backend_app: TrialScout,
                                                       tmp_path: Path) -> None:
    owner = make_account(backend_app, "late@example.org")
    early = _save(backend_app, owner, "osteoporosis")
    store(backend_app, tmp_path, [trial("NCT09004301")])
    late = _save(backend_app, owner, "osteoporosis denosumab")
    with backend_app.engine.begin() as conn:
        conn.execute(update(SavedSearchRow).where(SavedSearchRow.id == late)
                     .values(created_at=utcnow()))
    assert compute_alerts(backend_app.engine).alerts == 1
    assert [s for s, _ in _pairs(backend_app)] == [early]
    with backend_app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TrialChangeRow).where(
            TrialChangeRow.processed.is_(False))).scalar_one() == 0
