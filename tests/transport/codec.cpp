// SPDX-License-Identifier: MIT
// capkit::wire: every message real clusters send round-trips; any bytes decode or are refused
// with a sentence and an offset, never a crash or an unbounded allocation.
#include <capkit/presets.hpp>

#include <capkit/wire/frame.hpp>
#include "support/compiled_presets.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <rapidcheck/catch.h>
#include <boost/hana/for_each.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <catch2/catch.hpp>

#include "../../fuzz/codec_messages.hpp"
#include "../../fuzz/codec_workload.hpp"

namespace wire = capkit::wire;
using bytes = std::vector<std::byte>;
using capkit::node_id;

namespace {

bytes of(std::initializer_list<int> v) {
    bytes out;
    for (int b : v) out.push_back(static_cast<std::byte>(b));
    return out;
}

template <class T>
bytes encoded(const T& v) {
    bytes out;
    wire::encode(v, out);
    return out;
}

template <class T>
wire::decode_error refused(const bytes& b, const wire::limits& lim = {}) {
    auto r = wire::decode<T>(b, lim);
    REQUIRE(r.has_error());
    return r.error();
}

template <class Variant>
bytes frame_of(const Variant& m) {
    bytes out;
    wire::encode_frame(m, out);
    return out;
}

std::span<const std::byte, wire::header_size> header_of(const bytes& frame) {
    return std::span<const std::byte>(frame).first<wire::header_size>();
}

template <class Variant>
wire::decode_result<Variant> decode_frame(const bytes& frame) {
    auto h = wire::decode_header(header_of(frame));
    if (!h.has_value()) return h.error();
    return wire::decode_frame_body<Variant>(
        *h, std::span<const std::byte>(frame).subspan(wire::header_size));
}

template <class Message>
constexpr bool fuzzed() {
    return std::apply(
        [](const auto&... c) {
            return (std::is_same_v<typename std::decay_t<decltype(c)>::message, Message> || ...);
        },
        capkit::fuzz::configs);
}

// Every message a workload on Replica sends: (frame bytes, round-trip verdicts).
template <class Replica>
std::size_t round_trip_workload(std::uint64_t seed) {
    using message = typename Replica::message;
    static_assert(fuzzed<message>(),
                  "the fuzzer and the regression replay must decode this configuration's messages");
    std::size_t seen = 0;
    std::set<std::size_t> kinds;
    capkit::fuzz::run_workload<Replica>(
        [&](const message& m) {
            ++seen;
            kinds.insert(m.index());
            auto frame = frame_of(m);
            auto back = decode_frame<message>(frame);
            if (!back.has_value()) FAIL(back.error().message());
            REQUIRE(*back == m);
            REQUIRE(frame_of(*back) == frame);
        },
        seed);
    CHECK(kinds.size() >= 3);  // requests and replies of several kinds, not one
    return seen;
}

// Real frames of every configuration, to mutate.
const std::vector<bytes>& real_frames() {
    static const std::vector<bytes> frames = [] {
        std::vector<bytes> out;
        auto collect = [&out](auto t) {
            using replica = typename decltype(t)::type;
            capkit::fuzz::run_workload<replica>(
                [&out](const typename replica::message& m) {
                    if (out.size() % 7 == 0 || m.index() != 0) out.push_back(frame_of(m));
                },
                7, 20);
        };
        boost::hana::for_each(capkit::lab::presets, [&](const auto& p) {
            collect(boost::hana::type_c<typename std::decay_t<decltype(p)>::replica>);
        });
        boost::hana::for_each(capkit::fuzz::extra_replicas, collect);
        return out;
    }();
    return frames;
}

template <class T>
rc::Gen<std::optional<T>> gen_optional() {
    return rc::gen::map(rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::arbitrary<T>()),
                        [](std::pair<bool, T> p) {
                            return p.first ? std::optional<T>(std::move(p.second)) : std::nullopt;
                        });
}

using everything =
    std::tuple<std::uint64_t, std::int32_t, std::int8_t, bool, std::string,
               std::optional<std::int16_t>, std::vector<std::int64_t>,
               std::map<std::string, std::uint8_t>, std::set<int>,
               std::pair<std::uint16_t, std::deque<bool>>, std::array<std::int64_t, 2>, double,
               std::chrono::nanoseconds, std::unordered_map<int, std::string>,
               std::unordered_set<std::uint32_t>, boost::unordered_flat_map<std::string, int>,
               std::variant<std::monostate, std::int64_t, std::string>>;

