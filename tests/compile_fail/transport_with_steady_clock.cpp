// A transport tells capkit::time_point (nanoseconds since an epoch every node shares); one whose
// time_point is std::chrono::steady_clock's is refused in one sentence, not deep inside node.hpp.
#include <capkit/capkit.hpp>
#include <capkit/node.hpp>

#include <chrono>
#include <functional>
#include <string>

using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::strong>;

struct my_bus {
#ifdef CAPKIT_CONTROL
    using time_point = capkit::time_point;
#else
    using time_point = std::chrono::steady_clock::time_point;
#endif
    capkit::send_status send(capkit::node_id, capkit::node_id, r::message) {
        return capkit::send_status::sent;
    }
    time_point now() const {
        return time_point{};
    }
    void wake(capkit::node_id, time_point) {}
    void attach(capkit::node_id, std::function<void(capkit::node_id, r::message&&)>,
                std::function<void()>) {}
};

int main() {
    my_bus bus;
    capkit::node<r, my_bus> n(0, bus);
    n.async_get("k", [](const auto&) {});
}
