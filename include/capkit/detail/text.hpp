// SPDX-License-Identifier: MIT
/// @file Defines cat: one string from several pieces, appended in order.
#pragma once

#include <string>
#include <string_view>

namespace capkit::detail {

/// The pieces, one after another, in one allocation. Use it where a string starts with a literal:
/// g++ 12 at -O3 reports a false overlap (-Wrestrict, GCC bug 105329) inside
/// `"literal" + std::string(...)`, which prepends through basic_string::insert.
template <class... Pieces>
std::string cat(const Pieces&... pieces) {
    std::string out;
    out.reserve((std::string_view(pieces).size() + ... + 0));
    (out.append(std::string_view(pieces)), ...);
    return out;
}

}  // namespace capkit::detail
