// SPDX-License-Identifier: MIT
/// @file Defines capkit's error codes, their category, and capkit::result.
#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>
#include <ostream>
#include <string>
#include <type_traits>

namespace capkit {

/// What went wrong, named by its effect on the data (as Jepsen's fail and info are).
enum class errc {
    /// Refused: the quorum could not be reached and the request certainly took no effect.
    unavailable = 1,
    /// A write was sent but its quorum not confirmed: it may still take effect.
    timeout,
    /// A compare-and-set definitely lost: the stored value was not the expected one.
    precondition_failed,
    /// A message or frame could not be decoded.
    bad_message,
    /// A peer or client could not prove who it is.
    unauthenticated,
    /// A remote timestamp is further ahead of the local clock than the allowed offset.
    clock_offset_exceeded,
    /// A durable store could not be opened, read or written: the disk or the store refused.
    storage_failed,
    /// A stored record could not be decoded: the store is damaged or holds another type.
    corrupt_record,
    /// Refused at once: the node already has replica_options::max_pending requests waiting for
    /// their quorum. The request took no effect; retry later, or slow down.
    overloaded,
    /// Refused at once: this node restarted without its data and is catching up from its peers
    /// (docs/protocol.md, "Amnesia"). The request took no effect; ask another node.
    recovering,
    /// A membership change refused: another change is in progress (docs/membership.md). Nothing
    /// changed; wait for it to finish, or ask again for that same change.
    change_in_progress,
    /// A membership change refused: it names a node that is not a member (leave, remove, the old
    /// node of a replace) or one that already is (join, the new node of a replace).
    invalid_change,
    /// A membership change refused: it would leave fewer members than the copies of a key (N).
    too_few_members,
    /// Finishing a membership change refused: none is in progress.
    no_change_in_progress,
    /// Refused at once: this node is not a member of the configuration it knows (it was removed,
    /// or has not joined yet). The request took no effect; ask a member.
    not_a_member,
    /// Finishing a membership change refused: the members after it have not all fetched the
    /// data they gain yet. Nothing changed; the change finishes by itself once they have.
    data_moving,
    /// A membership change refused: all_nodes placement keeps every key on its N nodes, a
    /// number fixed in the replica's type. Nothing changed; use capkit::hash_ring<> to change
    /// a cluster's nodes.
    fixed_membership,
};

namespace detail {
class error_category final : public boost::system::error_category {
public:
    // A fixed id lets codes compare equal across shared libraries.
    constexpr error_category() noexcept : boost::system::error_category(0x6361706b69740001ULL) {}
    const char* name() const noexcept override { return "capkit"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::unavailable:
                return "unavailable: quorum not reached; the request took no effect";
            case errc::timeout:
                return "timeout: quorum not confirmed; the write may still take effect";
            case errc::precondition_failed:
                return "precondition failed: the stored value was not the expected one";
            case errc::bad_message:
                return "bad message: it could not be decoded";
            case errc::unauthenticated:
                return "unauthenticated: the peer proved no identity";
            case errc::clock_offset_exceeded:
                return "clock offset exceeded: a remote timestamp is further ahead than the "
                       "allowed offset; check the nodes' clock synchronisation (NTP) or raise "
                       "the maximum offset";
            case errc::storage_failed:
                return "storage failed: the durable store refused to open, read or write";
            case errc::corrupt_record:
                return "corrupt record: a stored record could not be decoded; the store is "
                       "damaged or was written for another key or state type";
            case errc::overloaded:
                return "overloaded: the node has max_pending requests waiting for their quorum; "
                       "the request took no effect; retry later, or raise "
                       "replica_options::max_pending";
            case errc::recovering:
                return "recovering: this node restarted without its data and is catching up "
                       "from its peers; the request took no effect; ask another node";
            case errc::change_in_progress:
                return "change in progress: another membership change has not finished; "
                       "nothing changed; wait for it, or ask again for that same change";
            case errc::invalid_change:
                return "invalid change: it names a node that is not a member (leave, remove, "
                       "the old node of a replace) or one that already is (join, the new node "
                       "of a replace); nothing changed";
            case errc::too_few_members:
                return "too few members: the change would leave fewer nodes than the N copies "
                       "each key needs; nothing changed; join a node first";
            case errc::no_change_in_progress:
                return "no change in progress: there is no membership change to finish";
            case errc::fixed_membership:
                return "fixed membership: all_nodes keeps every key on its N nodes, fixed in the "
                       "replica's type; nothing changed, use capkit::hash_ring<> to grow, shrink "
                       "or replace nodes";
            case errc::data_moving:
                return "data moving: the members after the change have not all fetched their "
                       "data yet; nothing changed, and the change finishes by itself once they "
                       "have";
            case errc::not_a_member:
                return "not a member: this node is not in the cluster's configuration (removed, "
                       "or not joined yet); the request took no effect, ask a member";
        }
        return "unknown capkit error";
    }
};
inline constexpr error_category category_instance{};
}  // namespace detail

