// A replica count is a number or a named level; here a consistency level took its place.
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/quorum.hpp>
#ifdef CAPKIT_CONTROL
using q = capkit::quorum<3, capkit::majority, 2>;
#else
using q = capkit::quorum<3, capkit::linearizable{}, 2>;
#endif
static_assert(q::n == 3);
