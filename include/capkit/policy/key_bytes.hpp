// SPDX-License-Identifier: MIT
/// @file Defines capkit::key_bytes (how a key becomes bytes), the ring_key concept and key_hash.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <capkit/detail/hash.hpp>

namespace capkit {

/// How a key becomes the bytes that placement hashes. Specialise it for a key type of your own
/// with `static R bytes(const Key&)`, R a contiguous range of one-byte elements (char, unsigned
/// char, std::byte) that is the same on every platform, compiler and run: never a pointer's
/// value, padding, or an integer in the machine's byte order.
template <class Key>
struct key_bytes;

/// A string is its bytes as they are; std::string, std::string_view and C strings of equal
/// content hash alike.
template <>
struct key_bytes<std::string_view> {
    static constexpr std::string_view bytes(std::string_view key) noexcept { return key; }
};
template <>
struct key_bytes<std::string> : key_bytes<std::string_view> {};
template <>
struct key_bytes<const char*> : key_bytes<std::string_view> {};
template <>
struct key_bytes<char*> : key_bytes<std::string_view> {};

/// An integer is its value widened to 64 bits (two's complement for signed types) and written
/// least significant byte first, so 5, 5L and 5ULL hash alike on every platform (long is 32 bits
/// on some and 64 on others) and whatever the machine's byte order. So -1 and 2^64 - 1 hash alike.
template <std::integral Key>
struct key_bytes<Key> {
    static constexpr std::array<unsigned char, 8> bytes(Key key) noexcept {
        using wide = std::conditional_t<std::is_signed_v<Key>, std::int64_t, std::uint64_t>;
        const auto v = static_cast<std::uint64_t>(static_cast<wide>(key));
        std::array<unsigned char, 8> out{};
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = static_cast<unsigned char>(v >> (8 * i));
        return out;
    }
};

/// A key that placement can hash: key_bytes<Key>::bytes(key) gives a contiguous range of bytes.
/// Laws: equal keys give equal bytes; the bytes do not depend on the platform or the run.
/// Models: std::string, std::string_view, const char*, every integer type.
template <class Key>
concept ring_key = requires(const Key& key) {
    { key_bytes<Key>::bytes(key) } -> std::ranges::contiguous_range;
}
&&sizeof(std::ranges::range_value_t<decltype(key_bytes<Key>::bytes(std::declval<const Key&>()))>) ==
    1;

/// The position of a key on a hash ring: mix64(FNV-1a-64(key_bytes<Key>::bytes(key))). Fixed by
/// this definition alone (no std::hash, no seed), so every process, compiler and run agrees; the
/// finaliser spreads FNV-1a's weak high bits over the whole word. tests/policy/hash_ring.cpp pins
/// values so that it cannot change silently.
template <class Key>
requires ring_key<std::decay_t<Key>>
constexpr std::uint64_t key_hash(const Key& key) {
    return detail::mix64(detail::fnv1a64(key_bytes<std::decay_t<Key>>::bytes(key)));
}

}  // namespace capkit
