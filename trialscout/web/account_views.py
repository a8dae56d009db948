"""Typed bodies and answers of the account and volunteer routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialscout.accounts.inputs import PASSWORD_MAX
from trialscout.accounts.links import TOKEN_MAX
from trialscout.accounts.tables import EMAIL_MAX
from trialscout.volunteers.registry import ConsentRecord, RegistrationView


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=EMAIL_MAX + 20)
    password: str = Field(max_length=PASSWORD_MAX + 1)


class EmailBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=EMAIL_MAX + 20)


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=TOKEN_MAX)


class ResetBody(TokenBody):
    password: str = Field(max_length=PASSWORD_MAX + 1)


class DeleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: Literal[True] = Field(description="Must be true: deleting cannot be undone.")


class Accepted(BaseModel):
    status: Literal["check-email"] = "check-email"
    detail: str = ("If the address can be used, an email is on its way. It holds a link that "
                   "works once.")


class AccountView(BaseModel):
    id: int
    email: str
    role: str
    verified: bool
    csrf_token: str = Field(description="The CSRF token of the (new) session.")


class FormPage(BaseModel):
    """What an account form page shows: which form, a message, what was typed."""

    form: str
    token: str | None = None
    token_ok: bool = True
    error: str | None = None
    email: str = ""


class ConsentText(BaseModel):
    version: str
    text: str


class VolunteerPage(BaseModel):
    signed_in: bool
    registration: RegistrationView | None
    consent: ConsentText
    consents: list[ConsentRecord]
    conditions: list[str]
    profile_age: float | None = None
    profile_sex: str | None = None
