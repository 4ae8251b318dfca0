#include "run/measure_session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include "joulebench/error.h"

namespace joulebench::run {
namespace {

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Windows end much more often than a store needs to hear about them (a window per training
// step): results are synced at most this often; End() always syncs.
constexpr auto kPartialInterval = std::chrono::seconds(1);

// How often Begin() asks whether the baseline was interrupted.
constexpr auto kInterruptPoll = std::chrono::milliseconds(50);

struct OpenWindow {
  std::string name;
  double work_at_begin = 0;
};

}  // namespace

struct MeasureSession::State {
  MeasureSessionOptions options;
  std::vector<ProbeSummary> probes;
  std::unique_ptr<sampling::Meter> meter;
  RunObserver none;

  mutable std::mutex mutex;
  bool begun = false;
  bool measuring = false;  // the "measurement" window is open
  bool ended = false;
  sampling::WindowId measurement_id = 0;
  double start_unix_s = 0;
  double end_unix_s = 0;
  std::optional<sampling::EnergyReport> baseline;
  std::optional<sampling::EnergyReport> measurement;  // once ended
  double work = 0;
  std::map<sampling::WindowId, OpenWindow> open;
  std::vector<WindowEnergy> windows;
  std::vector<std::string> warnings;
  RunStatus status = RunStatus::kRunning;
  RunRecord record;
  std::chrono::steady_clock::time_point last_partial{};

  RunObserver& observer() { return options.observer != nullptr ? *options.observer : none; }

  void TakeMeterWarningsLocked() {
    for (auto& w : meter->TakeWarnings()) {
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) {
        warnings.push_back(std::move(w));
      }
    }
  }

  // The measurement so far: to the latest sample while running.
  std::optional<sampling::EnergyReport> MeasurementLocked() const {
    if (measurement) return measurement;
    if (!measuring) return std::nullopt;
    return meter->WindowSoFar(measurement_id);
  }

  RunRecord RecordLocked(bool with_timeline) const {
    MeasureRunParts parts;
    parts.name = options.name.empty() ? options.workload : options.name;
    parts.workload = options.workload;
    parts.config = options.config;
    parts.config["work_unit"] = options.work_unit;
    parts.meter = options.meter;
    parts.baseline_duration = options.baseline;
    parts.fingerprint = options.fingerprint;
    parts.start_unix_s = start_unix_s;
    parts.end_unix_s = end_unix_s;
    parts.baseline = baseline;
    parts.measurement = MeasurementLocked();
    if (with_timeline) parts.timeline = meter->Snapshot();
    parts.warnings = warnings;
    RunRecord r = MeasureRunRecord(parts);
    for (const auto& w : windows) r.energy.push_back(w.energy);
    r.status = status;
    const Metric* energy = r.FindMetric("energy");
    if (parts.measurement && energy != nullptr && work > 0) {
      const std::string& unit = options.work_unit;
      const std::string provenance = energy->provenance;
      r.metrics.push_back({"work", work, unit, "counted by the measured code"});
      r.metrics.push_back(
          {"energy_per_work", *JoulesPerWork(*parts.measurement, work), "J/" + unit, provenance});
      if (auto a = AttributableJoulesPerWork(*parts.measurement, work)) {
        r.metrics.push_back({"attributable_energy_per_work", *a, "J/" + unit,
                             provenance + " minus the idle baseline"});
      }
    }
    return r;
  }

  void MaybePartialLocked() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_partial < kPartialInterval) return;
    last_partial = now;
    observer().OnPartial(RecordLocked(false));
  }
};

MeasureSession::MeasureSession(MeasureSessionOptions options) : state_(std::make_unique<State>()) {
  if (options.work_unit.empty()) {
    throw InputError("unit: empty; name what count() counts, e.g. \"step\" or \"sample\"");
  }
  State& s = *state_;
  s.options = std::move(options);
  auto probes = energy::ProbeAll(s.options.sources);
  for (const auto& p : probes) {
    s.probes.push_back({p.source_name, p.status, p.reason, p.fix,
                        p.source ? p.source->domains().size() : 0, p.details});
  }
  s.meter = std::make_unique<sampling::Meter>(
      sampling::Meter::FromProbe(std::move(probes), s.options.meter));
}

MeasureSession::~MeasureSession() {
  if (!state_) return;
  try {
    if (running()) End("the meter was destroyed before it ended");
  } catch (...) {
    // A destructor must not throw; the store marks a run whose writer is gone as incomplete.
  }
}

const std::vector<ProbeSummary>& MeasureSession::probes() const { return state_->probes; }
const std::vector<energy::DomainInfo>& MeasureSession::domains() const {
  return state_->meter->domains();
}
const sampling::Meter& MeasureSession::meter() const { return *state_->meter; }

bool MeasureSession::running() const {
  std::lock_guard lock(state_->mutex);
  return state_->begun && !state_->ended;
}

