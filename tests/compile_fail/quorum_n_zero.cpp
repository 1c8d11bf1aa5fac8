// A key needs at least one replica.
#include <capkit/policy/quorum.hpp>
#ifdef CAPKIT_CONTROL
using q = capkit::quorum<1, 1, 1>;
#else
using q = capkit::quorum<0, 1, 1>;
#endif
static_assert(q::n == 1);
