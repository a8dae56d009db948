"""Limits on what an email address and a password may be (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscout.accounts.inputs import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    AccountInputError,
    check_password,
    normalize_email,
)
from trialscout.accounts.tables import EMAIL_MAX

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+_-", min_size=1, max_size=64)
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=20)


@given(st.text(max_size=400))
@settings(max_examples=300)
def test_any_text_is_an_address_or_a_clear_error(text: str) -> None:
    try:
        email = normalize_email(text)
    except AccountInputError as exc:
        assert str(exc)
        return
    assert email == email.strip().lower()
    assert len(email) <= EMAIL_MAX and email.count("@") == 1
    assert all(ch.isascii() and not ch.isspace() for ch in email)
    assert normalize_email(email) == email


@given(LOCAL, st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["org", "com", "io"]))
def test_plain_addresses_are_kept_lower_cased(local: str, labels: list[str], tld: str) -> None:
    raw = f"  {local.upper()}@{'.'.join(labels)}.{tld} "
    if len(raw.strip()) > EMAIL_MAX:
        return
    assert normalize_email(raw) == raw.strip().lower()


@pytest.mark.parametrize("bad", [
    "", "no-at-sign", "a@b", "a@@example.org", "a b@example.org", "a@example..org",
    ".a@example.org", "a.@example.org", "a@-example.org", "a@example.123",
    "a\n@example.org", "x@example.org\r\nBcc: y@example.org", "é@example.org",
    "a" * 65 + "@example.org", "a@" + "b" * 250 + ".org"])
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(AccountInputError):
        normalize_email(bad)


@given(st.text(max_size=PASSWORD_MAX + 50))
@settings(max_examples=300)
def test_passwords_are_bounded(password: str) -> None:
    try:
        check_password(password)
    except AccountInputError:
        assert (len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX
                or not password.strip()
                or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in password))
        return
    assert PASSWORD_MIN <= len(password) <= PASSWORD_MAX


def test_a_huge_password_is_refused_before_hashing() -> None:
    with pytest.raises(AccountInputError, match="at most"):
        check_password("x" * 1_000_000)
