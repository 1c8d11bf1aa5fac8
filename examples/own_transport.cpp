// SPDX-License-Identifier: MIT
// A replica on your own message bus (docs/transport.md): `byte_bus` stands for whatever moves
// bytes between your processes (a queue, a broker, shared memory); `bus_transport` adapts it to
// capkit::transport, encoding capkit's messages with capkit::wire. Three nodes of a strong
// configuration then write and read through it, one node is cut off and refused, and one is
// restarted. Every claim printed is checked; exit 1 if one fails.
#include <capkit/capkit.hpp>
#include <capkit/node.hpp>
#include <capkit/wire/frame.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

// The user's bus: it knows nothing of capkit. Endpoints subscribe by id; post() queues bytes
// (never calls back inside post); poll() hands out one message; links can be cut.
class byte_bus {
public:
    using handler = std::function<void(int from, std::span<const std::byte>)>;
    void subscribe(int id, handler h) { handlers_[id] = std::move(h); }
    void unsubscribe(int id) { handlers_.erase(id); }
    bool knows(int id) const { return handlers_.contains(id); }
    void post(int from, int to, std::vector<std::byte> bytes) {
        if (!cut_.contains({from, to})) queue_.push_back({from, to, std::move(bytes)});
    }
    bool poll() {
        if (queue_.empty()) return false;
        auto [from, to, bytes] = std::move(queue_.front());
        queue_.pop_front();
        if (auto it = handlers_.find(to); it != handlers_.end()) it->second(from, bytes);
        return true;
    }
    void cut(int a, int b) { cut_.insert({a, b}), cut_.insert({b, a}); }
    void heal() { cut_.clear(); }

private:
    struct parcel {
        int from, to;
        std::vector<std::byte> bytes;
    };
    std::map<int, handler> handlers_;
    std::deque<parcel> queue_;
    std::set<std::pair<int, int>> cut_;
};

// capkit::transport over the bus. Time is the wall clock in nanoseconds since the Unix epoch,
// the epoch nodes in different processes share (hybrid logical clocks compare their stamps).
template <class Message>
class bus_transport {
public:
    using time_point = capkit::time_point;

    explicit bus_transport(byte_bus& bus) : bus_(bus) {}

    void attach(capkit::node_id node, std::function<void(capkit::node_id, Message&&)> receiver,
                std::function<void()> waker) {
        wakers_[node] = {std::move(waker), std::nullopt};
        bus_.subscribe(int(node), [receiver = std::move(receiver)](
                                      int from, std::span<const std::byte> bytes) {
            // Bytes from the bus are untrusted: a frame that does not decode is dropped (and
            // would be logged), never a crash.
            auto m = capkit::wire::decode<Message>(bytes);
            if (m) receiver(capkit::node_id(from), std::move(*m));
        });
    }
    void detach(capkit::node_id node) {
        wakers_.erase(node);
        bus_.unsubscribe(int(node));
    }
    capkit::send_status send(capkit::node_id from, capkit::node_id to, Message m) {
        if (!bus_.knows(int(to))) return capkit::send_status::unknown_node;
        std::vector<std::byte> bytes;
        capkit::wire::encode(m, bytes);
        bus_.post(int(from), int(to), std::move(bytes));  // delivered later, from poll()
        return capkit::send_status::sent;
    }
    time_point now() const {
        return std::chrono::duration_cast<time_point>(
            std::chrono::system_clock::now().time_since_epoch());
    }
    void wake(capkit::node_id node, time_point at) {
        if (auto it = wakers_.find(node); it != wakers_.end())
            it->second.at = at == time_point::max() ? std::nullopt : std::optional(at);
    }

    // The application's loop, one step: a message if the bus has one, else the earliest
    // wake-up, slept until it is due. False when there is nothing left to do.
    bool run_once() {
        if (bus_.poll()) return true;
        auto next = wakers_.end();
        for (auto it = wakers_.begin(); it != wakers_.end(); ++it)
            if (it->second.at && (next == wakers_.end() || *it->second.at < *next->second.at))
                next = it;
        if (next == wakers_.end()) return false;
        if (auto wait = *next->second.at - now(); wait > time_point::zero())
            std::this_thread::sleep_for(wait);
        next->second.at.reset();
        next->second.wake();
        return true;
    }

private:
    struct wakeup {
        std::function<void()> wake;
        std::optional<time_point> at;
    };
    byte_bus& bus_;
    std::map<capkit::node_id, wakeup> wakers_;
};

using replica = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::strong>;
using transport = bus_transport<replica::message>;
using node = capkit::node<replica, transport>;
static_assert(capkit::transport<transport, replica::message>);

bool all_claims_hold = true;
void claim(bool holds, const char* what) {
    std::printf("  %s %s\n", holds ? "ok:  " : "FAILED:", what);
    all_claims_hold = all_claims_hold && holds;
}

// Runs the loop until `done` is set (a request always completes by its deadline).
template <class T>
T wait(transport& net, std::optional<T>& done) {
    while (!done && net.run_once()) {
    }
    if (!done) {
        std::printf("  FAILED: the loop ran dry before the request was answered\n");
        std::exit(1);
    }
    return std::move(*done);
}

}  // namespace

int main() {
    byte_bus bus;
    transport net(bus);
    capkit::replica_options options;
    options.request_timeout = std::chrono::milliseconds(50);
    std::vector<std::unique_ptr<node>> nodes;
    for (capkit::node_id i = 0; i < 3; ++i)
        nodes.push_back(std::make_unique<node>(i, net, options));

    std::printf("three nodes of %s over a byte bus\n", capkit::describe<replica::config>().c_str());
    std::optional<capkit::result<replica::write_result>> put;
    nodes[0]->async_put("greeting", "hello", {}, [&](auto r) { put = std::move(r); });
    claim(wait(net, put).has_value(), "a put through node 0 is acknowledged by a quorum");

    std::optional<capkit::result<replica::read_result>> got;
    nodes[2]->async_get("greeting", [&](auto r) { got = std::move(r); });
    auto read = wait(net, got);
    claim(read && read->values == std::vector<std::string>{"hello"},
          "a get through node 2 reads it back");

    // Node 0 alone: it cannot reach a quorum, so it refuses (consistency over availability).
    bus.cut(0, 1), bus.cut(0, 2);
    for (capkit::node_id peer : {1, 2}) nodes[0]->replica().set_reachable(peer, false);
    std::optional<capkit::result<replica::read_result>> alone;
    nodes[0]->async_get("greeting", [&](auto r) { alone = std::move(r); });
    auto refused = wait(net, alone);
    claim(!refused && refused.error() == capkit::errc::unavailable,
          "cut off from both peers, node 0 refuses the read (unavailable)");
    bus.heal();
    for (capkit::node_id peer : {1, 2}) nodes[0]->replica().set_reachable(peer, true);

    // A restart: the old object detaches from the bus in its destructor; the new process comes
    // back on what its storage kept, as its next incarnation.
    auto kept = nodes[1]->replica().durable();
    nodes[1].reset();
    options.incarnation = 1;
    nodes[1] = std::make_unique<node>(1, net, options, std::move(kept));
    std::optional<capkit::result<replica::read_result>> after;
    nodes[1]->async_get("greeting", [&](auto r) { after = std::move(r); });
    auto again = wait(net, after);
    claim(again && again->values == std::vector<std::string>{"hello"},
          "node 1, restarted on its durable state, serves the key again");
    return all_claims_hold ? 0 : 1;
}
