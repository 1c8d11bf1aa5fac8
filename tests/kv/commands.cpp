// SPDX-License-Identifier: MIT
// capkit-kv's command layer over in-memory clusters of the catalogue's presets: what each preset
// serves and refuses, honest replies under partitions, siblings resolved through a context, and
// counters that sum after a heal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/hana/at.hpp>

#include <capkit/cluster.hpp>
#include <capkit/crdt/pn_counter.hpp>
#include <capkit/detail/text.hpp>

#include <capkit-kv/commands.hpp>
#include <capkit-kv/resp.hpp>

namespace {

namespace kv = capkit::kv;
namespace resp = capkit::kv::resp;
using namespace std::chrono_literals;
using capkit::node_id;

// The catalogue's preset number I, keyed by strings as Redis clients need.
template <std::size_t I>
using preset_at = kv::string_keyed<
    typename std::decay_t<decltype(boost::hana::at_c<I>(capkit::lab::presets))>::replica>;
template <std::size_t I>
std::string preset_name() {
    return std::string(boost::hana::at_c<I>(capkit::lab::presets).name);
}

using cp_serial = preset_at<0>;
using cp_linearizable = preset_at<1>;
using strong_lww = preset_at<2>;
using ap_dvv = preset_at<4>;
using ap_vclock = preset_at<5>;
using ap_crdt_counter = preset_at<6>;
using ring_serial = preset_at<11>;
using ring_strong = preset_at<12>;

// A cluster of Replica with one executor per node.
template <class Replica>
struct kv_cluster {
    using node_type = typename capkit::cluster<Replica>::node_type;

    explicit kv_cluster(std::string preset, capkit::replica_options options = {}) : c(options) {
        for (node_id i = 0; i < capkit::cluster<Replica>::size_of(options); ++i)
            executors.push_back(std::make_unique<kv::executor<node_type>>(
                c.node_at(i), kv::executor_options{.preset = preset}));
    }

    // Runs `cmd` through node `via` until its reply comes; the reply's bytes.
    std::string run(node_id via, resp::command cmd) {
        std::optional<std::string> reply;
        executors.at(via)->execute(cmd, [&](std::string r) { reply = std::move(r); });
        c.network().run_until([&] { return reply.has_value(); });
        REQUIRE(reply.has_value());
        return *reply;
    }

    capkit::cluster<Replica> c;
    std::vector<std::unique_ptr<kv::executor<node_type>>> executors;
};

std::string ok() {
    return "+OK\r\n";
}
std::string integer(long long v) {
    return ":" + std::to_string(v) + "\r\n";
}
std::string bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string err(std::string_view sentence) {
    return "-" + std::string(sentence) + "\r\n";
}

// The elements of a reply that is an array of bulk strings (what GETCTX returns).
std::vector<std::string> bulk_array(const std::string& reply) {
    resp::parser p;  // requests are arrays of bulk strings too
    std::string_view in = reply;
    REQUIRE(p.parse(in) == resp::status::command);
    REQUIRE(in.empty());
    return p.take();
}

}  // namespace

TEST_CASE("the test's preset indices name the presets they mean", "[kv][commands]") {
    CHECK(preset_name<0>() == "cp-serial");
    CHECK(preset_name<1>() == "cp-linearizable");
    CHECK(preset_name<2>() == "strong-lww");
    CHECK(preset_name<4>() == "ap-dvv");
    CHECK(preset_name<5>() == "ap-vclock");
    CHECK(preset_name<6>() == "ap-crdt-counter");
    CHECK(preset_name<11>() == "ring-serial");
    CHECK(preset_name<12>() == "ring-strong");
    STATIC_REQUIRE(std::is_same_v<ap_crdt_counter::value_type, capkit::g_counter>);
    STATIC_REQUIRE(std::is_same_v<cp_serial::key_type, std::string>);
    bool same = false;
    bool found = kv::with_preset(
        "ap-dvv", [&](auto t) { same = std::is_same_v<typename decltype(t)::type, ap_dvv>; });
    CHECK(found);
    CHECK(same);
    CHECK_FALSE(kv::with_preset("cp-magic", [](auto) {}));
}

