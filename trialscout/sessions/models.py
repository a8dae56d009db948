"""What a visitor can tell TrialScout about themselves: answers and a small profile."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Answer = Literal["yes", "no", "unsure"]
ANSWERS: tuple[Answer, ...] = ("yes", "no", "unsure")
QUESTION_KEY_MAX = 500


class Profile(BaseModel):
    """The few facts a visitor may keep in their session to prefill search and matching."""

    model_config = ConfigDict(extra="forbid")

    age: float | None = Field(default=None, ge=0, le=130, description="Age in years.")
    sex: Literal["FEMALE", "MALE"] | None = None
    near: str | None = Field(default=None, max_length=200,
                             description="Place name or 'lat,lon' to search around.")
    radius: float | None = Field(default=None, gt=0, le=20_000)
    unit: Literal["km", "mi"] = "km"

    def is_empty(self) -> bool:
        return self.age is None and self.sex is None and not self.near
