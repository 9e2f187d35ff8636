"""A post-mortem's sections as people edit them: the one model (`SectionsSpec`) of the YAML
file `srekit postmortem edit -f` reads, of the API's `PUT .../postmortem` body, and of the
sections the store keeps (`core.postmortem.sections_document` writes that JSON).

The edit file is YAML (or JSON, which YAML reads too): `srekit postmortem export --format
yaml` writes one with each section's prompt above it. Sections it leaves out keep their text,
and so do the fields of `impact` it leaves out. `version`, when given, is the version the edit
started from, and a newer stored one refuses the edit rather than undo it. `action_items` is a
list, or `none` when no action is needed. Texts may hold tabs and newlines but no other control
characters; instants are RFC 3339 with a zone.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from srekit.core.instant import parse_instant
from srekit.core.postmortem import (
    PROMPTS,
    SECTION_NAMES,
    ActionItem,
    Impact,
    Postmortem,
    PostmortemSections,
    TimelineItem,
    sections_document,
)
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.model import Bounded
from srekit.spec.validation import SafeYamlLoader, validate_model, yaml_error

__all__ = [
    "ActionItemSpec",
    "Consumed",
    "Fraction",
    "ImpactSpec",
    "SectionsSpec",
    "SloKey",
    "TimelineItemSpec",
    "edit_file_text",
    "parse_sections_text",
    "read_sections_file",
    "sections_from_body",
]

# A section is prose, not a book; the API's body limit (1 MiB by default) bounds the whole.
SECTION_CHARS = 32_768
LINE_CHARS = 400
PERSON_CHARS = 200
TIMELINE_ITEMS = 10_000
ACTION_ITEMS = 200
SLOS = 200
FILE_BYTES = 4 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs, newlines are fine
_SLO_KEY = re.compile(r"[^/\s]+/[^/\s]+")


def _checked(check: Callable[[str], str | None]) -> Any:
    """A check on a text, said in words; skipped, like `Bounded`, for what the store reads."""

    def validate(value: str, info: ValidationInfo) -> str:
        context = info.context
        if isinstance(context, Mapping) and context.get("intake_bounds") is False:
            return value
        problem = check(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


def _one_line(value: str) -> str | None:
    if _CONTROL.search(value):
        return "expected one line without control characters"
    return None


def _text(value: str) -> str | None:
    if _CONTROL_IN_TEXT.search(value):
        return "expected text without control characters (tabs and newlines are fine)"
    return None


def _slo_key(value: str) -> str | None:
    if not _SLO_KEY.fullmatch(value):
        return f"expected an SLO as service/slo, like checkout/availability, got {value!r}"
    return None


def _instant(value: object) -> datetime:
    """RFC 3339 text, or the aware datetime YAML reads from an unquoted time."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"expected a time zone (Z or +02:00) in {value.isoformat()}")
        return value.astimezone(UTC)
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("expected an RFC 3339 time like 2026-12-01T00:00:00Z")
    return parse_instant(value)


