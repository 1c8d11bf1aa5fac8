// Both replicas hand each message to the on() overload of its type through detail::dispatch,
// with no catch-all: a message type without a handler is a compile error naming it, not a
// message silently dropped or taken for another.
#include <capkit/protocol/dispatch.hpp>

#include <utility>
#include <variant>

struct ping {};
struct pong {};

struct handlers {
    void on(capkit::node_id, ping&&, capkit::time_point) {}
#ifdef CAPKIT_CONTROL
    void on(capkit::node_id, pong&&, capkit::time_point) {}
#endif
};

int main() {
    handlers h;
    std::variant<ping, pong> m = pong{};
    capkit::detail::dispatch(
        [&h](capkit::node_id f, auto&& msg, capkit::time_point t)
            -> decltype(h.on(f, std::move(msg), t)) { return h.on(f, std::move(msg), t); },
        0, std::move(m), capkit::time_point{});
}
