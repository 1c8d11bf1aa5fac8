// sloppy (hinted handoff) breaks the overlap serial relies on: refused but with eventual.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::eventual, capkit::sloppy, capkit::quorum<3, 2, 2>>;
#else
using c = capkit::config<capkit::serial, capkit::sloppy, capkit::quorum<3, 2, 2>>;
#endif
static_assert(c::handoff::hinted);
