// SPDX-License-Identifier: MIT
/// @file Defines CAPKIT_ASSERT, the checked form of an invariant written in the protocol's code,
/// and capkit::invariant_violation, what a failed one throws.
#pragma once

#include <stdexcept>
#include <string>

namespace capkit {

/// A CAPKIT_ASSERT failed: the replica's state broke an invariant (a bug in capkit, or a caller
/// that broke a documented precondition). The replica must not be used afterwards: stop the node
/// (fail-stop) and report the message, which names the invariant and where it is.
class invariant_violation : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

namespace detail {
[[noreturn]] inline void invariant_failed(const char* condition, const char* what, const char* file,
                                          int line) {
    throw invariant_violation(std::string("capkit invariant broken at ") + file + ":" +
                              std::to_string(line) + ": " + what + " (" + condition + ")");
}
}  // namespace detail

}  // namespace capkit

/// CAPKIT_ASSERT(condition, "the invariant, as a sentence"): checked when CAPKIT_ASSERTIONS is 1
/// (capkit's tests build so), throwing capkit::invariant_violation when it does not hold; not
/// evaluated otherwise, so it costs a release build nothing. Define CAPKIT_ASSERTIONS=1 in your
/// own tests to have them check capkit's invariants too.
#if defined(CAPKIT_ASSERTIONS) && CAPKIT_ASSERTIONS
#define CAPKIT_ASSERT(condition, what)  \
    ((condition) ? static_cast<void>(0) \
                 : ::capkit::detail::invariant_failed(#condition, what, __FILE__, __LINE__))
#else
#define CAPKIT_ASSERT(condition, what) static_cast<void>(sizeof(static_cast<bool>(condition)))
#endif
