// SPDX-License-Identifier: MIT
/// @file Defines capkit::wire::frame_reader: a byte stream cut into frames, with no I/O of its own.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include <capkit/assert.hpp>
#include <capkit/wire/frame.hpp>

namespace capkit::wire {

/// Cuts a byte stream into frames, sans-I/O, so the same code runs over a socket, in a test
/// that feeds bytes in any chunks, and in a fuzzer. A transport reads into `space()`, says how
/// many bytes came with `commit(n)`, then takes whole frames with `next()` until there is none.
/// A header that is not capkit's (wrong magic, another version, a body above the limits) is an
/// error: nothing after it can be trusted, so the connection must close.
class frame_reader {
public:
    /// One whole frame: its header, and its body, which stays valid until the next space().
    struct frame {
        frame_header header;
        std::span<const std::byte> body;
    };

    explicit frame_reader(const limits& lim = {}) : limits_(lim) {}

    /// Where the next read may write: at least `at_least` bytes. Moves what is buffered to the
    /// front first, so the bodies next() gave before are no longer valid.
    std::span<std::byte> space(std::size_t at_least = 64 * 1024) {
        if (begin_ == end_) {
            begin_ = end_ = 0;
            // A connection does not keep a large buffer once its large frame has gone.
            if (buffer_.size() > shrink_above) buffer_ = {};
        } else if (begin_ > 0) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (buffer_.size() < end_ + at_least) buffer_.resize(end_ + at_least);
        return {buffer_.data() + end_, buffer_.size() - end_};
    }

    /// `n` bytes were written at the start of the last space().
    void commit(std::size_t n) {
        CAPKIT_ASSERT(n <= buffer_.size() - end_, "commit(n) takes at most the bytes space() gave");
        end_ += n;
    }

    /// The next whole frame, none while it has not all arrived, or why the stream is not
    /// capkit frames (offsets count from the start of that frame).
    decode_result<std::optional<frame>> next() {
        if (end_ - begin_ < header_size) return std::optional<frame>{};
        std::span<const std::byte, header_size> head(buffer_.data() + begin_, header_size);
        auto h = decode_header(head, limits_);
        if (!h) return h.error();
        if (end_ - begin_ - header_size < h->body_size) return std::optional<frame>{};
        std::span<const std::byte> body(buffer_.data() + begin_ + header_size, h->body_size);
        begin_ += header_size + h->body_size;
        return std::optional<frame>{frame{*h, body}};
    }

    /// Bytes received and not yet taken as frames.
    std::size_t buffered() const noexcept { return end_ - begin_; }

private:
    static constexpr std::size_t shrink_above = std::size_t{1} << 20;

    limits limits_;
    std::vector<std::byte> buffer_;
    std::size_t begin_ = 0, end_ = 0;  // the bytes received and not yet taken
};

}  // namespace capkit::wire
