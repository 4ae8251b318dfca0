// _Session, the C++ half of joulebench.Meter: a run::MeasureSession (probes, meter, baseline,
// windows, work), stored as it happens by a store::StoringObserver when asked. Reports cross
// into Python as (JSON text, table text) pairs; the package turns them into objects.
#include <Python.h>
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "cli/source_flags.h"
#include "joulebench/error.h"
#include "joulebench/run/run_record.h"
#include "joulebench/store/fingerprint.h"
#include "joulebench/store/run_store.h"
#include "joulebench/store/storing_observer.h"
#include "joulebench/units.h"
#include "report/energy_report_format.h"
#include "report/measure_session_format.h"
#include "run/measure_session.h"

namespace joulebench::python {
namespace {

using Texts = std::pair<std::string, std::string>;  // (JSON, table)

// Meter(...)'s text-valued source settings and the flags they stand for.
const std::map<std::string, std::string cli::SourceFlags::*> kTextSettings = {
    {"sysfs_root", &cli::SourceFlags::sysfs_root},
    {"procfs_root", &cli::SourceFlags::procfs_root},
    {"nvml_library", &cli::SourceFlags::nvml_library},
    {"cpu_family", &cli::SourceFlags::cpu_family},
    {"neuron_max_watts", &cli::SourceFlags::neuron_max_watts},
    {"bmc_url", &cli::SourceFlags::bmc_url},
    {"bmc_user", &cli::SourceFlags::bmc_user},
    {"bmc_password_file", &cli::SourceFlags::bmc_password_file},
    {"bmc_ca_file", &cli::SourceFlags::bmc_ca_file},
    {"bmc_chassis", &cli::SourceFlags::bmc_chassis},
    {"bmc_timeout", &cli::SourceFlags::bmc_timeout},
    {"bmc_interval", &cli::SourceFlags::bmc_interval},
    {"ipmi_host", &cli::SourceFlags::ipmi_host},
};

// The source settings of Meter(...) and probe(...), with the CLI's flag checks and messages
// (they name the flag: "--sysfs-root '/x' is not a directory; ...") over the environment's
// defaults (JOULEBENCH_SYSFS_ROOT, ...).
energy::SourceOptions SourceOptionsFrom(const py::dict& settings) {
  cli::SourceFlags flags;
  for (const auto& [key_handle, value] : settings) {
    const auto key = key_handle.cast<std::string>();
    if (value.is_none()) continue;
    if (key == "disable") {
      flags.disabled = value.cast<std::vector<std::string>>();
    } else if (key == "bmc_insecure") {
      flags.bmc_insecure = value.cast<bool>();
    } else {
      const auto text = py::str(value).cast<std::string>();
      const auto field = kTextSettings.find(key);
      if (field == kTextSettings.end()) {
        throw InputError(fmt::format("unknown source setting '{}'", key));
      }
      flags.*(field->second) = text;
    }
  }
  return cli::ResolveSourceOptions(flags);
}

// The sampling period, checked as `measure --interval` checks it.
std::chrono::nanoseconds ParseInterval(const std::string& text) {
  const auto nonzero = text.find_first_not_of("0.");
  if (nonzero != 0 &&
      (nonzero == std::string::npos || !std::isdigit(static_cast<unsigned char>(text[nonzero])))) {
    throw InputError(fmt::format("--interval '{}' must be at least 1ms, e.g. 100ms", text));
  }
  const auto interval = ParseDuration(text, "--interval");
  if (interval < std::chrono::milliseconds(1) || interval > std::chrono::hours(1)) {
    throw InputError(fmt::format("--interval '{}' is out of range; use 1ms to 1h", text));
  }
  return interval;
}

// A session's report for Python: its JSON, its whole text, and the tables of its parts
// (measurement, baseline or None, each window) so that each part prints as the CLI would.
py::tuple ReportTuple(const run::MeasureSessionReport& r) {
  std::vector<std::string> windows;
  windows.reserve(r.windows.size());
  for (const auto& w : r.windows) windows.push_back(report::FormatWindowEnergy(w, r.work_unit));
  py::object baseline = py::none();
  if (r.baseline) baseline = py::str(report::FormatEnergyReportTable(*r.baseline));
  return py::make_tuple(
      run::DumpJson(report::MeasureSessionReportToJson(r)), report::FormatMeasureSessionReport(r),
      report::FormatWindowEnergy({r.measurement, r.work}, r.work_unit), baseline, windows);
}

class Session {
 public:
  Session(const py::dict& sources, const std::string& interval,
          const std::optional<std::string>& baseline, const std::string& name,
          const std::string& workload, const std::string& unit, const std::string& config_json,
          bool store, const std::optional<std::string>& db, const std::string& torch_version,
          const std::string& python_version) {
    run::MeasureSessionOptions options;
    options.sources = SourceOptionsFrom(sources);
    options.meter.interval = ParseInterval(interval);
    if (baseline) options.baseline = ParseDuration(*baseline, "--baseline");
    options.name = name;
    options.workload = workload;
    options.work_unit = unit;
    unit_ = unit;
    options.config = nlohmann::json::parse(config_json);
    py::gil_scoped_release release;
    if (store) {
      // Opened first, as the CLI does: a bad database fails before anything is measured.
      storing_.emplace(store::OpenStore(db));
      options.observer = &*storing_;
    }
    session_ = std::make_unique<run::MeasureSession>(std::move(options));
    if (storing_) {
      store::FingerprintOptions fingerprint;
      for (const auto& p : session_->probes()) {
        if (p.source_name == "nvml") {
          fingerprint.nvml_details.insert(fingerprint.nvml_details.end(), p.details.begin(),
                                          p.details.end());
        }
      }
      fingerprint.torch_version = torch_version;
      nlohmann::json base = store::MachineFingerprint(fingerprint);
      base["python"] = python_version;
      storing_->set_base_fingerprint(std::move(base));
    }
  }

