// crdt_merge merges values, so a value must know how to merge.
#include <archetypes/max_register.hpp>
#include <capkit/protocol/replica.hpp>
#include <string>
#ifdef CAPKIT_CONTROL
using r = capkit::replica<std::string, capkit::archetypes::max_register, capkit::crdt_merge>;
#else
using r = capkit::replica<std::string, int, capkit::crdt_merge>;
#endif
static_assert(sizeof(r) > 0);
