"""Question rows are found by a hash of their key; stores from before the hash (key text)
are hashed in place by migration 0014."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from trialscout.app import create_app
from trialscout.criteria import store as criteria_store
from trialscout.criteria.tables import TrialCriterionQuestionRow, question_key_hash
from trialscout.sample import sample_path
from trialscout.store import database


def test_hash_is_a_stable_signed_64_bit_integer() -> None:
    value = question_key_hash("lab:hba1c:ge:7:%")
    assert value == question_key_hash("lab:hba1c:ge:7:%")
    assert -(2 ** 63) <= value < 2 ** 63
    assert value != question_key_hash("lab:hba1c:ge:8:%")


def test_migration_hashes_the_keys_of_older_rows(tmp_path: Path) -> None:
    app = create_app(database_url=f"sqlite:///{tmp_path / 's.db'}")
    app.import_paths([sample_path()])
    with app.connect() as conn:
        nct_id = conn.execute(text("SELECT min(nct_id) FROM trials")).scalar_one()
    config = database.alembic_config()
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0013")
    with app.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM trial_criterion_questions")).scalar() == 0
        conn.execute(text(
            "INSERT INTO trial_criterion_questions (nct_id, item_index, section, kind, "
            "question_key, meets, answerable) VALUES (:n, 3, 'exclusion', 'drug', "
            "'drug:an_example:within:6mo', 'no', 1)"), {"n": nct_id})
    app.migrate()
    assert database.current_revision(app.engine) == database.head_revision()
    with app.connect() as conn:
        hashes = conn.execute(select(TrialCriterionQuestionRow.key_hash)).scalars().all()
        assert hashes == [question_key_hash("drug:an_example:within:6mo")]
        assert criteria_store.trials_asking(conn, "drug:an_example:within:6mo") == [
            (nct_id, 3, "no")]
        assert criteria_store.trials_asking(conn, "drug:another:within:6mo") == []
    app.close()
