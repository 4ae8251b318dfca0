// SIGKILL at random points of a storing joulebench command, again and again: what the crash
// safety tests of `measure` and `infer` share. After each kill the database must open, pass
// PRAGMA integrity_check, list no run as running, and hold every sample a second connection
// saw committed just before the kill; failures are reported through GoogleTest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace joulebench::testing {

struct KillCampaignResult {
  int kills = 0;
  int killed_begun = 0;  // killed runs that had begun in the store and read incomplete
  int completed = 0;     // runs that ended before their kill came
};

// The seed: $JOULEBENCH_KILL_SEED to replay a failure, else a fresh one.
std::uint32_t KillSeed();

// Runs `args` (with `env`) to its end once, then until `kills` kills (at most 4x as many
// attempts): three kills in four wait until the run has begun in the store and then a random
// part of what the first run took after that (baseline, measuring, storing); the others come
// at a random point from the start (startup included). Waiting for the store rather than for
// a delay measured once keeps the kills where they are meant on a machine whose process start
// varies several-fold under load. Prints the seed and the counts.
KillCampaignResult KillAtRandomPoints(const std::string& db, const std::vector<std::string>& args,
                                      const std::vector<std::string>& env, int kills,
                                      std::uint32_t seed);

}  // namespace joulebench::testing
