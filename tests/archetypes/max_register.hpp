// SPDX-License-Identifier: MIT
// A minimal model of capkit::crdt: an integer that only grows. Used where a test needs "some
// CRDT" and must not depend on the real ones.
#pragma once

#include <algorithm>

namespace capkit::archetypes {

struct max_register {
    int v = 0;
    void merge(const max_register& other) { v = std::max(v, other.v); }
    int value() const { return v; }
    friend bool operator==(const max_register&, const max_register&) = default;
};

}  // namespace capkit::archetypes
