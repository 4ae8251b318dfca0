// Subcommands register themselves: each src/cli/<name>_command.cc defines a static
// CommandRegistration, so adding a subcommand touches no other file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace joulebench::cli {

struct Command {
  std::string name;
  std::string description;
  // Adds the subcommand to the app; the returned function runs it and returns the exit code.
  std::function<std::function<int()>(CLI::App& subcommand)> setup;
  int order = 100;  // position in --help
};

std::vector<Command>& Registry();

struct CommandRegistration {
  explicit CommandRegistration(Command command) { Registry().push_back(std::move(command)); }
};

}  // namespace joulebench::cli
