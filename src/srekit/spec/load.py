"""`apiVersion: srekit/v1, kind: LoadTest`: what to send, to where, how much, and the
thresholds the run must hold (k6's syntax).

```yaml
apiVersion: srekit/v1
kind: LoadTest
metadata: {name: checkout}
spec:
  target: http://127.0.0.1:8080
  timeout: 10s                 # per request, default 10s
  warmup: 5s                   # sent but not measured, default 0s
  requests:
    - {name: home, method: GET, path: /, weight: 3}
    - name: login
      method: POST
      path: /login
      headers: {Content-Type: application/json}
      body: '{"user": "a"}'
      expect: [200, 201]       # default: any 2xx or 3xx
      tags: {tier: auth}
  journeys:                    # optional: an iteration is a journey, not one request
    - name: buy
      steps: [{request: home, think: 1s}, {request: login}]
  load:
    executor: constant-arrival-rate  # ramping-arrival-rate, constant-vus, per-vu-iterations,
                                     # shared-iterations
    rate: 200                  # iterations per time_unit (default 1s)
    duration: 1m
    # per-vu-iterations and shared-iterations: vus, iterations, and max_duration (k6's
    # maxDuration, either spelling; default 10m): no iteration starts after it
  thresholds:
    http_req_duration: ['p(95)<200']
    http_req_duration{name:login}:
      - {threshold: 'p(99)<500', abortOnFail: true, delayAbortEval: 10s}
    http_req_failed: ['rate<0.01']
```

`LoadTestDocument` is the one model of the document; `load_plan` turns it into core's
`LoadPlan`, with the CLI's `--vus`, `--duration` and `--rate` applied.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from srekit.core.load import (
    ClosedModel,
    Journey,
    JourneyStep,
    LoadPlan,
    LoadRequest,
    OpenModel,
    Stage,
    Threshold,
    parse_duration_s,
    parse_threshold,
)
from srekit.errors import SpecError
from srekit.spec.document import Document, read_documents
from srekit.spec.model import Bounded, Name
from srekit.spec.validation import validate_model

__all__ = ["KIND", "LoadOverrides", "LoadTestDocument", "load_load_test", "load_plan"]

KIND = "LoadTest"
MAX_RATE = 1_000_000.0
MAX_VUS = 100_000
MAX_DURATION_S = 7 * 86_400.0
#: k6's default `maxDuration` for the iteration executors
DEFAULT_MAX_DURATION = "10m"
_ITERATION_EXECUTORS = ("per-vu-iterations", "shared-iterations")


def _duration(text: str) -> str:
    seconds = parse_duration_s(text)
    if seconds > MAX_DURATION_S:
        raise ValueError(f"expected a duration of at most 7 days, got {text!r}")
    return text


def _positive(text: str) -> str:
    if parse_duration_s(text) <= 0:
        raise ValueError(f"expected a duration longer than 0s, got {text!r}")
    return text


def _target(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(f"expected an http:// or https:// base URL with a host, got {text!r}")
    return text


def _header_text(text: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text) or not text.isascii():
        raise ValueError("expected printable ASCII, without control characters")
    return text


def _path(text: str) -> str:
    if not text.startswith("/") or any(c in text for c in " \r\n\t\x00#"):
        raise ValueError(f"expected a path starting with '/' without spaces, got {text!r}")
    _header_text(text)
    return text


class _Spec(BaseModel):
    """Unknown fields are refused: a misspelt setting is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_Duration = Annotated[str, Field(strict=True), Bounded(max_length=32), AfterValidator(_duration)]
_PositiveDuration = Annotated[_Duration, AfterValidator(_positive)]
_Text = Annotated[
    str, Field(strict=True), Bounded(min_length=1, max_length=1024), AfterValidator(_header_text)
]
_Weight = Annotated[float, Field(strict=True, gt=0, le=1e6, allow_inf_nan=False)]
_Rate = Annotated[float, Field(strict=True, ge=0, le=MAX_RATE, allow_inf_nan=False)]


class RequestSpec(_Spec):
    name: Name
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    path: Annotated[
        str, Field(strict=True), Bounded(min_length=1, max_length=4096), AfterValidator(_path)
    ] = "/"
    headers: Annotated[dict[_Text, _Text], Bounded(max_length=64)] = {}
    body: Annotated[str, Field(strict=True), Bounded(max_length=16_384)] = ""
    weight: _Weight = 1.0
    expect: Annotated[
        list[Annotated[int, Field(strict=True, ge=100, le=599)]], Bounded(max_length=100)
    ] = []
    tags: Annotated[dict[Name, _Text], Bounded(max_length=16)] = {}


class StepSpec(_Spec):
    request: Name
    think: _Duration = "0s"


class JourneySpec(_Spec):
    name: Name
    steps: Annotated[list[StepSpec], Bounded(min_length=1, max_length=100)]
    weight: _Weight = 1.0


