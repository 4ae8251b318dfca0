#include "support/store_probe.h"

#include <sqlite3.h>

namespace joulebench::testing {
namespace {

// Opens read-only with a busy timeout, so that a writer's transaction is waited for.
sqlite3* OpenReadOnly(const std::filesystem::path& db) {
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) return nullptr;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    return nullptr;
  }
  sqlite3_busy_timeout(handle, 15000);
  return handle;
}

std::int64_t QueryInt(sqlite3* handle, const char* sql, std::int64_t bind) {
  sqlite3_stmt* s = nullptr;
  std::int64_t out = 0;
  if (sqlite3_prepare_v2(handle, sql, -1, &s, nullptr) == SQLITE_OK) {
    if (bind != 0) sqlite3_bind_int64(s, 1, bind);
    if (sqlite3_step(s) == SQLITE_ROW) out = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return out;
}

}  // namespace

std::int64_t NewestRunId(const std::filesystem::path& db) {
  sqlite3* handle = OpenReadOnly(db);
  if (handle == nullptr) return 0;
  const std::int64_t id = QueryInt(handle, "SELECT COALESCE(MAX(id), 0) FROM runs", 0);
  sqlite3_close(handle);
  return id;
}

std::size_t CommittedSamples(const std::filesystem::path& db, std::int64_t run_id) {
  sqlite3* handle = OpenReadOnly(db);
  if (handle == nullptr) return 0;
  const std::int64_t n =
      run_id != 0
          ? QueryInt(handle,
                     "SELECT COALESCE(SUM(sample_count), 0) FROM sample_chunks WHERE run_id = ?1",
                     run_id)
          : QueryInt(handle,
                     "SELECT COALESCE(SUM(sample_count), 0) FROM sample_chunks WHERE run_id = "
                     "(SELECT MAX(id) FROM runs)",
                     0);
  sqlite3_close(handle);
  return static_cast<std::size_t>(n);
}

std::string IntegrityCheck(const std::filesystem::path& db) {
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string why = handle ? sqlite3_errmsg(handle) : "cannot open";
    sqlite3_close(handle);
    return "cannot open: " + why;
  }
  sqlite3_busy_timeout(handle, 15000);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &s, nullptr) != SQLITE_OK) {
    out = std::string("cannot check: ") + sqlite3_errmsg(handle);
  } else {
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (!out.empty()) out += "; ";
      out += reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(handle);
  return out;
}

}  // namespace joulebench::testing
