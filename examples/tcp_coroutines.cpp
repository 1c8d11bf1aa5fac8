// SPDX-License-Identifier: MIT
// Three replicas talking over loopback TCP (each with its own listener, as three processes
// would), and a client written as a C++20 coroutine: co_await a write, co_await a read, then
// one replica goes away and a quorum write still succeeds, then a second goes away and the
// write is refused at once (the failure detector already knows), as the CP choice promises.
#include <array>
#include <iostream>
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <capkit/async_client.hpp>
#include <capkit/node.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/transport/tcp.hpp>

using namespace std::chrono_literals;
namespace asio = boost::asio;

using cp = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>;
using transport = capkit::tcp_transport<cp::message>;
using node = capkit::node<cp, transport>;

int main() {
    asio::io_context io;
    capkit::tcp_options options;
    options.peer_timeout = 200ms;
    std::array<std::unique_ptr<transport>, 3> nets;
    std::array<std::unique_ptr<node>, 3> nodes;
    for (capkit::node_id i = 0; i < 3; ++i)
        nets[i] = std::make_unique<transport>(io, i, capkit::tcp_address{"127.0.0.1", 0}, options);
    for (capkit::node_id i = 0; i < 3; ++i) {
        for (capkit::node_id j = 0; j < 3; ++j)
            if (i != j) nets[i]->add_peer(j, {"127.0.0.1", nets[j]->listen_port()});
        nodes[i] = std::make_unique<node>(i, *nets[i]);
        // The failure detector's verdicts let the coordinator refuse at once.
        nets[i]->on_peer_change([&nodes, i](capkit::node_id peer, bool up) {
            nodes[i]->replica().set_reachable(peer, up);
        });
        nets[i]->start();
    }
    capkit::async_client client(*nodes[0], nets[0]->strand());

    auto stop = [&](capkit::node_id i) {
        nodes[i].reset();
        nets[i]->close();
    };
    bool ok = true;
    auto claim = [&](bool holds, const std::string& what) {
        std::cout << (holds ? "  ok   " : "  FAIL ") << what << '\n';
        ok = ok && holds;
    };

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            while (nets[0]->peers_up() < 2) {  // wait for the connections
                timer.expires_after(10ms);
                co_await timer.async_wait(asio::use_awaitable);
            }
            co_await client.put("greeting", "hello over TCP", asio::use_awaitable);
            auto read = co_await client.get("greeting", asio::use_awaitable);
            claim(read.values == std::vector<std::string>{"hello over TCP"},
                  "a write and a read through node 0, acknowledged by two of three over TCP");

            stop(2);
            co_await client.put("greeting", "still a majority", asio::use_awaitable);
            claim(true, "node 2 gone: the write is acknowledged by nodes 0 and 1");

            stop(1);
            while (nets[0]->peers_up() > 0) {  // until the detector reports node 1 down
                timer.expires_after(10ms);
                co_await timer.async_wait(asio::use_awaitable);
            }
            boost::system::error_code ec;
            co_await client.put("greeting", "alone", asio::redirect_error(asio::use_awaitable, ec));
            claim(ec == capkit::errc::unavailable, "node 0 alone: the write is refused (" +
                                                       ec.message() + "), certainly not applied");
            stop(0);
        },
        [&](std::exception_ptr e) {
            if (e) {
                ok = false;
                std::cout << "  FAIL the coroutine threw\n";
            }
        });
    io.run_for(20s);
    return ok ? 0 : 1;
}
