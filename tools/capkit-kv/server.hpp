// SPDX-License-Identifier: MIT
/// @file Defines capkit::kv::server: one replica of a capkit-kv cluster, its peers over
/// tcp_transport and its Redis-speaking clients on a separate listener, on one strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <capkit/node.hpp>
#include <capkit/transport/tcp.hpp>

#include <capkit-kv/commands.hpp>
#include <capkit-kv/resp.hpp>

namespace capkit::kv {

/// How one capkit-kv replica is set up.
struct server_options {
    node_id id = 0;
    tcp_address listen;                    ///< where peers reach this node
    tcp_address client;                    ///< where Redis clients reach it
    std::map<node_id, tcp_address> peers;  ///< the other nodes
    std::string preset;
    /// Where the replica keeps its keys, for INFO (executor_options::storage).
    std::string storage = "memory";
    tcp_options transport{};
    replica_options replica{};
    resp::limits client_limits{};
    /// Clients connected at once; one more is told "-ERR max number of clients reached" and
    /// closed (Redis's maxclients), so a flood of idle connections cannot take the memory.
    std::size_t max_clients = 10000;
    /// A connection with this many commands waiting is not read until some are answered.
    std::size_t max_pipeline = 1024;
    /// A graceful stop waits this long for answers to commands already received.
    std::chrono::milliseconds drain_timeout{2000};
};

/// Runs `Replica` as node `options.id`: the transport to its peers, the node, and a listener
/// for Redis clients whose commands an executor runs. Everything runs on the transport's
/// strand. `Security` secures peers and clients alike: plain_tcp, or tls_security (whose
/// handshake_client admits only client certificates on the client port). stop() stops accepting
/// clients and reading commands, waits (up to drain_timeout) for the answers to those already
/// received and for their replies and messages to be written, then closes everything.
///
/// The node starts on `recovered` (its storage's table opened on a directory, say); a storage
/// write that fails throws out of the io_context's run(), and no reply depending on it is sent.
template <class Replica, class Security = plain_tcp>
class server {
    using transport_type = tcp_transport<typename Replica::message, Security>;
    using stream_type = typename Security::stream_type;
    using node_type = capkit::node<Replica, transport_type>;
    using executor_type = executor<node_type>;
    using tcp = boost::asio::ip::tcp;

public:
    server(boost::asio::io_context& io, server_options options, tcp_logger log,
           Security security = {}, typename Replica::durable_state recovered = {})
        : options_(std::move(options)),
          log_(std::move(log)),
          security_(security),
          net_(io, options_.id, options_.listen, options_.transport, log_, std::move(security)),
          node_(options_.id, net_, options_.replica, std::move(recovered)),
          exec_(node_, executor_options{.preset = options_.preset,
                                        .peers_up = [this] { return net_.peers_up(); },
                                        .storage = options_.storage}),
          clients_(net_.strand()),
          drain_timer_(net_.strand()) {
        listen_on(clients_, options_.client);
        for (const auto& [id, address] : options_.peers) net_.add_peer(id, address);
        net_.on_peer_change(
            [this](node_id peer, bool up) { node_.replica().set_reachable(peer, up); });
    }

    void start() {
        net_.start();
        boost::asio::post(net_.strand(), [this] { accept(); });
        say(log_level::info, "node " + std::to_string(options_.id) + " (" + options_.preset +
                                 ") serves peers on " + options_.listen.to_string() +
                                 " and clients on " + options_.client.to_string());
    }

    /// Posts the graceful stop to the strand; `done` runs there once everything is closed.
    void stop(std::function<void()> done = {}) {
        boost::asio::post(net_.strand(), [this, done = std::move(done)]() mutable {
            if (stopping_) return;
            stopping_ = true;
            boost::system::error_code ignored;
            clients_.close(ignored);
            say(log_level::info, "stopping: answering the " + std::to_string(in_flight()) +
                                     " commands received, then closing");
            drain_until_ = std::chrono::steady_clock::now() + options_.drain_timeout;
            drain(std::move(done));
        });
    }

    std::uint16_t client_port() const { return clients_.local_endpoint().port(); }
    std::uint16_t peer_port() const { return net_.listen_port(); }
    node_type& replica_node() { return node_; }
    transport_type& transport() { return net_; }

private:
    struct connection {
        connection(stream_type s, executor_type& exec, resp::limits limits)
            : socket(std::move(s)), session(exec, limits, [this] {
                  if (replied) replied();
              }) {}
        stream_type socket;
        std::function<void()> replied;  // a reply completed after its quorum: write it
        kv::session<node_type> session;
        std::array<char, 16 * 1024> in{};
        std::string out;
        bool reading = false, writing = false, closed = false;
        bool flush_scheduled = false;
    };

    void say(log_level level, const std::string& line) const {
        if (log_) log_(level, line);
    }

