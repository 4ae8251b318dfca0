"""Reports as Python objects: what a meter, a window or a plan measured or computed.

Every object keeps the JSON document it was made from (``to_dict()``, ``to_json()``) and the
table the command line prints for the same thing (``str()``). Rows are found by name
(``report.domain("rapl/package-0")``, ``plan.candidate("inf1.2xlarge")``), never by position.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


def _dumps(data: Any, indent: Optional[int]) -> str:
    return json.dumps(data, indent=indent, sort_keys=False)


@dataclass(frozen=True)
class DomainEnergy:
    """Energy of one domain (``rapl/package-0``, ``nvml/gpu0``...) over a window."""

    name: str
    component: str
    signal: str
    provenance_kind: str  # "measured", "modelled" or "given"
    provenance_by: str  # which sensor or model
    joules: float
    mean_watts: float
    peak_watts: float
    samples: int
    in_total: bool  # added to the report's total (False: inside a domain that is counted)
    parent: str
    baseline_watts: Optional[float]
    attributable_joules: Optional[float]

    @property
    def provenance(self) -> str:
        """As the tables print it, e.g. 'measured: powercap RAPL intel-rapl:0'."""
        return f"{self.provenance_kind}: {self.provenance_by}"

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "DomainEnergy":
        return cls(
            name=d["name"],
            component=d["component"],
            signal=d["signal"],
            provenance_kind=d["provenance"]["kind"],
            provenance_by=d["provenance"]["by"],
            joules=d["joules"],
            mean_watts=d["mean_watts"],
            peak_watts=d["peak_watts"],
            samples=d["samples"],
            in_total=d["in_total"],
            parent=d["parent"],
            baseline_watts=d.get("baseline_watts"),
            attributable_joules=d.get("attributable_joules"),
        )


@dataclass(frozen=True, eq=False)
class EnergyReport:
    """Energy of one window (or of the whole meter, "measurement"), per domain.

    ``total_joules`` adds the domains with ``in_total`` (no double counting);
    ``attributable_joules`` is the total minus idle baseline power x duration, when the meter
    measured a baseline. ``work`` is what ``count()`` added while the window was open.
    """

    name: str
    begin_s: float
    end_s: float
    duration_s: float
    total_joules: float
    mean_watts: float
    attributable_joules: Optional[float]
    total_domains: List[str]
    total_provenance: str
    any_modelled: bool
    warnings: List[str]
    domains: List[DomainEnergy]
    whole_system: Optional[Dict[str, Any]]
    work: float
    work_unit: str
    joules_per_work: Optional[float]
    attributable_joules_per_work: Optional[float]
    _data: Dict[str, Any] = field(repr=False)
    _text: str = field(repr=False)

    def domain(self, name: str) -> DomainEnergy:
        """The domain called ``name``; KeyError listing the domains when there is none."""
        for d in self.domains:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.domains) or "none"
        raise KeyError(f"no domain '{name}' in {self.name!r}; domains: {known}")

    def __getitem__(self, name: str) -> DomainEnergy:
        return self.domain(name)

    def __str__(self) -> str:
        return self._text

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def to_json(self, indent: Optional[int] = 2) -> str:
        return _dumps(self._data, indent)

    @classmethod
    def _from_dict(cls, d: Dict[str, Any], text: str, work_unit: str) -> "EnergyReport":
        return cls(
            name=d["name"],
            begin_s=d["begin_s"],
            end_s=d["end_s"],
            duration_s=d["duration_s"],
            total_joules=d["total_joules"],
            mean_watts=d["mean_watts"],
            attributable_joules=d.get("total_attributable_joules"),
            total_domains=list(d["total_domains"]),
            total_provenance=d["total_provenance"],
            any_modelled=d["any_modelled"],
            warnings=list(d["warnings"]),
            domains=[DomainEnergy._from_dict(x) for x in d["domains"]],
            whole_system=d.get("whole_system"),
            work=d.get("work", 0),
            work_unit=work_unit,
            joules_per_work=d.get("joules_per_work"),
            attributable_joules_per_work=d.get("attributable_joules_per_work"),
            _data=d,
            _text=text,
        )


class Report:
    """What a Meter measured: its sources, the idle baseline, the whole span ("measurement"),
    every window that ended, the work counted and the warnings; and where it was stored.

    ``str(report)`` is the table ``joulebench measure`` prints (one per window).
    """

    def __init__(self, parts: tuple, run_id: Optional[str] = None, db: Optional[str] = None,
                 stored: Optional[str] = None):
        # parts: (JSON, whole text, measurement table, baseline table or None, window tables),
        # as the extension module returns them.
        data_json, text, measurement_text, baseline_text, window_texts = parts
        data = json.loads(data_json)
        unit = data["work_unit"]
        self._data = data
        self._text = text
        self.status: str = data["status"]  # "running", "complete" or "incomplete"
        self.sources: List[Dict[str, Any]] = data["sources"]
        baseline = data.get("baseline")
        self.baseline: Optional[EnergyReport] = (
            EnergyReport._from_dict(baseline, baseline_text, unit) if baseline else None)
        measurement = dict(data["measurement"])
        for key in ("work", "joules_per_work", "attributable_joules_per_work"):
            if key in data:
                measurement[key] = data[key]
        self.measurement: EnergyReport = EnergyReport._from_dict(
            measurement, measurement_text, unit)
        self.windows: List[EnergyReport] = [
            EnergyReport._from_dict(w, t, unit) for w, t in zip(data["windows"], window_texts)]
        self.work: float = data.get("work", 0)
        self.work_unit: str = unit
        self.joules_per_work: Optional[float] = data.get("joules_per_work")
        self.attributable_joules_per_work: Optional[float] = data.get(
            "attributable_joules_per_work")
        self.warnings: List[str] = data["warnings"]
        self.run_id = run_id  # the stored run's id (store=True)
        self.db = db  # the database it is stored in
        self.stored = stored  # "stored as run 12 in /path/runs.db"
        if run_id is not None:
            self._data["run_id"] = run_id
            self._data["db"] = db

    # The measurement's figures, for the common case.
    @property
    def total_joules(self) -> float:
        return self.measurement.total_joules

    @property
    def attributable_joules(self) -> Optional[float]:
        return self.measurement.attributable_joules

    @property
    def duration_s(self) -> float:
        return self.measurement.duration_s

    @property
    def domains(self) -> List[DomainEnergy]:
        return self.measurement.domains

    def domain(self, name: str) -> DomainEnergy:
        return self.measurement.domain(name)

    def window(self, name: str) -> EnergyReport:
        """The last ended window called ``name``; KeyError listing the names otherwise."""
        for w in reversed(self.windows):
            if w.name == name:
                return w
        known = ", ".join(sorted({w.name for w in self.windows})) or "none"
        raise KeyError(f"no window '{name}' ended; windows: {known}")

    def __str__(self) -> str:
        return self._text + (self.stored + "\n" if self.stored else "")

    def __repr__(self) -> str:
        return (f"<joulebench.Report {self.status}: {self.total_joules:.6g} J in "
                f"{self.duration_s:.6g} s, {len(self.windows)} window(s)>")

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def to_json(self, indent: Optional[int] = 2) -> str:
        return _dumps(self._data, indent)


class Plan:
    """A plan of ``plan infer`` (fleets for an SLA) or ``plan train`` (a training run per
    candidate): the JSON document of ``--json`` (schema in docs/planner.md), its table and CSV.
    """

    def __init__(self, kind: str, data: Dict[str, Any], table: str, csv: str):
        self.kind = kind
        self._data = data
        self.table = table
        self.csv = csv

    @property
    def candidates(self) -> List[Dict[str, Any]]:
        return self._data["candidates"]

    @property
    def baseline(self) -> str:
        """Name of the 1x candidate the others are compared with."""
        return self._data["request"]["baseline"]

    @property
    def comparisons(self) -> List[Dict[str, Any]]:
        return self._data["comparisons"]

    @property
    def notes(self) -> List[str]:
        return self._data["notes"]

    def candidate(self, name: str) -> Dict[str, Any]:
        """The candidate called ``name`` (inputs, results, notes); KeyError otherwise."""
        for c in self.candidates:
            if c["name"] == name:
                return c
        known = ", ".join(c["name"] for c in self.candidates)
        raise KeyError(f"no candidate '{name}'; candidates: {known}")

    def results(self, name: str) -> Dict[str, Any]:
        """The results of candidate ``name``: instances, energy, cost, CO2e..."""
        return self.candidate(name)["results"]

    def __str__(self) -> str:
        return self.table

    def __repr__(self) -> str:
        names = ", ".join(c["name"] for c in self.candidates)
        return f"<joulebench.Plan {self.kind}: {names}>"

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def to_json(self, indent: Optional[int] = 2) -> str:
        return _dumps(self._data, indent)


class Probe:
    """Which energy sources work here (``joulebench probe``): ``sources`` lists every source
    tried with its status, reason, fix and domains; ``str()`` is probe's table."""

    def __init__(self, data: Dict[str, Any], table: str):
        self._data = data
        self.table = table
        self.sources: List[Dict[str, Any]] = data["sources"]

    def source(self, name: str) -> Dict[str, Any]:
        for s in self.sources:
            if s["name"] == name:
                return s
        known = ", ".join(s["name"] for s in self.sources)
        raise KeyError(f"no source '{name}'; sources: {known}")

    @property
    def available(self) -> List[str]:
        return [s["name"] for s in self.sources if s["status"] == "available"]

    def __str__(self) -> str:
        return self.table

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def to_json(self, indent: Optional[int] = 2) -> str:
        return _dumps(self._data, indent)
