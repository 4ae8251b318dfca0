#include "joulebench/energy/ccf_coefficients.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "joulebench/data_dir.h"
#include "joulebench/error.h"

namespace joulebench::energy {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits one CSV line; fields may be double-quoted (with "" for a quote inside).
std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back(Trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.emplace_back(Trim(field));
  return fields;
}

// A CSV file as rows of named fields; checks that every row has the header's columns.
struct CsvTable {
  std::filesystem::path path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_numbers;

  std::size_t Column(std::string_view name) const {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    throw EnvironmentError(
        fmt::format("data file {} has no column '{}'; restore it from the "
                    "joulebench sources",
                    path.string(), name));
  }
  double Number(std::size_t row, std::size_t column) const {
    const std::string& text = rows[row][column];
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
      throw EnvironmentError(fmt::format("data file {} line {}: column '{}' is '{}', not a number",
                                         path.string(), line_numbers[row], header[column], text));
    }
    return value;
  }
};

CsvTable ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw EnvironmentError(fmt::format(
        "cannot read data file {}; set JOULEBENCH_DATA_DIR to the folder holding joulebench's "
        "data/",
        path.string()));
  }
  CsvTable table;
  table.path = path;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (Trim(line).empty() || line.front() == '#') continue;
    auto fields = SplitCsvLine(line);
    if (table.header.empty()) {
      table.header = std::move(fields);
      continue;
    }
    if (fields.size() != table.header.size()) {
      throw EnvironmentError(fmt::format("data file {} line {}: {} fields, the header has {}",
                                         path.string(), line_number, fields.size(),
                                         table.header.size()));
    }
    table.rows.push_back(std::move(fields));
    table.line_numbers.push_back(line_number);
  }
  if (table.header.empty()) {
    throw EnvironmentError(fmt::format("data file {} is empty", path.string()));
  }
  return table;
}

// The "key : value" fields of the first processor in /proc/cpuinfo.
std::map<std::string, std::string> FirstProcessorFields(std::string_view text) {
  std::map<std::string, std::string> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(Trim(line.substr(0, colon)));
    if (fields.count(key)) continue;  // only the first processor's value
    fields.emplace(std::move(key), std::string(Trim(line.substr(colon + 1))));
  }
  return fields;
}

