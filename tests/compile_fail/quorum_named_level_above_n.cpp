// capkit::two asks for two replicas, which a single-replica key does not have.
#include <capkit/policy/quorum.hpp>
#ifdef CAPKIT_CONTROL
using q = capkit::quorum<1, capkit::one, 1>;
#else
using q = capkit::quorum<1, capkit::two, 1>;
#endif
static_assert(q::r == 1);
