// SPDX-License-Identifier: MIT
// Three replicas on 127.0.0.1 over a TCP-family transport (tcp_transport, tls_transport), each
// with its own listener on a port the kernel picked, driven by one io_context; each node's
// failure detector tells its replica which peers are reachable, as capkit-kv does. Shared by the
// plain and TLS transport tests.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <capkit/node.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/transport/tcp.hpp>

namespace capkit::test {

using loopback_replica =
    capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>;

template <class Transport>
struct loopback_cluster {
    using replica_type = loopback_replica;
    using transport_type = Transport;
    using node_type = capkit::node<replica_type, Transport>;
    /// Makes node `id`'s transport, listening on `at`.
    using make_transport = std::function<std::unique_ptr<Transport>(
        boost::asio::io_context&, node_id id, const tcp_address& at, const tcp_options&,
        tcp_logger)>;

    /// Timings that make a test take milliseconds, not seconds.
    static tcp_options fast() {
        using namespace std::chrono_literals;
        tcp_options o;
        o.heartbeat_interval = 20ms;
        o.peer_timeout = 150ms;
        o.reconnect_min = 10ms;
        o.reconnect_max = 100ms;
        return o;
    }

    static std::unique_ptr<Transport> plain(boost::asio::io_context& io, node_id id,
                                            const tcp_address& at, const tcp_options& o,
                                            tcp_logger log) {
        return std::make_unique<Transport>(io, id, at, o, std::move(log));
    }

    explicit loopback_cluster(make_transport make = &plain, tcp_options options = fast(),
                              std::chrono::nanoseconds request_timeout = std::chrono::seconds(1))
        : make_(std::move(make)), options_(options), request_timeout_(request_timeout) {
        for (node_id i = 0; i < 3; ++i) {
            nets[i] = make_(io, i, tcp_address{"127.0.0.1", 0}, options_, logger(i));
            ports[i] = nets[i]->listen_port();
        }
        for (node_id i = 0; i < 3; ++i) bring_up(i);
    }

    // Log lines read "NODE: LEVEL: line".
    tcp_logger logger(node_id i) {
        return [this, i](log_level level, const std::string& line) {
            log.push_back(std::to_string(i) + ": " + std::string(to_string(level)) + ": " + line);
        };
    }

    void bring_up(node_id i) {
        for (node_id j = 0; j < 3; ++j)
            if (i != j) nets[i]->add_peer(j, {"127.0.0.1", ports[j]});
        replica_options ro;
        ro.request_timeout = request_timeout_;
        nodes[i] = std::make_unique<node_type>(i, *nets[i], ro);
        nets[i]->on_peer_change(
            [this, i](node_id peer, bool up) { nodes[i]->replica().set_reachable(peer, up); });
        nets[i]->start();
    }

    /// Stops node i as a killed process would: its sockets close, nothing is said.
    void kill(node_id i) {
        nodes[i].reset();
        nets[i]->close();
        nets[i].reset();
    }

    /// Starts node i again, empty, on the port it had.
    void restart(node_id i) {
        nets[i] = make_(io, i, tcp_address{"127.0.0.1", ports[i]}, options_, logger(i));
        bring_up(i);
    }

    template <class Pred>
    bool run_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > end) return false;
            io.run_one_for(std::chrono::milliseconds(5));
        }
        return true;
    }
    void run_for(std::chrono::milliseconds d) {
        auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) io.run_one_for(std::chrono::milliseconds(5));
    }

    bool all_up() {
        for (node_id i = 0; i < 3; ++i)
            if (nets[i] && nets[i]->peers_up() != 2) return false;
        return true;
    }

    result<replica_type::write_result> put(node_id at, const std::string& key,
                                           const std::string& value) {
        std::optional<result<replica_type::write_result>> out;
        nodes[at]->async_put(key, value, {}, [&](auto r) { out = std::move(r); });
        REQUIRE(run_until([&] { return out.has_value(); }));
        return *out;
    }
    result<replica_type::read_result> get(node_id at, const std::string& key) {
        std::optional<result<replica_type::read_result>> out;
        nodes[at]->async_get(key, [&](auto r) { out = std::move(r); });
        REQUIRE(run_until([&] { return out.has_value(); }));
        return *out;
    }

    /// Whether a log line holds every one of `parts`.
    bool logged(std::initializer_list<std::string> parts) const {
        for (const auto& line : log) {
            bool all = true;
            for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
            if (all) return true;
        }
        return false;
    }

    boost::asio::io_context io;
    std::array<std::unique_ptr<Transport>, 3> nets;
    std::array<std::unique_ptr<node_type>, 3> nodes;
    std::array<std::uint16_t, 3> ports{};
    std::vector<std::string> log;

private:
    make_transport make_;
    tcp_options options_;
    std::chrono::nanoseconds request_timeout_;
};

}  // namespace capkit::test
