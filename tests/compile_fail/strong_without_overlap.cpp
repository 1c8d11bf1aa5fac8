// strong promises reads see acknowledged writes, which needs R + W > N.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::strong, capkit::quorum<5, 3, 3>>;
#else
using c = capkit::config<capkit::strong, capkit::quorum<5, 2, 3>>;
#endif
static_assert(c::n == 5);
