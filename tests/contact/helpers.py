"""Building inquiries for the contact tests."""

from __future__ import annotations

from typing import Any

from trialscout.app import TrialScout
from trialscout.contact.models import ContactDetails, Inquiry, InquiryRequest
from trialscout.contact.sites import site_key
from trialscout.registry.model import Trial


def trial(app: TrialScout, nct_id: str) -> Trial:
    found = app.trial(nct_id)
    assert found is not None
    return found


def key_of(app: TrialScout, nct_id: str, index: int = 0) -> str:
    return site_key(trial(app, nct_id).sites[index])


def request(app: TrialScout, nct_id: str, site: int = 0, **changes: Any) -> InquiryRequest:
    contact = ContactDetails(name="Ada Patient", email="ada@example.org", phone=None,
                             preferred_way="email", preferred_time="weekday mornings")
    values: dict[str, Any] = {"site_key": key_of(app, nct_id, site), "contact": contact,
                              "message": "I walk every day and would like to take part.",
                              "share_prescreen": True, "email_health_data": False,
                              "agree": True}
    values.update(changes)
    return InquiryRequest(**values)


def send(app: TrialScout, nct_id: str, owner: str = "account:1", client: str = "10.0.0.1",
         site: int = 0, **changes: Any) -> Inquiry:
    return app.contact.send(trial(app, nct_id), request(app, nct_id, site, **changes),
                            owner=owner, client_key=client,
                            answers={})
