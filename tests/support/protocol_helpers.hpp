// SPDX-License-Identifier: MIT
// Helpers the protocol tests share: reads and stored values as sorted string lists.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <capkit/cluster.hpp>
#include <capkit/error.hpp>

namespace capkit::test {

using str = std::string;
using strings = std::vector<std::string>;

// True when `r` failed with `e`.
template <class T>
bool failed_with(const capkit::result<T>& r, capkit::errc e) {
    return !r && r.error() == capkit::make_error_code(e);
}

inline strings sorted(strings v) {
    std::ranges::sort(v);
    return v;
}

// What a read through `via` returns, sorted; fails the test if the read fails.
template <class R, auto Level = capkit::configured>
strings read(capkit::cluster<R>& c, node_id via, const str& key = "k") {
    auto got = c.at(via).template get<Level>(key);
    REQUIRE(got.has_value());
    return sorted(got->values);
}

// The values one replica stores for `key` (none for a tombstone or a key it never saw).
template <class R>
strings stored(const R& replica, const str& key = "k") {
    strings out;
    if (const auto* state = replica.find(key))
        for (const auto& v : R::resolver::values(*state))
            if (v) out.push_back(*v);
    return sorted(out);
}

}  // namespace capkit::test
