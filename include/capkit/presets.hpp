// SPDX-License-Identifier: MIT
/// @file Defines the catalogue of named presets: compile-time configurations chosen to show each
/// side of the CAP trade-off, run by the lab (check/lab.hpp) and served by capkit-kv.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <capkit/crdt/g_counter.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/describe.hpp>
#include <capkit/policy/hash_ring.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/resolve/vector_clocks.hpp>

namespace capkit::lab {

/// A named configuration of the catalogue: `name` and the replica type it makes.
template <class Replica>
struct preset {
    std::string_view name;
    using replica = Replica;
};

/// The keys and values of the catalogue's replicas.
using preset_key = std::uint64_t;
using preset_value = std::int64_t;

/// The catalogue, in the order --list prints it: consistent first, available last.
inline constexpr auto presets = boost::hana::make_tuple(
    preset<replica<preset_key, preset_value, quorum<3, majority, majority>, serial, lww<>>>{
        "cp-serial"},
    preset<replica<preset_key, preset_value, quorum<3, 2, 2>, linearizable, lww<>>>{
        "cp-linearizable"},
    preset<replica<preset_key, preset_value, quorum<3, 2, 2>, strong, lww<>>>{"strong-lww"},
    preset<replica<preset_key, preset_value, quorum<3, one, one>, eventual, lww<>>>{"ap-lww"},
    preset<replica<preset_key, preset_value, quorum<3, one, one>, eventual, dvv>>{"ap-dvv"},
    preset<replica<preset_key, preset_value, quorum<3, one, one>, eventual, vector_clocks>>{
        "ap-vclock"},
    preset<replica<preset_key, g_counter, quorum<3, one, one>, eventual, crdt_merge>>{
        "ap-crdt-counter"},
    preset<replica<preset_key, preset_value, quorum<3, one, one>, eventual, lww<>, sloppy>>{
        "ap-lww-hinted"},
    preset<replica<preset_key, preset_value, quorum<5, 3, 3>, linearizable, lww<>>>{
        "n5-linearizable"},
    preset<replica<preset_key, preset_value, quorum<5, majority, majority>, serial, lww<>>>{
        "n5-serial"},
    preset<replica<preset_key, preset_value, quorum<5, 1, 5>, strong, lww<>>>{"n5-read-one"},
    // N = 3 copies on a hash_ring of the scenario's nodes (M): Dynamo's and Cassandra's layout.
    preset<replica<preset_key, preset_value, quorum<3, majority, majority>, serial, lww<>,
                   hash_ring<>>>{"ring-serial"},
    preset<replica<preset_key, preset_value, quorum<3, 2, 2>, strong, lww<>, hash_ring<>>>{
        "ring-strong"},
    preset<replica<preset_key, preset_value, quorum<3, one, one>, eventual, lww<>, sloppy,
                   hash_ring<>>>{"ring-ap-hinted"});

/// The names of the catalogue, in order.
inline std::vector<std::string> preset_names() {
    std::vector<std::string> out;
    boost::hana::for_each(presets, [&](const auto& p) { out.emplace_back(p.name); });
    return out;
}

/// Calls `f(boost::hana::type_c<Replica>)` for the preset called `name`; false if there is none.
template <class F>
bool with_preset(std::string_view name, F&& f) {
    bool found = false;
    boost::hana::for_each(presets, [&](const auto& p) {
        using replica_type = typename std::decay_t<decltype(p)>::replica;
        if (!found && p.name == name) {
            found = true;
            f(boost::hana::type_c<replica_type>);
        }
    });
    return found;
}

/// What the preset called `name` promises (capkit::describe); empty if there is none.
inline std::string preset_description(std::string_view name) {
    std::string out;
    with_preset(name, [&](auto t) {
        using replica_type = typename decltype(t)::type;
        out = describe<typename replica_type::config>();
    });
    return out;
}

}  // namespace capkit::lab
