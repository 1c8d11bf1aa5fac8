// Key and Value come first: replica<quorum<3, 2, 2>, linearizable> put policies in their slots.
// One sentence says so, and nothing follows it.
#include <capkit/capkit.hpp>

#include <string>

#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>;
#else
using r = capkit::replica<capkit::quorum<3, 2, 2>, capkit::linearizable>;
#endif

int main() {
    r x(0, capkit::replica_options{});
    (void)x;
}
