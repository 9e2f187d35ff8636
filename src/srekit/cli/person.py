"""`srekit person add|update|list|show|remove`: the people rotations list, by handle.

Changes go to the state store, each in the audit log under `--actor`. A contact is
`KIND=TARGET` (`email=alice@example.com`, `slack=https://hooks.slack.com/...` (an incoming
webhook), `webhook=https://...`, `pagerduty=KEY`), repeatable, in the order to try them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    ActorOption,
    FormatOption,
    OutputFormat,
    check_name,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.store_common import actor_or_user, store_session

if TYPE_CHECKING:
    from srekit.core.people import ContactMethod

__all__ = ["app"]

app = SrekitTyper(
    help="People who go on call: handles, contacts, time zones.",
    epilog=examples(
        "srekit person add carol --timezone Europe/Berlin",
        "srekit person list",
    ),
    no_args_is_help=True,
)

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="the handle rotations list", callback=check_name)
]
EmailOption = Annotated[str | None, typer.Option("--email", metavar="ADDRESS", help="email")]
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone", metavar="ZONE", help="IANA zone, e.g. Europe/Berlin (default: the rotation's)"
    ),
]
TeamOption = Annotated[str | None, typer.Option("--team", metavar="TEAM", help="their team")]
DisplayOption = Annotated[
    str | None, typer.Option("--display-name", metavar="TEXT", help="their name, for people")
]
ContactOption = Annotated[
    list[str],
    typer.Option(
        "--contact",
        metavar="KIND=TARGET",
        help="email, webhook, slack or pagerduty, =target (repeatable, in order)",
        show_default=False,
    ),
]


def _contacts(values: list[str]) -> tuple[ContactMethod, ...]:
    from srekit.core.people import ContactKind, ContactMethod

    kinds = ", ".join(kind.value for kind in ContactKind)
    found = []
    for value in values:
        kind, equals, target = value.partition("=")
        try:
            if not equals:
                raise ValueError(f"expected KIND=TARGET, KIND one of {kinds}")
            found.append(ContactMethod(ContactKind(kind.strip().lower()), target.strip()))
        except ValueError as error:
            message = str(error)
            if "is not a valid ContactKind" in message:
                message = f"expected KIND one of {kinds}, got {kind!r}"
            raise typer.BadParameter(message, param_hint="--contact") from None
    return tuple(found)


def _person(**fields: Any) -> Any:
    from srekit.core.people import Person

    try:
        return Person(**fields)
    except ValueError as error:
        field, _, problem = str(error).partition(": ")
        option = "--" + field.replace("_", "-") if problem else "NAME"
        raise typer.BadParameter(problem or str(error), param_hint=option) from None


def _print(document: dict[str, Any]) -> None:
    facts = plain_table("", "", fold="")
    facts.show_header = False
    rows = [
        ("name", document["name"]),
        ("display name", document["display_name"] or "-"),
        ("email", document["email"] or "-"),
        ("timezone", document["timezone"] or "- (the rotation's)"),
        ("team", document["team"] or "-"),
        (
            "contacts",
            ", ".join(f"{c['kind']} {c['target']}" for c in document["contacts"]) or "-",
        ),
    ]
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)


@app.command(
    "add",
    epilog=examples(
        "srekit person add alice --email alice@example.com \\\n"
        "  --timezone Europe/Berlin --team payments \\\n"
        "  --contact slack=https://chat.example.com/hooks/payments-oncall",
    ),
)
def add(
    ctx: typer.Context,
    name: NameArgument,
    email: EmailOption = None,
    timezone: TimezoneOption = None,
    team: TeamOption = None,
    display_name: DisplayOption = None,
    contact: ContactOption = [],  # noqa: B006 (Typer's way to say "none given")
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Add a person (exit 2 when the handle is taken: `srekit person update` changes one)."""
    from srekit.contracts import person_document
    from srekit.store.repo import add_person

    person = _person(
        name=name,
        display_name=display_name,
        email=email,
        timezone=timezone,
        team=team,
        contacts=_contacts(contact),
    )
    with errors_to_exit_codes(), store_session(ctx) as session:
        add_person(session, person=person, actor=actor_or_user(actor))
    _show(person_document(person), output, f"added {name}")


@app.command(
    "update",
    epilog=examples("srekit person update alice --timezone America/New_York"),
)
def update(
    ctx: typer.Context,
    name: NameArgument,
    email: EmailOption = None,
    timezone: TimezoneOption = None,
    team: TeamOption = None,
    display_name: DisplayOption = None,
    contact: Annotated[
        list[str],
        typer.Option(
            "--contact",
            metavar="KIND=TARGET",
            help="replaces all contacts when given (repeatable, in order)",
            show_default=False,
        ),
    ] = [],  # noqa: B006
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Change what the options give; the rest stays as it is."""
    from srekit.contracts import person_document
    from srekit.store.repo import get_person, person_of, update_person

    with errors_to_exit_codes(), store_session(ctx) as session:
        stored = person_of(get_person(session, name=name))
        person = _person(
            name=name,
            display_name=stored.display_name if display_name is None else display_name,
            email=stored.email if email is None else email,
            timezone=stored.timezone if timezone is None else timezone,
            team=stored.team if team is None else team,
            contacts=_contacts(contact) if contact else stored.contacts,
        )
        update_person(session, person=person, actor=actor_or_user(actor))
    _show(person_document(person), output, f"updated {name}")


def _show(document: dict[str, Any], output: OutputFormat, said: str | None = None) -> None:
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    if said:
        console.print(said, highlight=False)
    _print(document)


@app.command("list", epilog=examples("srekit person list", "srekit person list --team payments"))
def list_command(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option(metavar="TEAM", help="only this team's")] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Everyone, by handle."""
    from srekit.contracts import person_document
    from srekit.store.repo import list_people, person_of

    with errors_to_exit_codes(), store_session(ctx, read_only=True) as session:
        documents = [person_document(person_of(row)) for row in list_people(session, team=team)]
    if output is not OutputFormat.TABLE:
        emit(documents, output)
        return
    if not documents:
        console.print("no people stored: srekit person add NAME ...")
        return
    table = plain_table("name", "display name", "team", "timezone", "contacts", fold="contacts")
    for document in documents:
        table.add_row(
            document["name"],
            document["display_name"] or "-",
            document["team"] or "-",
            document["timezone"] or "-",
            ", ".join(f"{c['kind']} {c['target']}" for c in document["contacts"]) or "-",
        )
    console.print(table)


@app.command("show", epilog=examples("srekit person show alice --format json"))
def show(ctx: typer.Context, name: NameArgument, output: FormatOption = OutputFormat.TABLE) -> None:
    """One person's details."""
    from srekit.contracts import person_document
    from srekit.store.repo import get_person, person_of

    with errors_to_exit_codes(), store_session(ctx, read_only=True) as session:
        document = person_document(person_of(get_person(session, name=name)))
    _show(document, output)


@app.command("remove", epilog=examples("srekit person remove alice"))
def remove(ctx: typer.Context, name: NameArgument, actor: ActorOption = None) -> None:
    """Remove a person (rotations listing the handle keep it; the audit log keeps them)."""
    from srekit.store.repo import delete_person

    with errors_to_exit_codes(), store_session(ctx) as session:
        delete_person(session, name=name, actor=actor_or_user(actor))
    console.print(f"removed {name}", highlight=False)
