// SPDX-License-Identifier: MIT
// tcp_transport on loopback: three replicas in one process, each with its own listener and
// connections, driven by one io_context. Quorum operations work over real sockets; the failure
// detector notices a peer that goes away and the coordinator then refuses at once; a restarted
// peer is dialled again; bad bytes close only the connection that sent them.
#include <array>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <capkit/async_client.hpp>
#include <capkit/node.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/transport/tcp.hpp>

#include "support/loopback_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using capkit::node_id;
using replica_type = capkit::test::loopback_replica;
using transport_type = capkit::tcp_transport<replica_type::message>;

using loopback_cluster = capkit::test::loopback_cluster<transport_type>;

std::vector<std::byte> bytes(std::string_view s) {
    std::vector<std::byte> out;
    for (char c : s) out.push_back(std::byte(static_cast<unsigned char>(c)));
    return out;
}

// Connects a raw socket to `port`, writes `payload`, and reports whether the server closed it.
bool server_closes_after(loopback_cluster& c, std::uint16_t port,
                         const std::vector<std::byte>& payload) {
    boost::asio::ip::tcp::socket s(c.io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::asio::write(s, boost::asio::buffer(payload));
    bool closed = false;
    std::byte one{};
    s.async_read_some(boost::asio::buffer(&one, 1),
                      [&](boost::system::error_code ec, std::size_t) { closed = bool(ec); });
    return c.run_until([&] { return closed; }, 3s);
}

}  // namespace

TEST_CASE("tcp: parse_tcp_address reads HOST:PORT and refuses what is not one", "[tcp]") {
    auto a = capkit::parse_tcp_address("127.0.0.1:7000");
    REQUIRE(a.has_value());
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 7000);
    auto v6 = capkit::parse_tcp_address("[::1]:80");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->to_string() == "[::1]:80");
    CHECK_FALSE(capkit::parse_tcp_address("localhost").has_value());
    CHECK_FALSE(capkit::parse_tcp_address("host:").has_value());
    CHECK_FALSE(capkit::parse_tcp_address(":80").has_value());
    CHECK_FALSE(capkit::parse_tcp_address("host:65536").has_value());
    CHECK_FALSE(capkit::parse_tcp_address("host:7x").has_value());
}

TEST_CASE("tcp: quorum writes and reads between three processes' worth of sockets", "[tcp]") {
    loopback_cluster c;
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    REQUIRE(c.put(0, "k", "v1").has_value());
    auto r = c.get(1, "k");
    REQUIRE(r.has_value());
    REQUIRE(r->values == std::vector<std::string>{"v1"});

    // Many requests at once: the messages queued meanwhile share writes.
    int done = 0;
    for (int i = 0; i < 200; ++i)
        c.nodes[i % 3]->async_put("key" + std::to_string(i), "v", {}, [&](auto res) {
            CHECK(res.has_value());
            ++done;
        });
    REQUIRE(c.run_until([&] { return done == 200; }));
    const auto& st = c.nets[0]->stats();
    CHECK(st.frames_sent > 0);
    CHECK(st.writes < st.frames_sent);  // batching: fewer writes than frames
    CHECK(st.bad_frames == 0);
}

TEST_CASE(
    "tcp: a killed peer is reported down, the quorum goes on, and the coordinator then "
    "refuses at once",
    "[tcp]") {
    // Requests may wait a minute for their quorum: an answer within put()'s five seconds is one
    // that did not wait.
    loopback_cluster c(&loopback_cluster::plain, loopback_cluster::fast(), 60s);
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    REQUIRE(c.put(0, "k", "before").has_value());

    c.kill(2);
    REQUIRE(c.run_until([&] { return !c.nets[0]->peer_up(2) && !c.nets[1]->peer_up(2); }));
    CHECK(c.logged({"0: warn: node 2 is down"}));
    CHECK_FALSE(c.nodes[0]->replica().reachable(2));
    REQUIRE(c.put(0, "k", "during").has_value());  // W=2 of the two left

    c.kill(1);
    REQUIRE(c.run_until([&] { return c.nets[0]->peers_up() == 0; }));
    auto refused = c.put(0, "k", "alone");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() == capkit::errc::unavailable);  // refused at once, certainly not applied
}