std::optional<long> ParseLong(const std::map<std::string, std::string>& fields,
                              const std::string& key) {
  auto it = fields.find(key);
  if (it == fields.end()) return std::nullopt;
  const std::string& s = it->second;
  long value = 0;
  int base = 10;
  std::string_view digits = s;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

// Intel: from the model name's numbering (Xeon Scalable generation digit, E5/E3 version,
// Core generation). Empty when the name does not say.
std::string IntelFamilyFromModelName(const std::string& name) {
  std::smatch m;
  // Xeon Scalable: the second digit of the SKU is the generation (Intel's numbering):
  // 81xx Skylake-SP, 82xx Cascade Lake, 83xx Ice Lake, 84xx Sapphire Rapids.
  static const std::regex scalable_sku(
      R"((Platinum|Gold|Silver|Bronze)\s+(\d)(\d)(\d\d)([A-Z+]*))");
  if (std::regex_search(name, m, scalable_sku)) {
    const char generation = m[3].str()[0];
    const std::string suffix = m[5].str();
    switch (generation) {
      case '1':
        return "Skylake";
      case '2':
        return "Cascade Lake";
      case '3':
        // 83xxH/HL are Cooper Lake, which the table does not list.
        return suffix.find('H') != std::string::npos ? "" : "Ice Lake";
      case '4':
        return "Sapphire Rapids";
      default:
        return "";
    }
  }
  static const std::regex xeon_e_sku(R"(E[357]-\d{4}[A-Z]*(\s+v(\d))?)");
  if (std::regex_search(name, m, xeon_e_sku)) {
    const std::string version = m[2].str();
    if (version.empty()) return "Sandy Bridge";
    switch (version[0]) {
      case '2':
        return "Ivy Bridge";
      case '3':
        return "Haswell";
      case '4':
        return "Broadwell";
      case '5':
        return "Skylake";
      default:
        return "";
    }
  }
  static const std::regex xeon_e2_sku(R"(E-2[12]\d\d)");
  if (std::regex_search(name, m, xeon_e2_sku)) return "Coffee Lake";
  static const std::regex core_sku(R"(i[3579]-(\d{4,5}))");
  if (std::regex_search(name, m, core_sku)) {
    const std::string sku = m[1].str();
    if (sku.size() == 5) return "";  // 10th generation and later: not in the table
    switch (sku[0]) {
      case '2':
        return "Sandy Bridge";
      case '3':
        return "Ivy Bridge";
      case '4':
        return "Haswell";
      case '5':
        return "Broadwell";
      case '6':
        return "Skylake";
      case '8':
      case '9':
        return "Coffee Lake";
      default:
        return "";
    }
  }
  return "";
}

// Intel family 6 model numbers (Intel SDM vol. 4, table 2-1), for names without a SKU.
std::string IntelFamilyFromModelNumber(long model, long stepping) {
  switch (model) {
    case 42:
    case 45:
      return "Sandy Bridge";
    case 58:
    case 62:
      return "Ivy Bridge";
    case 60:
    case 63:
    case 69:
    case 70:
      return "Haswell";
    case 61:
    case 71:
    case 79:
    case 86:
      return "Broadwell";
    case 78:
    case 94:
      return "Skylake";
    case 85:
      // Skylake-SP is stepping <= 4, Cascade Lake 5-7, Cooper Lake 10-11 (not in the table).
      if (stepping <= 4) return "Skylake";
      if (stepping <= 7) return "Cascade Lake";
      return "";
    case 106:
    case 108:
      return "Ice Lake";
    case 143:
      return "Sapphire Rapids";
    case 158:
      // Stepping 9 is Kaby Lake, 10 and later Coffee Lake.
      return stepping >= 10 ? "Coffee Lake" : "";
    default:
      return "";
  }
}

// AMD EPYC: the last digit of the model number is the generation (7R13 = 3rd, 9R14 = 4th).
std::string AmdFamilyFromModelName(const std::string& name) {
  static const std::regex epyc_sku(R"(EPYC\s+[0-9][0-9A-Z]{2}([0-9]))");
  std::smatch m;
  if (!std::regex_search(name, m, epyc_sku)) return "";
  switch (m[1].str()[0]) {
    case '1':
      return "AMD EPYC 1st Gen";
    case '2':
      return "AMD EPYC 2nd Gen";
    case '3':
      return "AMD EPYC 3rd Gen";
    case '4':
      return "AMD EPYC 4th Gen";
    default:
      return "";
  }
}

// AMD family/model for EPYC server parts (AMD processor programming references).
std::string AmdFamilyFromModelNumber(long family, long model) {
  if (family == 0x17 && model == 0x01) return "AMD EPYC 1st Gen";                     // Naples
  if (family == 0x17 && model == 0x31) return "AMD EPYC 2nd Gen";                     // Rome
  if (family == 0x19 && model == 0x01) return "AMD EPYC 3rd Gen";                     // Milan
  if (family == 0x19 && (model == 0x11 || model == 0xa0)) return "AMD EPYC 4th Gen";  // Genoa
  return "";
}

}  // namespace

CcfCoefficients CcfCoefficients::Load() {
  return LoadFrom(DataFile("cpu_coefficients_ccf.csv"), DataFile("constants.csv"));
}