TEST_CASE("cp-serial: CAS and SETNX win and lose, counters and contexts are refused",
          "[kv][commands]") {
    kv_cluster<cp_serial> k("cp-serial");
    CHECK(k.run(0, {"SET", "k", "v1"}) == ok());
    CHECK(k.run(1, {"GET", "k"}) == bulk("v1"));

    // Two clients race from v1: the first CAS wins, the second definitely lost.
    CHECK(k.run(0, {"CAS", "k", "v1", "v2"}) == integer(1));
    CHECK(k.run(2, {"CAS", "k", "v1", "v3"}) == integer(0));
    CHECK(k.run(2, {"GET", "k"}) == bulk("v2"));
    CHECK(k.run(1, {"cas", "k", "v2", "v4"}) == integer(1));

    // SETNX is CAS from absent.
    CHECK(k.run(0, {"SETNX", "k", "x"}) == integer(0));
    CHECK(k.run(0, {"SETNX", "fresh", "x"}) == integer(1));
    CHECK(k.run(1, {"GET", "fresh"}) == bulk("x"));
    CHECK(k.run(1, {"GET", "missing"}) == "$-1\r\n");

    CHECK(k.run(0, {"INCRBY", "n", "1"}) ==
          err("ERR INCRBY needs a counter preset such as ap-crdt-counter; this node runs "
              "cp-serial, which keeps one value per key"));
    CHECK(k.run(0, {"incr", "n"}) ==
          err("ERR INCR needs a counter preset such as ap-crdt-counter; this node runs "
              "cp-serial, which keeps one value per key"));
    CHECK(k.run(0, {"GETCTX", "k"}) ==
          err("ERR GETCTX needs a sibling preset such as ap-dvv or ap-vclock; this node runs "
              "cp-serial, which keeps one value per key"));
    CHECK(k.run(0, {"SET", "k", "v", "NX"}) ==
          err("ERR SET option 'NX' is not supported; SETNX key value sets a key only if it is "
              "absent, atomically"));

    // DEL and EXISTS count keys as Redis does, duplicates included.
    CHECK(k.run(2, {"EXISTS", "k", "fresh", "missing", "k"}) == integer(3));
    CHECK(k.run(2, {"DEL", "k", "missing", "fresh"}) == integer(2));
    CHECK(k.run(0, {"EXISTS", "k", "fresh"}) == integer(0));
    CHECK(k.run(0, {"DEL", "k"}) == integer(0));
}

TEST_CASE("cp-serial: a minority is refused with the quorum it missed", "[kv][commands]") {
    kv_cluster<cp_serial> k("cp-serial");
    REQUIRE(k.run(0, {"SET", "k", "v1"}) == ok());
    k.c.settle();
    k.c.partition({{0}, {1, 2}});
    CHECK(k.run(0, {"GET", "k"}) == err("UNAVAILABLE quorum not reached (need R=2, reached 1)"));
    CHECK(k.run(0, {"CAS", "k", "v1", "v2"}) ==
          err("UNAVAILABLE quorum not reached (need W=2, reached 1)"));
    CHECK(k.run(1, {"CAS", "k", "v1", "v2"}) == integer(1));
    k.c.heal();
    CHECK(k.run(0, {"GET", "k"}) == bulk("v2"));
}

TEST_CASE("strong-lww partitioned: the minority answers UNAVAILABLE with need and reached",
          "[kv][commands]") {
    capkit::replica_options options;
    options.request_timeout = 100ms;
    kv_cluster<strong_lww> k("strong-lww", options);
    REQUIRE(k.run(0, {"SET", "k", "before"}) == ok());
    k.c.settle();

    SECTION("a partition the nodes know of: refused at once") {
        k.c.partition({{0}, {1, 2}});
        CHECK(k.run(0, {"GET", "k"}) ==
              err("UNAVAILABLE quorum not reached (need R=2, reached 1)"));
        CHECK(k.run(0, {"SET", "k", "lost"}) ==
              err("UNAVAILABLE quorum not reached (need W=2, reached 1)"));
        CHECK(k.run(0, {"DEL", "k"}) ==
              err("UNAVAILABLE quorum not reached (need R=2, reached 1)"));
        CHECK(k.run(0, {"EXISTS", "a", "k"}) ==
              err("UNAVAILABLE quorum not reached (need R=2, reached 1)"));
        // The majority goes on.
        CHECK(k.run(1, {"SET", "k", "after"}) == ok());
        CHECK(k.run(2, {"GET", "k"}) == bulk("after"));

        auto info = k.run(0, {"INFO"});
        // Replica requests: EXISTS read both its keys.
        CHECK(info.find("quorum_failures:5\r\n") != std::string::npos);
        CHECK(info.find("peers_up:0\r\n") != std::string::npos);
        CHECK(info.find("command_errors:4\r\n") != std::string::npos);
        CHECK(k.run(1, {"INFO"}).find("peers_up:1\r\n") != std::string::npos);
    }
    SECTION("links cut unannounced: reads expire unavailable, writes time out") {
        k.c.network().cut(0, 1);
        k.c.network().cut(0, 2);
        CHECK(k.run(0, {"GET", "k"}) ==
              err("UNAVAILABLE quorum not reached (need R=2, reached 1)"));
        CHECK(k.run(0, {"SET", "k", "maybe"}) ==
              err("TIMEOUT write not confirmed by a quorum; it may have been applied"));
        CHECK(k.run(0, {"INFO", "stats"}).find("timeouts:1\r\n") != std::string::npos);
    }
}

