"""YAML documents with their origin, so every error can name the file, document and field."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from srekit.core.names import NAME_MAX_LENGTH
from srekit.errors import SpecError
from srekit.spec.validation import SafeYamlLoader, yaml_error

__all__ = [
    "DOCUMENT_ENTRIES",
    "DOCUMENT_TEXT_CHARS",
    "DOCUMENT_VALUES",
    "SPEC_SUFFIXES",
    "Document",
    "ReadProgress",
    "read_documents",
    "spec_files",
]

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
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


class ReadProgress(Protocol):
    """Told how far reading spec files has got, for a display of progress (the CLI's bar)."""

    def document_read(self, *, bytes_read: int) -> None:
        """One more document; `bytes_read`: bytes of its file read since the last call."""

    def file_read(self, *, bytes_read: int) -> None:
        """A file read to its end; `bytes_read`: its bytes read since the last call."""


def read_documents(path: Path, *, progress: ReadProgress | None = None) -> Iterator[Document]:
    """Every non-empty document of every spec file at `path`; a top-level list counts as many.

    Documents are parsed one at a time as they are asked for, from the file as it is read: a
    file of many documents is never held whole, as text or as parsed documents. A YAML error
    is raised when the document holding it is reached.
    """
    for file in spec_files(path):
        name = str(file)
        index = 0
        for raw in _parsed(file, progress):
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


def _parsed(file: Path, progress: ReadProgress | None) -> Iterator[Any]:
    """The YAML documents of `file` as libyaml parses them from the stream, one at a time."""
    name = str(file)
    try:
        binary = file.open("rb")
    except OSError as error:
        raise SpecError(f"cannot read: {error}", file=name) from error
    # newline=None: \r\n read as \n, as Path.read_text reads it
    with io.TextIOWrapper(binary, encoding="utf-8") as text:
        reported = 0
        try:
            for raw in yaml.load_all(text, Loader=SafeYamlLoader):
                if progress is not None:
                    position = binary.tell()
                    progress.document_read(bytes_read=position - reported)
                    reported = position
                yield raw
        except yaml.YAMLError as error:
            raise yaml_error(error, file=name) from error
        except UnicodeDecodeError as error:
            # the decoder saw one chunk (`error.object`), which ends where the file now is
            at = binary.tell() - len(error.object) + error.start
            raise SpecError(
                f"cannot read: expected UTF-8 text, got {error.reason} at byte {at}", file=name
            ) from error
        except OSError as error:
            raise SpecError(f"cannot read: {error}", file=name) from error
        if progress is not None:
            progress.file_read(bytes_read=binary.tell() - reported)
