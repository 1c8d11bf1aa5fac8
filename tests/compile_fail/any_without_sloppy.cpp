// capkit::any acknowledges a write that only a hint holds: it needs capkit::sloppy.
#include <capkit/capkit.hpp>
#include <string>
#ifdef CAPKIT_CONTROL
using r =
    capkit::replica<std::string, int, capkit::quorum<3, 1, 1>, capkit::eventual, capkit::sloppy>;
#else
using r = capkit::replica<std::string, int, capkit::quorum<3, 1, 1>, capkit::eventual>;
#endif
void write(r& replica) {
    replica.put<capkit::any>("k", 1, {}, {}, [](auto) {});
}
