// update() is a write: its per-request level passes the same rules as put().
#include <capkit/crdt/g_counter.hpp>
#include <capkit/protocol/replica.hpp>
#include <string>
using r = capkit::replica<std::string, capkit::g_counter, capkit::quorum<3, 2, 2>, capkit::strong,
                          capkit::crdt_merge>;
void like(r& replica) {
    auto op = [](capkit::g_counter& c, capkit::node_id self) { c.increment(self); };
#ifdef CAPKIT_CONTROL
    replica.update<capkit::majority>("k", op, {}, [](auto) {});
#else
    replica.update<capkit::one>("k", op, {}, [](auto) {});
#endif
}
