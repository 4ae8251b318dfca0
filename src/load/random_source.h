// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018):
// fast, 256-bit state, seeded through splitmix64 as the authors recommend. Deterministic
// across platforms, unlike the standard library's distributions.
#pragma once

#include <cmath>
#include <cstdint>

namespace joulebench::load {

__extension__ using Uint128 = unsigned __int128;

class RandomSource {
 public:
  explicit RandomSource(std::uint64_t seed) {
    for (auto& word : state_) word = SplitMix(seed);
  }

  std::uint64_t Next() noexcept {
    const std::uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() noexcept { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Exponentially distributed with the given mean (inverse transform).
  double Exponential(double mean) noexcept { return -std::log1p(-Uniform()) * mean; }

  // Uniform integer in [0, n) by multiply-shift (Lemire); bias below 2^-64 * n.
  std::uint64_t Below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<Uint128>(Next()) * n) >> 64);
  }

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t SplitMix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4];
};

}  // namespace joulebench::load
