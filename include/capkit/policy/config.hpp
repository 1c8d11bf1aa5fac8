// SPDX-License-Identifier: MIT
/// @file Defines capkit::config<Policies...>: a policy pack in any order, checked and completed.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <boost/hana/at.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <capkit/detail/static_string.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/handoff.hpp>
#include <capkit/policy/placement.hpp>
#include <capkit/policy/quorum.hpp>

namespace capkit {

// The defaults of a configuration, declared here and defined in layers below policy/
// (resolve/lww.hpp, version/hlc.hpp, storage/memory.hpp), which policy/ does not include:
// protocol/replica.hpp and capkit.hpp include them.
class hlc;
template <class Clock>
struct lww;
struct memory;

namespace detail {

template <class P>
concept known_policy = policy_of<P, quorum_category> || policy_of<P, consistency_category> ||
    policy_of<P, resolver_category> || policy_of<P, placement_category> ||
    policy_of<P, storage_category> || policy_of<P, handoff_category>;

// Each check below is a class template instantiated with the offending types or sizes, so the
// compiler's "required from" note names them right under our sentence.
template <class P>
struct policy_check {
    static_assert(known_policy<P>,
                  "capkit::config: this type is not a capkit policy; give a quorum<N, R, W>, a "
                  "consistency level (eventual, strong, linearizable, serial), a resolver (lww<>, "
                  "vector_clocks, dvv, crdt_merge), a placement, a storage or a handoff "
                  "(strict_quorum, sloppy), or remove it.");
    static constexpr bool valid = true;
    static constexpr bool ok = known_policy<P>;
};

// A default policy is only declared here; its header must be included before a config uses it.
template <class Default>
struct default_policy_check {
    static_assert(
        requires { sizeof(Default); },
        "capkit::config: a default policy (capkit::lww<> as the resolver or "
        "capkit::memory as the storage) is used but its header is not included; "
        "include <capkit/protocol/replica.hpp> or <capkit/capkit.hpp>, or give the "
        "policy explicitly.");
    static constexpr bool valid = true;
};

template <class First, class Second>
struct two_policies_of_one_category {
    static_assert(!std::is_same_v<First, First>,
                  "capkit::config: two policies of one category were given (both named below); "
                  "keep one of them.");
};

template <class Consistency, unsigned N, unsigned R, unsigned W>
struct quorum_rules {
    // The levels that promise overlapping quorums without Paxos's majorities, each with its
    // own sentence: strong (plain quorums) and linearizable (ABD).
    static constexpr bool is_linearizable = Consistency::protocol == consistency_protocol::abd;
    static constexpr bool is_strong =
        Consistency::needs_overlap && Consistency::protocol == consistency_protocol::quorum;
    static_assert(!Consistency::needs_majorities || (R >= N / 2 + 1 && W >= N / 2 + 1),
                  "capkit::serial needs majority read and write quorums (R and W at least "
                  "N / 2 + 1) so that any two Paxos rounds share a replica; use "
                  "quorum<N, capkit::majority, capkit::majority>.");
    static_assert(!is_linearizable || R + W > N,
                  "capkit::linearizable: read and write sets must overlap (R + W > N) or a read "
                  "can miss the latest write; raise R or W, or use capkit::eventual.");
    static_assert(!is_strong || R + W > N,
                  "capkit::strong: read and write sets must overlap (R + W > N) or a read can "
                  "miss an acknowledged write; raise R or W, or use capkit::eventual.");
    static constexpr bool valid = true;
    static constexpr bool ok =
        (!Consistency::needs_majorities || (R >= N / 2 + 1 && W >= N / 2 + 1)) &&
        (!(is_linearizable || is_strong) || R + W > N);
};

template <class Consistency, class Resolver>
struct resolver_rules {
    static_assert(!Consistency::needs_total_order || Resolver::totally_ordered,
                  "capkit::linearizable and capkit::serial need a totally ordered resolver "
                  "(capkit::lww<>): siblings have no single latest value to agree on; use "
                  "capkit::lww<>, or capkit::strong or capkit::eventual to keep siblings.");
    static constexpr bool valid = true;
    static constexpr bool ok = !Consistency::needs_total_order || Resolver::totally_ordered;
};

template <class Consistency, class Handoff>
struct handoff_rules {
    static_assert(!Handoff::hinted || !Consistency::needs_overlap,
                  "capkit::sloppy: a hint is not a replica a read can ask, so with hinted "
                  "handoff R + W > N no longer means that a read quorum meets every acknowledged "
                  "write; use capkit::sloppy with capkit::eventual only, or drop it.");
    static constexpr bool valid = true;
    static constexpr bool ok = !Handoff::hinted || !Consistency::needs_overlap;
};

// The one policy of `Category` in the pack, or Default when there is none.
template <class Category, class Default, class... Policies>
constexpr auto pick_policy() {
    constexpr auto found = boost::hana::filter(boost::hana::tuple_t<Policies...>, [](auto t) {
        return boost::hana::bool_c<policy_of<typename decltype(t)::type, Category>>;
    });
    constexpr std::size_t count = decltype(boost::hana::length(found))::value;
    if constexpr (count == 0) {
        return boost::hana::type_c<Default>;
    } else {
        if constexpr (count > 1) {
            using first = typename decltype(+boost::hana::at_c<0>(found))::type;
            using second = typename decltype(+boost::hana::at_c<1>(found))::type;
            (void)sizeof(two_policies_of_one_category<first, second>);
        }
        return boost::hana::at_c<0>(found);
    }
}

template <class Category, class Default, class... Policies>
using pick_policy_t = typename decltype(pick_policy<Category, Default, Policies...>())::type;

}  // namespace detail

/// A replica configuration: policies given in any order, each found by its category, the missing
/// ones defaulted (quorum<3, majority, majority>, eventual, lww<>, all_nodes, memory,
/// strict_quorum), and the
/// combination checked at compile time.
template <class... Policies>
struct config {
    static_assert((detail::policy_check<Policies>::valid && ...));

