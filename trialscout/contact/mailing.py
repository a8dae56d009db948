"""The emails of the contact flow, queued in the caller's transaction (trialscout.mail):
an inquiry is stored together with its emails or not at all, and each email has an
idempotency key, so a retried request never sends twice.

No email carries health data unless the patient chose it: the email to a site holds the
trial, the site and a secure link; the patient's own emails hold the status and a link.
"""

from __future__ import annotations

from sqlalchemy import Connection

from trialscout.contact.models import STATUS_LABELS, Inquiry, Shared


def _send(conn: Connection, to: str, subject: str, text: str, key: str) -> None:
    from trialscout.mail.outbox import enqueue

    enqueue(conn, to=to, subject=subject, text=text, key=f"contact:{key}")


def _shared_text(shared: Shared) -> str:
    c = shared.contact
    lines = [f"Name: {c.name}", f"Email: {c.email or '-'}", f"Phone: {c.phone or '-'}",
             f"Preferred way: {c.preferred_way}", f"Preferred time: {c.preferred_time or '-'}"]
    if shared.message:
        lines += ["", "Message:", shared.message]
    if shared.prescreen is not None:
        lines += ["", f"Self-check: {shared.prescreen.verdict}"]
        for item in shared.prescreen.items:
            answer = f" (answer: {item.answer})" if item.answer else ""
            lines.append(f"- [{item.fit}] {item.text[:300]}{answer}")
    return "\n".join(lines)


def to_site(conn: Connection, inquiry: Inquiry, to: str, link: str, title: str) -> None:
    body = [f"Someone found trial {inquiry.nct_id} ({title}) on TrialScout and would like "
            f"to hear from the team at: {inquiry.site}.", ""]
    if inquiry.email_health_data:
        body += ["They chose to include their details in this email:", "",
                 _shared_text(inquiry.shared), ""]
    body += ["Open the inquiry here (you will be asked for a one-time code, sent to this "
             "address, to prove it is yours):", link, "",
             "Coordinators can also claim this trial on TrialScout to answer inquiries in "
             "one place."]
    _send(conn, to, f"A question about trial {inquiry.nct_id}", "\n".join(body),
          f"site:{inquiry.id}")


def to_patient(conn: Connection, inquiry: Inquiry, link: str, title: str) -> None:
    """The status email after every change (the first one confirms sending)."""
    email = inquiry.shared.contact.email
    if not email:
        return
    label = STATUS_LABELS[inquiry.status]
    text = (f"Your inquiry about trial {inquiry.nct_id} ({title}) is now: {label}.\n\n"
            f"See its history, or withdraw it at any time: {link}\n")
    _send(conn, email, f"Your inquiry about {inquiry.nct_id}: {label}", text,
          f"patient:{inquiry.id}:{len(inquiry.history)}")


def code(conn: Connection, to: str, code: str, nct_id: str, key: str) -> None:
    _send(conn, to, f"Your TrialScout code: {code}",
          f"Your one-time code to open an inquiry about trial {nct_id} is {code}. "
          f"It works for 15 minutes. If you did not ask for it, ignore this email.\n", key)


def claim_link(conn: Connection, to: str, link: str, nct_id: str, title: str,
               site: str) -> None:
    text = (f"Someone with a TrialScout coordinator account asked to answer inquiries about "
            f"trial {nct_id} ({title}), {site}. This address is listed for it on the "
            f"registry record.\n\nIf that was you, open this link while signed in "
            f"(valid 48 hours):\n{link}\n\nIf not, ignore this email: nothing changes.\n")
    _send(conn, to, f"Claim trial {nct_id} on TrialScout", text, f"claim:{link[-20:]}")
