// Only policies belong in a configuration.
#include <capkit/policy/config.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::memory>;
#else
using c = capkit::config<int>;
#endif
static_assert(c::n != 0);
