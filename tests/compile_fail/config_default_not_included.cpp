// policy/ does not include the layers below it, so config's defaults (lww<>, memory) are only
// declared there: a config that uses one with only <capkit/policy/config.hpp> included gets a
// sentence naming the header to include, not an incomplete-type error.
#include <capkit/policy/config.hpp>
#ifdef CAPKIT_CONTROL
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#endif

int main() {
    return capkit::config<capkit::quorum<3>>::name.empty() ? 1 : 0;
}
