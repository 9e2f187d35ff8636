"""People as a request gives them: `PUT /api/v1/people/{name}` takes `PersonOut` without its
name. Each field is checked by `core.people`'s own rules, so a 422 names the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from srekit.api.schemas.base import RequestModel
from srekit.contracts import PersonOut
from srekit.core.names import name_problem
from srekit.core.people import (
    CONTACTS,
    TEXT_CHARS,
    ContactKind,
    ContactMethod,
    Person,
    email_problem,
    timezone_problem,
)

__all__ = ["ContactIn", "PersonIn", "PersonOut"]


def _checked(problem_of: Callable[[str], str | None]) -> AfterValidator:
    def check(value: str) -> str:
        problem = problem_of(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _display(value: str) -> str:
    Person(name="x", display_name=value)  # its rule: printable, not blank
    return value


_Text = Annotated[str, Field(max_length=TEXT_CHARS)]


class ContactIn(RequestModel):
    kind: ContactKind
    target: _Text

    @model_validator(mode="after")
    def _fits_its_kind(self) -> ContactIn:
        ContactMethod(self.kind, self.target)
        return self

    def to_contact(self) -> ContactMethod:
        return ContactMethod(self.kind, self.target)


class PersonIn(RequestModel):
    """A person's details; the handle is the one in the path."""

    display_name: Annotated[_Text, AfterValidator(_display)] | None = None
    email: Annotated[_Text, _checked(email_problem)] | None = None
    timezone: Annotated[_Text, _checked(timezone_problem)] | None = Field(
        None, description="IANA, e.g. Europe/Berlin; null: the rotation's own zone"
    )
    team: Annotated[_Text, _checked(name_problem)] | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=CONTACTS)

    def to_person(self, name: str) -> Person:
        return Person(
            name=name,
            display_name=self.display_name,
            email=self.email,
            timezone=self.timezone,
            team=self.team,
            contacts=tuple(contact.to_contact() for contact in self.contacts),
        )