rc::Gen<everything> gen_everything() {
    return rc::gen::apply(
        [](std::uint64_t a, std::int32_t b, std::int8_t c, bool d, std::string e,
           std::optional<std::int16_t> f, std::vector<std::int64_t> g,
           std::map<std::string, std::uint8_t> h, std::set<int> i, std::uint16_t j,
           std::vector<bool> k, std::array<std::int64_t, 2> l, std::int32_t m, std::int64_t n,
           std::map<int, std::string> o, std::set<std::uint32_t> p, std::map<std::string, int> q,
           int which, std::int64_t r, std::string s) {
            std::variant<std::monostate, std::int64_t, std::string> v;
            if (which == 1) v = r;
            if (which == 2) v = s;
            return everything{a,
                              b,
                              c,
                              d,
                              std::move(e),
                              f,
                              std::move(g),
                              std::move(h),
                              std::move(i),
                              {j, std::deque<bool>(k.begin(), k.end())},
                              l,
                              m / 4.0,  // no NaN: it is unequal to itself
                              std::chrono::nanoseconds(n),
                              {o.begin(), o.end()},
                              {p.begin(), p.end()},
                              {q.begin(), q.end()},
                              std::move(v)};
        },
        rc::gen::arbitrary<std::uint64_t>(), rc::gen::arbitrary<std::int32_t>(),
        rc::gen::arbitrary<std::int8_t>(), rc::gen::arbitrary<bool>(),
        rc::gen::arbitrary<std::string>(), gen_optional<std::int16_t>(),
        rc::gen::arbitrary<std::vector<std::int64_t>>(),
        rc::gen::arbitrary<std::map<std::string, std::uint8_t>>(),
        rc::gen::arbitrary<std::set<int>>(), rc::gen::arbitrary<std::uint16_t>(),
        rc::gen::arbitrary<std::vector<bool>>(), rc::gen::arbitrary<std::array<std::int64_t, 2>>(),
        rc::gen::arbitrary<std::int32_t>(), rc::gen::arbitrary<std::int64_t>(),
        rc::gen::arbitrary<std::map<int, std::string>>(),
        rc::gen::arbitrary<std::set<std::uint32_t>>(),
        rc::gen::arbitrary<std::map<std::string, int>>(), rc::gen::inRange(0, 3),
        rc::gen::arbitrary<std::int64_t>(), rc::gen::arbitrary<std::string>());
}

// A CRDT state reached by random operations at 4 nodes and merges between them.
template <class Crdt>
Crdt gen_crdt() {
    auto ops = *rc::gen::container<std::vector<std::tuple<int, int, std::uint8_t>>>(rc::gen::tuple(
        rc::gen::inRange(0, 4), rc::gen::inRange(0, 4), rc::gen::arbitrary<std::uint8_t>()));
    std::array<Crdt, 4> replicas{};
    std::uint64_t tick = 0;
    for (auto [at, what, arg] : ops) {
        auto self = static_cast<node_id>(at);
        auto& c = replicas[static_cast<std::size_t>(at)];
        std::string element(1, static_cast<char>('a' + arg % 5));
        if (what == 3) {
            c.merge(replicas[arg % 4]);
        } else if constexpr (std::is_same_v<Crdt, capkit::g_counter>) {
            c.increment(self, arg);
        } else if constexpr (std::is_same_v<Crdt, capkit::pn_counter>) {
            what == 0 ? c.decrement(self, arg) : c.increment(self, arg);
        } else if constexpr (std::is_same_v<Crdt, capkit::or_set<std::string>>) {
            what == 0 ? void(c.remove(element)) : c.add(self, element);
        } else if constexpr (std::is_same_v<Crdt, capkit::lww_register<std::string>>) {
            c.assign(element, capkit::hlc::timestamp{++tick, 0}, self);
        } else {
            c.assign(self, element);
        }
    }
    return replicas[0];
}

