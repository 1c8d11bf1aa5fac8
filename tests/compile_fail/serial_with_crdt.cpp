// Paxos agrees on one value; a resolver without a total order has no single value to agree on.
#include <capkit/policy/config.hpp>
#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#ifdef CAPKIT_CONTROL
using c = capkit::config<capkit::serial, capkit::lww<>>;
#else
using c = capkit::config<capkit::serial, capkit::crdt_merge>;
#endif
static_assert(c::n == 3);
