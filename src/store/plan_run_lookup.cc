#include "joulebench/store/plan_run_lookup.h"

#include "joulebench/plan/run_resolver.h"
#include "joulebench/store/run_store.h"

namespace joulebench::store {

void RegisterPlanRunLookup(const std::optional<std::string>& db) {
  if (!db && !StoringEnabled(false)) return;
  plan::RegisterRunLookup([db](std::string_view id) -> std::optional<run::RunRecord> {
    auto runs = OpenExistingStore(db);
    return runs.Load(id);
  });
}

}  // namespace joulebench::store