CcfCoefficients CcfCoefficients::LoadFrom(const std::filesystem::path& cpu_csv,
                                          const std::filesystem::path& constants_csv) {
  CcfCoefficients result;
  const CsvTable cpu = ReadCsv(cpu_csv);
  const std::size_t arch = cpu.Column("microarchitecture");
  const std::size_t min_w = cpu.Column("min_watts_per_vcpu");
  const std::size_t max_w = cpu.Column("max_watts_per_vcpu");
  const std::size_t mem = cpu.Column("memory_gb_per_chip");
  const std::size_t cpu_source = cpu.Column("source");
  const std::size_t cpu_date = cpu.Column("date");
  for (std::size_t r = 0; r < cpu.rows.size(); ++r) {
    CpuCoefficients row;
    row.microarchitecture = cpu.rows[r][arch];
    row.min_watts_per_vcpu = cpu.Number(r, min_w);
    row.max_watts_per_vcpu = cpu.Number(r, max_w);
    row.memory_gb_per_chip = cpu.Number(r, mem);
    row.source = cpu.rows[r][cpu_source];
    row.date = cpu.rows[r][cpu_date];
    if (row.min_watts_per_vcpu < 0 || row.max_watts_per_vcpu < row.min_watts_per_vcpu) {
      throw EnvironmentError(
          fmt::format("data file {} line {}: {} has min {} W > max {} W per vCPU", cpu_csv.string(),
                      cpu.line_numbers[r], row.microarchitecture, row.min_watts_per_vcpu,
                      row.max_watts_per_vcpu));
    }
    result.cpus_.push_back(std::move(row));
  }
  const CsvTable constants = ReadCsv(constants_csv);
  const std::size_t name = constants.Column("name");
  const std::size_t value = constants.Column("value");
  const std::size_t unit = constants.Column("unit");
  const std::size_t source = constants.Column("source");
  const std::size_t date = constants.Column("date");
  for (std::size_t r = 0; r < constants.rows.size(); ++r) {
    result.constants_.push_back(CcfConstant{constants.rows[r][name], constants.Number(r, value),
                                            constants.rows[r][unit], constants.rows[r][source],
                                            constants.rows[r][date]});
  }
  return result;
}

const CpuCoefficients* CcfCoefficients::FindCpu(std::string_view microarchitecture) const {
  for (const auto& row : cpus_) {
    if (EqualsIgnoreCase(row.microarchitecture, Trim(microarchitecture))) return &row;
  }
  return nullptr;
}

const CpuCoefficients& CcfCoefficients::Cpu(std::string_view microarchitecture) const {
  if (const auto* row = FindCpu(microarchitecture)) return *row;
  throw InputError(
      fmt::format("CPU family '{}' is not in the Cloud Carbon Footprint table; use "
                  "one of: {}",
                  microarchitecture, KnownFamilies()));
}

const CcfConstant* CcfCoefficients::FindConstant(std::string_view name) const {
  for (const auto& c : constants_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

double CcfCoefficients::Constant(std::string_view name) const {
  if (const auto* c = FindConstant(name)) return c->value;
  throw EnvironmentError(fmt::format(
      "constants.csv has no row '{}'; restore data/constants.csv from the joulebench sources",
      name));
}

std::string CcfCoefficients::KnownFamilies() const {
  std::string out;
  for (const auto& row : cpus_) {
    if (!out.empty()) out += ", ";
    out += row.microarchitecture;
  }
  return out;
}

std::string DetectCpuFamily(std::string_view cpuinfo_text) {
  const auto fields = FirstProcessorFields(cpuinfo_text);
  auto field = [&](const std::string& key) -> std::string {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  };
  const std::string vendor = field("vendor_id");
  const std::string name = field("model name");
  std::string family;
  if (vendor == "GenuineIntel" || name.find("Intel") != std::string::npos) {
    family = IntelFamilyFromModelName(name);
    if (family.empty() && ParseLong(fields, "cpu family").value_or(0) == 6) {
      family = IntelFamilyFromModelNumber(ParseLong(fields, "model").value_or(-1),
                                          ParseLong(fields, "stepping").value_or(-1));
    }
  } else if (vendor == "AuthenticAMD" || name.find("AMD") != std::string::npos) {
    family = AmdFamilyFromModelName(name);
    if (family.empty()) {
      family = AmdFamilyFromModelNumber(ParseLong(fields, "cpu family").value_or(-1),
                                        ParseLong(fields, "model").value_or(-1));
    }
  } else if (ParseLong(fields, "CPU implementer").value_or(-1) == 0x41) {
    // Arm Ltd. cores: Graviton2 is Neoverse N1 (part 0xd0c), Graviton3 Neoverse V1 (0xd40)
    // (Arm CPU part numbers, Neoverse technical reference manuals).
    const long part = ParseLong(fields, "CPU part").value_or(-1);
    if (part == 0xd0c) family = "AWS Graviton2";
    if (part == 0xd40) family = "AWS Graviton3";
  }
  return family.empty() ? std::string(CcfCoefficients::kUnknownFamily) : family;
}

}  // namespace joulebench::energy