TEST_CASE("ap-dvv partitioned then healed: GETCTX shows both siblings, SETCTX resolves them",
          "[kv][commands]") {
    kv_cluster<ap_dvv> k("ap-dvv");
    REQUIRE(k.run(0, {"SET", "k", "v0"}) == ok());
    k.c.settle();

    k.c.partition({{0}, {1, 2}});
    CHECK(k.run(0, {"SET", "k", "left"}) == ok());  // both sides stay available
    CHECK(k.run(1, {"SET", "k", "right"}) == ok());
    k.c.settle();
    k.c.heal();
    // A read merges what every replica holds and repairs the stale ones.
    REQUIRE(k.run(2, {"GETCTX", "k"}).size() > 0);
    k.c.settle();

    auto siblings = bulk_array(k.run(2, {"GETCTX", "k"}));
    REQUIRE(siblings.size() == 3);
    std::string context = siblings.front();
    std::vector<std::string> values(siblings.begin() + 1, siblings.end());
    std::ranges::sort(values);
    CHECK(values == std::vector<std::string>{"left", "right"});
    CHECK(k.run(0, {"GET", "k"}) ==
          err("SIBLINGS the key holds 2 concurrent values; GETCTX key returns them with their "
              "context, and SETCTX key context value resolves them"));

    SECTION("SETCTX with that context resolves to one value") {
        CHECK(k.run(1, {"SETCTX", "k", context, "merged"}) == ok());
        k.c.settle();
        for (node_id i = 0; i < 3; ++i) {
            auto after = bulk_array(k.run(i, {"GETCTX", "k"}));
            REQUIRE(after.size() == 2);
            CHECK(after[1] == "merged");
            CHECK(after[0] != context);
            CHECK(k.run(i, {"GET", "k"}) == bulk("merged"));
        }
    }
    SECTION("SETCTX with an empty context writes beside the siblings") {
        auto empty = bulk_array(k.run(0, {"GETCTX", "never-written"}));
        REQUIRE(empty.size() == 1);
        CHECK(k.run(1, {"SETCTX", "k", empty.front(), "third"}) == ok());
        k.c.settle();
        CHECK(bulk_array(k.run(1, {"GETCTX", "k"})).size() == 4);
    }
    SECTION("SET writes over what a read of the key saw") {
        CHECK(k.run(2, {"SET", "k", "plain"}) == ok());
        k.c.settle();
        CHECK(k.run(0, {"GET", "k"}) == bulk("plain"));
    }
    SECTION("DEL removes every sibling it read") {
        CHECK(k.run(2, {"DEL", "k"}) == integer(1));
        k.c.settle();
        CHECK(k.run(0, {"EXISTS", "k"}) == integer(0));
    }
    SECTION("a bad context is refused with the reason") {
        CHECK(k.run(0, {"SETCTX", "k", "xyz", "v"}) ==
              err("ERR bad context: an odd number of hex digits; pass the token GETCTX "
                  "returned"));
        CHECK(k.run(0, {"SETCTX", "k", "zz", "v"}) ==
              err("ERR bad context: not hexadecimal; pass the token GETCTX returned"));
        auto garbage = k.run(0, {"SETCTX", "k", "ffffffffffffffffffff", "v"});
        CHECK(garbage.rfind("-ERR bad context: at byte ", 0) == 0);
        CHECK(k.run(0, {"SETCTX", "k", context + "00", "v"}).rfind("-ERR bad context: ", 0) == 0);
    }
}

TEST_CASE("ap-vclock keeps siblings too and takes its own contexts back", "[kv][commands]") {
    kv_cluster<ap_vclock> k("ap-vclock");
    k.c.partition({{0}, {1, 2}});
    REQUIRE(k.run(0, {"SET", "k", "a"}) == ok());
    REQUIRE(k.run(1, {"SET", "k", "b"}) == ok());
    k.c.heal();
    REQUIRE(k.run(0, {"GETCTX", "k"}).size() > 0);
    k.c.settle();
    auto siblings = bulk_array(k.run(0, {"GETCTX", "k"}));
    REQUIRE(siblings.size() == 3);
    CHECK(k.run(0, {"SETCTX", "k", siblings.front(), "ab"}) == ok());
    k.c.settle();
    CHECK(k.run(2, {"GET", "k"}) == bulk("ab"));
    CHECK(k.run(2, {"CAS", "k", "ab", "c"}) ==
          err("ERR CAS needs a serial preset such as cp-serial; this node runs ap-vclock, which "
              "keeps concurrent values as siblings"));
}