// A resolver state reached by random writes through 4 coordinators with random contexts.
template <class R>
typename R::template state<std::optional<std::int64_t>> gen_resolved() {
    using state = typename R::template state<std::optional<std::int64_t>>;
    auto ops = *rc::gen::container<std::vector<std::tuple<int, int, int, std::int64_t>>>(
        rc::gen::tuple(rc::gen::inRange(0, 4), rc::gen::inRange(0, 4), rc::gen::inRange(0, 4),
                       rc::gen::arbitrary<std::int64_t>()));
    std::array<state, 4> replicas{};
    std::array<typename R::context, 4> contexts{};
    std::uint64_t tick = 0;
    for (auto [at, what, other, v] : ops) {
        auto& s = replicas[static_cast<std::size_t>(at)];
        typename R::stamp stamp{};
        if constexpr (std::is_same_v<typename R::stamp, capkit::hlc::timestamp>)
            stamp = {++tick, 0};
        if (what == 0) {
            s = R::merge(s, replicas[static_cast<std::size_t>(other)]);
        } else if (what == 1) {
            contexts[static_cast<std::size_t>(other)] = R::context_of(s);
        } else {
            std::optional<std::int64_t> value;
            if (what == 3) value = v;  // else a tombstone
            s = R::write(s, contexts[static_cast<std::size_t>(other)], static_cast<node_id>(at),
                         stamp, value);
        }
    }
    return replicas[0];
}

// Decodes to an equal value and, unless the type holds unordered containers (whose order of
// iteration is theirs), re-encodes to the same bytes.
template <class T>
void round_trips(const T& v, bool canonical = true) {
    auto b = encoded(v);
    auto back = wire::decode<T>(b);
    if (!back.has_value()) RC_FAIL(back.error().message());
    RC_ASSERT(*back == v);
    if (canonical) RC_ASSERT(encoded(*back) == b);
}

}  // namespace

TEST_CASE("codec: messages of real clusters round-trip", "[codec]") {
    std::size_t total = 0;
    boost::hana::for_each(capkit::lab::presets, [&](const auto& p) {
        using replica = typename std::decay_t<decltype(p)>::replica;
        INFO("preset " << p.name);
        auto n = round_trip_workload<replica>(1);
        CHECK(n > 20);
        total += n;
    });
    boost::hana::for_each(capkit::fuzz::extra_replicas, [&](auto t) {
        total += round_trip_workload<typename decltype(t)::type>(2);
    });
    CHECK(total > 500);
}

TEST_CASE("codec: a Paxos register round-trips, so durable storage can keep it", "[codec]") {
    using serial = capkit::replica<std::string, std::int64_t, capkit::quorum<3>, capkit::serial>;
    STATIC_REQUIRE(wire::encodable<serial::state>);
    serial::state s{{7, 2}, {5, 1}, std::int64_t{42}};
    auto back = wire::decode<serial::state>(encoded(s));
    REQUIRE(back.has_value());
    CHECK(*back == s);
    serial::state tombstone{{9, 0}, {9, 0}, std::nullopt};
    CHECK(wire::decode<serial::state>(encoded(tombstone)).value() == tombstone);
}

