#include "joulebench/plan/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "joulebench/data_dir.h"
#include "joulebench/error.h"
#include "plan/csv_table.h"

namespace joulebench::plan {
namespace {

MachineType& FindOrAdd(std::vector<MachineType>& machines, const std::string& name) {
  for (auto& m : machines) {
    if (m.name == name) return m;
  }
  machines.push_back(MachineType{});
  machines.back().name = name;
  return machines.back();
}

// "instances.csv:14": the file name is enough to find a row, and keeps reports readable.
std::string Origin(const CsvTable& table, const CsvTable::Row& row) {
  return fmt::format("{}:{}", std::filesystem::path(table.file()).filename().string(), row.line);
}

// A whole number from `min_value` to a million (more vCPUs or accelerators than any machine
// has); nullopt when the field is empty. Converting a larger double to int is undefined.
std::optional<int> Count(const CsvTable& t, const CsvTable::Row& row, std::string_view column,
                         int min_value) {
  const auto v = t.Number(row, column, min_value);
  if (!v) return std::nullopt;
  if (*v > 1e6 || *v != std::floor(*v)) {
    throw InputError(fmt::format("{}:{}: field '{}': {} is not a whole number from {} to 1000000",
                                 t.file(), row.line, column, t.Text(row, column), min_value));
  }
  return static_cast<int>(*v);
}

// Fills the fields of `m` that the row gives; empty fields leave `m` unchanged.
void ApplyInstanceRow(const CsvTable& t, const CsvTable::Row& row, MachineType& m) {
  if (auto v = Count(t, row, "vcpus", 1)) m.vcpus = *v;
  if (auto v = t.Number(row, "memory_gib", 0)) m.memory_gib = *v;
  if (auto v = t.Text(row, "cpu_model"); !v.empty()) m.cpu_model = v;
  if (auto v = t.Text(row, "cpu_family"); !v.empty()) m.cpu_family = v;
  const std::string accelerator = t.Text(row, "accelerator");
  const auto count = Count(t, row, "accelerator_count", 0);
  if (!accelerator.empty() && count.value_or(1) > 0) {
    if (!m.accelerator) m.accelerator = Accelerator{};
    m.accelerator->kind = accelerator;
    m.accelerator->count = count.value_or(1);
    if (auto v = t.Number(row, "accelerator_memory_gib", 0)) m.accelerator->memory_gib = *v;
  } else if (count && *count == 0) {
    m.accelerator.reset();
  }
  if (auto v = t.Number(row, "accelerator_board_watts", 0); v && m.accelerator) {
    m.accelerator->board_watts = *v;
    m.accelerator->power_source = fmt::format("catalog: {}", Origin(t, row));
  }
  if (auto price = t.Number(row, "price_usd_per_hour", 0)) {
    if (*price <= 0) {
      throw InputError(fmt::format("{}:{}: field 'price_usd_per_hour': must be greater than zero",
                                   t.file(), row.line));
    }
    Price p;
    p.usd_per_hour = *price;
    p.region = t.Text(row, "price_region");
    p.pricing_model = t.Text(row, "pricing_model");
    p.date = t.Text(row, "price_date");
    if (p.region.empty()) p.region = "region not stated";
    if (p.pricing_model.empty()) p.pricing_model = "pricing model not stated";
    if (p.date.empty()) p.date = t.Text(row, "date");
    if (p.date.empty()) p.date = "date not stated";
    m.price = p;
  }
  if (auto v = t.Text(row, "source"); !v.empty()) m.source = v;
  if (auto v = t.Text(row, "date"); !v.empty()) m.date = v;
  if (m.date.empty() && m.price) m.date = m.price->date;
  m.origin = Origin(t, row);
}

// Curve columns: watts_idle (load 0) and watts_<N>pct (load N/100). Returns no points when the
// row fills none of them.
std::vector<PowerCurve::Point> CurvePoints(const CsvTable& t, const CsvTable::Row& row) {
  std::vector<PowerCurve::Point> points;
  for (const auto& column : t.columns()) {
    double load = -1;
    if (column == "watts_idle") {
      load = 0;
    } else if (column.starts_with("watts_") && column.ends_with("pct")) {
      const std::string_view digits(column.data() + 6, column.size() - 9);
      double percent = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), percent);
      if (ec != std::errc() || ptr != digits.data() + digits.size() || percent < 0 ||
          percent > 100) {
        throw InputError(
            fmt::format("{}: column '{}' is not a load level; name curve columns "
                        "watts_idle or watts_<0..100>pct, e.g. watts_50pct",
                        t.file(), column));
      }
      load = percent / 100;
    } else {
      continue;
    }
    if (auto watts = t.Number(row, column, 0)) points.push_back({load, *watts});
  }
  return points;
}

