// SPDX-License-Identifier: MIT
// The catalogue's presets, compiled once for the test binary (tests/support/compiled_presets.cpp)
// instead of in every test file that runs them: each preset's replica, its node and cluster over
// the simulator, and the lab's run over it. The test files that run the presets include this
// (docs/compile-time.md: the pattern a codebase uses). Not in the precompiled header: every test
// file would load the lab with it, which cost more than it saved.
#pragma once

#include <cstddef>
#include <type_traits>

#include <boost/hana/at.hpp>
#include <boost/hana/length.hpp>

#include <capkit/check/lab.hpp>
#include <capkit/compile_once.hpp>
#include <capkit/presets.hpp>
#include <capkit/sim_cluster.hpp>
#include <capkit/transport/sim.hpp>

namespace capkit::test {
template <std::size_t I>
using preset_replica =
    typename std::decay_t<decltype(boost::hana::at_c<I>(capkit::lab::presets))>::replica;
}  // namespace capkit::test

// One declaration (EXTERN) or definition (INSTANTIATE) per preset; `prefix` is `extern` or
// nothing.
#define CAPKIT_TEST_PRESET_CODE(prefix, I)                                              \
    namespace capkit::test {                                                            \
    using preset_##I = preset_replica<I>;                                               \
    }                                                                                   \
    CAPKIT_DETAIL_REPLICA_CODE(prefix, capkit::test::preset_##I);                       \
    prefix template class capkit::node<capkit::test::preset_##I,                        \
                                       capkit::sim<capkit::test::preset_##I::message>>; \
    prefix template class capkit::sim_cluster<capkit::test::preset_##I>;                \
    prefix template class capkit::lab::detail::seed_run<capkit::test::preset_##I>;      \
    prefix template capkit::lab::report capkit::lab::run<capkit::test::preset_##I>(     \
        const capkit::lab::scenario&, const capkit::lab::run_options&, std::string);    \
    prefix template std::vector<capkit::check::event>                                   \
    capkit::lab::record<capkit::test::preset_##I>(const capkit::lab::scenario&, std::uint64_t)

#define CAPKIT_TEST_PRESETS(prefix)      \
    CAPKIT_TEST_PRESET_CODE(prefix, 0);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 1);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 2);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 3);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 4);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 5);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 6);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 7);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 8);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 9);  \
    CAPKIT_TEST_PRESET_CODE(prefix, 10); \
    CAPKIT_TEST_PRESET_CODE(prefix, 11); \
    CAPKIT_TEST_PRESET_CODE(prefix, 12); \
    CAPKIT_TEST_PRESET_CODE(prefix, 13)

static_assert(boost::hana::length(capkit::lab::presets) == 14,
              "tests/support/compiled_presets.hpp lists 14 presets: list the new one there");

#ifndef CAPKIT_TEST_COMPILING_PRESETS
CAPKIT_TEST_PRESETS(extern);
#endif