bool MeasureSession::Begin(const std::function<bool()>& interrupted) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (s.begun) {
      throw InputError("this meter has already started; a meter measures one span: make a new one");
    }
    s.begun = true;
  }
  s.meter->Start();
  {
    std::lock_guard lock(s.mutex);
    s.start_unix_s = UnixNow();
    RunRecord header = s.RecordLocked(false);
    s.observer().OnBegin(header, *s.meter);
  }
  if (s.options.baseline) {
    s.observer().OnPhase("baseline", std::chrono::duration<double>(*s.options.baseline).count());
    const sampling::WindowId id = s.meter->BeginWindow("baseline");
    const auto deadline = std::chrono::steady_clock::now() + *s.options.baseline;
    bool stopped = false;
    while (!stopped) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds::zero()) break;
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(left, kInterruptPoll));
      stopped = (interrupted && interrupted()) || !running();
    }
    sampling::EnergyReport report = s.meter->EndWindow(id);
    std::lock_guard lock(s.mutex);
    if (s.ended) return false;  // End() from another thread
    if (stopped) {
      // Kept as measured, but not used as the idle power: it is shorter than asked.
      s.warnings.push_back(fmt::format("the baseline was interrupted after {:.3g} s of {:.3g} s",
                                       report.duration_s,
                                       std::chrono::duration<double>(*s.options.baseline).count()));
      s.baseline = std::move(report);
      return false;
    }
    std::vector<std::pair<std::string, double>> watts;
    for (const auto& d : report.domains) watts.emplace_back(d.domain.name, d.mean_watts);
    s.meter->SetBaseline(watts);
    s.baseline = std::move(report);
  }
  std::lock_guard lock(s.mutex);
  if (s.ended) return false;
  s.start_unix_s = UnixNow();
  s.measurement_id = s.meter->BeginWindow("measurement");
  s.measuring = true;
  s.observer().OnPhase("measuring", std::nullopt);
  return true;
}

sampling::WindowId MeasureSession::BeginWindow(std::string name) {
  if (name == "baseline" || name == "measurement") {
    throw InputError(fmt::format(
        "window name '{}' is the meter's own (its idle baseline and its whole span); choose "
        "another name",
        name));
  }
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.measuring) {
    throw InputError(
        "the meter is not measuring: open windows inside 'with joulebench.Meter() as m:' (or "
        "between start() and stop())");
  }
  const sampling::WindowId id = s.meter->BeginWindow(name);
  s.open.emplace(id, OpenWindow{std::move(name), s.work});
  return id;
}

WindowEnergy MeasureSession::EndWindow(sampling::WindowId id) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  const auto it = s.open.find(id);
  if (it == s.open.end()) {
    throw InputError(fmt::format(
        "window {} is not open: it was never begun, has already ended, or the meter stopped", id));
  }
  const double work = s.work - it->second.work_at_begin;
  s.open.erase(it);
  WindowEnergy w{s.meter->EndWindow(id), work};
  s.windows.push_back(w);
  s.MaybePartialLocked();
  return w;
}

void MeasureSession::Count(double units) {
  if (!std::isfinite(units) || units < 0) {
    throw InputError(fmt::format(
        "count: {} is not an amount of work; give a number of units >= 0, e.g. 1 or 32", units));
  }
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.measuring) {
    throw InputError("count: the meter is not measuring; count work while it runs");
  }
  s.work += units;
}

double MeasureSession::work() const {
  std::lock_guard lock(state_->mutex);
  return state_->work;
}

const RunRecord& MeasureSession::End(std::optional<std::string> incomplete_reason) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.ended) return s.record;
  s.ended = true;
  if (!s.begun) {
    s.status = RunStatus::kIncomplete;
    if (incomplete_reason) s.warnings.push_back(*incomplete_reason);
    s.record = s.RecordLocked(false);
    return s.record;
  }
  for (auto& [id, window] : s.open) {
    WindowEnergy w{s.meter->EndWindow(id), s.work - window.work_at_begin};
    const std::string warning = fmt::format(
        "window '{}' was still open when the meter stopped: it ends there", window.name);
    w.energy.warnings.push_back(warning);
    s.warnings.push_back(warning);
    s.windows.push_back(std::move(w));
  }
  s.open.clear();
  if (s.measuring) {
    s.measurement = s.meter->EndWindow(s.measurement_id);
    s.measuring = false;
  }
  s.end_unix_s = UnixNow();
  s.meter->Stop();
  s.TakeMeterWarningsLocked();
  s.status = incomplete_reason ? RunStatus::kIncomplete : RunStatus::kComplete;
  if (incomplete_reason) s.warnings.push_back(*incomplete_reason);
  s.record = s.RecordLocked(true);
  s.observer().OnEnd(s.record);
  return s.record;
}

MeasureSessionReport MeasureSession::Report() const {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.begun) s.TakeMeterWarningsLocked();
  MeasureSessionReport r;
  r.probes = s.probes;
  r.baseline = s.baseline;
  if (auto m = s.MeasurementLocked()) r.measurement = std::move(*m);
  r.measurement.name = "measurement";
  r.work = s.work;
  r.work_unit = s.options.work_unit;
  r.windows = s.windows;
  r.warnings = s.warnings;
  r.status = s.status;
  r.ended = s.ended;
  return r;
}

sampling::Timeline MeasureSession::Timeline() const { return state_->meter->Snapshot(); }

std::optional<double> JoulesPerWork(const sampling::EnergyReport& energy, double work) {
  if (!(work > 0)) return std::nullopt;
  return energy.total_joules / work;
}

std::optional<double> AttributableJoulesPerWork(const sampling::EnergyReport& energy, double work) {
  if (!(work > 0) || !energy.total_attributable_joules) return std::nullopt;
  return *energy.total_attributable_joules / work;
}

}  // namespace joulebench::run
