// Points beyond a few thousand per node buy no balance and cost memory and re-sorting.
#include <capkit/policy/hash_ring.hpp>
#ifdef CAPKIT_CONTROL
using p = capkit::hash_ring<65536>;
#else
using p = capkit::hash_ring<65537>;
#endif
static_assert(p::virtual_nodes > 0);
