// SPDX-License-Identifier: MIT
/// @file Defines capkit::wire's frames: a versioned 12-byte header, then a body that carries one
/// alternative of a message variant (docs/wire-format.md). What transports send and receive.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/wire/encoding.hpp>

namespace capkit::wire {

/// Bytes of a frame header: magic "CAPK" (4), version u8, kind u8, flags u16 LE, body size u32 LE.
inline constexpr std::size_t header_size = 12;
/// The version of this wire format; a peer speaking another one is refused (docs/wire-format.md).
inline constexpr std::uint8_t protocol_version = 2;
/// The first frame kind reserved for transports' own control frames (hello, ping...).
inline constexpr std::uint8_t control_kind_min = 0xF0;
/// The four bytes every frame starts with.
inline constexpr std::array<std::byte, 4> magic{std::byte{'C'}, std::byte{'A'}, std::byte{'P'},
                                                std::byte{'K'}};

/// A decoded frame header. `kind` is the index of the alternative in the message variant, or a
/// control kind (>= control_kind_min).
struct frame_header {
    std::uint8_t version = protocol_version;
    std::uint8_t kind = 0;
    std::uint16_t flags = 0;
    std::uint32_t body_size = 0;
    friend bool operator==(const frame_header&, const frame_header&) = default;
};

/// True for the kinds reserved for transports' control frames.
constexpr bool is_control_kind(std::uint8_t kind) noexcept {
    return kind >= control_kind_min;
}

/// Reads a frame header. Wrong magic, another protocol version, nonzero flags and a body above
/// `lim.max_frame_body` are refused here, before the caller allocates for the body.
inline decode_result<frame_header> decode_header(std::span<const std::byte, header_size> bytes,
                                                 const limits& lim = {}) {
    auto u8 = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
    if (!std::equal(magic.begin(), magic.end(), bytes.begin())) {
        std::string got;
        for (std::size_t i = 0; i < magic.size(); ++i)
            got += (i ? " " : "") + detail::hex_byte(u8(i));
        return decode_error{0,
                            "not a capkit frame: it starts with " + got +
                                " instead of \"CAPK\" (is the peer speaking capkit's protocol?)"};
    }
    frame_header h;
    h.version = u8(4);
    h.kind = u8(5);
    h.flags = static_cast<std::uint16_t>(u8(6) | (u8(7) << 8));
    h.body_size = static_cast<std::uint32_t>(u8(8)) | static_cast<std::uint32_t>(u8(9)) << 8 |
                  static_cast<std::uint32_t>(u8(10)) << 16 |
                  static_cast<std::uint32_t>(u8(11)) << 24;
    if (h.version != protocol_version)
        return decode_error{4, "the peer speaks capkit wire protocol version " +
                                   std::to_string(h.version) + " and this node speaks version " +
                                   std::to_string(protocol_version) +
                                   "; run one capkit wire version on every node"};
    if (h.flags != 0)
        return decode_error{6, "frame flags 0x" +
                                   [&] {
                                       std::string s;
                                       s += detail::hex_byte(u8(7)).substr(2);
                                       s += detail::hex_byte(u8(6)).substr(2);
                                       return s;
                                   }() +
                                   " are set, but protocol version " +
                                   std::to_string(protocol_version) + " defines no flags"};
    if (h.body_size > lim.max_frame_body)
        return decode_error{8, "the frame announces a body of " + std::to_string(h.body_size) +
                                   " bytes, above the limit of " +
                                   std::to_string(lim.max_frame_body) +
                                   " bytes (limits::max_frame_body)"};
    return h;
}

namespace detail {
inline void put_header(std::vector<std::byte>& out, std::size_t at, std::uint8_t kind) {
    const std::size_t body = out.size() - at - header_size;
    if (body > std::numeric_limits<std::uint32_t>::max()) {
        out.resize(at);
        throw std::length_error("capkit::wire: a frame body of " + std::to_string(body) +
                                " bytes does not fit the header's 32-bit length");
    }
    auto* h = out.data() + at;
    std::copy(magic.begin(), magic.end(), h);
    h[4] = std::byte{protocol_version};
    h[5] = std::byte{kind};
    h[6] = h[7] = std::byte{0};
    for (std::size_t i = 0; i < 4; ++i) h[8 + i] = static_cast<std::byte>(body >> (8 * i));
}
}  // namespace detail

/// Appends a frame (header, then body) carrying `message`; its kind is the alternative's index.
/// Throws std::length_error if the body exceeds 4 GiB; a peer refuses bodies above its own
/// limits::max_frame_body, so a sender should stay below it.
template <class Variant>
requires detail::is_specialization<Variant, std::variant>
void encode_frame(const Variant& message, std::vector<std::byte>& out) {
    static_assert(std::variant_size_v<Variant> <= control_kind_min,
                  "capkit::wire::encode_frame: a message variant has at most 240 alternatives; "
                  "kinds from 0xF0 are transports' control frames.");
    if (message.valueless_by_exception())
        throw std::invalid_argument("capkit::wire: a valueless variant cannot be encoded");
    const auto at = out.size();
    out.resize(at + header_size);
    std::visit([&out](const auto& alt) { encode(alt, out); }, message);
    detail::put_header(out, at, static_cast<std::uint8_t>(message.index()));
}

/// Appends a transport's control frame of `kind` (>= control_kind_min) carrying `payload`.
template <class T>
void encode_control_frame(std::uint8_t kind, const T& payload, std::vector<std::byte>& out) {
    if (!is_control_kind(kind))
        throw std::invalid_argument("capkit::wire::encode_control_frame: kind " +
                                    std::to_string(kind) +
                                    " is a message kind; control kinds start at 0xF0");
    const auto at = out.size();
    out.resize(at + header_size);
    encode(payload, out);
    detail::put_header(out, at, kind);
}

/// Decodes the message a frame carries: the alternative named by `header.kind`, from all of
/// `body`. Offsets in errors count from the start of the frame.
template <class Variant>
requires detail::is_specialization<Variant, std::variant> decode_result<Variant> decode_frame_body(
    const frame_header& header, std::span<const std::byte> body, const limits& lim = {}) {
    constexpr auto alternatives = std::variant_size_v<Variant>;
    if (is_control_kind(header.kind))
        return decode_error{5, "frame kind " + detail::hex_byte(header.kind) +
                                   " is a transport control frame, not a message"};
    if (header.kind >= alternatives)
        return decode_error{5, "frame kind " + std::to_string(header.kind) + " names no message (" +
                                   std::to_string(alternatives) + " kinds of message)"};
    if (body.size() != header.body_size)
        return decode_error{8, "the header announces " + std::to_string(header.body_size) +
                                   " body bytes but " + std::to_string(body.size()) +
                                   " were given"};
    if (body.size() > lim.max_frame_body)
        return decode_error{8, "the frame announces a body of " + std::to_string(body.size()) +
                                   " bytes, above the limit of " +
                                   std::to_string(lim.max_frame_body) +
                                   " bytes (limits::max_frame_body)"};
    detail::reader r(body, lim);
    Variant out;
    bool ok =
        detail::get_alternative(r, out, header.kind, std::make_index_sequence<alternatives>{});
    if (!ok) {
        auto e = r.take_error();
        e.offset += header_size;
        return e;
    }
    if (r.left() != 0)
        return decode_error{header_size + r.pos(),
                            std::to_string(r.left()) + " trailing bytes after the message"};
    return decode_result<Variant>(boost::system::in_place_value, std::move(out));
}
}  // namespace capkit::wire
