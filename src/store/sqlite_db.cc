#include "store/sqlite_db.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "joulebench/error.h"

namespace joulebench::store {

namespace {
// Other processes may hold the write lock for a transaction (one batch of samples); waiting
// this long covers a busy machine without hanging forever on a stuck writer.
constexpr int kBusyTimeoutMs = static_cast<int>(Database::kBusyTimeout.count());

std::string Bytes(double bytes) {
  if (bytes >= 1e6) return fmt::format("{:.1f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{:.0f} bytes", bytes);
}

// Why writing the database failed, in the system's words: SQLite keeps the errno of the
// failing call only sometimes (a failed COMMIT often reports none), so the usual causes are
// also looked for: a full file system, the file-size limit (ulimit -f), a read-only mount.
// Returns ": <cause>" or "".
std::string WriteFailureCause(const std::filesystem::path& path, int os_error) {
  if (os_error != 0) return fmt::format(": {}", std::strerror(os_error));
  const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) == 0) {
    if (fs.f_flag & ST_RDONLY) return fmt::format(": {}", std::strerror(EROFS));
    // Less than a few pages free: SQLite could not add a frame to its log.
    const double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
    if (free_bytes < 64 * 1024) {
      return fmt::format(": {} ({} free)", std::strerror(ENOSPC), Bytes(free_bytes));
    }
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(path.string() + suffix, ec);
      if (!ec && size + 64 * 1024 > limit.rlim_cur) {
        return fmt::format(": {} (the file-size limit, ulimit -f, is {})", std::strerror(EFBIG),
                           Bytes(static_cast<double>(limit.rlim_cur)));
      }
    }
  }
  return "";
}

}  // namespace

Database::Database(const std::filesystem::path& path, bool create) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw EnvironmentError(fmt::format(
        "database {}: cannot open it ({}); check that its directory exists and is writable, or "
        "pass another --db",
        path.string(), message));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::Fail(int rc, std::string_view what) const {
  std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  if (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN ||
      primary == SQLITE_READONLY) {
    message += WriteFailureCause(path_, db_ ? sqlite3_system_errno(db_) : 0);
  }
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
    throw EnvironmentError(fmt::format(
        "database {}: not a readable SQLite database ({}); it was left untouched - move it "
        "aside or pass another --db",
        path_.string(), message));
  }
  if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM ||
      primary == SQLITE_IOERR || primary == SQLITE_FULL) {
    throw EnvironmentError(
        fmt::format("database {}: cannot write while {} ({}); check the file and its directory are "
                    "writable and the disk is not full, or pass another --db",
                    path_.string(), what, message));
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    throw RuntimeError(
        fmt::format("database {}: still locked by another process after {} s while {}; try again",
                    path_.string(), kBusyTimeoutMs / 1000, what));
  }
  throw RuntimeError(fmt::format("database {}: {} failed: {}", path_.string(), what, message));
}

void Database::Exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Fail(rc, text.rfind("COMMIT", 0) == 0  ? "committing a transaction"
             : text.rfind("BEGIN", 0) == 0 ? "starting a transaction"
                                           : "running SQL");
  }
}

Statement Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) Fail(rc, "preparing a statement");
  return Statement(*this, stmt);
}

std::int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int index, std::optional<double> value) {
  if (value) return Bind(index, *value);
  return BindNull(index);
}
Statement& Statement::BindBlob(int index, std::span<const std::byte> bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int Statement::TryStep() { return sqlite3_step(stmt_); }

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->Fail(rc, "reading or writing a run");
}

void Statement::Run() {
  while (Step()) {
  }
  Reset();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }
std::optional<double> Statement::OptionalDouble(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Double(column);
}
std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::span<const std::byte> Statement::Blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return {static_cast<const std::byte*>(data), static_cast<std::size_t>(size)};
}

Transaction::Transaction(Database& db) : db_(db) { db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

}  // namespace joulebench::store
