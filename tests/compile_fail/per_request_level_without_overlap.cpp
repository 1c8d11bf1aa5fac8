// A per-request level passes the configuration's rules: reading ONE replica under linearizable
// with W = 2 of 3 would let the read miss the latest write.
#include <capkit/protocol/replica.hpp>
#include <string>
using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>;
void read(r& replica) {
#ifdef CAPKIT_CONTROL
    replica.get<capkit::all>("k", {}, [](auto) {});
#else
    replica.get<capkit::one>("k", {}, [](auto) {});
#endif
}
