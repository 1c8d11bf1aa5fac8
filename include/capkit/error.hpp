// SPDX-License-Identifier: MIT
/// @file Defines capkit's error codes, their category, and capkit::result.
#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
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

/// A value or the error that prevented it.
template <class T>
using result = boost::system::result<T>;

}  // namespace capkit

template <>
struct boost::system::is_error_code_enum<capkit::errc> : std::true_type {};
