// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::fixed_string, for policy names built at compile time.
#pragma once

#include <cstddef>
#include <string_view>

namespace capkit::detail {

/// A string of at most Capacity characters built in constant expressions, so a policy's `name`
/// (quorum_3_2_2, lww<hlc>) is a static string_view with no runtime cost.
/// Appending past Capacity is not a constant expression, so it fails to compile.
template <std::size_t Capacity>
struct fixed_string {
    char data[Capacity + 1]{};
    std::size_t size = 0;

    constexpr fixed_string& append(std::string_view s) {
        for (char c : s) data[size++] = c;
        return *this;
    }
    constexpr fixed_string& append(unsigned long long n) {
        char digits[20]{};
        std::size_t k = 0;
        do digits[k++] = static_cast<char>('0' + n % 10);
        while ((n /= 10) != 0);
        while (k != 0) data[size++] = digits[--k];
        return *this;
    }
    constexpr std::string_view view() const { return {data, size}; }
};

}  // namespace capkit::detail