TEST_CASE("tcp: a restarted peer is dialled again and catches up through read repair", "[tcp]") {
    loopback_cluster c;
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    c.kill(2);
    REQUIRE(c.run_until([&] { return !c.nets[0]->peer_up(2); }));
    REQUIRE(c.put(0, "k", "written while 2 was down").has_value());

    c.restart(2);  // empty, as after losing its disk
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    CHECK(c.logged({"0: info: connected to node 2"}));
    auto r = c.get(2, "k");  // a quorum read through the restarted node
    REQUIRE(r.has_value());
    CHECK(r->values == std::vector<std::string>{"written while 2 was down"});
    // The read wrote the value back (ABD's second phase), node 2's own copy included.
    REQUIRE(
        c.run_until([&] { return c.nodes[2]->replica().durable().table.find("k") != nullptr; }));
}

TEST_CASE("tcp: bad bytes close only the connection that sent them", "[tcp]") {
    loopback_cluster c;
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    auto port = c.ports[0];

    SECTION("random garbage") {
        CHECK(server_closes_after(c, port, bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
        CHECK(c.logged({"bad frame header"}));
    }
    SECTION("a frame from an unknown protocol version") {
        std::vector<std::byte> frame;
        capkit::wire::encode_control_frame(0xF1, std::uint8_t{0}, frame);
        frame[4] = std::byte{99};
        CHECK(server_closes_after(c, port, frame));
        CHECK(c.logged({"bad frame header"}));
    }
    SECTION("an oversize length, refused before the body arrives") {
        std::vector<std::byte> frame;
        capkit::wire::encode_control_frame(0xF1, std::uint8_t{0}, frame);
        frame[8] = frame[9] = frame[10] = frame[11] = std::byte{0xFF};
        CHECK(server_closes_after(c, port, frame));
    }
    SECTION("a message before saying who it is") {
        std::vector<std::byte> frame;
        capkit::wire::encode_control_frame(0xF1, std::uint8_t{0}, frame);
        CHECK(server_closes_after(c, port, frame));
        CHECK(c.logged({"a frame before the hello"}));
    }
    SECTION("a hello for another node") {
        std::vector<std::byte> frame;
        capkit::detail::tcp_hello hello{1, 2,
                                        capkit::detail::message_schema<replica_type::message>()};
        capkit::wire::encode_control_frame(capkit::detail::tcp_hello_kind, hello, frame);
        CHECK(server_closes_after(c, port, frame));
        CHECK(c.logged({"it dialled node 2 but this is node 0"}));
    }
    SECTION("a hello from a node of another configuration") {
        std::vector<std::byte> frame;
        using other = capkit::replica<std::string, std::string, capkit::quorum<3, 1, 1>,
                                      capkit::eventual, capkit::dvv>;
        capkit::detail::tcp_hello hello{1, 0, capkit::detail::message_schema<other::message>()};
        capkit::wire::encode_control_frame(capkit::detail::tcp_hello_kind, hello, frame);
        CHECK(server_closes_after(c, port, frame));
        CHECK(c.logged({"node 1 speaks other messages"}));
    }
    SECTION("a hello from a node given another layout (capkit-kv: another hash_ring size)") {
        std::vector<std::byte> frame;
        capkit::detail::tcp_hello hello{1, 0,
                                        capkit::detail::hello_schema<replica_type::message>(5)};
        capkit::wire::encode_control_frame(capkit::detail::tcp_hello_kind, hello, frame);
        CHECK(server_closes_after(c, port, frame));
        CHECK(c.logged({"places keys otherwise"}));
    }
    CHECK(c.nets[0]->stats().bad_frames == 1);
    // Everyone else is still served: the peers' connections were not touched.
    REQUIRE(c.put(0, "k", "still serving").has_value());
    CHECK(c.all_up());
}

TEST_CASE("tcp: a node's new connection replaces the one it dialled before", "[tcp]") {
    loopback_cluster c;
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    c.kill(1);  // node 1's part is played by the sockets below
    c.run_for(50ms);
    std::vector<std::byte> hello;
    capkit::wire::encode_control_frame(
        capkit::detail::tcp_hello_kind,
        capkit::detail::tcp_hello{1, 0, capkit::detail::message_schema<replica_type::message>()},
        hello);
    // Node 1's old connection, gone silent (over a cut link no FIN would ever come).
    boost::asio::ip::tcp::socket old(c.io);
    old.connect({boost::asio::ip::make_address("127.0.0.1"), c.ports[0]});
    boost::asio::write(old, boost::asio::buffer(hello));
    bool old_closed = false;
    std::byte one{};
    old.async_read_some(boost::asio::buffer(&one, 1),
                        [&](boost::system::error_code ec, std::size_t) { old_closed = bool(ec); });
    c.run_for(50ms);
    CHECK_FALSE(old_closed);
    // Node 1 dials again: node 0 closes the old connection, whose buffer would otherwise stay.
    boost::asio::ip::tcp::socket fresh(c.io);
    fresh.connect({boost::asio::ip::make_address("127.0.0.1"), c.ports[0]});
    boost::asio::write(fresh, boost::asio::buffer(hello));
    CHECK(c.run_until([&] { return old_closed; }, 3s));
    CHECK(c.nets[0]->stats().bad_frames == 0);
}

TEST_CASE("tcp: a full queue is refused with queue_full, not buffered without bound", "[tcp]") {
    auto options = loopback_cluster::fast();
    options.max_queue_bytes = 4096;
    boost::asio::io_context io;
    transport_type lonely(io, 0, {"127.0.0.1", 0}, options);
    lonely.add_peer(1, {"127.0.0.1", 1});  // nobody listens on port 1
    lonely.attach(
        0, [](node_id, replica_type::message&&) {}, [] {});
    replica_type::message m = capkit::protocol::write_request<std::string, replica_type::state>{
        {0, 1, 1}, std::string(1000, 'k'), {}};
    int sent = 0;
    capkit::send_status last{};
    for (int i = 0; i < 10; ++i)
        if ((last = lonely.send(0, 1, m)) == capkit::send_status::sent) ++sent;
    CHECK(sent >= 1);
    CHECK(sent < 10);
    CHECK(last == capkit::send_status::queue_full);
    CHECK(lonely.stats().queue_full == std::uint64_t(10 - sent));
    CHECK(lonely.send(0, 7, m) == capkit::send_status::unknown_node);
}

TEST_CASE("tcp: the client API takes callbacks, use_future and use_awaitable", "[tcp]") {
    loopback_cluster c;
    REQUIRE(c.run_until([&] { return c.all_up(); }));
    capkit::async_client client(*c.nodes[0], c.nets[0]->strand());

    // A future, with the io_context running on another thread.
    auto guard = boost::asio::make_work_guard(c.io);
    std::thread runner([&] { c.io.run(); });
    auto written = client.put("k", "from a future", boost::asio::use_future);
    CHECK_NOTHROW(written.get());
    auto read = client.get("k", boost::asio::use_future).get();
    CHECK(read.values == std::vector<std::string>{"from a future"});
    guard.reset();
    c.io.stop();
    runner.join();
    c.io.restart();

    // A coroutine.
    std::optional<std::string> seen;
    boost::asio::co_spawn(
        c.io,
        [&]() -> boost::asio::awaitable<void> {
            co_await client.put("k", "from a coroutine", boost::asio::use_awaitable);
            auto r = co_await client.get("k", boost::asio::use_awaitable);
            seen = r.values.at(0);
        },
        boost::asio::detached);
    REQUIRE(c.run_until([&] { return seen.has_value(); }));
    CHECK(*seen == "from a coroutine");

    // A callback, and an error delivered as an error_code.
    c.kill(1);
    c.kill(2);
    REQUIRE(c.run_until([&] { return c.nets[0]->peers_up() == 0; }));
    std::optional<boost::system::error_code> failed;
    client.put("k", "refused", [&](boost::system::error_code ec, auto) { failed = ec; });
    REQUIRE(c.run_until([&] { return failed.has_value(); }));
    CHECK(*failed == capkit::errc::unavailable);
}
