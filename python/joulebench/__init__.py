"""joulebench for Python: the energy, cost and CO2 of ML code, measured on this machine.

    import joulebench
    with joulebench.Meter() as m:            # sources discovered as `joulebench probe`
        with m.window("epoch 1"):
            train_one_epoch()
    print(m.report())                         # per domain, with provenance, attributable energy

Also: the ``@joulebench.measure`` decorator, ``store=True`` (the run database of
``joulebench measure``), ``joulebench.plan(...)`` and ``joulebench.probe()``. docs/python.md.
"""

import os as _os

from . import _joulebench
from ._joulebench import EnvironmentError, Error, InputError, RuntimeError  # noqa: A004
from .meter import Meter, Window, measure, probe
from .planning import plan
from .reports import DomainEnergy, EnergyReport, Plan, Probe, Report

__version__ = _joulebench.__version__

# An installed package carries its own copy of the data files (catalogs, coefficients).
_data_dir = _os.path.join(_os.path.dirname(__file__), "data")
if _os.path.isdir(_data_dir):
    _joulebench.set_default_data_dir(_data_dir)

__all__ = [
    "DomainEnergy", "EnergyReport", "EnvironmentError", "Error", "InputError", "Meter", "Plan",
    "Probe", "Report", "RuntimeError", "Window", "measure", "plan", "probe",
]