void ApplyCurveRow(const CsvTable& t, const CsvTable::Row& row, MachineType& m) {
  auto points = CurvePoints(t, row);
  if (points.empty()) return;
  std::string source = t.Text(row, "curve_source");
  if (source.empty()) source = t.Text(row, "source");
  std::string date = t.Text(row, "curve_date");
  if (date.empty()) date = t.Text(row, "date");
  const std::string provenance =
      fmt::format("catalog: {} ({}{}{})", Origin(t, row), source, date.empty() ? "" : ", ", date);
  try {
    m.power_curve = PowerCurve::FromPoints(std::move(points), CurveKind::kCatalog, provenance);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}:{}: {}", t.file(), row.line, e.what()));
  }
  std::string note = t.Text(row, "curve_note");
  if (note.empty()) note = t.Text(row, "note");
  m.power_curve_note = note;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::size_t EditDistance(std::string_view a_in, std::string_view b_in) {
  const std::string a = Lower(a_in);
  const std::string b = Lower(b_in);
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

Catalog Catalog::LoadDefault() {
  return Load(DataFile("instances.csv"), DataFile("instance_power_curves.csv"),
              DataFile("gpu_power.csv"));
}

Catalog Catalog::Load(const std::filesystem::path& instances_csv,
                      const std::filesystem::path& power_curves_csv,
                      const std::filesystem::path& accelerator_power_csv) {
  Catalog catalog;
  const CsvTable instances = CsvTable::Read(instances_csv);
  for (const auto& row : instances.rows()) {
    MachineType& m = FindOrAdd(catalog.machines_, instances.RequiredText(row, "name"));
    instances.RequiredText(row, "source");
    ApplyInstanceRow(instances, row, m);
  }
  const CsvTable curves = CsvTable::Read(power_curves_csv);
  for (const auto& row : curves.rows()) {
    // A published curve may exist for a machine the price list lacks: it is added with what
    // the curve row says (no price, so plans with it leave costs out unless given one).
    const std::string name = curves.RequiredText(row, "name");
    MachineType* m = &FindOrAdd(catalog.machines_, name);
    if (m->source.empty()) {
      m->source = curves.Text(row, "source");
      m->date = curves.Text(row, "date");
      m->origin = Origin(curves, row);
    }
    ApplyCurveRow(curves, row, *m);
  }
  const CsvTable accelerators = CsvTable::Read(accelerator_power_csv);
  for (const auto& row : accelerators.rows()) {
    const std::string kind = accelerators.RequiredText(row, "accelerator");
    for (auto& m : catalog.machines_) {
      if (!m.accelerator || m.accelerator->kind != kind) continue;
      m.accelerator->idle_watts = accelerators.Number(row, "watts_idle", 0);
      m.accelerator->full_load_watts = accelerators.Number(row, "watts_full_load", 0);
      m.accelerator->board_watts = accelerators.Number(row, "board_watts", 0);
      m.accelerator->power_source =
          fmt::format("catalog: {} ({}; {})", Origin(accelerators, row),
                      accelerators.Text(row, "source"), accelerators.Text(row, "note"));
    }
  }
  return catalog;
}

void Catalog::MergeFile(const std::filesystem::path& csv) { MergeTable(CsvTable::Read(csv)); }

void Catalog::MergeText(std::string_view csv_text, std::string file_label) {
  MergeTable(CsvTable::Parse(csv_text, std::move(file_label)));
}

void Catalog::MergeTable(const CsvTable& table) {
  if (!table.HasColumn("name")) {
    throw InputError(
        fmt::format("{}:1: no 'name' column; a catalog file needs at least the "
                    "columns name and source",
                    table.file()));
  }
  if (!table.HasColumn("source")) {
    throw InputError(
        fmt::format("{}:1: no 'source' column; say where each row's figures come "
                    "from (a URL, a datasheet, 'own measurement')",
                    table.file()));
  }
  for (const auto& row : table.rows()) {
    const std::string name = table.RequiredText(row, "name");
    table.RequiredText(row, "source");
    MachineType& m = FindOrAdd(machines_, name);
    ApplyInstanceRow(table, row, m);
    ApplyCurveRow(table, row, m);
  }
}

const MachineType* Catalog::TryFind(std::string_view name) const {
  for (const auto& m : machines_) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const MachineType& Catalog::Find(std::string_view name) const {
  if (const MachineType* m = TryFind(name)) return *m;
  const auto closest = Closest(name);
  throw InputError(fmt::format(
      "unknown machine type '{}'; closest in the catalog: {} (add your own with --catalog FILE)",
      name, fmt::join(closest, ", ")));
}

std::vector<std::string> Catalog::Closest(std::string_view name, std::size_t count) const {
  // Names that start with what was typed ("p4d" -> "p4d.24xlarge") come first, then the
  // rest by edit distance.
  const std::string typed = Lower(name);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& m : machines_) {
    const bool prefix = !typed.empty() && Lower(m.name).starts_with(typed);
    scored.emplace_back(prefix ? 0 : 1 + EditDistance(name, m.name), m.name);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  for (std::size_t i = 0; i < scored.size() && i < count; ++i) names.push_back(scored[i].second);
  return names;
}

}  // namespace joulebench::plan
