"""Chaos Toolkit experiment files (JSON or YAML) read into `core.chaos.Experiment`.

The format is Chaos Toolkit's (chaostoolkit.org, reference/api/experiment): srekit reads the
fields it can run and refuses, naming the field, what it cannot (`controls`, `dry`, Vault
secrets, dynamic configuration, unknown provider types) rather than run an experiment other
than the one written. Configuration and secrets are resolved first (the environment and
`--var` overrides are passed in), then `${name}` is substituted into each activity before its
fields are read, so `timeout: ${timeout}` is a number when the configuration says so. The
journal keeps each activity as written, so a secret substituted into a header never reaches it.

Every problem is a SpecError naming the file, the field (`method[2].provider.url`) and what was
expected. Files are bounded: size, nesting, text and list lengths (`Document.check_size`);
NaN, infinities and control characters are refused wherever they appear.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from srekit.core.chaos import (
    Activity,
    ActivityType,
    ExactTolerance,
    Experiment,
    ExperimentError,
    HttpProvider,
    Hypothesis,
    HypothesisStrategy,
    JsonPathTolerance,
    ListTolerance,
    Pauses,
    ProbeTolerance,
    ProcessProvider,
    Provider,
    PythonProvider,
    RangeTolerance,
    RegexTolerance,
    RollbackStrategy,
    Runtime,
    SloGuard,
    SrekitExtension,
    Tolerance,
    freeze,
    resolve_configuration,
    resolve_secrets,
    substitute,
    substitution_values,
)
from srekit.core.jsonpath import compile_json_path
from srekit.core.status import BURN_RATE_WINDOWS_S
from srekit.core.window import format_duration, parse_duration
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.validation import shown_value, yaml_error

__all__ = ["FILE_BYTES", "MAX_DEPTH", "load_experiment", "parse_experiment"]

FILE_BYTES = 1024 * 1024  # an experiment is a page of configuration, never a megabyte
MAX_DEPTH = 32
PAUSE_MAX_S = 86_400.0
# PyYAML's pure-Python loader: libyaml's composer recurses in C, and a file of deeply nested
# `[[[[...` crashes the process (a segmentation fault) where Python's raises RecursionError.
# An experiment is at most FILE_BYTES, which the pure loader reads quickly enough.
_SAFE_LOADER = yaml.SafeLoader
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are text
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_CONTRIBUTION_LEVELS = ("high", "medium", "low", "none")
_TOP_FIELDS = (
    "version",
    "title",
    "description",
    "tags",
    "contributions",
    "configuration",
    "secrets",
    "steady-state-hypothesis",
    "method",
    "rollbacks",
    "runtime",
    "extensions",
)
_ACTIVITY_FIELDS = ("type", "name", "provider", "tolerance", "pauses", "background")
_NOT_YET = ("controls",)


def load_experiment(
    path: Path,
    *,
    environ: Mapping[str, str],
    variables: Mapping[str, Any] | None = None,
    secret_variables: Mapping[str, Mapping[str, Any]] | None = None,
) -> Experiment:
    """Read the experiment at `path` (`.json` as JSON, anything else as YAML).

    `environ` is where `{type: env}` values come from; `variables` override configuration
    entries (`--var name=value`) and `secret_variables` secrets, by scope and name.
    """
    file = str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(FILE_BYTES + 1)
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror or error}", file=file) from None
    if len(raw) > FILE_BYTES:
        raise SpecError(f"expected a file of at most {FILE_BYTES} bytes", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(
            f"expected UTF-8 text, got {error.reason} at byte {error.start}", file=file
        ) from None
    data = _parsed(text, file=file, as_json=path.suffix.lower() == ".json")
    return parse_experiment(
        data,
        file=file,
        environ=environ,
        variables=variables,
        secret_variables=secret_variables,
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"expected a finite number, got {name}")


def _parsed(text: str, *, file: str, as_json: bool) -> Any:
    try:
        if as_json:
            try:
                return json.loads(text, parse_constant=_refuse_constant)
            except json.JSONDecodeError as error:
                raise SpecError(
                    f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
                    file=file,
                ) from None
            except ValueError as error:
                raise SpecError(str(error), file=file) from None
        try:
            documents = [
                item for item in yaml.load_all(text, Loader=_SAFE_LOADER) if item is not None
            ]
        except yaml.YAMLError as error:
            raise yaml_error(error, file=file) from None
    except RecursionError:
        raise SpecError(f"expected at most {MAX_DEPTH} levels of nesting", file=file) from None
    if len(documents) != 1:
        raise SpecError(f"expected one experiment in the file, got {len(documents)}", file=file)
    return documents[0]


class _Reader:
    """Reads fields of one file, each problem a SpecError naming the file and field."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, where: str, message: str) -> SpecError:
        return SpecError(message, file=self.file, field=where or None)

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...] = ()) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, f"expected a mapping (an object), got {shown_value(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(where, f"expected text field names, got {shown_value(key)}")
            if allowed and key not in allowed:
                inner = f"{where}.{key}" if where else key
                if key == "dry":
                    raise self.error(
                        inner, "a dry run is asked on the command line: srekit chaos run --dry MODE"
                    )
                if key in _NOT_YET:
                    raise self.error(inner, f"`{key}` is not supported by srekit yet")
                raise self.error(inner, f"unknown field; expected one of: {', '.join(allowed)}")
        return value

    def list(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(where, f"expected a list, got {shown_value(value)}")
        return value

    def text(self, value: Any, where: str, *, line: bool = True) -> str:
        """Non-empty text; `line`: one line, no tabs (a name, a URL, a path)."""
        if not isinstance(value, str) or not value.strip():
            raise self.error(where, f"expected non-empty text, got {shown_value(value)}")
        if line and _LINE_BREAKS.search(value):
            raise self.error(where, "expected one line of text, without tabs or line breaks")
        return value

    def number(self, value: Any, where: str, *, minimum: float = 0.0, maximum: float) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.error(where, f"expected a number, got {shown_value(value)}")
        if not minimum <= value <= maximum:
            raise self.error(
                where, f"expected a number from {minimum:g} to {maximum:g}, got {value!r}"
            )
        return float(value)

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(where, f"expected true or false, got {shown_value(value)}")
        return value

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.error(
                where, f"expected one of {', '.join(choices)}, got {shown_value(value)}"
            )
        return str(value)


def _check_values(reader: _Reader, value: Any, where: str, depth: int = 0) -> None:
    """Refuse NaN, infinities, control characters and nesting deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise reader.error(where, f"expected at most {MAX_DEPTH} levels of nesting")
    if isinstance(value, float) and not math.isfinite(value):
        raise reader.error(where, f"expected a finite number, got {value!r}")
    if isinstance(value, str) and _CONTROL.search(value):
        raise reader.error(where, "expected text without control characters")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_values(reader, key, where, depth + 1)
            _check_values(reader, item, f"{where}.{key}" if where else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(reader, item, f"{where}[{index}]", depth + 1)


def parse_experiment(
    data: Any,
    *,
    file: str,
    environ: Mapping[str, str],
    variables: Mapping[str, Any] | None = None,
    secret_variables: Mapping[str, Mapping[str, Any]] | None = None,
) -> Experiment:
    """An experiment from parsed JSON/YAML `data` read from `file` (see `load_experiment`)."""
    reader = _Reader(file)
    top = reader.mapping(data, "", _TOP_FIELDS)
    Document(top, file, 0).check_size()
    _check_values(reader, top, "")
    for required in ("title", "description", "method"):
        if required not in top:
            raise reader.error(required, "required field is missing")
    if "version" in top:
        reader.text(top["version"], "version")
    values = _substitution_values(reader, top, environ, variables, secret_variables)
    title = reader.text(substitute(top["title"], values), "title")
    description = reader.text(top["description"], "description", line=False)
    known: dict[str, Activity] = {}
    hypothesis = None
    if "steady-state-hypothesis" in top:
        hypothesis = _hypothesis(reader, top["steady-state-hypothesis"], values, known)
    method = _activities(reader, top["method"], "method", values, known)
    rollbacks = _activities(reader, top.get("rollbacks", []), "rollbacks", values, known)
    return Experiment(
        title=title,
        description=description,
        method=method,
        hypothesis=hypothesis,
        rollbacks=rollbacks,
        tags=_tags(reader, top.get("tags", [])),
        contributions=freeze(_contributions(reader, top.get("contributions", {}))),
        configuration=freeze(_plain_configuration(values)),
        runtime=_runtime(reader, top.get("runtime", {})),
        srekit=_srekit(reader, top.get("extensions", [])),
        document=freeze(top),
    )


def _plain_configuration(values: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved configuration (the first map of the substitution values), never secrets."""
    maps = getattr(values, "maps", [values])
    return dict(maps[0])


def _substitution_values(
    reader: _Reader,
    top: Mapping[str, Any],
    environ: Mapping[str, str],
    variables: Mapping[str, Any] | None,
    secret_variables: Mapping[str, Mapping[str, Any]] | None,
) -> Mapping[str, Any]:
    entries = reader.mapping(top.get("configuration", {}), "configuration")
    for key, value in entries.items():
        if isinstance(value, Mapping) and "type" in value:
            kind = value["type"]
            where = f"configuration.{key}"
            if kind == "probe":
                raise reader.error(where, "dynamic configuration (a probe) is not supported yet")
            if kind == "env":
                reader.mapping(value, where, ("type", "key", "default", "env_var_type"))
                reader.text(value.get("key"), f"{where}.key")
                if "env_var_type" in value:
                    reader.choice(
                        value["env_var_type"],
                        f"{where}.env_var_type",
                        ("str", "string", "int", "integer", "float", "number", "bool", "json"),
                    )
    scopes = reader.mapping(top.get("secrets", {}), "secrets")
    for scope, secrets in scopes.items():
        for name, value in reader.mapping(secrets, f"secrets.{scope}").items():
            where = f"secrets.{scope}.{name}"
            if isinstance(value, Mapping):
                if value.get("type") != "env":
                    raise reader.error(
                        where,
                        "expected a value or {type: env, key: NAME};"
                        " Vault and other secret stores are not supported yet",
                    )
                reader.mapping(value, where, ("type", "key"))
                reader.text(value.get("key"), f"{where}.key")
    try:
        configuration = resolve_configuration(entries, environ=environ, overrides=variables)
        secrets = resolve_secrets(scopes, environ=environ, overrides=secret_variables)
    except ExperimentError as error:
        raise reader.error(error.field or "", error.detail) from None
    return substitution_values(configuration, secrets)


def _hypothesis(
    reader: _Reader, value: Any, values: Mapping[str, Any], known: dict[str, Activity]
) -> Hypothesis:
    where = "steady-state-hypothesis"
    hypothesis = reader.mapping(value, where, ("title", "probes", "controls"))
    title = reader.text(substitute(hypothesis.get("title"), values), f"{where}.title")
    probes = []
    for index, item in enumerate(reader.list(hypothesis.get("probes", []), f"{where}.probes")):
        at = f"{where}.probes[{index}]"
        probe = _activity(reader, item, at, values, known, refs=False)
        if probe.type is not ActivityType.PROBE:
            raise reader.error(
                f"{at}.type", "expected probe: the steady state is observed, not acted on"
            )
        if probe.tolerance is None:
            raise reader.error(
                f"{at}.tolerance",
                "required field is missing: a steady-state probe needs a tolerance",
            )
        probes.append(probe)
    return Hypothesis(title, tuple(probes))


def _activities(
    reader: _Reader, value: Any, where: str, values: Mapping[str, Any], known: dict[str, Activity]
) -> tuple[Activity, ...]:
    return tuple(
        _activity(reader, item, f"{where}[{index}]", values, known, refs=True)
        for index, item in enumerate(reader.list(value, where))
    )


def _activity(
    reader: _Reader,
    value: Any,
    where: str,
    values: Mapping[str, Any],
    known: dict[str, Activity],
    *,
    refs: bool,
) -> Activity:
    written = reader.mapping(value, where)
    if "ref" in written:
        if not refs:
            raise reader.error(
                f"{where}.ref",
                "expected a probe written out: a steady-state probe cannot be a reference",
            )
        reader.mapping(written, where, ("ref",))
        name = reader.text(written["ref"], f"{where}.ref")
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise reader.error(
                f"{where}.ref", f"names no activity defined before it (defined: {names})"
            )
        return known[name]
    reader.mapping(written, where, (*_ACTIVITY_FIELDS, "ref"))
    activity = reader.mapping(substitute(written, values), where)
    for required in ("type", "name", "provider"):
        if required not in activity:
            raise reader.error(f"{where}.{required}", "required field is missing")
    kind = ActivityType(reader.choice(activity["type"], f"{where}.type", ("probe", "action")))
    name = reader.text(activity["name"], f"{where}.name")
    tolerance = None
    if "tolerance" in activity:
        tolerance = _tolerance(reader, activity["tolerance"], f"{where}.tolerance", values, known)
    built = Activity(
        kind,
        name,
        _provider(reader, activity["provider"], f"{where}.provider"),
        tolerance=tolerance,
        pauses=_pauses(reader, activity.get("pauses", {}), f"{where}.pauses"),
        background=reader.boolean(activity.get("background", False), f"{where}.background"),
        document=freeze(written),
    )
    known.setdefault(name, built)  # a ref names the first activity of that name
    return built


def _timeout(reader: _Reader, value: Any, where: str) -> float | None:
    """Seconds; Chaos Toolkit's `[connect, read]` pair becomes their sum, the longest a call
    may take."""
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) != 2:
            raise reader.error(where, "expected a number of seconds or a pair [connect, read]")
        connect = reader.number(value[0], f"{where}[0]", maximum=PAUSE_MAX_S)
        read = reader.number(value[1], f"{where}[1]", maximum=PAUSE_MAX_S)
        total = connect + read
    else:
        total = reader.number(value, where, maximum=PAUSE_MAX_S)
    if total <= 0:
        raise reader.error(where, "expected a timeout above 0 seconds")
    return total


