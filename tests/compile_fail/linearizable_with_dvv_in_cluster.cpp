// linearizable with dvv through capkit::cluster: the resolver rule's sentence, and nothing after
// it (the replica type then stands in with default policies so the rest compiles on).
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <string>

#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>;
#else
using r = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable,
                          capkit::dvv>;
#endif

int main() {
    capkit::cluster<r> c;
    (void)c.at(0).get("k");
}
