// Catalog CSV files (`plan --catalog FILE`): the CSV reader, then the merge into the built-in
// catalog (machine types, prices, published power curves), and the grid-intensity table. A
// file is either refused with InputError or gives machines whose figures are finite and in
// range, with a power curve that can be evaluated at any load.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "joulebench/energy/ccf_coefficients.h"
#include "joulebench/error.h"
#include "joulebench/plan/carbon_data.h"
#include "joulebench/plan/catalog.h"
#include "joulebench/plan/modelled_power.h"
#include "plan/csv_table.h"

namespace {

using joulebench::InputError;
using joulebench::fuzz::Check;
using joulebench::fuzz::CheckFinite;
namespace plan = joulebench::plan;

void CheckCurve(const plan::PowerCurve& curve) {
  Check(!curve.points().empty(), "power curve without points");
  double last = -1;
  for (const auto& p : curve.points()) {
    CheckFinite(p.watts, "curve watts");
    Check(p.watts >= 0, "negative curve watts");
    Check(p.load_fraction >= 0 && p.load_fraction <= 1, "curve load outside 0..1");
    Check(p.watts >= last, "curve not monotone");
    last = p.watts;
  }
  for (double load : {-1.0, 0.0, 0.3, 0.5, 0.999, 1.0, 2.0}) {
    CheckFinite(curve.WattsAt(load), "WattsAt");
  }
}

void CheckMachine(const plan::MachineType& m, const joulebench::energy::CcfCoefficients& ccf) {
  Check(!m.name.empty(), "machine without a name");
  Check(m.vcpus >= 0, "negative vCPUs");
  CheckFinite(m.memory_gib, "memory_gib");
  if (m.accelerator) {
    Check(m.accelerator->count >= 0, "negative accelerator count");
    CheckFinite(m.accelerator->memory_gib, "accelerator memory");
    if (m.accelerator->board_watts) CheckFinite(*m.accelerator->board_watts, "board watts");
  }
  if (m.price) {
    CheckFinite(m.price->usd_per_hour, "price");
    Check(m.price->usd_per_hour > 0, "price <= 0");
  }
  if (m.power_curve) CheckCurve(*m.power_curve);
  std::string why_not;
  if (const auto modelled = plan::ModelledPowerCurve(m, ccf, &why_not)) CheckCurve(*modelled);
}

struct Builtin {
  plan::Catalog catalog = plan::Catalog::LoadDefault();
  joulebench::energy::CcfCoefficients ccf = joulebench::energy::CcfCoefficients::Load();
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto* builtin = new Builtin();
  const std::string_view text = joulebench::fuzz::AsText(data, size);
  try {
    const auto table = plan::CsvTable::Parse(text, "fuzz.csv");
    int last_line = 0;
    for (const auto& row : table.rows()) {
      Check(row.fields.size() == table.columns().size(), "row width differs from the header");
      Check(row.line > last_line, "row lines not increasing");
      last_line = row.line;
    }
  } catch (const InputError&) {
  }
  plan::Catalog catalog = builtin->catalog;
  try {
    catalog.MergeText(text, "fuzz.csv");
    for (const auto& m : catalog.machines()) CheckMachine(m, builtin->ccf);
    (void)catalog.Closest(text.substr(0, 64));
  } catch (const InputError&) {
  }
  try {
    const auto grid = plan::GridIntensityTable::Parse(text, "fuzz.csv");
    for (const auto& g : grid.regions()) {
      CheckFinite(g.g_co2e_per_kwh, "grid intensity");
      Check(g.g_co2e_per_kwh >= 0, "negative grid intensity");
    }
  } catch (const InputError&) {
  }
  return 0;
}
