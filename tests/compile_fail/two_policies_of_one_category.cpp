// A configuration has one quorum; which of two was meant is the user's call.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::quorum<3, 2, 2>>;
#else
using c = capkit::config<capkit::quorum<3, 2, 2>, capkit::quorum<5, 3, 3>>;
#endif
static_assert(c::n != 0);
