// Siblings have no single latest value, so no read can be linearized among them.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/resolve/vector_clocks.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::linearizable, capkit::quorum<3, 2, 2>, capkit::lww<>>;
#else
using c = capkit::config<capkit::linearizable, capkit::quorum<3, 2, 2>, capkit::vector_clocks>;
#endif
static_assert(c::n == 3);
