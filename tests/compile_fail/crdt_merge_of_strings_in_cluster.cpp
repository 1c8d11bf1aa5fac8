// crdt_merge over std::string values through capkit::cluster: one sentence, nothing after it.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <string>

#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, capkit::g_counter, capkit::quorum<3, 2, 2>, capkit::eventual,
                          capkit::crdt_merge>;
#else
using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::eventual,
                          capkit::crdt_merge>;
#endif

int main() {
    capkit::cluster<r> c;
    (void)c.at(0).get("k");
}
