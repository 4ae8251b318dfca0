#include "joulebench/plan/carbon_data.h"

#include <fmt/format.h>

#include "joulebench/data_dir.h"
#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/error.h"
#include "plan/csv_table.h"

namespace joulebench::plan {

GridIntensityTable GridIntensityTable::LoadDefault() {
  return Load(DataFile("grid_intensity.csv"));
}

GridIntensityTable GridIntensityTable::Load(const std::filesystem::path& csv) {
  return FromTable(CsvTable::Read(csv));
}

GridIntensityTable GridIntensityTable::Parse(std::string_view csv_text, std::string file_label) {
  return FromTable(CsvTable::Parse(csv_text, std::move(file_label)));
}

GridIntensityTable GridIntensityTable::FromTable(const CsvTable& table) {
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
  throw InputError(
      fmt::format("--region: no grid carbon intensity for '{}'; regions with a figure: {} (or give "
                  "--grid-intensity G/kWh)",
                  region, fmt::join(names, ", ")));
}

Sourced GridInput(const GridIntensity& grid) {
  return Sourced{grid.g_co2e_per_kwh, fmt::format("catalog: grid_intensity.csv {} ({}; {}; {})",
                                                  grid.region, grid.basis, grid.source, grid.date)};
}

Sourced DefaultPue() {
  try {
    const auto ccf = energy::CcfCoefficients::Load();
    const energy::CcfConstant* pue = ccf.FindConstant("pue_aws");
    if (pue == nullptr) {
      throw EnvironmentError("data file constants.csv has no row 'pue_aws'");
    }
    return Sourced{pue->value,
                   fmt::format("default: constants.csv pue_aws ({}, {})", pue->source, pue->date)};
  } catch (const EnvironmentError& e) {
    throw EnvironmentError(
        fmt::format("{} (the default PUE); or give --pue, e.g. --pue 1.135", e.what()));
  }
}

}  // namespace joulebench::plan

namespace joulebench::plan {

double Co2eKg(double it_kwh, const CarbonInputs& carbon) {
  return it_kwh * carbon.pue.value * carbon.grid_g_co2e_per_kwh.value / 1000.0;
}

}  // namespace joulebench::plan
