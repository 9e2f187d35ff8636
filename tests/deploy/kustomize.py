"""A small kustomize for the tests: renders srekit's overlays when kubectl is not installed.

It knows only what `deploy/kustomize` uses, and refuses anything else, so a new field in a
kustomization fails here rather than being ignored: `resources` (files, or directories holding
a kustomization.yaml), `namespace`, and `patches` given as a file of JSON patch operations
(RFC 6902: add, replace, remove, test) with a `target` of kind and name.
`tests/deploy/test_kustomize.py` checks its output against `kubectl kustomize` where kubectl is
installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION = "kustomization.yaml"
_KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "patches"}

Document = dict[str, Any]


def load_kustomization(directory: Path) -> Document:
    kustomization: Document = yaml.safe_load((directory / KUSTOMIZATION).read_text())
    unknown = set(kustomization) - _KNOWN_FIELDS
    if unknown:
        raise ValueError(
            f"{directory / KUSTOMIZATION}: this loader does not know {sorted(unknown)}"
        )
    return kustomization


def build(directory: Path) -> list[Document]:
    """The documents `kustomize build directory` gives, in the order of the resources."""
    kustomization = load_kustomization(directory)
    documents: list[Document] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            documents.extend(build(path))
        else:
            documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d is not None)
    for patch in kustomization.get("patches", []):
        unknown = set(patch) - {"path", "target"}
        target_unknown = set(patch["target"]) - {"kind", "name"}
        if unknown or target_unknown:
            raise ValueError(f"{directory / KUSTOMIZATION}: unsupported patch fields {patch}")
        operations = yaml.safe_load((directory / patch["path"]).read_text())
        targets = [
            d
            for d in documents
            if d["kind"] == patch["target"]["kind"]
            and d["metadata"]["name"] == patch["target"]["name"]
        ]
        if not targets:
            raise ValueError(f"{directory / patch['path']}: no document matches {patch['target']}")
        for index, document in enumerate(documents):
            if any(document is t for t in targets):
                documents[index] = apply_json_patch(document, operations)
    if "namespace" in kustomization:
        # every kind rendered here is namespaced (a cluster-scoped one would need skipping)
        for document in documents:
            document["metadata"]["namespace"] = kustomization["namespace"]
    return documents


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise ValueError(f"JSON pointer {path!r} must start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _child(container: Any, key: str) -> Any:
    if isinstance(container, list):
        return container[int(key)]
    return container[key]


def apply_json_patch(document: Document, operations: list[Document]) -> Document:
    """`document` with RFC 6902 `operations` applied (a copy); a failed `test` raises."""
    result = copy.deepcopy(document)
    for operation in operations:
        *parents, last = _pointer(operation["path"])
        container: Any = result
        for key in parents:
            container = _child(container, key)
        op = operation["op"]
        if op == "test":
            if _child(container, last) != operation["value"]:
                raise ValueError(f"test failed at {operation['path']}")
        elif op == "remove":
            del container[int(last) if isinstance(container, list) else last]
        elif op in {"add", "replace"}:
            value = copy.deepcopy(operation["value"])
            if isinstance(container, list):
                if op == "add":
                    container.insert(len(container) if last == "-" else int(last), value)
                else:
                    container[int(last)] = value
            else:
                if op == "replace" and last not in container:
                    raise ValueError(f"replace of a missing member at {operation['path']}")
                container[last] = value
        else:
            raise ValueError(f"unsupported JSON patch operation {op!r}")
    return result
