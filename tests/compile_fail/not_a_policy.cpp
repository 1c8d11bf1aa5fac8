// Only policies belong in a configuration.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::memory>;
#else
using c = capkit::config<int>;
#endif
static_assert(c::n != 0);
