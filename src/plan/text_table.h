// Column-aligned text for the terminal: the first column left-aligned, the others right-aligned.
#pragma once

#include <string>
#include <vector>

namespace joulebench::plan {

class TextTable {
 public:
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  std::string Render(const std::string& indent = "  ") const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace joulebench::plan