class StageSpec(_Spec):
    duration: _Duration
    target: _Rate


class LoadModelSpec(_Spec):
    """k6's executors: two open models (arrival rates) and three closed ones (users)."""

    executor: Literal[
        "constant-arrival-rate",
        "ramping-arrival-rate",
        "constant-vus",
        "per-vu-iterations",
        "shared-iterations",
    ]
    rate: _Rate | None = None
    time_unit: _Duration = "1s"
    duration: _Duration | None = None
    start_rate: _Rate = 0.0
    stages: Annotated[list[StageSpec], Bounded(max_length=100)] = []
    vus: Annotated[int, Field(strict=True, ge=1, le=MAX_VUS)] | None = None
    iterations: Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)] | None = None
    max_vus: Annotated[int, Field(strict=True, ge=1, le=MAX_VUS)] = 10_000
    # k6 writes maxDuration; the load block's own fields are snake_case (time_unit, max_vus)
    max_duration: _PositiveDuration | None = Field(
        None, validation_alias=AliasChoices("max_duration", "maxDuration")
    )

    @model_validator(mode="after")
    def _complete(self) -> LoadModelSpec:
        needs = {
            "constant-arrival-rate": ("rate", "duration"),
            "ramping-arrival-rate": ("stages",),
            "constant-vus": ("vus", "duration"),
            "per-vu-iterations": ("vus", "iterations"),
            "shared-iterations": ("vus", "iterations"),
        }[self.executor]
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(f"expected {' and '.join(missing)} for executor {self.executor}")
        if self.max_duration is not None and self.executor not in _ITERATION_EXECUTORS:
            raise ValueError(
                "expected max_duration only with executor per-vu-iterations or "
                f"shared-iterations (k6's), got it with {self.executor}"
            )
        return self

    @property
    def max_duration_s(self) -> float:
        """maxDuration in seconds, k6's default (10m) when the file gives none."""
        return parse_duration_s(self.max_duration or DEFAULT_MAX_DURATION)


class ThresholdOptions(_Spec):
    threshold: Annotated[str, Field(strict=True), Bounded(min_length=1, max_length=200)]
    abort_on_fail: bool = Field(False, alias="abortOnFail", strict=True)
    delay_abort_eval: _Duration = Field("0s", alias="delayAbortEval")


_ThresholdEntry = Annotated[str, Field(strict=True), Bounded(max_length=200)] | ThresholdOptions


class LoadTestSpec(_Spec):
    target: Annotated[str, Field(strict=True), Bounded(max_length=2048), AfterValidator(_target)]
    timeout: _Duration = "10s"
    warmup: _Duration = "0s"
    requests: Annotated[list[RequestSpec], Bounded(min_length=1, max_length=1000)]
    journeys: Annotated[list[JourneySpec], Bounded(max_length=100)] = []
    load: LoadModelSpec
    thresholds: Annotated[
        dict[
            Annotated[str, Bounded(max_length=200)],
            Annotated[list[_ThresholdEntry], Bounded(min_length=1, max_length=20)],
        ],
        Bounded(max_length=100),
    ] = {}

    @model_validator(mode="after")
    def _consistent(self) -> LoadTestSpec:
        names = [request.name for request in self.requests]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"expected each request name once, got {', '.join(repeated)} twice")
        for journey in self.journeys:
            for step in journey.steps:
                if step.request not in names:
                    raise ValueError(
                        f"expected journey {journey.name}'s steps to name requests "
                        f"({', '.join(names)}), got {step.request!r}"
                    )
        if parse_duration_s(self.timeout) <= 0:
            raise ValueError("expected a timeout longer than 0s")
        return self


class _Metadata(_Spec):
    name: Name


class LoadTestDocument(_Spec):
    """The whole srekit/v1 document, as a file holds it."""

    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["LoadTest"]
    metadata: _Metadata
    spec: LoadTestSpec


def load_load_test(path: Path) -> tuple[LoadTestDocument, Document]:
    """The one LoadTest in a file; another kind, or not exactly one document, is a SpecError."""
    found: list[tuple[LoadTestDocument, Document]] = []
    for document in read_documents(path):
        document.check_size()
        if document.data.get("kind") != KIND:
            raise document.error("kind", f"expected kind {KIND}, got {document.data.get('kind')!r}")
        found.append((validate_model(LoadTestDocument, document.data, document), document))
    if len(found) != 1:
        raise SpecError(f"expected one LoadTest document, got {len(found)}", file=str(path))
    return found[0]


class LoadOverrides(BaseModel):
    """The CLI's `--vus`, `--duration` and `--rate`, each replacing the file's."""

    model_config = ConfigDict(frozen=True)

    vus: int | None = None
    duration: str | None = None
    rate: float | None = None


