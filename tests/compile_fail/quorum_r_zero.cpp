// A read must ask at least one replica.
#include <capkit/policy/quorum.hpp>
#ifdef CAPKIT_CONTROL
using q = capkit::quorum<3, 1, 2>;
#else
using q = capkit::quorum<3, 0, 2>;
#endif
static_assert(q::r == 1);
