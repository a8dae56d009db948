"""Anonymous sessions: hashed ids, answers by question key, profile, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from trialscout.app import TrialScout
from trialscout.sessions import Profile, SessionStore, new_session_token
from trialscout.sessions.tokens import (
    csrf_matches,
    csrf_token,
    hash_session_token,
    is_session_token,
)


@pytest.fixture
def store(app: TrialScout) -> SessionStore:
    return SessionStore(app.engine)


def test_tokens_are_random_and_well_formed() -> None:
    tokens = {new_session_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(is_session_token(t) for t in tokens)
    assert not is_session_token("short") and not is_session_token(None)
    assert not is_session_token("x" * 42 + "!")


def test_csrf_tokens_are_bound_to_session_and_secret() -> None:
    a, b = new_session_token(), new_session_token()
    token = csrf_token(b"k1", a)
    assert csrf_matches(b"k1", a, token)
    assert not csrf_matches(b"k1", b, token)
    assert not csrf_matches(b"k2", a, token)
    assert not csrf_matches(b"k1", a, None) and not csrf_matches(b"k1", None, token)


def test_reading_never_creates_a_session(store: SessionStore, app: TrialScout) -> None:
    token = new_session_token()
    assert store.answers(token) == {} and store.profile(token) == Profile()
    with app.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM web_sessions")).scalar() == 0


def test_answers_are_stored_under_the_hash_and_can_be_replaced_or_forgotten(
        store: SessionStore, app: TrialScout) -> None:
    token = new_session_token()
    store.put_answers(token, {"q:diabetes": "yes", "q:pregnant": "no"})
    store.put_answers(token, {"q:diabetes": "unsure", "q:pregnant": None})
    assert store.answers(token) == {"q:diabetes": "unsure"}
    assert store.answers(token, ["q:pregnant"]) == {}
    with app.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT id_hash FROM web_sessions"))]
    assert hashes == [hash_session_token(token)]


def test_clear_only_some_keys_or_all(store: SessionStore) -> None:
    token = new_session_token()
    store.put_answers(token, {"a": "yes", "b": "no", "c": "yes"})
    store.clear_answers(token, ["a", "b"])
    assert store.answers(token) == {"c": "yes"}
    store.clear_answers(token)
    assert store.answers(token) == {}


def test_sessions_do_not_see_each_other(store: SessionStore) -> None:
    mine, theirs = new_session_token(), new_session_token()
    store.put_answers(mine, {"a": "yes"})
    store.put_profile(mine, Profile(age=40))
    assert store.answers(theirs) == {} and store.profile(theirs).age is None


def test_profile_round_trip_and_forget(store: SessionStore) -> None:
    token = new_session_token()
    profile = Profile(age=61, sex="FEMALE", near="Lyon, France", radius=100, unit="km")
    store.put_profile(token, profile)
    assert store.profile(token) == profile
    store.put_answers(token, {"k": "yes"})
    store.forget(token)
    assert store.profile(token) == Profile() and store.answers(token) == {}


def test_invalid_answers_are_refused(store: SessionStore) -> None:
    token = new_session_token()
    with pytest.raises(ValueError):
        store.put_answers(token, {"k": "maybe"})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        store.put_answers(token, {"": "yes"})


def test_expired_sessions_are_ignored_and_purged(app: TrialScout) -> None:
    store = SessionStore(app.engine, max_age=timedelta(days=1))
    old, fresh = new_session_token(), new_session_token()
    store.put_answers(old, {"k": "yes"})
    store.put_answers(fresh, {"k": "no"})
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE web_sessions SET last_seen = :t WHERE id_hash = :h"),
                     {"t": "2000-01-01 00:00:00", "h": hash_session_token(old)})
    assert store.answers(old) == {}
    assert store.purge_expired() == 1
    assert store.answers(fresh) == {"k": "no"}
    store.put_answers(old, {"other": "yes"})
    assert store.answers(old) == {"other": "yes"}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(st.characters(exclude_categories=("Cs",),
                                             exclude_characters="\x00"),
                               min_size=1, max_size=40),
                       st.sampled_from(["yes", "no", "unsure"]), max_size=8))
def test_any_answers_round_trip(app: TrialScout, answers: dict[str, str]) -> None:
    store = SessionStore(app.engine)
    token = new_session_token()
    store.put_answers(token, answers)  # type: ignore[arg-type]
    assert store.answers(token) == answers


def test_long_question_keys_are_kept_under_their_hash(store: SessionStore) -> None:
    token = new_session_token()
    long_key = "any:" + "|".join(f"condition:c{i}" for i in range(200))
    store.put_answers(token, {long_key: "no", "short": "yes"})
    assert store.answers(token, [long_key]) == {long_key: "no"}
    store.clear_answers(token, [long_key])
    assert store.answers(token) == {"short": "yes"}


def test_has_data_only_after_a_write(store: SessionStore) -> None:
    token = new_session_token()
    assert not store.has_data(token) and not store.has_data(None)
    store.put_profile(token, Profile(age=30))
    assert store.has_data(token)