/// The error category of capkit::errc.
inline const boost::system::error_category& error_category() noexcept {
    return detail::category_instance;
}

/// Makes an error_code from a capkit::errc (found by ADL).
inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// How far the quorum of a failed request fell short: which quorum it could not gather, how many
/// replicas that quorum needs, and how many it reached (believed reachable, for a request refused
/// at once; answered in time, for one that expired or lost its round). All zero when the failure
/// was not a quorum's (overloaded, precondition_failed, ...).
struct quorum_shortfall {
    bool write = false;    ///< the write quorum (W) fell short; otherwise the read quorum (R)
    unsigned needed = 0;   ///< replicas the quorum needs
    unsigned reached = 0;  ///< replicas reachable or answering
    friend bool operator==(const quorum_shortfall&, const quorum_shortfall&) = default;
};

/// Why a request failed: its code and, for `unavailable` and `timeout`, how far its quorum fell
/// short. Compares equal to its errc and converts to a boost::system::error_code, so code that
/// deals in error codes keeps working.
struct failure {
    errc code{};
    quorum_shortfall shortfall{};

    failure() = default;
    // Implicit: a callback completes with `errc::overloaded` as it would with a failure.
    failure(errc e, quorum_shortfall s = {}) noexcept : code(e), shortfall(s) {}  // NOLINT

    boost::system::error_code error_code() const noexcept { return make_error_code(code); }
    operator boost::system::error_code() const noexcept { return error_code(); }  // NOLINT
    /// "need W=2, reached 1"; empty when the failure was not a quorum's.
    std::string shortfall_text() const {
        if (shortfall.needed == 0) return {};
        return std::string("need ") + (shortfall.write ? "W=" : "R=") +
               std::to_string(shortfall.needed) + ", reached " + std::to_string(shortfall.reached);
    }
    /// The code's sentence, then the shortfall when there is one: "... (need W=2, reached 1)".
    std::string message() const {
        auto text = error_code().message();
        return shortfall.needed == 0 ? text : text + " (" + shortfall_text() + ")";
    }
    friend bool operator==(const failure&, const failure&) = default;
    friend bool operator==(const failure& f, errc e) noexcept { return f.code == e; }
};

/// Writes message(): test frameworks and logs print a result<T>'s failure with it.
inline std::ostream& operator<<(std::ostream& os, const failure& f) {
    return os << f.message();
}

/// Lets result<T>::value() throw: a system_error with the code and the shortfall.
[[noreturn]] inline void throw_exception_from_error(const failure& f,
                                                    const boost::source_location&) {
    // system_error's what() adds the code's own sentence after this one.
    if (f.shortfall.needed == 0) throw boost::system::system_error(f.error_code());
    throw boost::system::system_error(f.error_code(), f.shortfall_text());
}

/// A value or why the request failed.
template <class T>
using result = boost::system::result<T, failure>;

}  // namespace capkit

template <>
struct boost::system::is_error_code_enum<capkit::errc> : std::true_type {};
