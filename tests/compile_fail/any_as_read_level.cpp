// capkit::any counts hints, which a read cannot ask: a write level only.
#include <capkit/capkit.hpp>
#include <string>
using r =
    capkit::replica<std::string, int, capkit::quorum<3, 1, 1>, capkit::eventual, capkit::sloppy>;
#ifdef CAPKIT_CONTROL
void read(r& replica) {
    replica.get<capkit::one>("k", {}, [](auto) {});
}
#else
void read(r& replica) {
    replica.get<capkit::any>("k", {}, [](auto) {});
}
#endif
