// SPDX-License-Identifier: MIT
#include <capkit/check/models.hpp>

#include <catch2/catch.hpp>

namespace ck = capkit::check;

namespace {
ck::operation op(ck::op_kind f, ck::value v, ck::value expected = {}) {
    ck::operation o;
    o.f = f;
    o.val = std::move(v);
    o.expected = std::move(expected);
    return o;
}
ck::value i(std::int64_t x) {
    return ck::value{x};
}
}  // namespace

TEST_CASE("register model: read, write, cas", "[check][models]") {
    ck::register_model m;
    auto s = m.init();
    CHECK(s == ck::value{});
    CHECK(m.step(s, op(ck::op_kind::read, {})));  // absent reads as nil
    CHECK_FALSE(m.step(s, op(ck::op_kind::read, i(1))));
    CHECK(m.step(s, op(ck::op_kind::write, i(1))));
    CHECK(s == i(1));
    CHECK(m.step(s, op(ck::op_kind::read, i(1))));
    CHECK_FALSE(m.step(s, op(ck::op_kind::read, {})));

    CHECK_FALSE(m.step(s, op(ck::op_kind::cas, i(3), i(2))));
    CHECK(s == i(1));  // an illegal step leaves the state
    CHECK(m.step(s, op(ck::op_kind::cas, i(3), i(1))));
    CHECK(s == i(3));

    auto failed = op(ck::op_kind::cas, i(5), i(3));
    failed.cas_succeeded = false;  // returned false: only legal where the value differs
    CHECK_FALSE(m.step(s, failed));
    failed.expected = i(4);
    CHECK(m.step(s, failed));
    CHECK(s == i(3));

    auto unknown = op(ck::op_kind::cas, i(7), i(4));
    unknown.completed = false;  // info: legal anywhere, applies only if it matches
    CHECK(m.step(s, unknown));
    CHECK(s == i(3));
    unknown.expected = i(3);
    CHECK(m.step(s, unknown));
    CHECK(s == i(7));

    auto unknown_read = op(ck::op_kind::read, i(99));
    unknown_read.known = false;
    CHECK(m.step(s, unknown_read));

    ck::register_model zero{i(0)};
    auto z = zero.init();
    CHECK(zero.step(z, op(ck::op_kind::read, i(0))));
}

TEST_CASE("register model: append concatenates strings", "[check][models]") {
    ck::register_model m{ck::value{std::string{}}};
    auto s = m.init();
    CHECK(m.step(s, op(ck::op_kind::append, std::string("ab"))));
    CHECK(m.step(s, op(ck::op_kind::append, std::string("c"))));
    CHECK(m.step(s, op(ck::op_kind::read, std::string("abc"))));
    CHECK_FALSE(m.step(s, op(ck::op_kind::read, std::string("ab"))));
    auto absent = ck::register_model{}.init();
    CHECK(m.step(absent, op(ck::op_kind::append, std::string("x"))));
    CHECK(absent == ck::value{std::string("x")});
    auto number = i(1);
    CHECK_FALSE(m.step(number, op(ck::op_kind::append, std::string("x"))));
}

TEST_CASE("kv model: keys are independent, missing keys hold the initial value",
          "[check][models]") {
    ck::kv_model m{ck::value{std::string{}}};
    auto s = m.init();
    auto on = [](std::string key, ck::operation o) {
        o.key = std::move(key);
        return o;
    };
    CHECK(m.step(s, on("a", op(ck::op_kind::read, std::string{}))));
    CHECK(m.step(s, on("a", op(ck::op_kind::write, std::string("x")))));
    CHECK(m.step(s, on("b", op(ck::op_kind::append, std::string("y")))));
    CHECK(m.step(s, on("a", op(ck::op_kind::read, std::string("x")))));
    CHECK(m.step(s, on("b", op(ck::op_kind::read, std::string("y")))));
    CHECK_FALSE(m.step(s, on("c", op(ck::op_kind::read, std::string("x")))));
    CHECK(ck::kv_model::describe(s) == R"({a "x", b "y"})");
    CHECK(ck::kv_model::hash(s) != ck::kv_model::hash(m.init()));
}

TEST_CASE("multi-register model: txn applies its micro-ops atomically, in order",
          "[check][models]") {
    ck::multi_register_model m;
    m.initial = i(0);
    auto s = m.init();
    auto txn = [](std::vector<ck::micro_op> ops) {
        ck::operation o;
        o.f = ck::op_kind::txn;
        o.txn = std::move(ops);
        return o;
    };
    CHECK(m.step(s, txn({{false, "x", i(0)}, {false, "y", i(0)}})));
    CHECK(m.step(s, txn({{true, "x", i(1)}, {false, "x", i(1)}, {true, "y", i(2)}})));
    auto before = s;
    CHECK_FALSE(m.step(s, txn({{true, "x", i(5)}, {false, "y", i(0)}})));
    CHECK(s == before);  // nothing of a refused txn applies
    CHECK(m.step(s, txn({{false, "x", i(1)}, {false, "y", i(2)}})));
    ck::micro_op any{false, "y", {}, false};
    CHECK(m.step(s, txn({any})));

    ck::operation append;
    append.f = ck::op_kind::append;
    CHECK_FALSE(m.supports(append));
    CHECK(ck::kv_model{}.supports(append));
}

TEST_CASE("counter model: add sums integer deltas, read sees the sum", "[check][models]") {
    ck::counter_model m;
    auto s = m.init();
    CHECK(s == i(0));
    CHECK(m.step(s, op(ck::op_kind::read, i(0))));
    CHECK(m.step(s, op(ck::op_kind::add, i(5))));
    CHECK(m.step(s, op(ck::op_kind::add, i(-2))));
    CHECK(s == i(3));
    CHECK(m.step(s, op(ck::op_kind::read, i(3))));
    CHECK_FALSE(m.step(s, op(ck::op_kind::read, i(5))));
    CHECK_FALSE(m.step(s, op(ck::op_kind::add, std::string("x"))));  // only integers
    CHECK(s == i(3));
    CHECK(m.observes(op(ck::op_kind::read, i(3))));
    CHECK_FALSE(m.observes(op(ck::op_kind::add, i(1))));
    CHECK(m.supports(op(ck::op_kind::add, i(1))));
    CHECK_FALSE(m.supports(op(ck::op_kind::write, i(1))));

    // In the register and kv models an absent value counts as 0; a string cannot be added to.
    ck::register_model r;
    auto absent = r.init();
    CHECK(r.step(absent, op(ck::op_kind::add, i(4))));
    CHECK(absent == i(4));
    ck::value text = std::string("abc");
    CHECK_FALSE(r.step(text, op(ck::op_kind::add, i(1))));
    auto unknown = op(ck::op_kind::add, i(1));
    unknown.completed = false;  // info: legal anywhere, applies only where it can
    CHECK(r.step(text, unknown));
    CHECK(text == ck::value{std::string("abc")});
    ck::operation add_on;
    add_on.f = ck::op_kind::add;
    CHECK_FALSE(ck::multi_register_model{}.supports(add_on));
}