TEST_CASE("ap-crdt-counter: INCRBY on both sides of a partition sums after the heal",
          "[kv][commands]") {
    kv_cluster<ap_crdt_counter> k("ap-crdt-counter");
    k.c.partition({{0}, {1, 2}});
    CHECK(k.run(0, {"INCRBY", "hits", "5"}) == integer(5));
    CHECK(k.run(1, {"INCRBY", "hits", "3"}) == integer(3));
    k.c.settle();
    CHECK(k.run(2, {"INCR", "hits"}) == integer(4));
    k.c.settle();
    k.c.heal();
    REQUIRE(k.run(0, {"GET", "hits"}).size() > 0);  // merges and repairs
    k.c.settle();
    for (node_id i = 0; i < 3; ++i) CHECK(k.run(i, {"GET", "hits"}) == bulk("9"));
    CHECK(k.run(0, {"GET", "other"}) == "$-1\r\n");
    CHECK(k.run(0, {"EXISTS", "hits", "other"}) == integer(1));

    CHECK(k.run(0, {"DECRBY", "hits", "1"}) ==
          err("ERR DECRBY needs a counter that can decrease (a pn_counter under crdt_merge); "
              "this node runs ap-crdt-counter, a grow-only g_counter"));
    CHECK(k.run(0, {"INCRBY", "hits", "-1"}) ==
          err("ERR INCRBY with a negative increment needs a counter that can decrease (a "
              "pn_counter under crdt_merge); this node runs ap-crdt-counter, a grow-only "
              "g_counter"));
    CHECK(k.run(0, {"INCRBY", "hits", "one"}) ==
          err("ERR value is not an integer or out of range"));
    CHECK(k.run(0, {"SET", "hits", "1"}) ==
          err("ERR SET needs a register preset such as cp-serial, strong-lww or ap-lww; this node "
              "runs ap-crdt-counter, whose values are CRDTs that only merge: use INCRBY"));
    CHECK(k.run(0, {"DEL", "hits"}).rfind("-ERR DEL needs a register preset", 0) == 0);
}

TEST_CASE("a pn_counter preset counts down too", "[kv][commands]") {
    using pn = capkit::replica<std::string, capkit::pn_counter, capkit::quorum<3, 2, 2>,
                               capkit::strong, capkit::crdt_merge>;
    kv_cluster<pn> k("strong-pn-counter");
    CHECK(k.run(0, {"INCRBY", "n", "10"}) == integer(10));
    CHECK(k.run(1, {"DECR", "n"}) == integer(9));
    CHECK(k.run(2, {"DECRBY", "n", "4"}) == integer(5));
    CHECK(k.run(2, {"INCRBY", "n", "-6"}) == integer(-1));
    CHECK(k.run(0, {"DECRBY", "n", "-9223372036854775808"}) == err("ERR decrement would overflow"));
}

TEST_CASE("PING, ECHO, CONFIG GET, COMMAND, SELECT and INFO answer as redis-cli expects",
          "[kv][commands]") {
    kv_cluster<cp_linearizable> k("cp-linearizable");
    CHECK(k.run(0, {"PING"}) == "+PONG\r\n");
    CHECK(k.run(0, {"ping", "hello there"}) == bulk("hello there"));
    CHECK(k.run(0, {"ECHO", "a\r\nb"}) == bulk("a\r\nb"));
    CHECK(k.run(0, {"CONFIG", "GET", "save"}) == "*0\r\n");
    CHECK(k.run(0, {"config", "get", "appendonly"}) == "*0\r\n");
    CHECK(k.run(0, {"CONFIG", "SET", "save", ""}).rfind("-ERR CONFIG SET is not supported", 0) ==
          0);
    CHECK(k.run(0, {"CONFIG", "FOO"}) == err("ERR unknown subcommand 'FOO'. Try CONFIG HELP."));
    CHECK(k.run(0, {"COMMAND"}) == "*0\r\n");
    CHECK(k.run(0, {"COMMAND", "DOCS"}) == "*0\r\n");
    CHECK(k.run(0, {"COMMAND", "COUNT"}) == integer(24));
    CHECK(k.run(0, {"SELECT", "0"}) == ok());
    CHECK(k.run(0, {"SELECT", "1"}) == err("ERR DB index is out of range"));
    CHECK(k.run(0, {"QUIT"}) == ok());
    CHECK(kv::executor<kv_cluster<cp_linearizable>::node_type>::closes_connection({"quit"}));

    REQUIRE(k.run(0, {"SET", "k", "v"}) == ok());
    auto info = k.run(0, {"INFO"});
    REQUIRE(info.rfind("$", 0) == 0);
    for (std::string_view line : {"# Server\r\n",
                                  "node_id:0\r\n",
                                  "preset:cp-linearizable\r\n",
                                  "consistency:linearizable\r\n",
                                  "quorum:N=3 R=2 W=2\r\n",
                                  "placement:all_nodes\r\n",
                                  "# Stats\r\n",
                                  "requests:1\r\n",
                                  "quorum_failures:0\r\n",
                                  "timeouts:0\r\n",
                                  "read_repairs:",
                                  "anti_entropy_rounds:",
                                  "anti_entropy_keys:0\r\n",
                                  "tombstones_purged:0\r\n",
                                  "commands_processed:",
                                  "# Replication\r\n",
                                  "peers_up:2\r\n",
                                  "peers_total:2\r\n",
                                  "# Keyspace\r\n",
                                  "db0:keys=1,"}) {
        CAPTURE(line);
        CHECK(info.find(line) != std::string::npos);
    }
    for (std::string_view line : {"hints_stored:0\r\n", "hints_delivered:0\r\n",
                                  "hints_dropped:0\r\n", "storage:memory\r\n"}) {
        CAPTURE(line);
        CHECK(info.find(line) != std::string::npos);
    }
    auto stats_only = k.run(0, {"INFO", "STATS"});
    CHECK(stats_only.find("# Stats\r\n") != std::string::npos);
    CHECK(stats_only.find("# Server") == std::string::npos);

    SECTION("peers up come from the server's failure detector when it gives one") {
        kv::executor<kv_cluster<cp_linearizable>::node_type> told(
            k.c.node_at(1), {.preset = "cp-linearizable", .peers_up = [] { return 1; }});
        std::string reply;
        told.execute({"INFO", "replication"}, [&](std::string r) { reply = std::move(r); });
        CHECK(reply.find("peers_up:1\r\n") != std::string::npos);
        CHECK(reply.find("# Stats") == std::string::npos);
    }
    SECTION("the storage line comes from the server") {
        kv::executor<kv_cluster<cp_linearizable>::node_type> told(
            k.c.node_at(1),
            {.preset = "cp-linearizable", .storage = "rocksdb sync=always dir=/var/lib/kv"});
        std::string reply;
        told.execute({"INFO", "server"}, [&](std::string r) { reply = std::move(r); });
        CHECK(reply.find("\r\nstorage:rocksdb sync=always dir=/var/lib/kv\r\n") !=
              std::string::npos);
    }
}

