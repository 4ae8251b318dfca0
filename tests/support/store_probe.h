// A second connection to a run store, as another process would open it while a run is being
// written: how many samples are committed, and whether the file is intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace joulebench::testing {

// Samples committed so far for run `run_id` (0: the newest run), read through a read-only
// connection; 0 when the file or the run does not exist yet.
std::size_t CommittedSamples(const std::filesystem::path& db, std::int64_t run_id = 0);
// The newest run's id, 0 when there is none.
std::int64_t NewestRunId(const std::filesystem::path& db);
// PRAGMA integrity_check: "ok" for an intact file, else SQLite's findings (or why it could
// not be opened).
std::string IntegrityCheck(const std::filesystem::path& db);

}  // namespace joulebench::testing
