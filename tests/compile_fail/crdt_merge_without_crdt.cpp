// crdt_merge merges values, so a value must know how to merge.
#include <archetypes/max_register.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/resolve/crdt_merge.hpp>
using c = capkit::config<capkit::crdt_merge>;
#ifdef CAPKIT_CONTROL
c::state<capkit::archetypes::max_register> s;
#else
c::state<int> s;
#endif