namespace {
// A storage policy other than memory, for with_storage (capkit_tests does not link RocksDB).
struct other_storage {
    using category = capkit::storage_category;
    template <class Key, class State>
    using table = capkit::memory::table<Key, State>;
};
}  // namespace

TEST_CASE("with_storage replaces a preset's storage and keeps every other policy",
          "[kv][commands]") {
    using capkit::quorum;
    using std::is_same_v;
    // The catalogue's presets give no storage: it is appended.
    STATIC_REQUIRE(is_same_v<kv::with_storage<strong_lww, other_storage>,
                             capkit::replica<std::string, std::string, quorum<3, 2, 2>,
                                             capkit::strong, capkit::lww<>, other_storage>>);
    STATIC_REQUIRE(
        is_same_v<kv::with_storage<cp_serial, other_storage>::config::storage, other_storage>);
    STATIC_REQUIRE(
        is_same_v<kv::with_storage<cp_serial, other_storage>::consistency, cp_serial::consistency>);
    STATIC_REQUIRE(is_same_v<kv::with_storage<ap_crdt_counter, other_storage>::value_type,
                             ap_crdt_counter::value_type>);
    // A storage given anywhere in the pack is replaced, not doubled (config would refuse two).
    using given = capkit::replica<int, int, capkit::memory, quorum<3, 2, 2>, capkit::strong>;
    STATIC_REQUIRE(
        is_same_v<kv::with_storage<given, other_storage>,
                  capkit::replica<int, int, quorum<3, 2, 2>, capkit::strong, other_storage>>);
    STATIC_REQUIRE(
        is_same_v<kv::with_storage<given, capkit::memory>::config::storage, capkit::memory>);
    // The replica keeps its keys in the new policy's table.
    STATIC_REQUIRE(is_same_v<kv::with_storage<strong_lww, other_storage>::table_type,
                             other_storage::table<std::string, strong_lww::state>>);
}

TEST_CASE("wrong arity, unknown commands and unsupported options get Redis's sentences",
          "[kv][commands]") {
    kv_cluster<strong_lww> k("strong-lww");
    CHECK(k.run(0, {"GET"}) == err("ERR wrong number of arguments for 'get' command"));
    CHECK(k.run(0, {"Get", "a", "b"}) == err("ERR wrong number of arguments for 'get' command"));
    CHECK(k.run(0, {"SET", "k"}) == err("ERR wrong number of arguments for 'set' command"));
    CHECK(k.run(0, {"DEL"}) == err("ERR wrong number of arguments for 'del' command"));
    CHECK(k.run(0, {"PING", "a", "b"}) == err("ERR wrong number of arguments for 'ping' command"));
    CHECK(k.run(0, {"CONFIG", "GET"}) ==
          err("ERR wrong number of arguments for 'config|get' command"));
    CHECK(k.run(0, {"FLUSHALL"}) == err("ERR unknown command 'FLUSHALL', with args beginning "
                                        "with: "));
    CHECK(k.run(0, {"hset", "h", "f", "v"}) ==
          err("ERR unknown command 'hset', with args beginning with: 'h' 'f' 'v' "));
    CHECK(k.run(0, {"SET", "k", "v", "EX", "10"}) ==
          err("ERR SET option 'EX' is not supported: capkit-kv keys never expire; use SET key "
              "value"));
    CHECK(k.run(0, {"SET", "k", "v", "XX"}) ==
          err("ERR SET option 'XX' is not supported; conditional writes need a serial preset "
              "such as cp-serial (SETNX, CAS)"));
    CHECK(k.run(0, {"SET", "k", "v", "GET"}) ==
          err("ERR SET option 'GET' is not supported; use SET key value"));
    CHECK(k.executors[0]->stats().errors == 11);
    CHECK(k.executors[0]->stats().commands == 11);
}

