// The replicas route to nodes 0 .. N-1 (all_nodes) and cannot yet place keys on N of M nodes.
#include <capkit/protocol/replica.hpp>
#include <string>
#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, std::string, capkit::all_nodes>;
#else
using r = capkit::replica<std::string, std::string, capkit::hash_ring<> >;
#endif
static_assert(sizeof(r) > 0);
