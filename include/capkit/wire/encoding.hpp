// SPDX-License-Identifier: MIT
/// @file Defines capkit::wire's value encoding: bodies encoded from Hana-reflected structs and the
/// standard types (encode, decode, encodable), with each decoded type's invariant checked
/// (wire/invariant.hpp). Used alike by storage, the protocol's durable records and transports;
/// frames are in wire/frame.hpp, the format in docs/wire-format.md.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/unpack.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <capkit/detail/wire_access.hpp>
#include <capkit/error.hpp>
#include <capkit/wire/invariant.hpp>

namespace capkit::wire {

/// What a peer may make this node decode: refused beyond these, before anything is allocated.
struct limits {
    std::size_t max_frame_body = 16u << 20;  ///< bytes of one frame's body
    std::size_t max_depth = 32;              ///< values nested in values (structs, containers...)
};

/// Why bytes could not be decoded: where (byte offset) and what was wrong. decode() counts
/// offsets from the start of its span; decode_header() and decode_frame_body() from the start of
/// the frame (header included). Carries errc::bad_message for callers that deal in error codes.
struct decode_error {
    std::size_t offset = 0;
    std::string what;

    decode_error() = default;
    // A constructor, not an aggregate: else decode_result<bool> or <int> could not tell a value
    // from an error (an aggregate is constructible from a number).
    decode_error(std::size_t at, std::string message) : offset(at), what(std::move(message)) {}

