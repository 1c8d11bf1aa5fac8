// SPDX-License-Identifier: MIT
/// @file Defines capkit::strict_quorum and capkit::sloppy: whether a coordinator keeps hints for
/// the replicas it cannot reach and hands the writes off when they come back.
#pragma once

#include <string_view>

#include <capkit/policy/category.hpp>

namespace capkit {

/// A write reaches the replicas reachable when it starts; one that was away catches up through
/// read repair and anti-entropy. The default.
struct strict_quorum {
    using category = handoff_category;
    static constexpr std::string_view name = "strict";
    static constexpr bool hinted = false;
};

/// Hinted handoff, opt-in: a coordinator keeps, for each replica it could not reach, a hint
/// (the key and the state written, naming that replica) and hands it off once the replica is
/// reachable again, bounded in count and age (replica_options::hints). Eventual consistency
/// only: a hint is no replica a read can ask, so R + W > N no longer means a read quorum meets
/// every acknowledged write (docs/protocol.md, Hinted handoff).
struct sloppy {
    using category = handoff_category;
    static constexpr std::string_view name = "sloppy";
    static constexpr bool hinted = true;
};

}  // namespace capkit