    using quorum = detail::pick_policy_t<quorum_category, capkit::quorum<3>, Policies...>;
    using consistency = detail::pick_policy_t<consistency_category, eventual, Policies...>;
    using resolver = detail::pick_policy_t<resolver_category, lww<hlc>, Policies...>;
    using placement = detail::pick_policy_t<placement_category, all_nodes, Policies...>;
    using storage = detail::pick_policy_t<storage_category, memory, Policies...>;
    using handoff = detail::pick_policy_t<handoff_category, strict_quorum, Policies...>;
    static_assert(detail::default_policy_check<resolver>::valid &&
                  detail::default_policy_check<storage>::valid);

    static constexpr unsigned n = quorum::n;
    static constexpr unsigned r = quorum::r;
    static constexpr unsigned w = quorum::w;

    static_assert(detail::quorum_rules<consistency, n, r, w>::valid);
    static_assert(detail::resolver_rules<consistency, resolver>::valid);
    static_assert(detail::handoff_rules<consistency, handoff>::valid);

    /// False when a rule above has refused the configuration (its sentence is the error):
    /// capkit::replica then names a placeholder, so no second error follows the sentence.
    static constexpr bool ok = (detail::policy_check<Policies>::ok && ...) &&
                               detail::quorum_rules<consistency, n, r, w>::ok &&
                               detail::resolver_rules<consistency, resolver>::ok &&
                               detail::handoff_rules<consistency, handoff>::ok;

    /// What a replica stores for one key whose values are T.
    template <class T>
    using state = typename resolver::template state<T>;

    static constexpr auto name_storage = detail::fixed_string<128>{}
                                             .append(quorum::name)
                                             .append("/")
                                             .append(consistency::name)
                                             .append("/")
                                             .append(resolver::name);
    /// quorum/consistency/resolver, e.g. quorum_3_2_2/linearizable/lww<hlc>.
    static constexpr std::string_view name = name_storage.view();
};

/// A capkit::config (or anything that exposes its members).
template <class C>
concept configuration = requires {
    typename C::quorum;
    typename C::consistency;
    typename C::resolver;
    typename C::placement;
    typename C::storage;
};

}  // namespace capkit
