// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::rng, a seeded PRNG that gives the same numbers everywhere.
#pragma once

#include <cstdint>

namespace capkit::detail {

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64. capkit draws every random
/// choice of a simulation from it, never from <random>'s distributions, whose output differs
/// between standard libraries: one seed must replay the same run on g++ and clang alike.
class rng {
public:
    explicit constexpr rng(std::uint64_t seed) noexcept {
        for (auto& word : s_) word = splitmix(seed);
    }

    /// The next 64 random bits.
    constexpr std::uint64_t next() noexcept {
        std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// A number in [0, bound), bound > 0, without modulo bias: draws below the largest multiple
    /// of `bound` that fits in 64 bits are kept, the rest drawn again.
    constexpr std::uint64_t below(std::uint64_t bound) noexcept {
        std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
        for (;;) {
            std::uint64_t r = next();
            if (r >= threshold) return r % bound;
        }
    }

    /// True with probability p.
    constexpr bool chance(double p) noexcept {
        return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    static constexpr std::uint64_t splitmix(std::uint64_t& state) noexcept {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t s_[4]{};
};

}  // namespace capkit::detail