#: the most connection retries an HTTP provider may ask: each waits twice the one before
#: (0.5 s, 1 s, 2 s ...), so ten already wait over eight minutes in all
MAX_HTTP_RETRIES = 10


def _retries(reader: _Reader, value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise reader.error(where, f"expected a whole number of retries, got {shown_value(value)}")
    if not 0 <= value <= MAX_HTTP_RETRIES:
        raise reader.error(where, f"expected 0 to {MAX_HTTP_RETRIES} retries, got {value}")
    return value


def _provider(reader: _Reader, value: Any, where: str) -> Provider:
    provider = reader.mapping(value, where)
    kind = provider.get("type")
    if kind == "http":
        reader.mapping(
            provider,
            where,
            (
                "type",
                "url",
                "method",
                "headers",
                "arguments",
                "timeout",
                "expected_status",
                "verify_tls",
                "max_retries",
            ),
        )
        url = reader.text(provider.get("url"), f"{where}.url")
        if not url.lower().startswith(("http://", "https://")) or " " in url:
            raise reader.error(
                f"{where}.url", f"expected an http:// or https:// URL, got {shown_value(url)}"
            )
        method = reader.choice(
            str(provider.get("method", "GET")).upper(), f"{where}.method", _HTTP_METHODS
        )
        headers = {}
        for header, header_value in reader.mapping(
            provider.get("headers", {}), f"{where}.headers"
        ).items():
            at = f"{where}.headers.{header}"
            if not _HEADER_NAME.fullmatch(header):
                raise reader.error(
                    at, "expected a header name: letters, digits and - _ . ! # $ % & ' * + ^ ` | ~"
                )
            if not isinstance(header_value, str) or _LINE_BREAKS.search(
                header_value.replace("\t", "")
            ):
                raise reader.error(
                    at, f"expected one line of text, got {shown_value(header_value)}"
                )
            headers[header] = header_value
        return HttpProvider(
            url=url,
            method=method,
            headers=freeze(headers),
            arguments=freeze(provider.get("arguments")),
            timeout_s=_timeout(reader, provider.get("timeout"), f"{where}.timeout"),
            expected_status=_statuses(
                reader, provider.get("expected_status"), f"{where}.expected_status"
            ),
            verify_tls=reader.boolean(provider.get("verify_tls", True), f"{where}.verify_tls"),
            max_retries=_retries(reader, provider.get("max_retries", 0), f"{where}.max_retries"),
        )
    if kind == "process":
        reader.mapping(provider, where, ("type", "path", "arguments", "timeout"))
        path = reader.text(provider.get("path"), f"{where}.path")
        return ProcessProvider(
            path=path,
            arguments=_process_arguments(
                reader, provider.get("arguments", []), f"{where}.arguments"
            ),
            timeout_s=_timeout(reader, provider.get("timeout"), f"{where}.timeout"),
        )
    if kind == "python":
        reader.mapping(provider, where, ("type", "module", "func", "arguments"))
        module = reader.text(provider.get("module"), f"{where}.module")
        if not _DOTTED.fullmatch(module):
            raise reader.error(
                f"{where}.module",
                f"expected a dotted Python module name, got {shown_value(module)}",
            )
        func = reader.text(provider.get("func"), f"{where}.func")
        if not _IDENTIFIER.fullmatch(func):
            raise reader.error(
                f"{where}.func", f"expected a Python function name, got {shown_value(func)}"
            )
        arguments = reader.mapping(provider.get("arguments", {}), f"{where}.arguments")
        return PythonProvider(module=module, func=func, arguments=freeze(arguments))
    raise reader.error(
        f"{where}.type", f"expected one of http, process, python, got {shown_value(kind)}"
    )


def _statuses(reader: _Reader, value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    statuses = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]" if isinstance(value, list) else where
        if not isinstance(item, int) or isinstance(item, bool) or not 100 <= item <= 599:
            raise reader.error(
                at, f"expected an HTTP status from 100 to 599, got {shown_value(item)}"
            )
        statuses.append(item)
    if not statuses:
        raise reader.error(where, "expected at least one HTTP status")
    return tuple(statuses)


def _process_arguments(reader: _Reader, value: Any, where: str) -> tuple[str, ...] | str:
    """A list (each item one argument), a text (a shell command line, as Chaos Toolkit runs
    it), or a mapping flattened to `key value ...`; empty and null items are dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        value = [part for pair in value.items() for part in pair]
    arguments = []
    for index, item in enumerate(reader.list(value, where)):
        if isinstance(item, Mapping | list):
            raise reader.error(
                f"{where}[{index}]", f"expected text or a number, got {shown_value(item)}"
            )
        if item not in (None, ""):
            arguments.append(str(item))
    return tuple(arguments)


def _pauses(reader: _Reader, value: Any, where: str) -> Pauses:
    pauses = reader.mapping(value, where, ("before", "after"))
    return Pauses(
        before_s=reader.number(pauses.get("before", 0), f"{where}.before", maximum=PAUSE_MAX_S),
        after_s=reader.number(pauses.get("after", 0), f"{where}.after", maximum=PAUSE_MAX_S),
    )


def _target(reader: _Reader, tolerance: Mapping[str, Any], where: str) -> str | None:
    if "target" not in tolerance:
        return None
    return reader.text(tolerance["target"], f"{where}.target")


def _tolerance(
    reader: _Reader, value: Any, where: str, values: Mapping[str, Any], known: dict[str, Activity]
) -> Tolerance:
    if isinstance(value, bool | int | str) and not (isinstance(value, str) and not value):
        return ExactTolerance(value)
    if isinstance(value, list):
        if not value:
            raise reader.error(where, "expected at least one value")
        for index, item in enumerate(value):
            if isinstance(item, Mapping | list) or item is None:
                raise reader.error(
                    f"{where}[{index}]", f"expected a number, text or bool, got {shown_value(item)}"
                )
        return ListTolerance(tuple(value))
    if not isinstance(value, Mapping):
        raise reader.error(
            where,
            f"expected a bool, an integer, text, a list or a mapping, got {shown_value(value)}",
        )
    kind = value.get("type")
    if kind == "range":
        tolerance = reader.mapping(value, where, ("type", "range", "target"))
        bounds = reader.list(tolerance.get("range"), f"{where}.range")
        if len(bounds) != 2:
            raise reader.error(
                f"{where}.range", f"expected two numbers [lo, hi], got {len(bounds)} item(s)"
            )
        low = reader.number(bounds[0], f"{where}.range[0]", minimum=-math.inf, maximum=math.inf)
        high = reader.number(bounds[1], f"{where}.range[1]", minimum=-math.inf, maximum=math.inf)
        if low > high:
            raise reader.error(
                f"{where}.range", f"expected lo <= hi, got [{bounds[0]}, {bounds[1]}]"
            )
        return RangeTolerance(
            Decimal(str(bounds[0])),
            Decimal(str(bounds[1])),
            target=_target(reader, tolerance, where),
        )
    if kind == "regex":
        tolerance = reader.mapping(value, where, ("type", "pattern", "target"))
        pattern = reader.text(tolerance.get("pattern"), f"{where}.pattern", line=False)
        try:
            re.compile(pattern)
        except re.error as error:
            raise reader.error(
                f"{where}.pattern", f"expected a regular expression: {error}"
            ) from None
        return RegexTolerance(pattern, target=_target(reader, tolerance, where))
    if kind == "jsonpath":
        tolerance = reader.mapping(value, where, ("type", "path", "expect", "count", "target"))
        try:
            path = compile_json_path(reader.text(tolerance.get("path"), f"{where}.path"))
        except ValueError as error:
            raise reader.error(f"{where}.path", str(error)) from None
        count = tolerance.get("count")
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 0
        ):
            raise reader.error(
                f"{where}.count", f"expected a whole number >= 0, got {shown_value(count)}"
            )
        return JsonPathTolerance(
            path,
            target=_target(reader, tolerance, where),
            expect=freeze(tolerance.get("expect")),
            has_expect="expect" in tolerance,
            count=count,
        )
    if kind == "probe":
        probe = _activity(reader, value, where, values, known, refs=False)
        return ProbeTolerance(probe)
    raise reader.error(
        f"{where}.type", f"expected one of range, regex, jsonpath, probe, got {shown_value(kind)}"
    )


def _tags(reader: _Reader, value: Any) -> tuple[str, ...]:
    return tuple(
        reader.text(tag, f"tags[{index}]") for index, tag in enumerate(reader.list(value, "tags"))
    )


def _contributions(reader: _Reader, value: Any) -> dict[str, str]:
    return {
        name: reader.choice(level, f"contributions.{name}", _CONTRIBUTION_LEVELS)
        for name, level in reader.mapping(value, "contributions").items()
    }


def _runtime(reader: _Reader, value: Any) -> Runtime:
    runtime = reader.mapping(value, "runtime", ("rollbacks", "hypothesis"))
    rollbacks = reader.mapping(runtime.get("rollbacks", {}), "runtime.rollbacks", ("strategy",))
    hypothesis = reader.mapping(
        runtime.get("hypothesis", {}),
        "runtime.hypothesis",
        ("strategy", "frequency", "fail_fast", "fail_fast_ratio"),
    )
    rollback = reader.choice(
        rollbacks.get("strategy", "always"), "runtime.rollbacks.strategy", tuple(RollbackStrategy)
    )
    strategy = reader.choice(
        hypothesis.get("strategy", "default"),
        "runtime.hypothesis.strategy",
        tuple(HypothesisStrategy),
    )
    frequency = reader.number(
        hypothesis.get("frequency", 1.0), "runtime.hypothesis.frequency", maximum=PAUSE_MAX_S
    )
    if frequency <= 0:
        raise reader.error("runtime.hypothesis.frequency", "expected a number of seconds above 0")
    return Runtime(
        rollback_strategy=RollbackStrategy(rollback),
        hypothesis_strategy=HypothesisStrategy(strategy),
        frequency_s=frequency,
        fail_fast=reader.boolean(
            hypothesis.get("fail_fast", False), "runtime.hypothesis.fail_fast"
        ),
        fail_fast_ratio=reader.number(
            hypothesis.get("fail_fast_ratio", 0), "runtime.hypothesis.fail_fast_ratio", maximum=100
        ),
    )


def _srekit(reader: _Reader, value: Any) -> SrekitExtension:
    found = None
    for index, item in enumerate(reader.list(value, "extensions")):
        where = f"extensions[{index}]"
        extension = reader.mapping(item, where)
        name = reader.text(extension.get("name"), f"{where}.name")
        if name != "srekit":
            continue  # another tool's settings: kept in the document, not read
        if found is not None:
            raise reader.error(where, "expected one srekit extension, got a second")
        reader.mapping(extension, where, ("name", "service", "blast_radius", "slo_guard", "ttl"))
        found = _srekit_settings(reader, extension, where)
    return found or SrekitExtension()


def _srekit_settings(reader: _Reader, extension: Mapping[str, Any], where: str) -> SrekitExtension:
    radius = reader.mapping(
        extension.get("blast_radius", {}), f"{where}.blast_radius", ("allowed_targets",)
    )
    targets = tuple(
        reader.text(target, f"{where}.blast_radius.allowed_targets[{index}]")
        for index, target in enumerate(
            reader.list(radius.get("allowed_targets", []), f"{where}.blast_radius.allowed_targets")
        )
    )
    guard = None
    if "slo_guard" in extension:
        at = f"{where}.slo_guard"
        settings = reader.mapping(
            extension["slo_guard"],
            at,
            ("slos", "min_remaining", "max_burn_rate", "burn_window", "refuse_from"),
        )
        slos = tuple(
            reader.text(slo, f"{at}.slos[{index}]")
            for index, slo in enumerate(reader.list(settings.get("slos"), f"{at}.slos"))
        )
        if not slos or any(slo.count("/") != 1 for slo in slos):
            raise reader.error(f"{at}.slos", "expected at least one SLO as service/name")
        remaining = reader.number(
            settings.get("min_remaining", 0.0), f"{at}.min_remaining", maximum=1.0
        )
        max_burn_rate = None
        if "max_burn_rate" in settings:
            max_burn_rate = reader.number(
                settings["max_burn_rate"], f"{at}.max_burn_rate", maximum=1e6
            )
        windows = tuple(format_duration(seconds) for seconds in BURN_RATE_WINDOWS_S)
        burn_window = reader.choice(settings.get("burn_window", "5m"), f"{at}.burn_window", windows)
        refuse_from = reader.text(
            settings.get("refuse_from", "feature_freeze"), f"{at}.refuse_from"
        )
        guard = SloGuard(slos, remaining, max_burn_rate, burn_window, refuse_from)
    ttl = None
    if "ttl" in extension:
        raw = extension["ttl"]
        if isinstance(raw, str):
            try:
                ttl = parse_duration(raw)
            except ValueError as error:
                raise reader.error(f"{where}.ttl", str(error)) from None
        else:
            ttl = int(reader.number(raw, f"{where}.ttl", minimum=1, maximum=PAUSE_MAX_S))
    service = None
    if "service" in extension:
        service = reader.text(extension["service"], f"{where}.service")
    elif guard is not None:
        service = guard.slos[0].split("/", 1)[0]  # the runs of the SLO it guards
    return SrekitExtension(service=service, allowed_targets=targets, slo_guard=guard, ttl_s=ttl)
