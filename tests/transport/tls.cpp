// SPDX-License-Identifier: MIT
// tls_transport on loopback: three replicas over TLS with mutual authentication. Quorum operations
// work; a node whose certificate another CA signed, a node whose certificate names another node,
// a client certificate on a peer port and a connection without a certificate are each refused,
// with a log line saying which check failed and whose certificate it was. The certificates come
// from tests/transport/make-certs.sh (the CTest fixture tls.certs); CAPKIT_TLS_CERTS names
// their folder.
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <capkit/node.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/transport/tls.hpp>

#include "support/loopback_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using capkit::node_id;
using replica_type = capkit::test::loopback_replica;
using transport_type = capkit::tls_transport<replica_type::message>;

std::string certs() {
    const char* env = std::getenv("CAPKIT_TLS_CERTS");
    std::string dir = env ? env : CAPKIT_TLS_CERTS_DIR;
    INFO("no test certificates in "
         << dir
         << ": run the CTest fixture tls.certs, or "
            "tests/transport/make-certs.sh DIR and set CAPKIT_TLS_CERTS=DIR");
    REQUIRE(std::filesystem::exists(dir + "/ca.pem"));
    return dir;
}

// Every file of one end: `name` is node0, client, rogue, ...; the CA is always the cluster's.
capkit::tls_files files(const std::string& name) {
    auto dir = certs();
    return {dir + "/ca.pem", dir + "/" + name + ".pem", dir + "/" + name + ".key"};
}

// `cert[i]` is the certificate node i presents.
struct tls_cluster : capkit::test::loopback_cluster<transport_type> {
    explicit tls_cluster(std::array<std::string, 3> cert = {"node0", "node1", "node2"})
        : loopback_cluster([cert](boost::asio::io_context& io, node_id i,
                                  const capkit::tcp_address& at, const capkit::tcp_options& o,
                                  capkit::tcp_logger log) {
              return std::make_unique<transport_type>(io, i, at, o, std::move(log),
                                                      capkit::tls_security(files(cert[i])));
          }) {}
};

// Connects to `port` over TLS presenting `name`'s certificate (none when empty) and reports
// whether the server ended the connection.
bool server_refuses(tls_cluster& c, std::uint16_t port, const std::string& name) {
    namespace ssl = boost::asio::ssl;
    ssl::context ctx(ssl::context::tls);
    auto dir = certs();
    ctx.load_verify_file(dir + "/ca.pem");
    if (!name.empty()) {
        ctx.use_certificate_chain_file(dir + "/" + name + ".pem");
        ctx.use_private_key_file(dir + "/" + name + ".key", ssl::context::pem);
    }
    ssl::stream<boost::asio::ip::tcp::socket> s(c.io, ctx);
    s.lowest_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    bool ended = false;
    std::byte one{};
    s.async_handshake(ssl::stream_base::client, [&](boost::system::error_code ec) {
        if (ec) {
            ended = true;
            return;
        }
        // Under TLS 1.3 the server judges the client's certificate after the client's side of
        // the handshake is done: its verdict arrives as an alert on the first read.
        s.async_read_some(boost::asio::buffer(&one, 1),
                          [&](boost::system::error_code ec2, std::size_t) { ended = bool(ec2); });
    });
    return c.run_until([&] { return ended; }, 3s);
}

}  // namespace

TEST_CASE("tls: identities are read from capkit:// URIs and nothing else", "[.tls]") {
    auto n = capkit::parse_tls_identity("capkit://node/12");
    REQUIRE(n.has_value());
    CHECK(n->kind == capkit::tls_identity::role::node);
    CHECK(n->node == 12);
    auto c = capkit::parse_tls_identity("capkit://client/alice");
    REQUIRE(c.has_value());
    CHECK(c->to_string() == "client alice");
    CHECK_FALSE(capkit::parse_tls_identity("capkit://node/").has_value());
    CHECK_FALSE(capkit::parse_tls_identity("capkit://node/1x").has_value());
    CHECK_FALSE(capkit::parse_tls_identity("capkit://node/-1").has_value());
    CHECK_FALSE(capkit::parse_tls_identity("capkit://node/99999999999").has_value());
    CHECK_FALSE(capkit::parse_tls_identity("capkit://client/").has_value());
    CHECK_FALSE(capkit::parse_tls_identity("https://node/1").has_value());

    CHECK(capkit::tls_security(files("node2")).identity() ==
          capkit::tls_identity{capkit::tls_identity::role::node, 2, {}});
    CHECK(capkit::tls_security(files("client")).identity().to_string() == "client alice");
    CHECK_THROWS_WITH(
        capkit::tls_security({certs() + "/ca.pem", certs() + "/node0.pem", certs() + "/node1.key"}),
        Catch::Contains("does not belong to certificate"));
    CHECK_THROWS_WITH(capkit::tls_security(
                          {certs() + "/ca.pem", certs() + "/missing.pem", certs() + "/node1.key"}),
                      Catch::Contains("--tls-cert"));
}

