// A write cannot wait for more replicas than hold the key.
#include <capkit/policy/quorum.hpp>
#ifdef CAPKIT_CONTROL
using q = capkit::quorum<3, 2, 3>;
#else
using q = capkit::quorum<3, 2, 4>;
#endif
static_assert(q::w == 3);
