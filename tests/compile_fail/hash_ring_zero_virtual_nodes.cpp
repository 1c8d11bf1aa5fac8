// A node owns keys only through its points on the ring, so it needs at least one.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::hash_ring<1>>;
#else
using c = capkit::config<capkit::hash_ring<0>>;
#endif
static_assert(c::n == 3);
