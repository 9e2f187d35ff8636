"""Stand-ins for the escalation flow's ports: a directory of people and rotations held in
memory, a sender that records what it was asked to send, and plain links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from srekit.core.notify import ContactKind, ContactMethod, Delivery, Page, redacted_target
from srekit.errors import NotFound
from srekit.flows.escalation import OnCall

__all__ = ["FakeDirectory", "FakeLinks", "RecordingSender"]


@dataclass
class FakeDirectory:
    """Who is on call in each layer (None: a gap) and each person's contact methods."""

    layers: dict[str, str | None] = field(
        default_factory=lambda: {"primary": "alice", "secondary": "dave"}
    )
    contacts: dict[str, list[ContactMethod]] = field(
        default_factory=lambda: {
            name: [ContactMethod(ContactKind.WEBHOOK, f"http://127.0.0.1:9/{name}")]
            for name in ("alice", "dave", "grace")
        }
    )

    def on_call(self, *, rotation: str, layer: str, at: datetime) -> OnCall:
        if rotation != "payments" or layer not in self.layers:
            raise NotFound(f"no layer {layer!r} in rotation {rotation!r}")
        person = self.layers[layer]
        return OnCall(person, None if person else "restricted")

    def contact_methods(self, *, person: str) -> Sequence[ContactMethod]:
        if person not in self.contacts:
            raise NotFound(f"no person {person!r}")
        return self.contacts[person]


@dataclass
class RecordingSender:
    """Delivers every page (unless the target is in `failing`) and keeps what it sent."""

    sent: list[tuple[Page, ContactMethod]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    def __call__(self, page: Page, contact: ContactMethod) -> Delivery:
        self.sent.append((page, contact))
        ok = contact.target not in self.failing
        return Delivery(
            contact.kind,
            redacted_target(contact),
            ok,
            1 if ok else 4,
            "HTTP 200" if ok else "HTTP 503 (4 attempts; out of attempts)",
            page.at,
        )

    def people(self) -> list[tuple[str, int]]:
        return [(page.person, page.step) for page, _ in self.sent]


class FakeLinks:
    def ack_url(self, *, incident_id: int, person: str, now: datetime) -> str:
        return f"http://srekit.test/ack/{incident_id}?as={person}"

    def incident_url(self, *, incident_id: int) -> str:
        return f"http://srekit.test/incidents/{incident_id}"
