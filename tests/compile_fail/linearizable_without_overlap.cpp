// With R + W <= N a read quorum can miss the write quorum of the latest write.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::quorum<3, 2, 2>, capkit::linearizable>;
#else
using c = capkit::config<capkit::quorum<3, 1, 1>, capkit::linearizable>;
#endif
static_assert(c::n == 3);
