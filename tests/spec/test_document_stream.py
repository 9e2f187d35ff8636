"""Spec files are read one document at a time: a big file is never held whole, as text or as
parsed documents, and whoever reads can be told how far it has got."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from srekit.errors import SpecError
from srekit.spec.document import Document, read_documents
from srekit.spec.loader import load_specs, parse_spec_documents

SLO = """apiVersion: srekit/v1
kind: SLO
service: api
name: {name}
objective: 99.9%
indicator:
  events:
    good: status < 500
"""


def _slo(name: str) -> str:
    return SLO.format(name=name)


class Recorder:
    """A `ReadProgress` that keeps what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def document_read(self, *, bytes_read: int) -> None:
        self.calls.append(("document", bytes_read))

    def file_read(self, *, bytes_read: int) -> None:
        self.calls.append(("file", bytes_read))


def test_documents_are_parsed_as_they_are_asked_for(tmp_path: Path) -> None:
    """The first document comes before the parser reaches the broken third one."""
    path = tmp_path / "specs.yaml"
    path.write_text(_slo("one") + "---\n" + _slo("two") + "---\nbroken: [1,\n")
    documents = read_documents(path)
    assert next(documents).data["name"] == "one"
    assert next(documents).data["name"] == "two"
    with pytest.raises(SpecError, match="invalid YAML at line 20") as caught:
        next(documents)
    assert caught.value.file == str(path)


def test_documents_are_consumed_one_at_a_time() -> None:
    """A mistake stops the parse at its document: the documents after it are never read."""
    read: list[int] = []

    def documents() -> Iterator[Document]:
        for index in range(1_000):
            read.append(index)
            name = "Not A Name" if index == 2 else f"slo-{index}"
            yield Document(data=_document(name), file="big.yaml", index=index)

    with pytest.raises(SpecError, match=r"big\.yaml#3: name"):
        parse_spec_documents(documents())
    assert read == [0, 1, 2]


def _document(name: str) -> dict[str, object]:
    return {
        "apiVersion": "srekit/v1",
        "kind": "SLO",
        "service": "api",
        "name": name,
        "objective": "99.9%",
        "indicator": {"events": {"good": "status < 500"}},
    }


def test_the_size_limits_hold_for_each_streamed_document(tmp_path: Path) -> None:
    """A long text in the thousandth document is refused there, naming it."""
    text = "---\n".join(_slo(f"slo-{index}") for index in range(999))
    path = tmp_path / "specs.yaml"
    path.write_text(text + "---\n" + _slo("last") + f"description: {'x' * 20_000}\n")
    with pytest.raises(SpecError, match="expected at most 16384 characters") as caught:
        load_specs([path])
    assert caught.value.file == f"{path}#1000"
    assert caught.value.field == "description"


def test_progress_is_told_every_document_and_every_byte(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text("# three SLOs\n" + "---\n".join(_slo(f"a-{i}") for i in range(3)))
    second = tmp_path / "b.yaml"
    second.write_text(_slo("b") + "\n\n# the end\n")
    recorder = Recorder()
    specs = load_specs([first, second], progress=recorder)
    assert len(specs.slos) == 4
    kinds = [kind for kind, _ in recorder.calls]
    assert kinds == ["document", "document", "document", "file", "document", "file"]
    assert sum(size for _, size in recorder.calls[:4]) == first.stat().st_size
    assert sum(size for _, size in recorder.calls[4:]) == second.stat().st_size
    assert all(size >= 0 for _, size in recorder.calls)


def test_text_that_is_not_utf8_is_named_at_its_byte(tmp_path: Path) -> None:
    """Past the reader's first chunk, the byte counted from the start of the file."""
    path = tmp_path / "specs.yaml"
    head = "---\n".join(_slo(f"slo-{index}") for index in range(200)).encode()
    path.write_bytes(head + b"---\ndescription: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_specs([path])
    offset = len(head) + len(b"---\ndescription: caf")
    assert str(caught.value) == (
        f"{path}: cannot read: expected UTF-8 text, got invalid continuation byte at byte {offset}"
    )


def test_crlf_and_a_byte_order_mark_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "specs.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + _slo("windows").replace("\n", "\r\n").encode())
    (slo,) = load_specs([path]).slos
    assert (slo.name, slo.objective) == ("windows", 0.999)


def test_the_spec_set_knows_each_files_format(tmp_path: Path) -> None:
    native = tmp_path / "native.yaml"
    native.write_text(_slo("one"))
    sloth = tmp_path / "sloth.yml"
    sloth.write_text(
        "version: prometheus/v1\nservice: web\nslos:\n  - name: errors\n    objective: 99\n"
        "    sli:\n      raw:\n        error_ratio_query: sum(rate(errors[{{.window}}]))\n"
        "    alerting:\n      page_alert: {disable: true}\n      ticket_alert: {disable: true}\n"
    )
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(sloth.read_text().replace("web", "mixed") + "---\n" + _slo("two"))
    specs = load_specs([tmp_path])
    assert specs.files == (str(mixed), str(native), str(sloth))
    assert specs.formats == {str(native): "srekit/v1", str(sloth): "prometheus/v1"}