TEST_CASE("codec: the encoding rules, byte by byte", "[codec]") {
    CHECK(encoded(std::uint64_t{0}) == of({0x00}));
    CHECK(encoded(std::uint64_t{127}) == of({0x7f}));
    CHECK(encoded(std::uint64_t{128}) == of({0x80, 0x01}));
    CHECK(encoded(std::uint16_t{300}) == of({0xac, 0x02}));
    CHECK(encoded(std::numeric_limits<std::uint64_t>::max()) ==
          of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
    CHECK(encoded(std::int64_t{0}) == of({0x00}));
    CHECK(encoded(std::int64_t{-1}) == of({0x01}));
    CHECK(encoded(std::int64_t{1}) == of({0x02}));
    CHECK(encoded(std::int32_t{-64}) == of({0x7f}));
    CHECK(encoded(std::int8_t{-128}) == of({0xff, 0x01}));
    CHECK(encoded(true) == of({0x01}));
    CHECK(encoded(std::string("hi")) == of({0x02, 'h', 'i'}));
    CHECK(encoded(std::optional<int>()) == of({0x00}));
    CHECK(encoded(std::optional<int>(-2)) == of({0x01, 0x03}));
    CHECK(encoded(std::variant<int, std::string>("a")) == of({0x01, 0x01, 'a'}));
    CHECK(encoded(std::vector<std::uint8_t>{1, 200}) == of({0x02, 0x01, 0xc8, 0x01}));
    CHECK(encoded(std::map<int, bool>{{1, true}}) == of({0x01, 0x02, 0x01}));
    CHECK(encoded(std::chrono::milliseconds(-3)) == of({0x05}));
    CHECK(encoded(1.0) == of({0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
    // A Hana struct: its fields in order (request_id: coordinator, sequence, epoch).
    CHECK(encoded(capkit::protocol::request_id{2, 300, 1}) == of({0x02, 0xac, 0x02, 0x01}));
    // A class with private state, through its wire_fields: lww_register's value, stamp, origin.
    capkit::lww_register<std::string> reg;
    reg.assign("v", {5, 1}, 3);
    CHECK(encoded(reg) == of({0x01, 'v', 0x05, 0x01, 0x03}));

    // A frame: magic, version, kind (the alternative's index), flags, body size LE, body.
    using message = capkit::protocol::paxos_message<std::uint64_t, std::int64_t>;
    auto frame = frame_of(message{capkit::protocol::erase<std::uint64_t, std::int64_t>{7, {1, 2}}});
    CHECK(frame == of({'C', 'A', 'P', 'K', 2, 4, 0, 0, 3, 0, 0, 0, 0x07, 0x01, 0x02}));
    bytes control;
    wire::encode_control_frame(0xF1, std::string("hello"), control);
    auto h = wire::decode_header(header_of(control));
    REQUIRE(h.has_value());
    CHECK(*h == wire::frame_header{.version = 2, .kind = 0xF1, .flags = 0, .body_size = 6});
    CHECK(wire::is_control_kind(h->kind));
    CHECK(wire::decode<std::string>(std::span<const std::byte>(control).subspan(12)).value() ==
          "hello");
    auto as_message =
        wire::decode_frame_body<message>(*h, std::span<const std::byte>(control).subspan(12));
    REQUIRE(as_message.has_error());
    CHECK(as_message.error().message() ==
          "at byte 5: frame kind 0xf1 is a transport control frame, not a message");
    CHECK_THROWS_AS(wire::encode_control_frame(3, 0, control), std::invalid_argument);
}

TEST_CASE("codec: refusals say what was wrong and where", "[codec]") {
    using message =
        capkit::protocol::message<std::uint64_t, capkit::lww<>::state<std::optional<std::int64_t>>>;
    auto e = refused<message>(of({0x7f, 0x00}));
    CHECK(e.offset == 0);
    CHECK(e.what == "variant index 127 out of range (" +
                        std::to_string(std::variant_size_v<message>) + " alternatives)");
    // In a frame, offsets count from the frame's first byte.
    auto frame = frame_of(message{capkit::protocol::write_reply{{2, 3, 1}}});
    frame.push_back(std::byte{0});
    frame[8] = std::byte{4};
    auto trailing = decode_frame<message>(frame);
    REQUIRE(trailing.has_error());
    CHECK(trailing.error().message() == "at byte 15: 1 trailing bytes after the message");
    CHECK(trailing.error().code() == capkit::errc::bad_message);
    boost::system::error_code ec = trailing.error();
    CHECK(ec == capkit::errc::bad_message);
    CHECK_THROWS_WITH(trailing.value(), Catch::Contains("at byte 15"));

    CHECK(refused<bool>(of({0x02})).what == "bool byte 0x02 is neither 0 nor 1");
    CHECK(refused<std::optional<int>>(of({0x07})).what ==
          "optional tag 0x07 is neither 0 (empty) nor 1 (present)");
    CHECK(refused<std::uint64_t>(of({0x80, 0x00})).what ==
          "overlong varint for an unsigned integer (it ends in a zero byte; encodings are "
          "minimal)");
    CHECK(refused<std::uint64_t>(of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}))
              .what == "an unsigned integer (a varint) overflows 64 bits");
    CHECK(refused<std::uint8_t>(of({0x80, 0x02})).what ==
          "an unsigned integer 256 does not fit in 8-bit unsigned integer");
    CHECK(refused<std::int8_t>(of({0x80, 0x02})).what ==
          "a signed integer (zigzag 256) does not fit in 8-bit signed integer");
    CHECK(refused<std::string>(of({0x05, 'a'})).what ==
          "a string of 5 elements (at least 1 byte each) but only 1 bytes left");
    CHECK(refused<std::uint32_t>(of({})).what ==
          "unexpected end of data inside an unsigned integer (a varint)");
    CHECK(refused<std::set<int>>(of({0x02, 0x04, 0x02})).what ==
          "set elements out of order or repeated at element 1 (sorted, each once)");
    CHECK(refused<std::map<int, int>>(of({0x02, 0x02, 0x00, 0x02, 0x00})).offset == 3);
    CHECK(refused<std::unordered_set<int>>(of({0x02, 0x02, 0x02})).what ==
          "set element repeated at element 1");
    CHECK(refused<int>(of({0x02, 0x00})).what ==
          "1 trailing bytes after the value (a frame holds one)");
    CHECK(refused<std::vector<std::vector<std::vector<int>>>>(of({1, 1, 1, 0}), {.max_depth = 2})
              .what == "values nested deeper than 2 levels (limits::max_depth)");
    CHECK(
        wire::decode<std::vector<std::vector<std::vector<int>>>>(of({1, 1, 1, 0}), {.max_depth = 3})
            .has_value());
    CHECK(refused<std::string>(of({0x01, 'a'}), {.max_frame_body = 1}).what ==
          "a body of 2 bytes is above the limit of 1 bytes (limits::max_frame_body)");
}

TEST_CASE("codec: decoded states that break an invariant are refused", "[codec]") {
    // counter_map (inside g_counter, vector_clock...): sorted by node, no zero counter.
    CHECK(refused<capkit::g_counter>(of({0x02, 0x05, 0x01, 0x03, 0x01})).what ==
          "counter map: node 3 after node 5 (entries are sorted by node id, each node once)");
    CHECK(refused<capkit::g_counter>(of({0x02, 0x03, 0x01, 0x03, 0x01})).offset == 0);
    CHECK(refused<capkit::vector_clock>(of({0x01, 0x03, 0x00})).what ==
          "counter map: node 3 has a zero counter (zero counters are left out)");
    // dvvset: a node's live values are at most its writes (merge subtracts one from the other).
    using dvv_state = capkit::dvvset<std::optional<std::int64_t>>;
    CHECK(refused<dvv_state>(of({0x01, 0x02, 0x01, 0x02, 0x00, 0x00})).what ==
          "dvvset: node 2 holds 2 values but made only 1 writes");
    CHECK(refused<dvv_state>(of({0x01, 0x02, 0x00, 0x00})).what ==
          "dvvset: node 2 has counter 0 (counters start at 1)");
    CHECK(refused<dvv_state>(of({0x02, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00})).what ==
          "dvvset: node 1 after node 2 (entries are sorted by node id, each node once)");
    // vector_clocks: one dot per sibling, each seen by the clock.
    using vc_state = capkit::vector_clocks::state<std::optional<std::int64_t>>;
    CHECK(refused<vc_state>(of({0x01, 0x01, 0x01, 0x01, 0x00, 0x00})).what ==
          "vector_clocks state: 1 siblings but 0 dots (one dot per sibling)");
    CHECK(refused<vc_state>(of({0x01, 0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x02})).what ==
          "vector_clocks state: dot (node 1, 2) is beyond the clock (1 for that node)");
    // Dotted states of or_set and mv_register: sorted entries, dots seen by the context.
    using set = capkit::or_set<std::string>;
    CHECK(refused<set>(of({0x01, 0x01, 'a', 0x01, 0x03, 0x01, 0x01, 0x02})).what ==
          "dotted state: entry 0 has dot (node 1, 3), beyond the causal context (2 for that "
          "node)");
    CHECK(refused<set>(of({0x02, 0x01, 'b', 0x01, 0x01, 0x01, 'a', 0x01, 0x02, 0x01, 0x01, 0x02}))
              .what ==
          "dotted state: entry 1 is out of order or repeated (entries are sorted by element, "
          "then dot)");
    CHECK(refused<set>(of({0x02, 0x01, 'a', 0x01, 0x01, 0x01, 'b', 0x01, 0x01, 0x01, 0x01, 0x02}))
              .what == "dotted state: dot (node 1, 1) tags two entries (a dot names one update)");
    CHECK(wire::decode<set>(
              of({0x02, 0x01, 'a', 0x01, 0x01, 0x01, 'b', 0x01, 0x02, 0x01, 0x01, 0x02}))
              .has_value());
}

TEST_CASE("codec: random values round-trip", "[codec][property]") {
    rc::prop("standard types", [] { round_trips(*gen_everything(), false); });
    rc::prop("CRDT states", [] {
        round_trips(gen_crdt<capkit::g_counter>());
        round_trips(gen_crdt<capkit::pn_counter>());
        round_trips(gen_crdt<capkit::or_set<std::string>>());
        round_trips(gen_crdt<capkit::lww_register<std::string>>());
        round_trips(gen_crdt<capkit::mv_register<std::string>>());
    });
    rc::prop("resolver states in messages", [] {
        using namespace capkit::protocol;
        auto id = request_id{*rc::gen::arbitrary<node_id>(), *rc::gen::arbitrary<std::uint64_t>(),
                             *rc::gen::arbitrary<std::uint64_t>()};
        auto key = *rc::gen::arbitrary<std::uint64_t>();
        using dvv_state = capkit::dvvset<std::optional<std::int64_t>>;
        using vc_state = capkit::vector_clocks::state<std::optional<std::int64_t>>;
        using lww_state = capkit::lww<>::state<std::optional<std::int64_t>>;
        round_trips(message<std::uint64_t, dvv_state>{
            write_request<std::uint64_t, dvv_state>{id, key, gen_resolved<capkit::dvv>()}});
        round_trips(message<std::uint64_t, vc_state>{
            read_reply<std::uint64_t, vc_state>{id, gen_resolved<capkit::vector_clocks>()}});
        round_trips(message<std::uint64_t, lww_state>{
            repair<std::uint64_t, lww_state>{key, gen_resolved<capkit::lww<>>()}});
        auto b = ballot{*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<node_id>()};
        round_trips(paxos_message<std::string, std::string>{promise<std::string, std::string>{
            id, b, *rc::gen::arbitrary<bool>(), b, *gen_optional<std::string>(), b}});
    });
}

TEST_CASE("codec: any bytes decode or are refused, never crash", "[codec][property]") {
    rc::prop("random bodies", [](const std::vector<std::uint8_t>& raw) {
        bytes b;
        for (auto x : raw) b.push_back(std::byte{x});
        // Each either decodes, re-encoding to the same bytes (canonical), or is refused.
        auto canonical = [&b](auto type) {
            using T = typename decltype(type)::type;
            auto r = wire::decode<T>(b);
            if (r.has_value()) RC_ASSERT(encoded(*r) == b);
        };
        canonical(boost::hana::type_c<std::tuple<std::uint8_t, std::string, std::set<int>>>);
        canonical(boost::hana::type_c<capkit::or_set<std::string>>);
        canonical(boost::hana::type_c<capkit::dvvset<std::optional<std::int64_t>>>);
        canonical(boost::hana::type_c<capkit::vector_clocks::state<std::optional<std::int64_t>>>);
        canonical(boost::hana::type_c<capkit::pn_counter>);
        auto mixed = wire::decode<everything>(b);
        if (mixed.has_value()) RC_ASSERT(wire::decode<everything>(encoded(*mixed)).has_value());
        // As the body of a frame of each kind, for every configuration.
        // Every kind of the largest variant (the quorum protocol's, membership last), and one past.
        constexpr auto kinds = std::variant_size_v<capkit::protocol::message<
            std::string, capkit::lww<>::state<std::optional<std::string>>>>;
        for (std::uint8_t kind = 0; kind <= kinds; ++kind) {
            bytes frame = of({'C', 'A', 'P', 'K', wire::protocol_version, kind, 0, 0, 0, 0, 0, 0});
            frame.insert(frame.end(), b.begin(), b.end());
            auto problem = capkit::fuzz::check_frame(frame);
            if (problem) RC_FAIL(*problem);
        }
    });
}

TEST_CASE("codec: every strict prefix of a valid body is refused", "[codec][property]") {
    rc::prop("random values", [] {
        auto b = encoded(*rc::gen::scale(0.3, gen_everything()));
        // Every prefix of short bodies; of long ones the first 64 and 64 drawn at random.
        std::vector<std::size_t> lengths;
        for (std::size_t n = 0; n < std::min<std::size_t>(b.size(), 64); ++n) lengths.push_back(n);
        if (b.size() > 64)
            for (int i = 0; i < 64; ++i)
                lengths.push_back(*rc::gen::inRange<std::size_t>(64, b.size()));
        for (auto n : lengths)
            RC_ASSERT(wire::decode<everything>(std::span<const std::byte>(b).first(n)).has_error());
    });
    rc::prop("real messages", [] {
        const auto& frames = real_frames();
        const auto& frame = frames[*rc::gen::inRange<std::size_t>(0, frames.size())];
        auto h = wire::decode_header(header_of(frame));
        RC_ASSERT(h.has_value());
        auto body = std::span<const std::byte>(frame).subspan(wire::header_size);
        capkit::fuzz::for_each_config([&](const auto& c) {
            using message = typename std::decay_t<decltype(c)>::message;
            if (!wire::decode_frame_body<message>(*h, body).has_value()) return;
            for (std::size_t n = 0; n < body.size(); ++n) {
                auto shorter = *h;
                shorter.body_size = static_cast<std::uint32_t>(n);
                RC_ASSERT(wire::decode_frame_body<message>(shorter, body.first(n)).has_error());
            }
        });
    });
}

TEST_CASE("codec: random byte flips in real frames never crash", "[codec][property]") {
    REQUIRE(real_frames().size() > 100);
    rc::prop("flipped frames decode canonically or are refused", [] {
        const auto& frames = real_frames();
        auto frame = frames[*rc::gen::inRange<std::size_t>(0, frames.size())];
        auto flips = *rc::gen::nonEmpty(
            rc::gen::container<std::vector<std::pair<std::size_t, std::uint8_t>>>(rc::gen::pair(
                rc::gen::arbitrary<std::size_t>(), rc::gen::arbitrary<std::uint8_t>())));
        for (auto [at, mask] : flips) frame[at % frame.size()] ^= std::byte{mask};
        auto problem = capkit::fuzz::check_frame(frame);
        if (problem) RC_FAIL(*problem);
    });
}

TEST_CASE("codec: headers are checked before any body is read", "[codec][property]") {
    auto header = [](std::array<std::uint8_t, wire::header_size> raw) {
        std::array<std::byte, wire::header_size> out{};
        for (std::size_t i = 0; i < raw.size(); ++i) out[i] = std::byte{raw[i]};
        return out;
    };
    auto with_size = [&](std::uint32_t size) {
        return header({'C', 'A', 'P', 'K', wire::protocol_version, 0, 0, 0,
                       static_cast<std::uint8_t>(size), static_cast<std::uint8_t>(size >> 8),
                       static_cast<std::uint8_t>(size >> 16),
                       static_cast<std::uint8_t>(size >> 24)});
    };
    auto ok = wire::decode_header(with_size(16u << 20));
    REQUIRE(ok.has_value());
    CHECK(ok->body_size == 16u << 20);
    rc::prop("a body above the limit is refused", [&] {
        auto limit = *rc::gen::inRange<std::uint32_t>(0, 64u << 20);
        auto size = *rc::gen::inRange<std::uint64_t>(std::uint64_t{limit} + 1, 1ull << 32);
        auto e = wire::decode_header(with_size(static_cast<std::uint32_t>(size)),
                                     {.max_frame_body = limit});
        RC_ASSERT(e.has_error());
        RC_ASSERT(e.error().offset == 8u);
        RC_ASSERT(e.error().what == "the frame announces a body of " + std::to_string(size) +
                                        " bytes, above the limit of " + std::to_string(limit) +
                                        " bytes (limits::max_frame_body)");
    });
    rc::prop("wrong magic is refused", [&] {
        auto raw = *rc::gen::arbitrary<std::array<std::uint8_t, 4>>();
        RC_PRE((raw != std::array<std::uint8_t, 4>{'C', 'A', 'P', 'K'}));
        auto h = header({raw[0], raw[1], raw[2], raw[3], 1, 0, 0, 0, 0, 0, 0, 0});
        auto e = wire::decode_header(h);
        RC_ASSERT(e.has_error());
        RC_ASSERT(e.error().offset == 0u);
        RC_ASSERT(e.error().what.starts_with("not a capkit frame: it starts with 0x"));
    });
    CHECK(wire::decode_header(header({'G', 'E', 'T', ' ', 1, 0, 0, 0, 0, 0, 0, 0})).error().what ==
          "not a capkit frame: it starts with 0x47 0x45 0x54 0x20 instead of \"CAPK\" (is the "
          "peer speaking capkit's protocol?)");
    rc::prop("another version is refused, naming both", [&] {
        auto version =
            *rc::gen::distinctFrom(rc::gen::arbitrary<std::uint8_t>(), wire::protocol_version);
        auto e = wire::decode_header(header({'C', 'A', 'P', 'K', version, 0, 0, 0, 0, 0, 0, 0}));
        RC_ASSERT(e.has_error());
        RC_ASSERT(e.error().message() ==
                  "at byte 4: the peer speaks capkit wire protocol version " +
                      std::to_string(version) +
                      " and this node speaks version 2; run one capkit wire version on every "
                      "node");
    });
    rc::prop("flags are refused", [&] {
        auto flags = *rc::gen::distinctFrom(rc::gen::arbitrary<std::uint16_t>(), std::uint16_t{0});
        auto e = wire::decode_header(
            header({'C', 'A', 'P', 'K', wire::protocol_version, 0, static_cast<std::uint8_t>(flags),
                    static_cast<std::uint8_t>(flags >> 8), 0, 0, 0, 0}));
        RC_ASSERT(e.has_error());
        RC_ASSERT(e.error().offset == 6u);
        RC_ASSERT(e.error().what.ends_with("are set, but protocol version 2 defines no flags"));
    });
}

TEST_CASE("codec: a count of 2^60 elements is refused without allocating", "[codec]") {
    // varint(2^60), then three bytes: vector::reserve(2^60) would throw or abort under ASan.
    auto huge = of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 2, 3});
    CHECK(refused<std::vector<std::uint64_t>>(huge).what ==
          "a sequence of 1152921504606846976 elements (at least 1 byte each) but only 3 bytes "
          "left");
    CHECK(refused<std::string>(huge).offset == 0);
    CHECK(refused<std::map<std::uint64_t, std::string>>(huge).what ==
          "a map of 1152921504606846976 elements (at least 2 bytes each) but only 3 bytes left");
    CHECK(refused<std::unordered_set<std::uint64_t>>(huge).offset == 0);
    CHECK(refused<std::deque<capkit::protocol::request_id>>(huge).what.find("at least 3 bytes") !=
          std::string::npos);
    // Inside a message: a read reply whose dvvset claims 2^60 entries.
    using message =
        capkit::protocol::message<std::uint64_t, capkit::dvvset<std::optional<std::int64_t>>>;
    bytes body = of({0x01, 0x02, 0x03, 0x01});  // read_reply, request (2, 3) of epoch 1
    body.insert(body.end(), huge.begin(), huge.end());
    auto e = refused<message>(body);
    CHECK(e.offset == 4);
    CHECK(e.what.starts_with("a sequence of 1152921504606846976 elements (at least 3 bytes each)"));
}

