// R + W > N is not enough for Paxos: R = 2 of 5 lets two prepare phases miss each other.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::quorum<5, 3, 4>, capkit::serial>;
#else
using c = capkit::config<capkit::quorum<5, 2, 4>, capkit::serial>;
#endif
static_assert(c::n == 5);
