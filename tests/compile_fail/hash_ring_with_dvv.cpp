// On a hash_ring a node that does not own a key may coordinate its writes: dvv builds a write on
// the coordinator's own copy, so it needs all_nodes.
#include <capkit/protocol/replica.hpp>
#include <capkit/resolve/dvv.hpp>
#include <string>
#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, std::string, capkit::lww<>, capkit::hash_ring<> >;
#else
using r = capkit::replica<std::string, std::string, capkit::dvv, capkit::hash_ring<> >;
#endif
static_assert(sizeof(r) > 0);
