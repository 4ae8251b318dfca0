// The extension module joulebench._joulebench: the library's meter, store and planner for the
// Python package. Everything that blocks in C++ (probing, the baseline, plans, the store)
// runs with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <string>

#include "bindings.h"
#include "joulebench/data_dir.h"

PYBIND11_MODULE(_joulebench, m) {
  namespace py = pybind11;
  m.doc() = "joulebench's C++ library; use the joulebench package rather than this module";
  m.attr("__version__") = JOULEBENCH_VERSION;
  m.attr("commit") = JOULEBENCH_GIT_COMMIT;
  m.def(
      "set_default_data_dir",
      [](const std::string& dir) { joulebench::SetDefaultDataDir(std::filesystem::path(dir)); },
      py::arg("dir"),
      "Where the package's own copy of the data files is ($JOULEBENCH_DATA_DIR still wins).");
  m.def(
      "data_dir", [] { return joulebench::DataDir().string(); },
      "The folder the catalogs and coefficients are read from.");
  joulebench::python::BindErrors(m);
  joulebench::python::BindMeter(m);
  joulebench::python::BindPlan(m);
}
