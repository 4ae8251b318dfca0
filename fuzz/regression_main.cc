// A main for fuzz targets built without libFuzzer (any compiler): runs LLVMFuzzerTestOneInput
// once on every file of the directories given, in name order, so that the seed corpus and the
// inputs that once crashed are checked by every build. A crash or a broken property aborts,
// as under libFuzzer; a missing or empty directory fails the run (a mistyped path must not
// pass for a clean corpus).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    return 2;
  }
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path dir = argv[i];
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (ec || files.empty()) {
      std::fprintf(stderr, "%s: no input files in %s\n", argv[0], dir.c_str());
      return 2;
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
      // A fresh buffer of exactly the input's size, so that a read past its end is caught by
      // AddressSanitizer builds as under libFuzzer.
      std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
      std::fprintf(stderr, "%s\n", file.c_str());
      LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
      ++inputs;
    }
  }
  std::fprintf(stderr, "%zu inputs ran without a failure\n", inputs);
  return 0;
}