    /// "at byte 17: variant index 9 out of range (5 alternatives)".
    std::string message() const { return "at byte " + std::to_string(offset) + ": " + what; }
    /// errc::bad_message.
    boost::system::error_code code() const noexcept { return make_error_code(errc::bad_message); }
    operator boost::system::error_code() const noexcept { return code(); }
    friend bool operator==(const decode_error&, const decode_error&) = default;
};

/// Lets decode_result<T>::value() throw: a system_error with errc::bad_message and the message.
[[noreturn]] inline void throw_exception_from_error(const decode_error& e,
                                                    const boost::source_location&) {
    throw boost::system::system_error(e.code(), e.message());
}

/// A decoded value, or why the bytes were refused.
template <class T>
using decode_result = boost::system::result<T, decode_error>;

namespace detail {

template <class T, template <class...> class Template>
inline constexpr bool is_specialization = false;
template <template <class...> class Template, class... Args>
inline constexpr bool is_specialization<Template<Args...>, Template> = true;

template <class T>
inline constexpr bool is_std_array = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array<std::array<T, N>> = true;

template <class T>
concept integer = std::integral<T> && !std::same_as<T, bool>;

template <class T>
concept sequence = is_specialization<T, std::vector> || is_specialization<T, std::deque>;
template <class T>
concept ordered_set = is_specialization<T, std::set>;
template <class T>
concept ordered_map = is_specialization<T, std::map>;
// std::unordered_*, boost::unordered_flat_* and node_* alike, without including them.
template <class T>
concept unordered = requires {
    typename T::key_type;
    typename T::hasher;
    typename T::key_equal;
}
&&requires(T& c, typename T::value_type v) {
    c.reserve(std::size_t{});
    { c.insert(std::move(v)).second } -> std::convertible_to<bool>;
};
template <class T>
concept unordered_map = unordered<T> && requires {
    typename T::mapped_type;
};
template <class T>
concept product = is_specialization<T, std::pair> || is_specialization<T, std::tuple>;
template <class T>
concept hana_struct = boost::hana::Struct<T>::value;

template <class T, class Accessor>
using member_t = std::remove_cvref_t<decltype(boost::hana::second(std::declval<Accessor>())(
    std::declval<T&>()))>;

template <class T>
constexpr std::size_t min_size();

template <class Tuple>
constexpr std::size_t min_size_of_tuple() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return (std::size_t{0} + ... +
                min_size<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>());
    }
    (std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

/// The fewest bytes any value of T encodes to: a count of n elements needs n times this many
/// bytes left, or it is refused before anything is allocated.
template <class T>
constexpr std::size_t min_size() {
    if constexpr (has_wire_fields<T>) {
        return min_size_of_tuple<decltype(access::fields(std::declval<T&>()))>();
    } else if constexpr (std::same_as<T, std::monostate>) {
        return 0;
    } else if constexpr (std::is_floating_point_v<T>) {
        return sizeof(T);
    } else if constexpr (std::same_as<T, bool> || std::is_enum_v<T> || integer<T>) {
        return 1;
    } else if constexpr (is_specialization<T, std::chrono::duration> ||
                         is_specialization<T, std::chrono::time_point>) {
        return 1;
    } else if constexpr (is_std_array<T>) {
        return std::tuple_size_v<T> * min_size<typename T::value_type>();
    } else if constexpr (product<T>) {
        return min_size_of_tuple<T>();
    } else if constexpr (hana_struct<T>) {
        return boost::hana::unpack(boost::hana::accessors<T>(), [](auto... accessor) {
            return (std::size_t{0} + ... + min_size<member_t<T, decltype(accessor)>>());
        });
    } else {
        // A count, a tag or an index: strings, containers, optionals, variants.
        return 1;
    }
}

template <class T>
constexpr std::size_t element_min_size() {
    constexpr std::size_t n = min_size<T>();
    static_assert(n > 0,
                  "capkit::wire: a container's elements must encode to at least one byte, or a "
                  "count could not be checked against the bytes left; wrap the empty type in "
                  "one with a field.");
    return n;
}

template <class T>
std::string type_bits() {
    return std::to_string(sizeof(T) * 8) + "-bit " +
           (std::is_signed_v<T> ? std::string("signed") : std::string("unsigned"));
}

inline std::string hex_byte(std::uint8_t b) {
    constexpr std::string_view digits = "0123456789abcdef";
    return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// Appends to the body being encoded.
class writer {
public:
    explicit writer(std::vector<std::byte>& out) noexcept : out_(out) {}

    void byte(std::uint8_t b) { out_.push_back(std::byte{b}); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            byte(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        byte(static_cast<std::uint8_t>(v));
    }
    void bytes(const void* data, std::size_t n) {
        auto p = static_cast<const std::byte*>(data);
        out_.insert(out_.end(), p, p + n);
    }
    template <class U>
    void fixed_le(U v) {  // unsigned U
        for (std::size_t i = 0; i < sizeof(U); ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
    }

private:
    std::vector<std::byte>& out_;
};

// Reads a body; on failure keeps the first error and every read after it fails.
class reader {
public:
    reader(std::span<const std::byte> in, const limits& lim) noexcept
        : in_(in), max_depth_(lim.max_depth) {}

    std::size_t pos() const noexcept { return pos_; }
    std::size_t left() const noexcept { return in_.size() - pos_; }

    bool fail(std::size_t at, std::string what) {
        if (!error_) error_ = decode_error{at, std::move(what)};
        return false;
    }
    decode_error take_error() { return std::move(*error_); }

    bool byte(std::uint8_t& b, std::string_view what) {
        if (left() < 1)
            return fail(
                pos_, "unexpected end of data: " + std::string(what) + " needs 1 byte, none left");
        b = std::to_integer<std::uint8_t>(in_[pos_++]);
        return true;
    }

    bool varint(std::uint64_t& out, std::string_view what) {
        const auto start = pos_;
        std::uint64_t v = 0;
        for (unsigned i = 0;; ++i) {
            if (left() < 1)
                return fail(start,
                            "unexpected end of data inside " + std::string(what) + " (a varint)");
            auto b = std::to_integer<std::uint8_t>(in_[pos_++]);
            if (i == 9 && b > 1)
                return fail(start, std::string(what) + " (a varint) overflows 64 bits");
            v |= std::uint64_t{b & 0x7fu} << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0)
                    return fail(start, "overlong varint for " + std::string(what) +
                                           " (it ends in a zero byte; encodings are minimal)");
                out = v;
                return true;
            }
        }
    }

    bool raw(std::size_t n, const std::byte*& p, std::string_view what) {
        if (left() < n)
            return fail(pos_, "unexpected end of data: " + std::string(what) + " needs " +
                                  std::to_string(n) + " bytes, " + std::to_string(left()) +
                                  " left");
        p = in_.data() + pos_;
        pos_ += n;
        return true;
    }

    // A count of elements each at least `each` bytes long must fit in what is left.
    bool count(std::size_t& n, std::size_t each, std::string_view what) {
        const auto start = pos_;
        std::uint64_t c = 0;
        if (!varint(c, what)) return false;
        if (c > left() / each)
            return fail(start, std::string(what) + " of " + std::to_string(c) +
                                   " elements (at least " + std::to_string(each) +
                                   (each == 1 ? " byte" : " bytes") + " each) but only " +
                                   std::to_string(left()) + " bytes left");
        n = static_cast<std::size_t>(c);
        return true;
    }

    bool enter() {
        if (++depth_ > max_depth_)
            return fail(pos_, "values nested deeper than " + std::to_string(max_depth_) +
                                  " levels (limits::max_depth)");
        return true;
    }
    void leave() noexcept { --depth_; }

private:
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
    std::size_t max_depth_;
    std::optional<decode_error> error_;
};

template <class T>
void put(writer& w, const T& v);
template <class T>
bool get(reader& r, T& v);

template <class Tuple>
void put_tuple(writer& w, const Tuple& t) {
    std::apply([&w](const auto&... field) { (put(w, field), ...); }, t);
}

template <class T>
void put(writer& w, const T& v) {
    if constexpr (has_wire_fields<T>) {
        put_tuple(w, access::fields(v));
    } else if constexpr (std::same_as<T, std::monostate>) {
    } else if constexpr (std::same_as<T, bool>) {
        w.byte(v ? 1 : 0);
    } else if constexpr (std::is_enum_v<T>) {
        put(w, static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (integer<T> && std::is_unsigned_v<T>) {
        w.varint(v);
    } else if constexpr (integer<T>) {
        auto s = static_cast<std::int64_t>(v);
        w.varint((static_cast<std::uint64_t>(s) << 1) ^ static_cast<std::uint64_t>(s >> 63));
    } else if constexpr (std::same_as<T, float>) {
        w.fixed_le(std::bit_cast<std::uint32_t>(v));
    } else if constexpr (std::same_as<T, double>) {
        w.fixed_le(std::bit_cast<std::uint64_t>(v));
    } else if constexpr (is_specialization<T, std::chrono::duration>) {
        put(w, v.count());
    } else if constexpr (is_specialization<T, std::chrono::time_point>) {
        put(w, v.time_since_epoch().count());
    } else if constexpr (std::same_as<T, std::string>) {
        w.varint(v.size());
        w.bytes(v.data(), v.size());
    } else if constexpr (is_specialization<T, std::optional>) {
        w.byte(v.has_value() ? 1 : 0);
        if (v) put(w, *v);
    } else if constexpr (is_specialization<T, std::variant>) {
        if (v.valueless_by_exception())
            throw std::invalid_argument("capkit::wire: a valueless variant cannot be encoded");
        w.varint(v.index());
        std::visit([&w](const auto& alt) { put(w, alt); }, v);
    } else if constexpr (product<T>) {
        put_tuple(w, v);
    } else if constexpr (is_std_array<T>) {
        for (const auto& e : v) put(w, e);
    } else if constexpr (sequence<T> || ordered_set<T> || unordered<T>) {
        w.varint(v.size());
        if constexpr (unordered_map<T>) {
            for (const auto& [key, mapped] : v) put(w, key), put(w, mapped);
        } else {
            for (const auto& e : v) put(w, static_cast<const typename T::value_type&>(e));
        }
    } else if constexpr (ordered_map<T>) {
        w.varint(v.size());
        for (const auto& [key, mapped] : v) put(w, key), put(w, mapped);
    } else if constexpr (hana_struct<T>) {
        boost::hana::for_each(boost::hana::accessors<T>(),
                              [&](auto accessor) { put(w, boost::hana::second(accessor)(v)); });
    } else {
        static_assert(sizeof(T) == 0,
                      "capkit::wire: this type has no wire encoding; reflect it with "
                      "BOOST_HANA_DEFINE_STRUCT, or give it a wire_fields member (see "
                      "capkit/detail/wire_access.hpp).");
    }
}

template <class T>
bool get_unsigned(reader& r, T& v, std::string_view what) {
    const auto start = r.pos();
    std::uint64_t u = 0;
    if (!r.varint(u, what)) return false;
    if (u > std::numeric_limits<T>::max())
        return r.fail(start, std::string(what) + " " + std::to_string(u) + " does not fit in " +
                                 type_bits<T>() + " integer");
    v = static_cast<T>(u);
    return true;
}

template <class T>
bool get_signed(reader& r, T& v, std::string_view what) {
    using U = std::make_unsigned_t<T>;
    const auto start = r.pos();
    std::uint64_t u = 0;
    if (!r.varint(u, what)) return false;
    if (u > std::numeric_limits<U>::max())
        return r.fail(start, std::string(what) + " (zigzag " + std::to_string(u) +
                                 ") does not fit in " + type_bits<T>() + " integer");
    auto s = static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
    v = static_cast<T>(s);
    return true;
}

template <class Tuple>
bool get_tuple(reader& r, Tuple&& t) {
    return std::apply([&r](auto&... field) { return (get(r, field) && ...); }, t);
}

template <class T, std::size_t... I>
bool get_alternative(reader& r, T& v, std::size_t index, std::index_sequence<I...>) {
    bool ok = false;
    (void)((index == I ? (ok = get(r, v.template emplace<I>()), true) : false) || ...);
    return ok;
}

template <class T>
bool check_invariant(reader& r, const T& v, std::size_t start) {
    if constexpr (requires { invariant<T>::check(v); }) {
        std::string wrong = invariant<T>::check(v);
        if (!wrong.empty()) return r.fail(start, std::move(wrong));
    }
    return true;
}

template <class T>
bool get_composite(reader& r, T& v) {
    if constexpr (has_wire_fields<T>) {
        return get_tuple(r, access::fields(v));
    } else if constexpr (is_specialization<T, std::optional>) {
        const auto start = r.pos();
        std::uint8_t tag = 0;
        if (!r.byte(tag, "an optional's tag")) return false;
        if (tag > 1)
            return r.fail(
                start, "optional tag " + hex_byte(tag) + " is neither 0 (empty) nor 1 (present)");
        if (tag == 0) return true;
        return get(r, v.emplace());
    } else if constexpr (is_specialization<T, std::variant>) {
        const auto start = r.pos();
        std::uint64_t index = 0;
        if (!r.varint(index, "a variant index")) return false;
        constexpr auto alternatives = std::variant_size_v<T>;
        if (index >= alternatives)
            return r.fail(start, "variant index " + std::to_string(index) + " out of range (" +
                                     std::to_string(alternatives) + " alternatives)");
        return get_alternative(r, v, static_cast<std::size_t>(index),
                               std::make_index_sequence<alternatives>{});
    } else if constexpr (product<T>) {
        return get_tuple(r, v);
    } else if constexpr (is_std_array<T>) {
        for (auto& e : v)
            if (!get(r, e)) return false;
        return true;
    } else if constexpr (sequence<T>) {
        using E = typename T::value_type;
        std::size_t n = 0;
        if (!r.count(n, element_min_size<E>(), "a sequence")) return false;
        if constexpr (requires { v.reserve(n); }) v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            E e{};
            if (!get(r, e)) return false;
            v.push_back(std::move(e));
        }
        return true;
    } else if constexpr (ordered_set<T> || ordered_map<T> || unordered<T>) {
        constexpr bool is_map = ordered_map<T> || unordered_map<T>;
        using K = typename T::key_type;
        std::size_t each = element_min_size<K>();
        if constexpr (is_map) each += min_size<typename T::mapped_type>();
        std::size_t n = 0;
        if (!r.count(n, each, is_map ? "a map" : "a set")) return false;
        if constexpr (unordered<T>) v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto at = r.pos();
            K key{};
            if (!get(r, key)) return false;
            // Ordered containers must come sorted and unique: one encoding per value, and no
            // duplicate silently merged away.
            if constexpr (is_map) {
                typename T::mapped_type mapped{};
                if (!get(r, mapped)) return false;
                if constexpr (ordered_map<T>) {
                    if (!v.empty() && !v.key_comp()(std::prev(v.end())->first, key))
                        return r.fail(at, "map keys out of order or repeated at element " +
                                              std::to_string(i) + " (keys are sorted, each once)");
                    v.emplace_hint(v.end(), std::move(key), std::move(mapped));
                } else if (!v.emplace(std::move(key), std::move(mapped)).second) {
                    return r.fail(at, "map key repeated at element " + std::to_string(i));
                }
            } else if constexpr (ordered_set<T>) {
                if (!v.empty() && !v.key_comp()(*std::prev(v.end()), key))
                    return r.fail(at, "set elements out of order or repeated at element " +
                                          std::to_string(i) + " (sorted, each once)");
                v.emplace_hint(v.end(), std::move(key));
            } else if (!v.insert(std::move(key)).second) {
                return r.fail(at, "set element repeated at element " + std::to_string(i));
            }
        }
        return true;
    } else if constexpr (hana_struct<T>) {
        bool ok = true;
        boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
            ok = ok && get(r, boost::hana::second(accessor)(v));
        });
        return ok;
    } else {
        static_assert(sizeof(T) == 0,
                      "capkit::wire: this type has no wire encoding; reflect it with "
                      "BOOST_HANA_DEFINE_STRUCT, or give it a wire_fields member (see "
                      "capkit/detail/wire_access.hpp).");
        return false;
    }
}

template <class T>
bool get(reader& r, T& v) {
    if constexpr (std::same_as<T, std::monostate>) {
        return true;
    } else if constexpr (std::same_as<T, bool>) {
        const auto start = r.pos();
        std::uint8_t b = 0;
        if (!r.byte(b, "a bool")) return false;
        if (b > 1) return r.fail(start, "bool byte " + hex_byte(b) + " is neither 0 nor 1");
        v = b == 1;
        return true;
    } else if constexpr (std::is_enum_v<T>) {
        std::underlying_type_t<T> u{};
        if (!get(r, u)) return false;
        v = static_cast<T>(u);
        return true;
    } else if constexpr (integer<T> && std::is_unsigned_v<T>) {
        return get_unsigned(r, v, "an unsigned integer");
    } else if constexpr (integer<T>) {
        return get_signed(r, v, "a signed integer");
    } else if constexpr (std::same_as<T, float> || std::same_as<T, double>) {
        using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
        const std::byte* p = nullptr;
        if (!r.raw(sizeof(U), p, "a floating-point number")) return false;
        U u = 0;
        for (std::size_t i = 0; i < sizeof(U); ++i)
            u |= U{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
        v = std::bit_cast<T>(u);
        return true;
    } else if constexpr (is_specialization<T, std::chrono::duration>) {
        typename T::rep count{};
        if (!get(r, count)) return false;
        v = T(count);
        return true;
    } else if constexpr (is_specialization<T, std::chrono::time_point>) {
        typename T::duration d{};
        if (!get(r, d)) return false;
        v = T(d);
        return true;
    } else if constexpr (std::same_as<T, std::string>) {
        std::size_t n = 0;
        if (!r.count(n, 1, "a string")) return false;
        const std::byte* p = nullptr;
        if (!r.raw(n, p, "a string")) return false;
        v.assign(reinterpret_cast<const char*>(p), n);
        return true;
    } else {
        const auto start = r.pos();
        if (!r.enter()) return false;
        bool ok = get_composite(r, v);
        r.leave();
        return ok && check_invariant(r, v, start);
    }
}

}  // namespace detail

namespace detail {

// Mirrors put()'s branches: true when every part of T has a wire encoding (and, if Canonical, one
// that equal values share: no unordered container, whose bytes follow its iteration order).
template <class T, bool Canonical = false>
constexpr bool encodable_v() {
    if constexpr (has_wire_fields<T>) {
        return []<class... F>(std::tuple<F...>*) {
            return (encodable_v<std::remove_cvref_t<F>, Canonical>() && ...);
        }(static_cast<decltype(access::fields(std::declval<T&>()))*>(nullptr));
    } else if constexpr (std::same_as<T, std::monostate> || std::same_as<T, bool> ||
                         std::is_enum_v<T> || integer<T> || std::same_as<T, float> ||
                         std::same_as<T, double> || std::same_as<T, std::string> ||
                         is_specialization<T, std::chrono::duration> ||
                         is_specialization<T, std::chrono::time_point>) {
        return true;
    } else if constexpr (unordered<T> && Canonical) {
        return false;
    } else if constexpr (is_specialization<T, std::optional> || is_std_array<T> || sequence<T> ||
                         ordered_set<T> || (unordered<T> && !unordered_map<T>)) {
        return encodable_v<std::remove_cvref_t<typename T::value_type>, Canonical>();
    } else if constexpr (ordered_map<T> || unordered_map<T>) {
        return encodable_v<std::remove_cvref_t<typename T::key_type>, Canonical>() &&
               encodable_v<std::remove_cvref_t<typename T::mapped_type>, Canonical>();
    } else if constexpr (is_specialization<T, std::variant> || product<T>) {
        return []<template <class...> class Of, class... A>(Of<A...>*) {
            return (encodable_v<std::remove_cvref_t<A>, Canonical>() && ...);
        }(static_cast<T*>(nullptr));
    } else if constexpr (hana_struct<T>) {
        return boost::hana::unpack(boost::hana::accessors<T>(), [](auto... accessor) {
            return (encodable_v<member_t<T, decltype(accessor)>, Canonical>() && ...);
        });
    } else {
        return false;
    }
}

}  // namespace detail

/// True when the codec can encode (and decode) a T: it is reflected with Hana or wire_fields, or
/// a standard type the codec knows, made of such parts.
template <class T>
concept encodable = detail::encodable_v<T>();

/// An encodable T whose equal values encode to equal bytes (no unordered container inside), so
/// a hash of the bytes can stand for the value across processes.
template <class T>
concept canonically_encodable = detail::encodable_v<T, true>();

/// Appends the encoding of `value` to `out` (a body: no header).
template <class T>
void encode(const T& value, std::vector<std::byte>& out) {
    detail::writer w(out);
    detail::put(w, value);
}

/// Decodes a T from all of `body`: any bytes give a value or an error, never a crash, and
/// nothing is allocated beyond what the bytes announce and can hold. Trailing bytes are refused.
template <class T>
decode_result<T> decode(std::span<const std::byte> body, const limits& lim = {}) {
    if (body.size() > lim.max_frame_body)
        return decode_error{
            0, "a body of " + std::to_string(body.size()) + " bytes is above the limit of " +
                   std::to_string(lim.max_frame_body) + " bytes (limits::max_frame_body)"};
    detail::reader r(body, lim);
    T value{};
    if (!detail::get(r, value)) return r.take_error();
    if (r.left() != 0)
        return decode_error{r.pos(), std::to_string(r.left()) +
                                         " trailing bytes after the value (a frame holds one)"};
    return decode_result<T>(boost::system::in_place_value, std::move(value));
}

}  // namespace capkit::wire
