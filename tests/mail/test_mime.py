"""The outbox's own MIME writer: what a standard parser reads back is what was given, and
the one-click unsubscribe header stays a plain URL on the wire."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialscout.mail.mime import MimeError, build_message, header_line
from trialscout.mail.outbox import MailError, compose

UNSUBSCRIBE = "<https://trialscout.example.org/alerts/unsubscribe/" + "Ab3_" * 11 + ">"
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
               max_size=400)


def _read(data: bytes):  # type: ignore[no-untyped-def]
    return message_from_bytes(data, policy=default)


@given(subject=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
                       max_size=300), text=TEXT, html=TEXT)
def test_what_a_parser_reads_back_is_what_was_written(subject: str, text: str,
                                                      html: str) -> None:
    data = build_message([("From", "TrialScout <alerts@example.org>"), ("To", "a@example.org"),
                          ("Subject", subject)], text, html)
    assert all(len(line) <= 998 for line in data.split(b"\n"))
    msg = _read(data)
    assert str(msg["Subject"]) in {subject, subject.strip(" ")}  # folding keeps spaces
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().rstrip("\n") == text.rstrip("\n")
    assert rich.get_content().rstrip("\n") == html.rstrip("\n")


def test_list_unsubscribe_is_written_as_a_url_not_encoded_words() -> None:
    data = compose(sender="TrialScout <alerts@example.org>", to="a@example.org",
                   subject="TrialScout: 2 updates for “bone”", text="Two “updates”\n",
                   html="<p>Two</p>", message_id="<k@example.org>",
                   headers={"List-Unsubscribe": UNSUBSCRIBE,
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    lines = data.decode("ascii").split("\n")
    assert f"List-Unsubscribe: {UNSUBSCRIBE}" in lines
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert "Content-Transfer-Encoding: quoted-printable" in lines  # no 8BITMIME needed
    assert _read(data).get_body(("plain",)).get_content() == "Two “updates”\n"


def test_a_display_name_is_encoded_but_the_address_is_kept() -> None:
    line = header_line("From", "Équipe TrialScout <alerts@example.org>")
    assert line.isascii() and line.endswith("<alerts@example.org>")
    assert _read(f"{line}\n\nx\n".encode())["From"].addresses[0].display_name == \
        "Équipe TrialScout"
    with pytest.raises(MimeError):
        header_line("To", "Ünï <ü@example.org>")


@pytest.mark.parametrize("name,value", [("Subject", "two\nlines"), ("X-Bad:", "v"),
                                        ("Subject", "x" * 1000)])
def test_bad_headers_are_refused(name: str, value: str) -> None:
    with pytest.raises(MimeError):
        header_line(name, value)


def test_compose_refuses_a_non_ascii_address_with_a_clear_error() -> None:
    with pytest.raises(MailError):
        compose(sender=None, to="ü@example.org", subject="s", text="t", html=None,
                headers=None, message_id="<k@example.org>")
