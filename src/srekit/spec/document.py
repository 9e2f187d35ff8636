"""YAML documents with their origin, so every error can name the file, document and field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from srekit.errors import SpecError
from srekit.spec.validation import yaml_error

__all__ = ["SPEC_SUFFIXES", "Document", "read_documents", "spec_files"]

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


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
            raw_documents = list(yaml.safe_load_all(text))
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
