// What each NVML return code means for a joulebench user: its symbolic name, the probe status
// it maps to, and what to do about it.
#pragma once

#include <string>
#include <string_view>

#include "energy/nvml_api.h"
#include "joulebench/energy/source.h"

namespace joulebench::energy::nvml {

// "NVML_ERROR_DRIVER_NOT_LOADED"; "NVML_ERROR_<code>" for a code this build does not know.
std::string ErrorName(Return code);
// The probe status a failure with this code means (absent, permission denied, ...).
ProbeStatus ErrorStatus(Return code);
// One sentence: what the user can do about it.
std::string_view ErrorFix(Return code);

}  // namespace joulebench::energy::nvml
