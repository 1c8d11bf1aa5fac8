// SPDX-License-Identifier: MIT
// libFuzzer target of capkit::wire: each input is a frame (12-byte header, then body) decoded as
// a message of every configuration in fuzz/codec_messages.hpp. Decoding must never crash, leak or
// trip a sanitizer; whatever decodes must re-encode to the same bytes and decode again to an
// equal message, or the target aborts and libFuzzer keeps the input (scripts/test puts it in
// fuzz/regressions/).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "codec_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto frame = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size);
    if (auto problem = capkit::fuzz::check_frame(frame)) {
        std::fprintf(stderr, "capkit codec fuzz: %s\n", problem->c_str());
        std::abort();
    }
    return 0;
}