  ~Session() {
    // A running session ends as incomplete, while the store observer is still alive.
    if (session_ && session_->running()) {
      py::gil_scoped_release release;
      session_.reset();
    }
  }

  // Starts measuring. A KeyboardInterrupt during the baseline ends the run as incomplete and
  // is raised.
  void Begin() {
    bool completed = false;
    {
      py::gil_scoped_release release;
      completed = session_->Begin([] {
        py::gil_scoped_acquire acquire;
        return PyErr_CheckSignals() != 0;
      });
    }
    if (completed) return;
    if (PyErr_Occurred() == nullptr) {
      throw InputError("the meter was stopped (from another thread) during its baseline");
    }
    py::error_already_set pending;  // the exception the signal handler raised
    {
      py::gil_scoped_release release;
      session_->End("interrupted during the idle baseline: nothing was measured after it");
    }
    throw pending;
  }

  sampling::WindowId BeginWindow(std::string name) {
    py::gil_scoped_release release;
    return session_->BeginWindow(std::move(name));
  }

  Texts EndWindow(sampling::WindowId id) {
    run::WindowEnergy w;
    {
      py::gil_scoped_release release;
      w = session_->EndWindow(id);
    }
    return {run::DumpJson(report::WindowEnergyToJson(w)), report::FormatWindowEnergy(w, unit_)};
  }

  void Count(double units) { session_->Count(units); }
  double Work() const { return session_->work(); }
  bool Running() const { return session_->running(); }

  py::tuple End(const std::optional<std::string>& incomplete_reason) {
    run::MeasureSessionReport r;
    {
      py::gil_scoped_release release;
      session_->End(incomplete_reason);
      r = session_->Report();
    }
    return ReportTuple(r);
  }

  py::tuple Report() const {
    run::MeasureSessionReport r;
    {
      py::gil_scoped_release release;
      r = session_->Report();
    }
    return ReportTuple(r);
  }

  py::dict Timeline() const {
    sampling::Timeline t;
    {
      py::gil_scoped_release release;
      t = session_->Timeline();
    }
    py::dict out;
    out["start_unix_s"] = t.start_unix_s;
    std::vector<std::string> names;
    for (const auto& d : t.domains) names.push_back(d.name);
    out["domains"] = names;
    out["time_s"] = t.time_s;
    out["joules"] = t.joules;
    // Spans without a measurement of a domain: its joules are flat there, not interpolated.
    py::list gaps;
    for (const auto& g : t.gaps) {
      py::dict gap;
      gap["domain"] = g.domain;
      gap["begin_s"] = g.begin_s;
      gap["end_s"] = g.end_s;
      gap["reason"] = g.reason;
      gap["bridged"] = g.bridged;
      gap["lost"] = g.lost;
      gap["open"] = g.open;
      gaps.append(gap);
    }
    out["gaps"] = gaps;
    return out;
  }

  std::string DomainsJson() const {
    nlohmann::json domains = nlohmann::json::array();
    for (const auto& d : session_->domains()) domains.push_back(report::DomainInfoToJson(d));
    return run::DumpJson(domains);
  }

  std::optional<std::string> RunId() const {
    if (!storing_ || storing_->run_id().empty()) return std::nullopt;
    return storing_->run_id();
  }
  std::optional<std::string> DbPath() const {
    if (!storing_) return std::nullopt;
    return storing_->db_path().string();
  }
  std::optional<std::string> StoredLine() const {
    if (!storing_) return std::nullopt;
    return storing_->StoredLine();
  }
  std::optional<std::string> StoreError() const {
    if (!storing_) return std::nullopt;
    return storing_->error();
  }

 private:
  // Declared first so that it outlives the session, which tells it about the run's end.
  std::optional<store::StoringObserver> storing_;
  std::unique_ptr<run::MeasureSession> session_;
  std::string unit_;
};

Texts Probe(const py::dict& sources) {
  const energy::SourceOptions options = SourceOptionsFrom(sources);
  py::gil_scoped_release release;
  const auto probes = energy::ProbeAll(options);
  return {run::DumpJson(report::ProbeResultsToJson(probes)), report::FormatProbeTable(probes)};
}

}  // namespace

void BindMeter(py::module_& m) {
  py::class_<Session>(m, "_Session")
      .def(py::init<const py::dict&, const std::string&, const std::optional<std::string>&,
                    const std::string&, const std::string&, const std::string&, const std::string&,
                    bool, const std::optional<std::string>&, const std::string&,
                    const std::string&>(),
           py::arg("sources"), py::arg("interval"), py::arg("baseline"), py::arg("name"),
           py::arg("workload"), py::arg("unit"), py::arg("config_json"), py::arg("store"),
           py::arg("db"), py::arg("torch_version"), py::arg("python_version"))
      .def("begin", &Session::Begin)
      .def("begin_window", &Session::BeginWindow, py::arg("name"))
      .def("end_window", &Session::EndWindow, py::arg("id"))
      .def("count", &Session::Count, py::arg("units"))
      .def("work", &Session::Work)
      .def("running", &Session::Running)
      .def("end", &Session::End, py::arg("incomplete_reason"))
      .def("report", &Session::Report)
      .def("timeline", &Session::Timeline)
      .def("domains_json", &Session::DomainsJson)
      .def("run_id", &Session::RunId)
      .def("db_path", &Session::DbPath)
      .def("stored_line", &Session::StoredLine)
      .def("store_error", &Session::StoreError);
  m.def("probe", &Probe, py::arg("sources"));
}

}  // namespace joulebench::python