TEST_CASE("the catalogue's integer presets take integer keys and values", "[kv][commands]") {
    using raw = typename std::decay_t<decltype(boost::hana::at_c<1>(
        capkit::lab::presets))>::replica;  // cp-linearizable over uint64 keys, int64 values
    kv_cluster<raw> k("cp-linearizable");
    CHECK(k.run(0, {"SET", "7", "-42"}) == ok());
    CHECK(k.run(1, {"GET", "7"}) == bulk("-42"));
    CHECK(k.run(0, {"SET", "seven", "1"}) ==
          err("ERR this node's keys are integers (cp-linearizable); 'seven' is not one"));
    CHECK(k.run(0, {"SET", "7", "x"}) == err("ERR value is not an integer or out of range"));
    CHECK(k.run(0, {"SET", "07", "1"}).rfind("-ERR this node's keys are integers", 0) == 0);
}

TEST_CASE("a session runs a connection's pipelined commands in order", "[kv][commands]") {
    kv_cluster<cp_serial> k("cp-serial");
    std::size_t wakeups = 0;
    kv::session<kv_cluster<cp_serial>::node_type> s(*k.executors[0], {}, [&] { ++wakeups; });
    // Inline and multibulk mixed, as redis-benchmark's ping_inline and -P 16 send them, cut
    // mid-command.
    std::string stream = "PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nECHO x\r\n";
    stream += "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nNOPE\r\n";
    s.receive(std::string_view(stream).substr(0, 20));
    s.receive(std::string_view(stream).substr(20));
    // PING answered at once; the SET waits for its quorum and everything behind it waits too.
    CHECK(s.take_output() == "+PONG\r\n");
    CHECK(s.busy() == 4);
    k.c.network().run_until([&] { return s.busy() == 0; });
    CHECK(wakeups > 0);
    // The GET saw the SET before it.
    CHECK(s.take_output() ==
          "+OK\r\n$1\r\nx\r\n$1\r\nv\r\n"
          "-ERR unknown command 'NOPE', with args beginning with: \r\n");
    CHECK_FALSE(s.closing());

    SECTION("QUIT answers, then the session closes and reads no more") {
        s.receive("QUIT\r\nPING\r\n");
        CHECK(s.take_output() == "+OK\r\n");
        CHECK(s.closing());
        s.receive("PING\r\n");
        CHECK_FALSE(s.has_output());
    }
    SECTION("malformed input: the replies before it, then the protocol error, then close") {
        s.receive("*1\r\n$4\r\nPING\r\n*1\r\nx");
        CHECK(s.take_output() == "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
        CHECK(s.closing());
        s.receive("PING\r\n");
        CHECK_FALSE(s.has_output());
    }
    SECTION("malformed input behind a pending command waits for its reply, and comes once") {
        s.receive("SET k w\r\n*1\r\n$");
        s.receive("x\r\n");
        s.receive("PING\r\n");
        CHECK(s.busy() == 2);
        k.c.network().run_until([&] { return s.closing(); });
        CHECK(s.take_output() == "+OK\r\n-ERR Protocol error: invalid bulk length\r\n");
    }
    SECTION("a session closed with a command pending drops its reply") {
        auto gone =
            std::make_unique<kv::session<kv_cluster<cp_serial>::node_type>>(*k.executors[1]);
        gone->receive("SET a b\r\n");
        CHECK(gone->busy() == 1);
        gone.reset();
        k.c.settle();
        CHECK(k.run(2, {"GET", "a"}) == bulk("b"));  // the write itself went on
    }
}

TEST_CASE("a session overlaps pipelined commands on different keys and orders those on one key",
          "[kv][commands]") {
    kv_cluster<cp_linearizable> k("cp-linearizable");
    kv::session<kv_cluster<cp_linearizable>::node_type> s(*k.executors[0]);
    const auto& stats = k.executors[0]->node().replica().stats();
    auto before = stats.requests;
    s.receive("SET a 1\r\nSET b 2\r\nSET a 3\r\nGET a\r\nDEL b a\r\nGET b\r\n");
    // SET a and SET b went out together; the second SET a, the GET a and the DEL (a and b) wait
    // for the commands on their keys before them, and GET b waits for the DEL.
    CHECK(stats.requests - before == 2);
    CHECK(s.busy() == 6);
    CHECK_FALSE(s.has_output());
    k.c.network().run_until([&] { return s.busy() == 0; });
    CHECK(s.take_output() == "+OK\r\n+OK\r\n+OK\r\n$1\r\n3\r\n:2\r\n$-1\r\n");
}

TEST_CASE("a hash_ring preset serves every key through every node of its M, and INFO says so",
          "[kv][commands][ring]") {
    capkit::replica_options o;
    o.cluster_size = 5;
    kv_cluster<ring_strong> k("ring-strong", o);
    REQUIRE(k.executors.size() == 5);
    for (int i = 0; i < 20; ++i) {
        std::string key = capkit::detail::cat("key", std::to_string(i));
        std::string value = capkit::detail::cat("v", std::to_string(i));
        REQUIRE(k.run(static_cast<node_id>(i % 5), {"SET", key, value}) == ok());
        for (node_id via = 0; via < 5; ++via) CHECK(k.run(via, {"GET", key}) == bulk(value));
    }
    // Each key on three of the five nodes: 60 copies in all.
    std::size_t copies = 0;
    for (node_id i = 0; i < 5; ++i) copies += k.c.replica(i).stored_keys();
    CHECK(copies == 60);
    auto info = k.run(3, {"INFO"});
    for (std::string_view line : {"placement:hash_ring M=5\r\n", "quorum:N=3 R=2 W=2\r\n",
                                  "peers_total:4\r\n", "peers_up:4\r\n"}) {
        CAPTURE(line);
        CHECK(info.find(line) != std::string::npos);
    }
}

TEST_CASE("ring-serial: CAS through any node of M is decided by the key's three owners",
          "[kv][commands][ring]") {
    capkit::replica_options o;
    o.cluster_size = 5;
    kv_cluster<ring_serial> k("ring-serial", o);
    REQUIRE(k.executors.size() == 5);
    for (int i = 0; i < 10; ++i) {
        std::string key = "key" + std::to_string(i);
        auto via = static_cast<node_id>(i % 5), other = static_cast<node_id>((i + 2) % 5);
        REQUIRE(k.run(via, {"SETNX", key, "a"}) == integer(1));
        // Two CAS from a through different nodes: the first wins, the second finds b and loses.
        CHECK(k.run(other, {"CAS", key, "a", "b"}) == integer(1));
        CHECK(k.run(via, {"CAS", key, "a", "c"}) == integer(0));
        for (node_id n = 0; n < 5; ++n) CHECK(k.run(n, {"GET", key}) == bulk("b"));
    }
    // Each key's register on exactly its three owners (once the last accepts have landed).
    auto on_owners = [&](int i) {
        std::string key = "key" + std::to_string(i);
        int owners = 0;
        for (node_id n = 0; n < 5; ++n) {
            bool owns = k.c.replica(n).owns(n, key);
            if ((k.c.replica(n).find(key) != nullptr) != owns) return false;
            owners += owns;
        }
        return owners == 3;
    };
    auto all_on_owners = [&] {
        for (int i = 0; i < 10; ++i)
            if (!on_owners(i)) return false;
        return true;
    };
    k.c.network().run_until(all_on_owners);
    for (int i = 0; i < 10; ++i) CHECK(on_owners(i));
    CHECK(k.run(1, {"INFO"}).find("placement:hash_ring M=5\r\n") != std::string::npos);
}

TEST_CASE("MGET and MSET: a request per key, the replies joined in order", "[kv][commands]") {
    kv_cluster<strong_lww> k("strong-lww");
    CHECK(k.run(0, {"MSET", "a", "1", "b", "2", "c", "3"}) == ok());
    CHECK(k.run(1, {"MGET", "a", "missing", "c"}) == "*3\r\n" + bulk("1") + "$-1\r\n" + bulk("3"));
    CHECK(k.run(1, {"mget", "b"}) == "*1\r\n" + bulk("2"));
    CHECK(k.run(0, {"MSET", "a", "1", "b"}) ==
          err("ERR wrong number of arguments for 'mset' command"));
    // A key that cannot reach its quorum fails the whole reply, as DEL does.
    k.c.partition({{0}, {1, 2}});
    CHECK(k.run(0, {"MGET", "a", "b"}).starts_with("-UNAVAILABLE quorum not reached"));
    CHECK(k.run(0, {"MSET", "x", "1"}).starts_with("-UNAVAILABLE quorum not reached"));
    k.c.heal();
    // Counters read as their number.
    kv_cluster<ap_crdt_counter> n("ap-crdt-counter");
    CHECK(n.run(0, {"INCRBY", "hits", "5"}) == integer(5));
    n.c.settle();
    CHECK(n.run(1, {"MGET", "hits", "none"}) == "*2\r\n" + bulk("5") + "$-1\r\n");
}

TEST_CASE("DBSIZE, KEYS and SCAN read the node's own live keys", "[kv][commands]") {
    kv_cluster<strong_lww> k("strong-lww");
    for (int i = 0; i < 25; ++i)
        REQUIRE(k.run(0, {"SET", capkit::detail::cat("user:", std::to_string(i)), "x"}) == ok());
    REQUIRE(k.run(0, {"SET", "other", "y"}) == ok());
    REQUIRE(k.run(0, {"DEL", "user:3"}) == integer(1));  // a tombstone is not a key
    k.c.settle();
    CHECK(k.run(2, {"DBSIZE"}) == integer(25));
    CHECK(bulk_array(k.run(1, {"KEYS", "user:1?"})) ==
          std::vector<std::string>{"user:10", "user:11", "user:12", "user:13", "user:14", "user:15",
                                   "user:16", "user:17", "user:18", "user:19"});
    CHECK(bulk_array(k.run(1, {"KEYS", "[o]th*"})) == std::vector<std::string>{"other"});
    CHECK(bulk_array(k.run(1, {"KEYS", "user:[^0-8]"})) == std::vector<std::string>{"user:9"});
    CHECK(k.run(1, {"KEYS", "nothing*"}) == "*0\r\n");

    // SCAN: every key once over the whole iteration, the cursor back to 0 at the end.
    std::vector<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    do {
        auto reply = k.run(2, {"SCAN", cursor, "MATCH", "user:*", "COUNT", "7"});
        // *2, the cursor, then the array of keys.
        std::string_view in = reply;
        REQUIRE(in.starts_with("*2\r\n"));
        in.remove_prefix(4);
        auto bulk_end = in.find("\r\n", in.find("\r\n") + 2) + 2;
        cursor = std::string(in.substr(in.find("\r\n") + 2, bulk_end - in.find("\r\n") - 4));
        std::string rest(in.substr(bulk_end));
        if (rest != "*0\r\n") {  // the request parser reads an empty array as no command
            auto keys = bulk_array(rest);
            seen.insert(seen.end(), keys.begin(), keys.end());
        }
        ++calls;
    } while (cursor != "0" && calls < 100);
    CHECK(calls == 4);  // 25 keys, 7 a call
    std::ranges::sort(seen);
    CHECK(seen.size() == 24);
    CHECK(std::ranges::adjacent_find(seen) == seen.end());
    CHECK(k.run(2, {"SCAN", "x"}) == err("ERR invalid cursor"));
    CHECK(k.run(2, {"SCAN", "0", "COUNT", "0"}) ==
          err("ERR value is out of range, must be positive"));
    CHECK(k.run(2, {"SCAN", "0", "BOGUS", "1"}) == err("ERR syntax error"));
}

TEST_CASE("CLIENT and HELLO answer about the connection", "[kv][commands]") {
    kv_cluster<cp_serial> k("cp-serial");
    using session_type = kv::session<kv_cluster<cp_serial>::node_type>;
    session_type a(*k.executors[0]), b(*k.executors[0]);
    a.receive("CLIENT GETNAME\r\nCLIENT SETNAME app-1\r\nCLIENT GETNAME\r\n");
    CHECK(a.take_output() == "$-1\r\n+OK\r\n$5\r\napp-1\r\n");
    b.receive(
        "CLIENT GETNAME\r\nCLIENT SETINFO LIB-NAME redis-py\r\n"
        "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\na b\r\n");
    CHECK(b.take_output() ==
          "$-1\r\n+OK\r\n-ERR Client names cannot contain spaces, newlines or special "
          "characters.\r\n");
    b.receive("CLIENT SETINFO COLOR red\r\nCLIENT BOGUS\r\nCLIENT ID\r\n");
    auto out = b.take_output();
    CHECK(
        out.starts_with("-ERR Unrecognized option 'COLOR'\r\n"
                        "-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.\r\n:"));
    b.receive("HELLO 3\r\nHELLO 2 SETNAME svc\r\nCLIENT GETNAME\r\n");
    auto hello = b.take_output();
    CHECK(hello.starts_with("-NOPROTO sorry, this protocol version is not supported"));
    CHECK(hello.find("*14\r\n$6\r\nserver\r\n$9\r\ncapkit-kv\r\n") != std::string::npos);
    CHECK(hello.find("$5\r\nproto\r\n:2\r\n") != std::string::npos);
    CHECK(hello.ends_with("$3\r\nsvc\r\n"));
    // Pipelined with a command that waits for its quorum: replies stay in order.
    a.receive("SET k v\r\nCLIENT GETNAME\r\n");
    k.c.network().run_until([&] { return a.busy() == 0; });
    CHECK(a.take_output() == "+OK\r\n$5\r\napp-1\r\n");
}
