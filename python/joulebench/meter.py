"""The Meter (a context manager), its windows, and the ``measure`` decorator.

    import joulebench
    with joulebench.Meter(baseline="5s") as m:      # sources discovered as `joulebench probe`
        with m.window("epoch 1"):
            for batch in loader:
                step(batch)
                m.count()                          # one step of work
    print(m.report())                              # per domain, with provenance, attributable

The sampling runs on a C++ thread; the GIL is released while C++ blocks (probing, the
baseline, the store), so other Python threads run meanwhile.
"""

import atexit
import datetime
import functools
import inspect
import json
import numbers
import sys
import threading
import warnings
import weakref
from typing import Any, Callable, Dict, List, Optional, Union

from . import _joulebench
from .reports import EnergyReport, Probe, Report

Duration = Union[str, float, int, datetime.timedelta]

_SOURCE_SETTINGS = (
    "sysfs_root", "procfs_root", "nvml_library", "cpu_family", "neuron_max_watts", "disable",
    "bmc_url", "bmc_user", "bmc_password_file", "bmc_ca_file", "bmc_insecure", "bmc_chassis",
    "bmc_timeout", "bmc_interval", "ipmi_host",
)


def _duration_text(value: Duration, what: str) -> str:
    """Text such as "100ms" stays as it is; numbers and timedeltas are seconds."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        text = f"{float(value):.9f}".rstrip("0").rstrip(".")
        return (text or "0") + "s"
    raise _joulebench.InputError(
        f"{what}: {value!r} is not a duration; give seconds (0.1) or a string with a unit "
        f"(\"100ms\")")


def _source_settings(settings: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in settings.items():
        if key not in _SOURCE_SETTINGS:
            raise TypeError(f"unexpected keyword argument '{key}'")
        if value is None:
            continue
        if key == "disable":
            value = [value] if isinstance(value, str) else [str(v) for v in value]
        elif key == "bmc_insecure":
            value = bool(value)
        else:
            value = str(value)
        out[key] = value
    return out


def _torch_version() -> str:
    # Only when the program already imported torch: importing it here would cost seconds.
    torch = sys.modules.get("torch")
    return str(getattr(torch, "__version__", "")) if torch is not None else ""


def _program_workload() -> str:
    argv = [a for a in sys.argv if a]
    return "python " + " ".join(argv) if argv else "python (interactive)"


_running: "weakref.WeakSet[Meter]" = weakref.WeakSet()


@atexit.register
def _stop_running_meters() -> None:
    for meter in list(_running):
        meter._finish("the Python interpreter exited before the meter stopped")


class Window:
    """A named span inside a running Meter. Windows may nest and overlap; each samples the
    sensors at its edges. Use it as a context manager, or call ``end()``.

    ``report`` holds its EnergyReport once it ended.
    """

    def __init__(self, meter: "Meter", name: str):
        self._meter = meter
        self.name = name
        self._id: Optional[int] = None
        self.report: Optional[EnergyReport] = None

    def begin(self) -> "Window":
        if self._id is not None or self.report is not None:
            raise _joulebench.InputError(
                f"window '{self.name}' has already begun; a window measures one span")
        self._id = self._meter._session.begin_window(self.name)
        return self

    def end(self) -> EnergyReport:
        if self._id is None:
            if self.report is not None:
                return self.report
            raise _joulebench.InputError(f"window '{self.name}' has not begun")
        data, text = self._meter._session.end_window(self._id)
        self._id = None
        self.report = EnergyReport._from_dict(json.loads(data), text, self._meter.unit)
        return self.report

    def count(self, units: float = 1) -> None:
        """Counts work done (``units`` of the meter's unit); every open window sees it."""
        self._meter.count(units)

    def __enter__(self) -> "Window":
        return self.begin()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._id is not None:
            self.end()
        return False


class Meter:
    """Measures the energy of the code inside ``with Meter() as m:`` on every source
    ``joulebench probe`` finds (RAPL, NVIDIA GPUs, Neuron, a BMC; a model for the rest, labelled
    modelled), per domain and with provenance.

    Arguments (all keyword):
      interval     sampling period: "100ms" (default), 0.01 (seconds); 1ms to 1h
      baseline     measure idle power this long first ("10s"); reports then show the energy
                   attributable to the code (total minus idle power x duration)
      name         the run's label (default: the program's command line)
      unit         what count() counts, singular: "step" (default), "sample", "token"
      store        True: store the run in the run database, as `joulebench measure` does
      db           that database (default: $JOULEBENCH_DB, else ~/.local/share/joulebench/runs.db)
      sysfs_root, procfs_root, nvml_library, cpu_family, neuron_max_watts, disable, bmc_url,
      bmc_user, bmc_password_file, bmc_ca_file, bmc_insecure, bmc_chassis, bmc_timeout,
      bmc_interval, ipmi_host: as the command line's flags of the same names.

    Errors raise joulebench.InputError (bad argument), joulebench.EnvironmentError (e.g. the
    database cannot be opened) with the command line's one-line messages.
    """

    def __init__(self, *, interval: Duration = "100ms", baseline: Optional[Duration] = None,
                 name: Optional[str] = None, unit: str = "step", store: bool = False,
                 db: Optional[str] = None, workload: Optional[str] = None,
                 config: Optional[Dict[str, Any]] = None, **sources: Any):
        self.unit = unit
        self._lock = threading.Lock()
        self._final: Optional[Report] = None
        run_config: Dict[str, Any] = {
            "command": [sys.executable] + list(sys.argv),
            "interface": "python",
        }
        run_config.update(config or {})
        workload = workload or _program_workload()
        self._session = _joulebench._Session(
            sources=_source_settings(sources),
            interval=_duration_text(interval, "--interval"),
            baseline=None if baseline is None else _duration_text(baseline, "--baseline"),
            name=name or "",
            workload=workload,
            unit=unit,
            config_json=json.dumps(run_config, default=str),
            store=bool(store),
            db=None if db is None else str(db),
            torch_version=_torch_version(),
            python_version=sys.version.split()[0],
        )

    # --- the span -----------------------------------------------------------------------
    def start(self) -> "Meter":
        """Starts sampling, measures the baseline (when asked) and begins the measurement.
        Ctrl-C during the baseline ends the run as incomplete and raises KeyboardInterrupt."""
        self._session.begin()
        _running.add(self)
        return self

    def stop(self) -> Report:
        """Ends the measurement (and any window still open) and returns the final report."""
        return self._finish(None)

    def _finish(self, incomplete_reason: Optional[str]) -> Report:
        with self._lock:
            if self._final is None:
                parts = self._session.end(incomplete_reason)
                self._final = self._make_report(parts)
                _running.discard(self)
                error = self._session.store_error()
                if error:
                    warnings.warn(f"joulebench: the run was not stored completely: {error}",
                                  RuntimeWarning, stacklevel=3)
            return self._final

    def __enter__(self) -> "Meter":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        reason = None
        if exc_type is not None:
            if issubclass(exc_type, KeyboardInterrupt):
                reason = "interrupted by KeyboardInterrupt: the code did not run to its end"
            else:
                message = " ".join(str(exc).split())
                reason = f"the measured code raised {exc_type.__name__}" + (
                    f": {message}" if message else "")
        self._finish(reason)
        return False

    @property
    def running(self) -> bool:
        return self._session.running()

    # --- inside the span ----------------------------------------------------------------
    def window(self, name: str) -> Window:
        """A window to use with ``with``: ``with m.window("epoch 1") as w: ...``."""
        return Window(self, str(name))

    def begin_window(self, name: str) -> Window:
        """Begins a window now; ``end()`` it later (it may outlive the block that began it)."""
        return Window(self, str(name)).begin()

    def count(self, units: float = 1) -> None:
        """Adds ``units`` of work (steps, samples, tokens: the meter's ``unit``); every window
        open meanwhile counts them, and reports show energy per unit."""
        if isinstance(units, bool) or not isinstance(units, numbers.Real):
            raise _joulebench.InputError(
                f"count: {units!r} is not an amount of work; give a number of units >= 0, "
                f"e.g. 1 or 32")
        self._session.count(float(units))

    @property
    def work(self) -> float:
        return self._session.work()

    def measure(self, name: Union[str, Callable, None] = None) -> Callable:
        """Decorator: every call of the function is a window of this meter (named after the
        function unless ``name`` is given)."""
        def decorate(func: Callable) -> Callable:
            window_name = name if isinstance(name, str) else func.__qualname__

            if inspect.iscoroutinefunction(func):
                @functools.wraps(func)
                async def async_wrapper(*args, **kwargs):
                    with self.window(window_name):
                        return await func(*args, **kwargs)
                return async_wrapper

            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                with self.window(window_name):
                    return func(*args, **kwargs)
            return wrapper

        if callable(name):
            return decorate(name)
        return decorate

    # --- results ------------------------------------------------------------------------
    def report(self) -> Report:
        """The report: final once the meter stopped; while it runs, up to the latest sample."""
        if self._final is not None:
            return self._final
        return self._make_report(self._session.report())

    def _make_report(self, parts: tuple) -> Report:
        return Report(parts, run_id=self._session.run_id(), db=self._session.db_path(),
                      stored=self._session.stored_line())

    @property
    def run_id(self) -> Optional[str]:
        """The stored run's id (store=True), for `joulebench runs show ID` and plans."""
        return self._session.run_id()

    @property
    def db(self) -> Optional[str]:
        return self._session.db_path()

    @property
    def domains(self) -> List[Dict[str, Any]]:
        """Every domain the meter reads: name, component, provenance, signal, parent..."""
        return json.loads(self._session.domains_json())

    def timeline(self) -> Dict[str, Any]:
        """Every sample so far: ``time_s`` (since the meter started), ``domains`` (names),
        ``joules`` (per domain, cumulative since the first sample) and ``gaps``: spans in which
        a domain has no measurement (``domain``, ``begin_s``, ``end_s``, ``reason``,
        ``bridged``, ``lost``, ``open``); its joules are flat there, never interpolated."""
        return self._session.timeline()


def measure(func: Optional[Callable] = None, *, name: Optional[str] = None,
            on_report: Optional[Callable[[Report], Any]] = None, **meter_args: Any) -> Callable:
    """Decorator: every call of the function is measured by its own Meter.

        @joulebench.measure
        def train(): ...

        @joulebench.measure(baseline="5s", store=True, on_report=print)
        def train(): ...

    The function returns what it returns; ``train.last_report`` holds the Report of the
    latest call (also when it raised), and ``on_report(report)`` is called after each call.
    Keyword arguments are Meter's.
    """
    def decorate(f: Callable) -> Callable:
        label = name or f"{f.__module__}.{f.__qualname__}"
        workload = f"python {label}()"

        def finished(meter: Meter) -> None:
            report = meter.report()
            holder.last_report = report
            if on_report is not None:
                on_report(report)

        if inspect.iscoroutinefunction(f):
            @functools.wraps(f)
            async def holder(*args, **kwargs):
                meter = Meter(name=label, workload=workload, **meter_args)
                try:
                    with meter:
                        return await f(*args, **kwargs)
                finally:
                    if meter._final is not None:
                        finished(meter)
        else:
            @functools.wraps(f)
            def holder(*args, **kwargs):
                meter = Meter(name=label, workload=workload, **meter_args)
                try:
                    with meter:
                        return f(*args, **kwargs)
                finally:
                    if meter._final is not None:
                        finished(meter)

        holder.last_report = None
        return holder

    if func is not None:
        return decorate(func)
    return decorate


def probe(**sources: Any) -> Probe:
    """Which energy sources work here and why the others do not (``joulebench probe``).
    Keyword arguments: Meter's source settings (sysfs_root, nvml_library, disable, ...)."""
    data, table = _joulebench.probe(_source_settings(sources))
    return Probe(json.loads(data), table)
