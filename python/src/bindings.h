// The parts of the joulebench._joulebench extension module, each adding its functions and
// classes to the module. The pure-Python package (python/joulebench/) wraps them.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

namespace joulebench::python {

namespace py = pybind11;

// joulebench.Error, InputError, EnvironmentError and RuntimeError, and the translation of the
// library's exceptions into them (the message is what() unchanged: the CLI's one line).
void BindErrors(py::module_& m);
// _Session: the Meter's C++ half (a run::MeasureSession, optionally stored); probe().
void BindMeter(py::module_& m);
// plan(): `plan infer` / `plan train` from settings.
void BindPlan(py::module_& m);

}  // namespace joulebench::python
