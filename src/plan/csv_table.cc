#include "plan/csv_table.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "joulebench/error.h"

namespace joulebench::plan {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

CsvTable CsvTable::Read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(fmt::format("{}: cannot be read; check the path", path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path.string());
}

CsvTable CsvTable::Parse(std::string_view text, std::string file_label) {
  CsvTable table;
  table.file_ = std::move(file_label);
  std::vector<std::string> fields;
  std::string field;
  bool in_quotes = false;
  bool field_was_quoted = false;
  int line = 1;
  int record_line = 1;
  bool header_done = false;

  auto finish_record = [&]() {
    fields.push_back(field_was_quoted ? field : Trim(field));
    field.clear();
    field_was_quoted = false;
    const bool blank = fields.size() == 1 && fields[0].empty();
    const bool comment = !fields.empty() && !fields[0].empty() && fields[0][0] == '#';
    if (!blank && !comment) {
      if (!header_done) {
        table.columns_ = fields;
        header_done = true;
      } else {
        if (fields.size() > table.columns_.size()) {
          throw InputError(fmt::format("{}:{}: {} fields but the header names {} columns",
                                       table.file_, record_line, fields.size(),
                                       table.columns_.size()));
        }
        fields.resize(table.columns_.size());
        table.rows_.push_back(Row{record_line, fields});
      }
    }
    fields.clear();
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && Trim(field).empty()) {
      in_quotes = true;
      field_was_quoted = true;
      field.clear();
    } else if (c == ',') {
      fields.push_back(field_was_quoted ? field : Trim(field));
      field.clear();
      field_was_quoted = false;
    } else if (c == '\n') {
      finish_record();
      ++line;
      record_line = line;
    } else if (!field_was_quoted) {
      field += c;
    }
  }
  if (in_quotes) {
    throw InputError(
        fmt::format("{}:{}: a quoted field is never closed", table.file_, record_line));
  }
  if (!field.empty() || !fields.empty()) finish_record();
  if (!header_done) {
    throw InputError(fmt::format("{}: empty; expected a header row naming the columns",
                                 table.file_));
  }
  return table;
}

bool CsvTable::HasColumn(std::string_view name) const { return Index(name).has_value(); }

std::optional<std::size_t> CsvTable::Index(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return i;
  }
  return std::nullopt;
}

std::string CsvTable::Text(const Row& row, std::string_view name) const {
  const auto index = Index(name);
  return index ? row.fields[*index] : std::string();
}

std::string CsvTable::RequiredText(const Row& row, std::string_view name) const {
  std::string value = Text(row, name);
  if (value.empty()) {
    throw InputError(fmt::format("{}:{}: field '{}' is empty; it is required", file_, row.line,
                                 name));
  }
  return value;
}

std::optional<double> CsvTable::Number(const Row& row, std::string_view name,
                                       double min_value) const {
  const std::string text = Text(row, name);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw InputError(fmt::format("{}:{}: field '{}': '{}' is not a number", file_, row.line,
                                 name, text));
  }
  if (value < min_value) {
    throw InputError(fmt::format("{}:{}: field '{}': {} is below the smallest allowed value {}",
                                 file_, row.line, name, text, min_value));
  }
  return value;
}

double CsvTable::RequiredNumber(const Row& row, std::string_view name, double min_value) const {
  auto value = Number(row, name, min_value);
  if (!value) {
    throw InputError(fmt::format("{}:{}: field '{}' is empty; it needs a number", file_, row.line,
                                 name));
  }
  return *value;
}

}  // namespace joulebench::plan
