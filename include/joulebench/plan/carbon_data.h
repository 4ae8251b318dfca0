// Grid carbon intensity per region (data/grid_intensity.csv) and data-centre PUE, the two
// figures that turn a machine's energy into CO2e: kg = kWh x PUE x g/kWh / 1000.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "joulebench/plan/sourced.h"

namespace joulebench::plan {

struct GridIntensity {
  std::string region;          // e.g. "us-east-1"
  double g_co2e_per_kwh = 0;
  std::string basis;           // e.g. "EPA eGRID NERC SERC"
  std::string date;
  std::string source;
};

class GridIntensityTable {
 public:
  static GridIntensityTable LoadDefault();  // DataDir()/grid_intensity.csv
  static GridIntensityTable Load(const std::filesystem::path& csv);

  // Throws InputError "no grid intensity for region 'X'; regions with a figure: ..." when absent.
  const GridIntensity& Find(std::string_view region) const;
  const std::vector<GridIntensity>& regions() const { return regions_; }

 private:
  std::vector<GridIntensity> regions_;
};

// The grid figure as a planning input: "catalog: grid_intensity.csv (us-east-1, basis, source)".
Sourced GridInput(const GridIntensity& grid);

// A figure from a constants file with columns name,value,unit,source (data/constants.csv).
// Throws InputError naming the file when the name is absent or the value is not a number.
Sourced ConstantFromFile(const std::filesystem::path& csv, std::string_view name);

// The default PUE when the user gives none: `pue_aws` from data/constants.csv (the AWS average
// used by Cloud Carbon Footprint). data/constants.csv belongs to the energy coefficients; this
// is the one place the planner reads it, so that it can switch to their loader.
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
