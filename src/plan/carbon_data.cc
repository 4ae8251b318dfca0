#include "joulebench/plan/carbon_data.h"

#include <fmt/format.h>

#include "joulebench/data_dir.h"
#include "joulebench/error.h"
#include "plan/csv_table.h"

namespace joulebench::plan {

GridIntensityTable GridIntensityTable::LoadDefault() {
  return Load(DataFile("grid_intensity.csv"));
}

GridIntensityTable GridIntensityTable::Load(const std::filesystem::path& csv) {
  const CsvTable table = CsvTable::Read(csv);
  GridIntensityTable result;
  for (const auto& row : table.rows()) {
    GridIntensity g;
    g.region = table.RequiredText(row, "region");
    g.g_co2e_per_kwh = table.RequiredNumber(row, "g_co2e_per_kwh", 0);
    g.basis = table.Text(row, "basis");
    g.date = table.Text(row, "date");
    g.source = table.RequiredText(row, "source");
    result.regions_.push_back(std::move(g));
  }
  return result;
}

const GridIntensity& GridIntensityTable::Find(std::string_view region) const {
  for (const auto& g : regions_) {
    if (g.region == region) return g;
  }
  std::vector<std::string> names;
  for (const auto& g : regions_) names.push_back(g.region);
  throw InputError(fmt::format(
      "--region: no grid carbon intensity for '{}'; regions with a figure: {} (or give "
      "--grid-intensity G/kWh)",
      region, fmt::join(names, ", ")));
}

Sourced GridInput(const GridIntensity& grid) {
  return Sourced{grid.g_co2e_per_kwh,
                 fmt::format("catalog: grid_intensity.csv {} ({}; {}; {})", grid.region,
                             grid.basis, grid.source, grid.date)};
}

Sourced ConstantFromFile(const std::filesystem::path& csv, std::string_view name) {
  const CsvTable table = CsvTable::Read(csv);
  for (const auto& row : table.rows()) {
    if (table.Text(row, "name") != name) continue;
    const double value = table.RequiredNumber(row, "value", 0);
    return Sourced{value, fmt::format("default: {} {} ({})", csv.filename().string(), name,
                                      table.Text(row, "source"))};
  }
  throw InputError(fmt::format("{}: no row named '{}'", csv.string(), name));
}

Sourced DefaultPue() {
  const auto path = DataDir() / "constants.csv";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(fmt::format(
        "--pue not given and {} (the default PUE) is missing; give --pue, e.g. --pue 1.135",
        path.string()));
  }
  return ConstantFromFile(path, "pue_aws");
}

}  // namespace joulebench::plan

namespace joulebench::plan {

double Co2eKg(double it_kwh, const CarbonInputs& carbon) {
  return it_kwh * carbon.pue.value * carbon.grid_g_co2e_per_kwh.value / 1000.0;
}

}  // namespace joulebench::plan