TEST_CASE("tls: quorum writes and reads between three nodes over mutual TLS", "[.tls]") {
    tls_cluster c;
    REQUIRE(c.run_until([&] {
        for (auto& n : c.nets)
            if (n->peers_up() != 2) return false;
        return true;
    }));
    REQUIRE(c.put(0, "k", "v1").has_value());
    auto r = c.get(2, "k");
    REQUIRE(r.has_value());
    CHECK(r->values == std::vector<std::string>{"v1"});
    int done = 0;
    for (int i = 0; i < 100; ++i)
        c.nodes[i % 3]->async_put("key" + std::to_string(i), "v", {}, [&](auto res) {
            CHECK(res.has_value());
            ++done;
        });
    REQUIRE(c.run_until([&] { return done == 100; }));
    for (auto& n : c.nets) {
        CHECK(n->stats().refused == 0);
        CHECK(n->stats().bad_frames == 0);
    }
}

TEST_CASE("tls: a node whose certificate another CA signed cannot join", "[.tls]") {
    tls_cluster c({"node0", "node1", "rogue"});
    // Both directions are refused: node 0 dialling node 2 (node 0 rejects its server
    // certificate) and node 2 dialling node 0 (node 0 rejects its client certificate).
    REQUIRE(c.run_until([&] {
        return c.logged({"0: warn: cannot connect to node 2", "certificate verify failed",
                         "CN=capkit node 2"}) &&
               c.logged({"0: warn: closing connection from 127.0.0.1:", "certificate verify failed",
                         "CN=capkit node 2"});
    }));
    REQUIRE(c.run_until([&] { return c.nets[0]->peer_up(1) && c.nets[1]->peer_up(0); }));
    c.run_for(300ms);
    CHECK_FALSE(c.nets[0]->peer_up(2));
    CHECK_FALSE(c.nets[1]->peer_up(2));
    CHECK(c.nets[0]->stats().refused > 0);
    CHECK(c.nets[0]->stats().frames_received == 0);  // nothing came through from node 2
    // Nodes 0 and 1 still make a quorum; node 2 alone cannot.
    REQUIRE(c.put(0, "k", "without node 2").has_value());
    auto refused = c.put(2, "k", "from the rogue");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() == capkit::errc::unavailable);
}

TEST_CASE("tls: a node whose certificate names another node cannot join", "[.tls]") {
    // Node 2 runs with a certificate the cluster CA signed for node 1.
    tls_cluster c({"node0", "node1", "liar"});
    REQUIRE(c.run_until([&] {
        return c.logged({"0: warn: closing connection from 127.0.0.1:",
                         "it says it is node 2 but its certificate names node 1"}) &&
               c.logged({"0: warn: cannot connect to node 2 at 127.0.0.1:",
                         "its certificate names node 1, not node 2"});
    }));
    c.run_for(300ms);
    CHECK_FALSE(c.nets[0]->peer_up(2));
    CHECK_FALSE(c.nets[1]->peer_up(2));
    CHECK(c.nets[0]->stats().refused > 0);
    REQUIRE(c.put(1, "k", "without node 2").has_value());
}

TEST_CASE("tls: a client certificate, or none, on a peer port is refused", "[.tls]") {
    tls_cluster c;
    REQUIRE(c.run_until([&] { return c.nets[0]->peers_up() == 2; }));
    SECTION("a client certificate") {
        CHECK(server_refuses(c, c.ports[0], "client"));
        CHECK(c.logged({"0: warn: closing connection from 127.0.0.1:",
                        "a client alice certificate on the peer port"}));
    }
    SECTION("no certificate") {
        CHECK(server_refuses(c, c.ports[0], ""));
        CHECK(c.logged({"0: warn: closing connection from 127.0.0.1:", "TLS handshake failed",
                        "certificate"}));
    }
    SECTION("a certificate another CA signed") {
        CHECK(server_refuses(c, c.ports[0], "rogue"));
        CHECK(c.logged({"0: warn: closing connection from 127.0.0.1:", "certificate verify failed",
                        "CN=capkit node 2"}));
    }
    CHECK(c.nets[0]->stats().refused == 1);
    // The cluster's own connections were not touched.
    REQUIRE(c.put(0, "k", "still serving").has_value());
    CHECK(c.nets[0]->peers_up() == 2);
}
