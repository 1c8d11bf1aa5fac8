// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::fnv1a64 and mix64: hashes fixed by their definition alone (no
/// std::hash, no seed), so every process, compiler and run agrees on them.
#pragma once

#include <cstdint>
#include <ranges>

namespace capkit {

namespace detail {

/// splitmix64's finaliser (Stafford's Mix13): a bijection on 64-bit words in which every input bit
/// flips each output bit with probability close to 1/2.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over a range of bytes.
template <std::ranges::contiguous_range Bytes>
constexpr std::uint64_t fnv1a64(const Bytes& bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (auto b : bytes) {
        h ^= static_cast<unsigned char>(b);
        h *= 0x100000001b3ULL;
    }
    return h;
}

}  // namespace detail

}  // namespace capkit
