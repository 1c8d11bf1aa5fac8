// serial's CASPaxos rounds run on all_nodes only; hash_ring placement is for the quorum levels.
#include <capkit/protocol/replica.hpp>
#include <string>
#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, std::string, capkit::serial, capkit::all_nodes>;
#else
using r = capkit::replica<std::string, std::string, capkit::serial, capkit::hash_ring<> >;
#endif
static_assert(sizeof(r) > 0);
