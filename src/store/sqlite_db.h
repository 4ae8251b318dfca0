// A thin RAII layer over the SQLite C API: a connection and prepared statements. Every
// failure becomes a joulebench error naming the database file and what to do.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace joulebench::store {

class Statement;

class Database {
 public:
  // Opens an existing file or creates it (create=true). Throws EnvironmentError with the path
  // when SQLite cannot open it.
  Database(const std::filesystem::path& path, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // How long a statement waits for another process's lock before SQLITE_BUSY.
  static constexpr std::chrono::milliseconds kBusyTimeout{15000};

  void Exec(std::string_view sql);
  Statement Prepare(std::string_view sql);
  std::int64_t LastInsertRowId() const;
  int Changes() const;
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Throws the joulebench error for SQLite result `rc` while doing `what`.
  [[noreturn]] void Fail(int rc, std::string_view what) const;

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  // One sqlite3_step; returns its result code instead of throwing (for callers that handle
  // SQLITE_BUSY themselves).
  int TryStep();
  // Binds are 1-based, like SQLite's.
  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, std::optional<double> value);
  Statement& BindBlob(int index, std::span<const std::byte> bytes);
  Statement& BindNull(int index);
  // Steps once: true when a row is available, false when done.
  bool Step();
  // Steps to completion (for statements that return no rows), then resets for reuse.
  void Run();
  void Reset();

  bool IsNull(int column) const;
  std::int64_t Int(int column) const;
  double Double(int column) const;
  std::optional<double> OptionalDouble(int column) const;
  std::string Text(int column) const;
  std::span<const std::byte> Blob(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless Commit() was called. IMMEDIATE takes the
// write lock up front, so two writers wait for each other (busy timeout) instead of
// deadlocking on a read-to-write upgrade.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void Commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace joulebench::store