def _thresholds(spec: LoadTestSpec, document: Document) -> tuple[Threshold, ...]:
    thresholds = []
    for key, entries in spec.thresholds.items():
        for index, entry in enumerate(entries):
            field = f"spec.thresholds.{key}[{index}]"
            try:
                if isinstance(entry, str):
                    thresholds.append(parse_threshold(key, entry))
                else:
                    thresholds.append(
                        parse_threshold(
                            key,
                            entry.threshold,
                            abort_on_fail=entry.abort_on_fail,
                            delay_abort_eval_s=parse_duration_s(entry.delay_abort_eval),
                        )
                    )
            except ValueError as error:
                raise document.error(field, str(error)) from None
    return tuple(thresholds)


def _model(load: LoadModelSpec, overrides: LoadOverrides) -> OpenModel | ClosedModel:
    """The load model, the overrides applied: `--rate` makes it a constant arrival rate,
    `--vus` constant users, `--duration` sets how long either lasts."""
    if overrides.rate is not None and overrides.vus is not None:
        raise ValueError("--rate (an open model) and --vus (a closed one) exclude each other")
    for value, option in ((overrides.rate, "--rate"), (overrides.vus, "--vus")):
        if value is not None and (not math.isfinite(value) or value <= 0 or value > MAX_RATE):
            raise ValueError(f"{option}: expected a positive number up to {MAX_RATE:g}")
    duration_s: float | None = None
    if overrides.duration is not None:
        try:
            duration_s = parse_duration_s(_duration(overrides.duration))
        except ValueError as error:
            raise ValueError(f"--duration: {error}") from None
        if duration_s <= 0:
            raise ValueError("--duration: expected a duration longer than 0s")
    spec_duration_s = parse_duration_s(load.duration) if load.duration else None
    time_unit_s = parse_duration_s(load.time_unit)
    if time_unit_s <= 0:
        raise ValueError("time_unit: expected a duration longer than 0s")
    open_executor = load.executor.endswith("arrival-rate")
    if overrides.rate is not None or (open_executor and overrides.vus is None):
        if overrides.rate is not None or load.executor == "constant-arrival-rate":
            rate = overrides.rate if overrides.rate is not None else (load.rate or 0) / time_unit_s
            lasting = (
                duration_s
                or spec_duration_s
                or sum(parse_duration_s(stage.duration) for stage in load.stages)
            )
            if not lasting:
                raise ValueError("--rate needs --duration: the file's model has none")
            return OpenModel(rate, (Stage(lasting, rate),), max_in_flight=load.max_vus)
        if duration_s is not None:
            raise ValueError("--duration does not apply to ramping-arrival-rate's stages")
        stages = tuple(
            Stage(parse_duration_s(stage.duration), stage.target / time_unit_s)
            for stage in load.stages
        )
        return OpenModel(load.start_rate / time_unit_s, stages, max_in_flight=load.max_vus)
    vus = int(overrides.vus) if overrides.vus is not None else (load.vus or 1)
    if duration_s is not None:
        return ClosedModel(vus=vus, duration_s=duration_s)
    if load.executor in _ITERATION_EXECUTORS:
        return ClosedModel(
            vus=vus,
            duration_s=None,
            iterations=load.iterations,
            shared_iterations=load.executor == "shared-iterations",
            max_duration_s=load.max_duration_s,
        )
    lasting = spec_duration_s or sum(parse_duration_s(stage.duration) for stage in load.stages)
    if not lasting:
        raise ValueError("--vus needs --duration: the file's model has none")
    return ClosedModel(vus=vus, duration_s=lasting)


def load_plan(
    parsed: LoadTestDocument, document: Document, overrides: LoadOverrides | None = None
) -> LoadPlan:
    """core's plan of the document; a bad override is a ValueError naming its option."""
    spec = parsed.spec
    names = [request.name for request in spec.requests]
    requests = tuple(
        LoadRequest(
            name=r.name,
            method=r.method,
            path=r.path,
            headers=tuple(r.headers.items()),
            body=r.body.encode(),
            weight=r.weight,
            expected_statuses=tuple(r.expect),
            tags=tuple(sorted(r.tags.items())),
        )
        for r in spec.requests
    )
    journeys = tuple(
        Journey(
            name=j.name,
            steps=tuple(
                JourneyStep(names.index(s.request), parse_duration_s(s.think)) for s in j.steps
            ),
            weight=j.weight,
        )
        for j in spec.journeys
    )
    return LoadPlan(
        name=parsed.metadata.name,
        target=spec.target.rstrip("/"),
        requests=requests,
        journeys=journeys,
        model=_model(spec.load, overrides or LoadOverrides()),
        warmup_s=parse_duration_s(spec.warmup),
        timeout_s=parse_duration_s(spec.timeout),
        thresholds=_thresholds(spec, document),
    )
