// The user's case: a per-request read level through capkit::cluster that leaves the quorums
// disjoint under strong. The first error names the per-request level as what to drop.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <string>

using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::strong>;

int main() {
    capkit::cluster<r> c;
#ifdef CAPKIT_CONTROL
    (void)c.at(0).get<capkit::majority>("k");
#else
    (void)c.at(0).get<capkit::one>("k");
#endif
}
