// A replica count is a whole number or a named level, not a fraction.
#include <capkit/policy/quorum.hpp>
#ifdef CAPKIT_CONTROL
using q = capkit::quorum<3, 2, 2>;
#else
using q = capkit::quorum<3, 1.5, 2>;
#endif
static_assert(q::n == 3);
