"""``joulebench.plan``: the planner of ``joulebench plan infer`` / ``plan train`` from Python."""

import json
import numbers
import os
from typing import Any, Dict, Iterable, List, Optional, Union

from . import _joulebench
from .reports import Plan

Candidate = Union[str, Dict[str, Any]]


def _setting_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        raise _joulebench.InputError(f"--{name}: {value!r} is not a value for this setting")
    if isinstance(value, (str, numbers.Real, os.PathLike)):
        return os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    raise _joulebench.InputError(
        f"--{name}: give text or a number, e.g. \"1000000/h\" or 1.135, not {type(value).__name__}")


def plan(kind: str, config: Optional[Union[str, os.PathLike]] = None, *,
         candidates: Optional[Iterable[Candidate]] = None,
         catalogs: Optional[Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]] = None,
         db: Optional[Union[str, os.PathLike]] = None, **settings: Any) -> Plan:
    """Plans as ``joulebench plan infer`` (kind "infer") or ``plan train`` (kind "train") do.

        p = joulebench.plan("infer", "data/examples/study.toml")
        p.results("inf1.2xlarge")["instances"]          # 6
        print(p)                                        # the CLI's table

    config      a TOML plan file (its [infer] / [train] section); keywords override it
    candidates  dicts {"name": "inf1.2xlarge", "throughput": "54/s", "power": "60W"} or spec
                strings "name=...,throughput=..."; they replace the file's candidates
    catalogs    CSV file(s) adding or overriding machine types
    db          run database for run=ID candidates
    settings    the command's flags as keywords, e.g. sla="1000000/h", region="eu-west-1",
                pue=1.2, latency_bound="100ms", utilisation=0.7, baseline="g4dn.2xlarge";
                train: sequences="450M", instances=16, scaling_efficiency=0.9, predict_from=ID

    Errors raise joulebench.InputError with the command line's one-line message (naming the
    setting by its flag, e.g. "--sla: required; ...").
    """
    pairs: List[tuple] = []
    for key, value in settings.items():
        if value is None:
            continue
        name = key.replace("_", "-")
        pairs.append((name, _setting_text(name, value)))
    if catalogs is None:
        catalog_list: List[str] = []
    elif isinstance(catalogs, (str, os.PathLike)):
        catalog_list = [os.fspath(catalogs)]
    else:
        catalog_list = [os.fspath(c) for c in catalogs]
    data, table, csv = _joulebench.plan(
        kind=str(kind), settings=pairs, candidates=list(candidates or []),
        catalogs=catalog_list, config="" if config is None else os.fspath(config),
        db=None if db is None else os.fspath(db))
    return Plan(str(kind), json.loads(data), table, csv)
