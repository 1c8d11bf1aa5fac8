// SPDX-License-Identifier: MIT
// wire::frame_reader: whatever chunks a stream arrives in, the same frames come out, in order,
// and a stream that is not capkit frames is refused at its first bad header.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include <capkit/wire/frame_reader.hpp>

namespace wire = capkit::wire;
using bytes = std::vector<std::byte>;
using message = std::variant<std::string, std::uint64_t, std::vector<std::int32_t>>;

namespace {

// Feeds `stream` to `reader` in chunks of the given sizes (cycled), taking every whole frame
// after each chunk; stops at the first error, which it returns.
std::optional<wire::decode_error> feed(wire::frame_reader& reader, const bytes& stream,
                                       const std::vector<std::size_t>& chunks,
                                       std::vector<message>& out) {
    std::size_t at = 0, turn = 0;
    while (at < stream.size()) {
        const std::size_t want =
            std::max<std::size_t>(1, chunks.empty() ? 1 : chunks[turn++ % chunks.size()]);
        const auto n = std::min(want, stream.size() - at);
        auto space = reader.space(n);
        REQUIRE(space.size() >= n);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), n, space.begin());
        reader.commit(n);
        at += n;
        for (;;) {
            auto f = reader.next();
            if (!f) return f.error();
            if (!*f) break;
            auto m = wire::decode_frame_body<message>((*f)->header, (*f)->body);
            REQUIRE(m.has_value());
            out.push_back(std::move(*m));
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("a frame reader gives the frames sent, whatever chunks they arrive in", "[wire]") {
    using drawn_message =
        std::tuple<std::uint8_t, std::string, std::uint64_t, std::vector<std::int32_t>>;
    rc::prop("any messages, any chunks", [](const std::vector<drawn_message>& drawn,
                                            const std::vector<std::uint8_t>& chunk_sizes) {
        std::vector<message> sent;  // rapidcheck draws no variant: pick each one's alternative
        for (const auto& [kind, text, number, numbers] : drawn) {
            if (kind % 3 == 0) sent.emplace_back(text);
            if (kind % 3 == 1) sent.emplace_back(number);
            if (kind % 3 == 2) sent.emplace_back(numbers);
        }
        bytes stream;
        for (const auto& m : sent) wire::encode_frame(m, stream);
        std::vector<std::size_t> chunks(chunk_sizes.begin(), chunk_sizes.end());
        wire::frame_reader reader;
        std::vector<message> got;
        RC_ASSERT(!feed(reader, stream, chunks, got).has_value());
        RC_ASSERT(got == sent);
        RC_ASSERT(reader.buffered() == 0u);
    });
}

TEST_CASE("a frame reader waits for the rest of a frame", "[wire]") {
    bytes stream;
    wire::encode_frame(message{std::string(100, 'x')}, stream);
    wire::frame_reader reader;
    auto space = reader.space(stream.size());
    std::copy(stream.begin(), stream.end() - 1, space.begin());
    reader.commit(stream.size() - 1);
    auto f = reader.next();
    REQUIRE(f.has_value());
    CHECK_FALSE(f->has_value());  // the last byte is missing
    CHECK(reader.buffered() == stream.size() - 1);
    reader.space(1)[0] = stream.back();
    reader.commit(1);
    f = reader.next();
    REQUIRE(f.has_value());
    REQUIRE(f->has_value());
    CHECK((*f)->header.body_size == stream.size() - wire::header_size);
    CHECK(reader.buffered() == 0u);
}

TEST_CASE("a frame reader refuses a stream that is not capkit frames", "[wire]") {
    bytes stream;
    wire::encode_frame(message{std::uint64_t{7}}, stream);
    const auto good = stream.size();
    stream.insert(stream.end(), {std::byte{'H'}, std::byte{'T'}, std::byte{'T'}, std::byte{'P'}});
    stream.resize(stream.size() + wire::header_size);  // a whole header's worth
    wire::frame_reader reader;
    std::vector<message> got;
    auto error = feed(reader, stream, {3}, got);
    REQUIRE(got == std::vector<message>{std::uint64_t{7}});  // what came before is kept
    REQUIRE(error.has_value());
    CHECK(error->message().find("not a capkit frame") != std::string::npos);
    // The bad header stays unread (the connection closes on it); the good frame was taken.
    CHECK(reader.buffered() >= wire::header_size);
    CHECK(reader.buffered() <= stream.size() - good);
}

TEST_CASE("a frame reader refuses a body above its limits before it arrives", "[wire]") {
    bytes stream;
    wire::encode_frame(message{std::string(2000, 'x')}, stream);
    wire::frame_reader reader(wire::limits{.max_frame_body = 1000});
    auto space = reader.space(wire::header_size);
    std::copy_n(stream.begin(), wire::header_size, space.begin());
    reader.commit(wire::header_size);  // only the header: the body is refused unread
    auto f = reader.next();
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error().message().find("above the limit of 1000 bytes") != std::string::npos);
}
