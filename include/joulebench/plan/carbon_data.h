// Grid carbon intensity per region (data/grid_intensity.csv) and data-centre PUE, the two
// figures that turn a machine's energy into CO2e: kg = kWh x PUE x g/kWh / 1000.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/plan/sourced.h"

namespace joulebench::plan {

class CsvTable;  // plan/csv_table.h

struct GridIntensity {
  std::string region;  // e.g. "us-east-1"
  double g_co2e_per_kwh = 0;
  std::string basis;  // e.g. "EPA eGRID NERC SERC"
  std::string date;
  std::string source;
};

class GridIntensityTable {
 public:
  static GridIntensityTable LoadDefault();  // DataDir()/grid_intensity.csv
  static GridIntensityTable Load(const std::filesystem::path& csv);
  // The same for the text of such a file; `file_label` names it in messages.
  static GridIntensityTable Parse(std::string_view csv_text, std::string file_label);

  // Throws InputError "no grid intensity for region 'X'; regions with a figure: ..." when absent.
  const GridIntensity& Find(std::string_view region) const;
  const std::vector<GridIntensity>& regions() const { return regions_; }

 private:
  static GridIntensityTable FromTable(const CsvTable& table);

  std::vector<GridIntensity> regions_;
};

// The grid figure as a planning input: "catalog: grid_intensity.csv (us-east-1, basis, source)".
Sourced GridInput(const GridIntensity& grid);

// The default PUE when the user gives none: `pue_aws` from data/constants.csv (the AWS average
// used by Cloud Carbon Footprint), read through energy::CcfCoefficients. Throws
// EnvironmentError (saying to give --pue) when the data files are missing.
Sourced DefaultPue();

}  // namespace joulebench::plan

namespace joulebench::plan {

// Where the machines run: the region's grid intensity and the data centre's PUE.
struct CarbonInputs {
  std::string region;  // e.g. "us-east-1"; "" when the grid figure is given directly
  Sourced grid_g_co2e_per_kwh;
  Sourced pue;  // >= 1
};

// kg CO2e of `it_kwh` of machine energy: it_kwh x PUE x grid / 1000.
double Co2eKg(double it_kwh, const CarbonInputs& carbon);

}  // namespace joulebench::plan
