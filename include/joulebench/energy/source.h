// Energy sources: one kind of sensor each (powercap RAPL, perf_event power PMU, NVML,
// AWS Neuron sysfs, the BMC through Redfish or IPMI DCMI, a utilisation-driven model), each
// exposing one or more domains.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::energy {

// What part of the machine a domain covers. Used to add up a whole-machine total without
// double counting (see DomainInfo::parent).
enum class Component {
  kCpuPackage,   // a CPU socket (RAPL package)
  kCpuCores,     // the cores of a package (RAPL core / PP0)
  kUncore,       // the uncore / integrated GPU of a package (RAPL uncore / PP1)
  kDram,         // memory attached to a package (RAPL dram)
  kPlatform,     // whole platform / system (RAPL psys, BMC)
  kAccelerator,  // GPU, Inferentia, Trainium
  kCpu,          // all CPUs, as a model estimates them
  kMemory,       // all memory, as a model estimates it
  kNetwork,      // network traffic, as a model estimates it
};
std::string_view ComponentName(Component c);

enum class ProvenanceKind { kMeasured, kModelled, kGiven };
std::string_view ProvenanceKindName(ProvenanceKind k);  // "measured", "modelled", "given"

// Where a number comes from, printed next to it: "measured by powercap RAPL
// (intel-rapl:0)", "modelled by ccf-2026 coefficients (Cascade Lake)".
struct Provenance {
  ProvenanceKind kind = ProvenanceKind::kMeasured;
  std::string by;  // sensor or model (with coefficient set), e.g. "powercap RAPL intel-rapl:0"
  std::string Describe() const;  // "measured: powercap RAPL intel-rapl:0"
};

// How a domain reports: a cumulative energy counter or a power gauge.
enum class SignalKind { kCounter, kGauge };

struct DomainInfo {
  std::string name;  // stable, slash-separated: "rapl/package-0", "rapl/package-0/dram", "nvml/gpu0"
  Component component = Component::kCpuPackage;
  Provenance provenance;
  SignalKind signal = SignalKind::kCounter;
  // Counters: the raw value returns to 0 after this many joules (powercap's
  // max_energy_range_uj). 0 means the counter never wraps (e.g. kernel-extended perf counters).
  double counter_range_joules = 0;
  // A plausible upper bound of this domain's power (e.g. RAPL constraint max_power_uw); used
  // to tell how many times a counter may have wrapped during a long gap. 0 when unknown.
  double max_watts = 0;
  // Name of the domain that contains this one ("" if none): core and dram under a package,
  // a package under psys. The total adds only domains whose containers are not counted.
  std::string parent;
  // How often the sensor refreshes, when known (NVML ~0.02-0.1 s, Neuron ~60 s); 0 if unknown.
  double update_period_s = 0;
  // Windows shorter than this get a warning: the sensor averages or refreshes too slowly to
  // resolve them (NVML on Ampere and newer averages power over 1 s). 0 when no limit is known.
  double min_window_s = 0;
  // Free text shown by probe and in reports (e.g. "coarse: percent of maximum device power").
  std::string note;
  // True for a reading of the whole machine at its power inlet (a BMC, through Redfish or
  // IPMI DCMI; component kPlatform). The meter then puts every other domain measured on this
  // machine inside it (RAPL psys and packages, GPUs, ...), so that the total is this reading
  // and the report can show "rest of system = whole - components". RAPL psys is kPlatform
  // too but covers only what the platform's PSys input feeds, so it stays false. Default false.
  bool whole_machine = false;
  // Counters: true when the sensor keeps counting while it cannot be read (RAPL, NVML's energy
  // counter), so that the difference across failed reads is measured energy. False for a
  // counter joulebench builds itself from power readings (a BMC's): a span without readings
  // then holds no measurement, and the sampler does not count it. Default true.
  bool counts_through_gaps = true;
};

// One reading of one domain. Counters: cumulative joules as the sensor reports them (may
// wrap at counter_range_joules). Gauges: watts. ok=false when this read failed: the sampler
// records a gap in the domain's timeline from its last good sample to the next one
// (sampling::TimelineGap) and never interpolates energy over it.
struct Reading {
  double value = 0;
  bool ok = false;
  // When !ok: why, in a few words that outlive the call (a string literal or text the source
  // keeps), e.g. "GPU is lost"; nullptr when the source gives no reason.
  const char* problem = nullptr;
  // When !ok: the source will not read this domain again (a GPU that fell off the bus, a
  // powercap zone that disappeared): the domain is lost from its last good sample on.
  bool lost = false;
};

// A source keeps its files and handles open and reads all its domains at once.
class Source {
 public:
  virtual ~Source() = default;
  // Short stable name: "powercap", "perf_event", "nvml", "neuron", "redfish", "ipmi", "model".
  virtual std::string_view name() const = 0;
  virtual const std::vector<DomainInfo>& domains() const = 0;
  // Reads every domain once into out (out.size() == domains().size()). Called from the
  // sampler thread only; must not allocate in steady state.
  virtual void Read(std::span<Reading> out) = 0;
  // Problems seen while reading (a zone that vanished, garbage in a file), each once.
  // Called outside the sampling hot path.
  virtual std::vector<std::string> TakeWarnings() { return {}; }
};

