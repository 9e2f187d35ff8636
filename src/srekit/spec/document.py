"""YAML documents with their origin, so every error can name the file, document and field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from srekit.core.names import NAME_MAX_LENGTH
from srekit.errors import SpecError
from srekit.spec.validation import yaml_error

__all__ = [
    "DOCUMENT_ENTRIES",
    "DOCUMENT_TEXT_CHARS",
    "DOCUMENT_VALUES",
    "SPEC_SUFFIXES",
    "Document",
    "read_documents",
    "spec_files",
]

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
# libyaml's safe loader when PyYAML was built with it: the same documents, parsed 8× faster
# (a 4 MB spec file: 0.7 s instead of 6.0 s)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Every format's documents (srekit/v1, OpenSLO, Sloth) are configuration, never megabytes:
# no text longer than the longest field of the spec model (a query), no list or map longer
# than a spec file plausibly holds. The spec model caps each field more tightly still.
DOCUMENT_TEXT_CHARS = 16_384
DOCUMENT_ENTRIES = 1_000
DOCUMENT_VALUES = 100_000


@dataclass(frozen=True)
class Document:
    """One YAML document (or one item of a top-level YAML list) of a spec file."""

    data: Mapping[str, Any]
    file: str
    index: int

    @property
    def where(self) -> str:
        """`path` for a file's only document, `path#2` for its second."""
        return self.file if self.index == 0 else f"{self.file}#{self.index + 1}"

    def error(self, field: str | None, message: str) -> SpecError:
        """A SpecError pointing at `field` (dotted path, `spec.objectives[0].target`) here."""
        return SpecError(message, file=self.where, field=field)

    def check_size(self) -> None:
        """Refuse a text or a collection larger than any spec has (SpecError at its field),
        before a format's parser copies it into models, versions and audit rows. YAML aliases
        can repeat one list many times over: the values are counted as they are reached."""
        pending: list[tuple[str, Any]] = [("", self.data)]
        reached = 0
        while pending:
            field, value = pending.pop()
            reached += 1
            if reached > DOCUMENT_VALUES:
                raise self.error(None, f"expected at most {DOCUMENT_VALUES} values in a document")
            if isinstance(value, str) and len(value) > DOCUMENT_TEXT_CHARS:
                raise self.error(
                    field or None,
                    f"expected at most {DOCUMENT_TEXT_CHARS} characters, got {len(value)}",
                )
            if not isinstance(value, Mapping | list):
                continue
            if len(value) > DOCUMENT_ENTRIES:
                raise self.error(
                    field or None, f"expected at most {DOCUMENT_ENTRIES} entries, got {len(value)}"
                )
            if isinstance(value, list):
                pending.extend((f"{field}[{index}]", item) for index, item in enumerate(value))
                continue
            for key, item in value.items():
                if len(str(key)) > NAME_MAX_LENGTH:
                    raise self.error(
                        field or None,
                        f"expected field names of at most {NAME_MAX_LENGTH} characters,"
                        f" got one of {len(str(key))}",
                    )
                pending.append((f"{field}.{key}" if field else str(key), item))


def spec_files(path: Path) -> list[Path]:
    """The spec files at `path`: the file itself, or every YAML/JSON file below a directory."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SPEC_SUFFIXES)
    if not path.exists():
        raise SpecError("no such file or directory", file=str(path))
    return [path]


def read_documents(path: Path) -> Iterator[Document]:
    """Every non-empty document of every spec file at `path`; a top-level list counts as many."""
    for file in spec_files(path):
        name = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"cannot read: {error}", file=name) from error
        try:
            raw_documents = list(yaml.load_all(text, Loader=_SAFE_LOADER))
        except yaml.YAMLError as error:
            raise yaml_error(error, file=name) from error
        index = 0
        for raw in raw_documents:
            items = raw if isinstance(raw, list) else [raw]
            for item in items:
                if item is None:
                    continue
                if not isinstance(item, dict):
                    raise SpecError(
                        f"expected a mapping (an object), got {type(item).__name__}",
                        file=name if index == 0 else f"{name}#{index + 1}",
                    )
                yield Document(data=item, file=name, index=index)
                index += 1
