// SPDX-License-Identifier: MIT
// The message variants the codec fuzzer decodes (one per shipped configuration's message type),
// and the check it makes of every input: shared by fuzz/codec_fuzz.cpp, the seed generator and
// the regression replay in tests/transport/codec.cpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <capkit/crdt/g_counter.hpp>
#include <capkit/crdt/lww_register.hpp>
#include <capkit/crdt/mv_register.hpp>
#include <capkit/crdt/or_set.hpp>
#include <capkit/crdt/pn_counter.hpp>
#include <capkit/protocol/messages.hpp>
#include <capkit/protocol/paxos_messages.hpp>
#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/resolve/vector_clocks.hpp>
#include <capkit/wire/frame.hpp>

namespace capkit::fuzz {

using u64 = std::uint64_t;
using i64 = std::int64_t;
using str = std::string;

// The messages of a quorum replica (the resolver's state of an optional value: empty is a
// tombstone) and of a crdt_merge replica.
template <class Key, class Resolver, class Value>
using quorum_message =
    protocol::message<Key, typename Resolver::template state<std::optional<Value>>>;
template <class Key, class Crdt>
using crdt_message = protocol::message<Key, crdt_merge::state<Crdt>>;

/// One message variant and the name it is reported by.
template <class Variant>
struct config {
    using message = Variant;
    std::string_view name;
};

/// Every message type the fuzzer and the regression replay decode: the lab presets' (uint64 keys,
/// int64 values) and string-keyed ones for each CRDT and for string values.
inline constexpr auto configs = std::tuple{
    config<protocol::paxos_message<u64, i64>>{"paxos<u64,i64>"},
    config<quorum_message<u64, lww<>, i64>>{"lww<u64,i64>"},
    config<quorum_message<u64, dvv, i64>>{"dvv<u64,i64>"},
    config<quorum_message<u64, vector_clocks, i64>>{"vector_clocks<u64,i64>"},
    config<crdt_message<u64, g_counter>>{"crdt<u64,g_counter>"},
    config<crdt_message<str, pn_counter>>{"crdt<str,pn_counter>"},
    config<crdt_message<str, or_set<str>>>{"crdt<str,or_set<str>>"},
    config<crdt_message<str, lww_register<str>>>{"crdt<str,lww_register<str>>"},
    config<crdt_message<str, mv_register<str>>>{"crdt<str,mv_register<str>>"},
    config<protocol::paxos_message<str, str>>{"paxos<str,str>"},
    config<quorum_message<str, lww<>, str>>{"lww<str,str>"},
};

/// Calls f(config) for each configuration.
template <class F>
void for_each_config(F&& f) {
    std::apply([&](const auto&... c) { (f(c), ...); }, configs);
}

/// Decodes `frame` (header, then body) as a message of every configuration. Whatever decodes
/// must re-encode to the same bytes (the encoding is canonical) and decode again to an equal
/// message. Returns what went wrong, or nothing. Inputs whose body length disagrees with the
/// header are also decoded with the length corrected, so a fuzzer reaches the body decoders
/// without having to keep the length field in step.
inline std::optional<std::string> check_frame(std::span<const std::byte> frame) {
    if (frame.size() < wire::header_size) return std::nullopt;
    auto header = wire::decode_header(frame.first<wire::header_size>());
    if (!header.has_value()) return std::nullopt;
    auto body = frame.subspan(wire::header_size);
    if (body.size() > wire::limits{}.max_frame_body) return std::nullopt;
    wire::frame_header h = *header;
    h.body_size = static_cast<std::uint32_t>(body.size());
    std::optional<std::string> problem;
    for_each_config([&](const auto& c) {
        using message = typename std::decay_t<decltype(c)>::message;
        if (problem) return;
        auto decoded = wire::decode_frame_body<message>(h, body);
        if (!decoded.has_value()) return;
        std::vector<std::byte> again;
        wire::encode_frame(*decoded, again);
        auto again_body = std::span<const std::byte>(again).subspan(wire::header_size);
        if (again[5] != std::byte{h.kind} || !std::ranges::equal(again_body, body)) {
            problem = std::string(c.name) + ": a decoded message re-encodes to other bytes";
            return;
        }
        auto twice = wire::decode_frame_body<message>(h, again_body);
        if (!twice.has_value()) {
            problem = std::string(c.name) +
                      ": a re-encoded message fails to decode: " + twice.error().message();
        } else if (!(*twice == *decoded)) {
            problem = std::string(c.name) + ": a re-encoded message decodes to another value";
        }
    });
    return problem;
}

}  // namespace capkit::fuzz