// How to reach the baseboard management controller (BMC): its Redfish service over HTTPS,
// and IPMI DCMI in-band (the kernel's /dev/ipmi0) or over the LAN. The password is held here
// in memory only: it never comes from argv, and nothing prints or stores it.
struct BmcOptions {
  // Redfish: "https://host[:port]" of the BMC (the service root /redfish/v1 is found under
  // it). Empty: Redfish is not tried. Environment JOULEBENCH_BMC_URL.
  std::string url;
  // Account on the BMC, for Redfish (HTTP Basic) and IPMI over the LAN. Environment
  // JOULEBENCH_BMC_USER.
  std::string user;
  // Its password: from --bmc-password-file or the environment variable
  // JOULEBENCH_BMC_PASSWORD. Empty when none was given.
  std::string password;
  // PEM file of the CA (or the BMC's own self-signed certificate) to verify the BMC's TLS
  // certificate against, instead of the system's CA store. Empty: the system's store.
  std::string ca_file;
  // Accept any TLS certificate (no verification of the peer or its host name). Off by
  // default; when on, the run's warnings say so.
  bool insecure = false;
  // Chassis to read (its Redfish Id, e.g. "1" or "System.Embedded.1"). Empty: the outermost
  // chassis that reports power (the one holding the computer system, when several do).
  std::string chassis;
  // Time each request to the BMC may take, connecting included (Redfish: per HTTP request;
  // IPMI over the LAN: the session timeout). Default 5 s.
  std::chrono::milliseconds timeout{5000};
  // How often to read the BMC's power. Empty: the sensor's own SensingInterval when Redfish
  // publishes one, else 1 s. 100 ms to 1 h.
  std::optional<std::chrono::milliseconds> poll_interval;
  // IPMI over the LAN (RMCP+, IPMI 2.0): host name or address of the BMC. Empty: in-band
  // through the kernel's OpenIPMI driver (/dev/ipmi0). Environment JOULEBENCH_IPMI_HOST.
  std::string ipmi_host;
};

// Where sources look. Every path can be redirected by flag or environment variable
// (JOULEBENCH_SYSFS_ROOT, JOULEBENCH_PROCFS_ROOT, JOULEBENCH_NVML_LIBRARY,
// JOULEBENCH_CPU_FAMILY, JOULEBENCH_NEURON_MAX_WATTS): that is how tests use fake trees.
struct SourceOptions {
  std::filesystem::path sysfs_root = "/sys";
  std::filesystem::path procfs_root = "/proc";
  std::string nvml_library = "libnvidia-ml.so.1";
  std::optional<std::string> cpu_family;              // model: override /proc/cpuinfo detection
  std::optional<double> neuron_max_device_watts;      // Neuron: turns percentages into watts
  std::vector<std::string> disabled;                  // source names not to use
  BmcOptions bmc;                                     // Redfish and IPMI DCMI

  // Defaults overridden by the environment variables above and, for the BMC,
  // JOULEBENCH_BMC_URL, JOULEBENCH_BMC_USER, JOULEBENCH_BMC_PASSWORD, JOULEBENCH_IPMI_HOST.
  static SourceOptions FromEnvironment();
};

// kSkipped: not tried or not used on purpose (disabled by the caller, or perf_event when
// powercap already reads the same RAPL counters); reason says which.
enum class ProbeStatus { kAvailable, kAbsent, kPermissionDenied, kUnsupported, kError, kSkipped };
std::string_view ProbeStatusName(ProbeStatus s);

// What trying one source found. When status is kAvailable, source is set.
struct ProbeResult {
  std::string source_name;
  ProbeStatus status = ProbeStatus::kAbsent;
  std::string reason;                // why it is not available (empty when available)
  std::string fix;                   // what the user can do about it
  std::vector<std::string> details;  // extra facts (driver version, GPU names, ...)
  std::unique_ptr<Source> source;
};

// Each source's discovery. Never throws because the sensor is missing: reports it.
ProbeResult ProbePowercap(const SourceOptions& options);
ProbeResult ProbePerfEvent(const SourceOptions& options);
ProbeResult ProbeNvml(const SourceOptions& options);
ProbeResult ProbeNeuron(const SourceOptions& options);
// The BMC's whole-system power through Redfish (needs options.bmc.url) and IPMI DCMI
// (in-band, or over the LAN with options.bmc.ipmi_host). Every network call has a timeout
// (options.bmc.timeout): a BMC that does not answer makes the probe say so, never hang.
ProbeResult ProbeRedfish(const SourceOptions& options);
ProbeResult ProbeIpmi(const SourceOptions& options);
ProbeResult ProbeModel(const SourceOptions& options, const std::vector<DomainInfo>& measured);

// Tries every source in order: powercap, perf_event (used only when powercap is not
// usable), nvml, neuron, redfish, ipmi (used only when Redfish does not already read the
// BMC), then the model for the components no sensor measures.
std::vector<ProbeResult> ProbeAll(const SourceOptions& options);

}  // namespace joulebench::energy
