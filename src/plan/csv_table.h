// A small CSV reader for the planner's data files and users' catalog files: a header row
// names the columns, fields may be quoted (RFC 4180), '#' starts a comment line. Every
// error names the file, the line and the field.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::plan {

class CsvTable {
 public:
  struct Row {
    int line = 0;  // 1-based line number in the file
    std::vector<std::string> fields;
  };

  // Reads and parses `path`; throws InputError ("FILE:LINE: ...") on malformed content and
  // EnvironmentError when the file cannot be read.
  static CsvTable Read(const std::filesystem::path& path);
  static CsvTable Parse(std::string_view text, std::string file_label);

  const std::string& file() const { return file_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Row>& rows() const { return rows_; }
  bool HasColumn(std::string_view name) const;

  // The field of `row` in column `name`; "" when the column is absent.
  std::string Text(const Row& row, std::string_view name) const;
  // Throws InputError naming file, line and field when empty.
  std::string RequiredText(const Row& row, std::string_view name) const;
  // Numbers: nullopt when empty or the column is absent; InputError when not a number or
  // below `min_value`.
  std::optional<double> Number(const Row& row, std::string_view name, double min_value = 0) const;
  double RequiredNumber(const Row& row, std::string_view name, double min_value = 0) const;

 private:
  std::optional<std::size_t> Index(std::string_view name) const;

  std::string file_;
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
};

}  // namespace joulebench::plan
