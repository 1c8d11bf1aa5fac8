// SPDX-License-Identifier: MIT
// A replica holds at most replica_options::max_pending client requests waiting for their quorum:
// one more fails at once with errc::overloaded, takes no effect and sends nothing, and the
// replica takes requests again as soon as one of those waiting completes.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <capkit/capkit.hpp>
#include <capkit/detail/text.hpp>

using namespace std::chrono_literals;
using capkit::errc;
using str = std::string;

namespace {

using eventual = capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::eventual>;
using linearizable = capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::linearizable>;
using serial = capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::serial>;

template <class R>
struct outcome {
    std::optional<capkit::result<typename R::write_result>> result;
};

template <class R>
void run_completions(R& r) {
    for (auto& done : r.take_completions()) done();
}

}  // namespace

TEMPLATE_TEST_CASE("a replica refuses a request beyond max_pending with errc::overloaded",
                   "[protocol][overload]", eventual, linearizable, serial) {
    using R = TestType;
    capkit::replica_options options;
    options.max_pending = 2;
    options.request_timeout = 1s;
    R r(0, options);
    r.set_reachable(1, true);  // its peers seem reachable, but nothing sent them is ever answered
    r.set_reachable(2, true);
    std::vector<outcome<R>> writes(3);
    for (std::size_t i = 0; i < writes.size(); ++i)
        r.put(capkit::detail::cat("k", std::to_string(i)), "v", {}, capkit::time_point{0},
              [&, i](capkit::result<typename R::write_result> got) { writes[i].result = got; });
    const auto sent = r.take_messages().size();
    run_completions(r);

    // The third came while two waited: refused at once, with nothing sent for it.
    REQUIRE(writes[2].result.has_value());
    CHECK(writes[2].result->error() == capkit::make_error_code(errc::overloaded));
    CHECK_FALSE(writes[0].result.has_value());
    CHECK_FALSE(writes[1].result.has_value());
    CHECK(r.stats().overloaded == 1);
    CHECK(r.find("k2") == nullptr);  // no effect here either

    // Once the two waiting have timed out, requests are taken again.
    r.tick(capkit::time_point{2s});
    run_completions(r);
    CHECK(writes[0].result.has_value());
    CHECK(writes[1].result.has_value());
    std::optional<capkit::result<typename R::write_result>> later;
    r.put("k3", "v", {}, capkit::time_point{2s},
          [&](capkit::result<typename R::write_result> got) { later = got; });
    run_completions(r);
    CHECK_FALSE(later.has_value());               // waiting for its quorum, not refused
    CHECK(r.take_messages().size() * 2 >= sent);  // it went out like the first ones
}

TEST_CASE("errc::overloaded says what to do", "[protocol][overload]") {
    const auto text = capkit::make_error_code(errc::overloaded).message();
    CHECK(text.find("overloaded") != std::string::npos);
    CHECK(text.find("max_pending") != std::string::npos);
}