TEST_CASE("codec: fuzz regressions replay without a crash", "[codec]") {
    // The fuzz pass of scripts/test keeps every crashing input here (docs/wire-format.md).
    auto dir = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" /
               "regressions";
    REQUIRE(std::filesystem::is_regular_file(dir / "README.md"));
    std::size_t replayed = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::vector<char> raw((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
        bytes frame;
        for (char c : raw) frame.push_back(static_cast<std::byte>(c));
        INFO(entry.path());
        auto problem = capkit::fuzz::check_frame(frame);
        CHECK_FALSE(problem);
        // The body alone, as each kind of each configuration, whatever its header said.
        auto body =
            std::span<const std::byte>(frame).subspan(std::min(frame.size(), wire::header_size));
        capkit::fuzz::for_each_config([&](const auto& c) {
            using message = typename std::decay_t<decltype(c)>::message;
            for (std::uint8_t kind = 0; kind < std::variant_size_v<message>; ++kind) {
                wire::frame_header h{.kind = kind,
                                     .body_size = static_cast<std::uint32_t>(body.size())};
                auto decoded = wire::decode_frame_body<message>(h, body);
                if (decoded.has_value())
                    CHECK(decode_frame<message>(frame_of(*decoded)).has_value());
            }
        });
        ++replayed;
    }
    SUCCEED(replayed << " regression inputs replayed");
}