    void accept() {
        clients_.async_accept(net_.strand(), [this](boost::system::error_code ec, tcp::socket s) {
            if (stopping_) return;
            if (!ec && connections_.size() >= options_.max_clients) {
                refuse(std::move(s));
            } else if (!ec) {
                boost::system::error_code ignored;
                s.set_option(tcp::no_delay(true), ignored);
                auto c = std::make_shared<connection>(security_.wrap(std::move(s)), exec_,
                                                      options_.client_limits);
                // A reply completed by a peer's acknowledgement is written after the handlers
                // already waiting on the strand have run: the acknowledgements of a pipelined
                // batch arrive together, and their replies then leave in one write, not one each.
                c->replied = [this, w = std::weak_ptr<connection>(c)] {
                    auto live = w.lock();
                    if (!live || live->flush_scheduled) return;
                    live->flush_scheduled = true;
                    boost::asio::post(net_.strand(), [this, w] {
                        if (auto c = w.lock()) {
                            c->flush_scheduled = false;
                            flush(c);
                            read(c);
                        }
                    });
                };
                connections_.insert(c);
                admit(c);
            } else {
                say(log_level::warn, "cannot accept a client: " + ec.message());
            }
            accept();
        });
    }

    // One client too many: told so in RESP where the connection is plain (the line fits any
    // socket buffer, so the write does not wait), closed either way.
    void refuse(tcp::socket s) {
        boost::system::error_code ignored;
        if constexpr (std::is_same_v<Security, plain_tcp>)
            boost::asio::write(
                s, boost::asio::buffer(std::string_view("-ERR max number of clients reached\r\n")),
                ignored);
        s.close(ignored);
        say(log_level::warn, "refused a client: max_clients (" +
                                 std::to_string(options_.max_clients) + ") are connected");
    }

    // Under TLS a client must prove it is one before its commands are read.
    void admit(const std::shared_ptr<connection>& c) {
        if constexpr (std::is_same_v<Security, plain_tcp>) {
            read(c);
        } else {
            security_.handshake_client(c->socket, [this, c](const auto& refusal, const auto&) {
                if (c->closed) return;
                if (refusal) {
                    boost::system::error_code ec;
                    auto remote = c->socket.lowest_layer().remote_endpoint(ec);
                    say(log_level::warn, "refusing client " +
                                             (ec ? std::string("?")
                                                 : remote.address().to_string() + ":" +
                                                       std::to_string(remote.port())) +
                                             ": " + *refusal);
                    return close(c);
                }
                read(c);
            });
        }
    }

    void read(const std::shared_ptr<connection>& c) {
        if (c->reading || c->closed || stopping_ || c->session.busy() >= options_.max_pipeline)
            return;
        c->reading = true;
        c->socket.async_read_some(boost::asio::buffer(c->in),
                                  [this, c](boost::system::error_code ec, std::size_t n) {
                                      c->reading = false;
                                      if (c->closed) return;
                                      if (ec) return close(c);
                                      c->session.receive(std::string_view(c->in.data(), n));
                                      if (c->session.closing() && !c->session.has_output())
                                          return close(c);
                                      flush(c);
                                      read(c);
                                  });
    }

    // Writes every reply ready; replies that complete later call back through pump().
    void flush(const std::shared_ptr<connection>& c) {
        if (c->closed || c->writing) return;
        c->out += c->session.take_output();
        if (c->out.empty()) {
            if (c->session.closing()) close(c);
            return;
        }
        c->writing = true;
        boost::asio::async_write(c->socket, boost::asio::buffer(c->out),
                                 [this, c](boost::system::error_code ec, std::size_t) {
                                     c->writing = false;
                                     c->out.clear();
                                     if (ec) return close(c);
                                     flush(c);
                                     read(c);  // room again in the pipeline
                                 });
    }

    void close(const std::shared_ptr<connection>& c) {
        if (c->closed) return;
        c->closed = true;
        c->replied = nullptr;  // the connection no longer refers to itself
        boost::system::error_code ignored;
        c->socket.lowest_layer().close(ignored);
        connections_.erase(c);
    }

    std::size_t in_flight() const {
        std::size_t n = 0;
        for (const auto& c : connections_) n += c->session.busy();
        return n;
    }

    // Stopping: poll until every received command is answered and written, or time is up.
    void drain(std::function<void()> done) {
        for (const auto& c : std::set(connections_)) flush(c);
        bool quiet = in_flight() == 0 && net_.flushed() &&
                     std::ranges::all_of(connections_, [](const auto& c) { return !c->writing; });
        if (quiet || std::chrono::steady_clock::now() >= drain_until_) {
            if (!quiet)
                say(log_level::warn, "stopped with " + std::to_string(in_flight()) +
                                         " commands unanswered after the drain timeout");
            for (const auto& c : std::set(connections_)) close(c);
            net_.close();
            say(log_level::info, "stopped");
            if (done) done();
            return;
        }
        drain_timer_.expires_after(std::chrono::milliseconds(5));
        drain_timer_.async_wait([this, done = std::move(done)](boost::system::error_code) mutable {
            drain(std::move(done));
        });
    }

    server_options options_;
    tcp_logger log_;
    Security security_;
    transport_type net_;
    node_type node_;
    executor_type exec_;
    tcp::acceptor clients_;
    boost::asio::steady_timer drain_timer_;
    std::set<std::shared_ptr<connection>> connections_;
    std::chrono::steady_clock::time_point drain_until_{};
    bool stopping_ = false;
};

}  // namespace capkit::kv
