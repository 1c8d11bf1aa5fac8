// Both replicas hand each message to the on() overload of its type through detail::dispatch,
// with no catch-all: a message type without a handler is a compile error naming it, not a
// message silently dropped or taken for another. This machine is built as the replicas are.
#include <capkit/protocol/dispatch.hpp>

#include <utility>
#include <variant>

struct ping {};
struct pong {};

class machine {
public:
    using message = std::variant<ping, pong>;

    void receive(capkit::node_id from, message&& m, capkit::time_point now) {
        capkit::detail::dispatch(
            [this](capkit::node_id f, auto&& msg,
                   capkit::time_point t) -> decltype(this->on(f, std::move(msg), t)) {
                return this->on(f, std::move(msg), t);
            },
            from, std::move(m), now);
    }

private:
    void on(capkit::node_id, ping&&, capkit::time_point) {}
#ifdef CAPKIT_CONTROL
    void on(capkit::node_id, pong&&, capkit::time_point) {}
#endif
};

int main() {
    machine m;
    m.receive(0, pong{}, capkit::time_point{});
}