Instant = Annotated[datetime, BeforeValidator(_instant)]
Prose = Annotated[str, Bounded(max_length=SECTION_CHARS), _checked(_text)]
Line = Annotated[str, Bounded(min_length=1, max_length=LINE_CHARS), _checked(_one_line)]
Person = Annotated[str, Bounded(min_length=1, max_length=PERSON_CHARS), _checked(_one_line)]
SloKey = Annotated[str, Bounded(max_length=401), _checked(_slo_key)]
Fraction = Annotated[float, Bounded(ge=0, le=1, allow_inf_nan=False)]
Consumed = Annotated[float, Bounded(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    """Unknown fields are refused (a misspelt section is an error, not lost text); NaN too."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class ImpactSpec(_Strict):
    duration_s: Annotated[float, Bounded(ge=0, allow_inf_nan=False)] | None = Field(
        None, description="opened → resolved, seconds"
    )
    affected_share: Fraction | None = Field(
        None, description="the share of users (requests) the incident failed, in [0, 1]"
    )
    budget_consumed: Annotated[dict[SloKey, Consumed | None], Bounded(max_length=SLOS)] = Field(
        default_factory=dict,
        description="per service/slo: the share of its error budget consumed (null: unknown)",
    )
    description: Prose = ""

    def merged(self, current: Impact) -> Impact:
        """`current` with the fields given here replacing its own: writing the description
        keeps the figures the draft found."""
        given = self.model_fields_set
        return Impact(
            duration_s=self.duration_s if "duration_s" in given else current.duration_s,
            affected_share=(
                self.affected_share if "affected_share" in given else current.affected_share
            ),
            budget_consumed=(
                dict(self.budget_consumed)
                if "budget_consumed" in given
                else current.budget_consumed
            ),
            description=self.description if "description" in given else current.description,
        )


class TimelineItemSpec(_Strict):
    at: Instant = Field(description="RFC 3339")
    actor: Annotated[str, Bounded(max_length=PERSON_CHARS), _checked(_one_line)] = ""
    text: Annotated[str, Bounded(min_length=1, max_length=SECTION_CHARS), _checked(_text)]

    def to_item(self) -> TimelineItem:
        return TimelineItem(at=self.at, actor=self.actor, text=self.text)


class ActionItemSpec(_Strict):
    title: Line
    owner: Person | None = None
    due_at: Instant | None = Field(None, description="RFC 3339")
    task: Annotated[int, Bounded(ge=1, le=2**62)] | None = Field(
        None, description="the follow-up task tracking it (set when the post-mortem is published)"
    )

    def to_item(self) -> ActionItem:
        return ActionItem(
            title=self.title.strip(), owner=self.owner, due_at=self.due_at, task_id=self.task
        )


class SectionsSpec(_Strict):
    """Sections of a post-mortem; those left out (or null) keep their stored text, and so do
    the fields of `impact` left out."""

    version: Annotated[int, Bounded(ge=1, le=2**31)] | None = Field(
        None, description="the version this edit started from: a newer stored one refuses it"
    )
    summary: Prose | None = None
    impact: ImpactSpec | None = None
    timeline: Annotated[list[TimelineItemSpec], Bounded(max_length=TIMELINE_ITEMS)] | None = None
    root_cause: Prose | None = None
    what_went_well: Prose | None = None
    what_went_wrong: Prose | None = None
    action_items: (
        Annotated[list[ActionItemSpec], Bounded(max_length=ACTION_ITEMS)] | Literal["none"] | None
    ) = Field(None, description='the action items, or "none" when no action is needed')
    lessons_learned: Prose | None = None

    def merged(self, current: PostmortemSections) -> PostmortemSections:
        """`current` with the sections given here replacing its own."""
        changes: dict[str, Any] = {}
        for name in ("summary", "root_cause", "what_went_well", "what_went_wrong"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        if self.lessons_learned is not None:
            changes["lessons_learned"] = self.lessons_learned
        if self.impact is not None:
            changes["impact"] = self.impact.merged(current.impact)
        if self.timeline is not None:
            items = [item.to_item() for item in self.timeline]
            changes["timeline"] = tuple(sorted(items, key=lambda item: item.at))
        if self.action_items == "none":
            changes.update(action_items=(), no_action_items=True)
        elif self.action_items is not None:
            changes.update(
                action_items=tuple(item.to_item() for item in self.action_items),
                no_action_items=False,
            )
        return replace(current, **changes)


def sections_from_body(body: dict[str, Any]) -> PostmortemSections:
    """The sections the store kept (`sections_document`'s JSON), read back as they were
    written: intake bounds are not applied to what is already stored."""
    spec = SectionsSpec.model_validate(body, context={"intake_bounds": False})
    return spec.merged(PostmortemSections())


def read_sections_file(path: Path) -> SectionsSpec:
    """The sections a YAML (or JSON) edit file gives; SpecError naming the file, and the field
    and what was expected, when it is not one."""
    name = str(path)
    try:
        if path.stat().st_size > FILE_BYTES:
            raise SpecError(f"expected at most {FILE_BYTES} bytes", file=name)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read: {error}", file=name) from None
    return parse_sections_text(text, file=name)


def parse_sections_text(text: str, *, file: str) -> SectionsSpec:
    """`read_sections_file` of text already read."""
    try:
        documents = [d for d in yaml.load_all(text, Loader=SafeYamlLoader) if d is not None]
    except yaml.YAMLError as error:
        raise yaml_error(error, file=file) from None
    if len(documents) > 1:
        raise SpecError(
            f"expected one YAML document (a post-mortem's sections), got {len(documents)}",
            file=file,
        )
    data = documents[0] if documents else None
    if not isinstance(data, dict):
        shown = "nothing" if data is None else type(data).__name__
        raise SpecError(
            f"expected a mapping of sections ({', '.join(SECTION_NAMES)}), got {shown}",
            file=file,
        )
    return validate_model(SectionsSpec, data, Document(data=data, file=file, index=0))


# a line of text stays one line in the file, however long: folded, it reads as another text
_NO_FOLDING = 1_000_000


class _EditDumper(yaml.SafeDumper):
    """Multi-line texts as literal blocks (`|`), as people write them."""


def _literal_block(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_EditDumper.add_representer(str, _literal_block)


def edit_file_text(postmortem: Postmortem, *, title: str) -> str:
    """The YAML file people edit: each section under its prompt (a comment), the `version`
    it starts from, action items without the task links people do not set."""
    document = sections_document(postmortem.sections)
    if isinstance(document["action_items"], list):
        for item in document["action_items"]:
            if item["task"] is None:
                del item["task"]
    lines = [
        f"# The post-mortem of incident #{postmortem.incident_id}: {' '.join(title.split())}",
        f"# ({postmortem.state.value}, version {postmortem.version}). Edit the sections, then:",
        f"#   srekit postmortem edit {postmortem.incident_id} -f THIS_FILE",
        "# A section left out keeps its text; `action_items: none` says no action is needed.",
        f"version: {postmortem.version}",
    ]
    for name in SECTION_NAMES:
        lines.append("")
        lines.extend(f"# {line}" for line in textwrap.wrap(PROMPTS[name], width=94))
        lines.append(
            yaml.dump(
                {name: document[name]},
                Dumper=_EditDumper,
                sort_keys=False,
                allow_unicode=True,
                width=_NO_FOLDING,
                default_flow_style=False,
            ).rstrip("\n")
        )
    return "\n".join(lines) + "\n"
