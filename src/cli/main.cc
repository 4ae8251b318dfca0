#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>

#include "cli/command.h"
#include "joulebench/error.h"

namespace joulebench::cli {

std::vector<Command>& Registry() {
  static std::vector<Command> commands;
  return commands;
}

}  // namespace joulebench::cli

int main(int argc, char** argv) {
  using joulebench::cli::Registry;
  // A file that reaches the file-size limit (ulimit -f) makes write() fail with EFBIG, which
  // the store reports in one line, instead of SIGXFSZ killing joulebench before it prints
  // what it measured. `measure` restores the default for its command.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "joulebench: what a model really costs to serve or train on this machine, in seconds, "
      "joules, dollars and grams of CO2"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(JOULEBENCH_VERSION " (" JOULEBENCH_GIT_COMMIT ")"));

  auto& commands = Registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  std::function<int()> run;
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    runners.emplace_back(sub, command.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line: what is wrong and where to look.
    std::fprintf(stderr, "joulebench: error: %s (see 'joulebench --help')\n", e.what());
    return 2;
  }

  try {
    for (auto& [sub, runner] : runners) {
      if (sub->parsed()) return runner();
    }
    return 2;
  } catch (const joulebench::InputError& e) {
    std::fprintf(stderr, "joulebench: error: %s\n", e.what());
    return 2;
  } catch (const joulebench::EnvironmentError& e) {
    std::fprintf(stderr, "joulebench: error: %s\n", e.what());
    return 3;
  } catch (const joulebench::Error& e) {
    std::fprintf(stderr, "joulebench: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "joulebench: internal error: %s\n", e.what());
    return 70;
  }
}
