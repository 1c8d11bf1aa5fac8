// SPDX-License-Identifier: MIT
// capkit::rocksdb_storage's table: what is put, updated and erased is there again after the
// directory is closed and opened; bad records, a second opener and a missing directory are
// refused with errors that name them; each sync policy fsyncs the WAL when it says it does.
#include <catch2/catch.hpp>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include <capkit/crdt/or_set.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/rocksdb.hpp>

#include "rocksdb/temp_dir.hpp"

namespace {

using capkit::rocksdb_storage;
using capkit::test::temp_dir;
using str = std::string;

using lww_state = capkit::quorum_replica<str, str, capkit::lww<>>::state;
using dvv_state = capkit::quorum_replica<str, str, capkit::dvv>::state;
using crdt_state = capkit::quorum_replica<str, capkit::or_set<str>, capkit::crdt_merge>::state;

// Three different states of each kind, as replicas would write them.
template <class State>
std::vector<State> samples();

template <>
std::vector<lww_state> samples() {
    return {lww_state{str("one"), {10, 0}, 0}, lww_state{str("two"), {20, 3}, 1},
            lww_state{std::nullopt, {30, 1}, 2}};  // a tombstone
}

template <>
std::vector<dvv_state> samples() {
    using R = capkit::dvv;
    dvv_state a = R::write(dvv_state{}, {}, 0, {}, std::optional<str>("one"));
    dvv_state b = R::write(a, {}, 1, {}, std::optional<str>("two"));  // siblings: ctx saw none
    dvv_state c = R::write(b, R::context_of(b), 2, {}, std::optional<str>("three"));
    return {a, b, c};
}

template <>
std::vector<crdt_state> samples() {
    crdt_state a, b, c;
    a.value.add(0, "x");
    b.value.add(1, "y");
    b.value.add(2, "z");
    c = b;
    c.value.remove("y");
    return {a, b, c};
}

template <class State>
using table = rocksdb_storage::table<str, State>;

template <class State>
table<State> open(const std::filesystem::path& dir, rocksdb_storage::options opt = {}) {
    auto t = table<State>::open(dir, std::move(opt));
    if (!t) FAIL(t.error().message);
    return std::move(*t);
}

template <class State>
std::map<str, State> contents(const table<State>& t) {
    std::map<str, State> out;
    t.for_each([&](const str& k, const State& s) { out.emplace(k, s); });
    return out;
}

// The key "k1" as the store writes it: 's' for a state, then capkit::wire's string (length 2).
constexpr std::string_view k1_record = "s\x02k1";

void overwrite_raw(const std::filesystem::path& dir, std::string_view key, std::string_view value) {
    ::rocksdb::Options options;
    options.create_if_missing = true;
    ::rocksdb::DB* raw = nullptr;
    REQUIRE(::rocksdb::DB::Open(options, dir.string(), &raw).ok());
    std::unique_ptr<::rocksdb::DB> db(raw);
    REQUIRE(db->Put(::rocksdb::WriteOptions(), key, value).ok());
    REQUIRE(db->Close().ok());
}

}  // namespace

TEMPLATE_TEST_CASE("a rocksdb table finds again after reopening what was put, updated and erased",
                   "[rocksdb]", lww_state, dvv_state, crdt_state) {
    STATIC_REQUIRE(capkit::storage<rocksdb_storage, str, TestType>);
    const auto s = samples<TestType>();
    temp_dir dir;
    {
        auto t = open<TestType>(dir.path());
        CHECK(t.persistent());
        t.put("a", s[0]);
        t.put("b", s[1]);
        bool fresh_seen = false;
        t.update("c", [&](TestType& state, bool fresh) {
            fresh_seen = fresh;
            state = s[2];
        });
        CHECK(fresh_seen);
        t.update("a", [&](TestType& state, bool fresh) {
            CHECK_FALSE(fresh);
            CHECK(state == s[0]);
            state = s[1];
        });
        CHECK(t.erase("b"));
        CHECK_FALSE(t.erase("never"));
        CHECK(t.size() == 2);
    }
    {
        auto t = open<TestType>(dir.path());
        CHECK(contents(t) == std::map<str, TestType>{{"a", s[1]}, {"c", s[2]}});
        REQUIRE(t.find("a") != nullptr);
        CHECK(*t.find("a") == s[1]);
        CHECK(t.find("b") == nullptr);
        t.update("a", [&](TestType& state, bool fresh) {
            CHECK_FALSE(fresh);  // loaded from the directory
            state = s[0];
        });
        t.put("b", s[2]);
        CHECK(t.erase("c"));
    }
    auto t = open<TestType>(dir.path());
    CHECK(contents(t) == std::map<str, TestType>{{"a", s[0]}, {"b", s[2]}});
}

TEST_CASE("a rocksdb table keeps named byte strings apart from the states", "[rocksdb]") {
    temp_dir dir;
    {
        auto t = open<lww_state>(dir.path());
        t.put("tag", samples<lww_state>()[0]);
        t.put_meta("tag", std::string("\x00\x01\xff", 3));
        t.put_meta("ballot", "b1");
        t.put_meta("ballot", "b2");
        t.put_meta("gone", "x");
        CHECK(t.erase_meta("gone"));
        CHECK_FALSE(t.erase_meta("gone"));
        REQUIRE(t.find_meta("ballot") != nullptr);
        CHECK(*t.find_meta("ballot") == "b2");
    }
    auto t = open<lww_state>(dir.path());
    CHECK(t.size() == 1);
    REQUIRE(t.find("tag") != nullptr);
    CHECK(*t.find("tag") == samples<lww_state>()[0]);
    REQUIRE(t.find_meta("tag") != nullptr);
    CHECK(*t.find_meta("tag") == std::string("\x00\x01\xff", 3));
    REQUIRE(t.find_meta("ballot") != nullptr);
    CHECK(*t.find_meta("ballot") == "b2");
    CHECK(t.find_meta("gone") == nullptr);
}

TEST_CASE("a stored record that does not decode fails the open with its key bytes", "[rocksdb]") {
    temp_dir dir;
    open<lww_state>(dir.path()).put("k1", samples<lww_state>()[1]);

    SECTION("a damaged state") {
        overwrite_raw(dir.path(), k1_record,
                      "\x01\x05"
                      "ab");  // an optional tagged 5
        auto t = table<lww_state>::open(dir.path());
        REQUIRE(t.has_error());
        CHECK(t.error().code == capkit::errc::corrupt_record);
        INFO(t.error().message);
        CHECK(t.error().message.find(dir.path().string()) != str::npos);
        CHECK(t.error().message.find("73 02 6b 31 (\"s\\x02k1\")") != str::npos);
        CHECK(t.error().message.find("the state does not decode") != str::npos);
        CHECK_THROWS_AS(t.value(), boost::system::system_error);
    }
    SECTION("a state of another type") {
        auto t = table<std::uint64_t>::open(dir.path());
        REQUIRE(t.has_error());
        CHECK(t.error().code == capkit::errc::corrupt_record);
        CHECK(t.error().message.find("73 02 6b 31") != str::npos);
    }
    SECTION("a key of an unknown kind") {
        overwrite_raw(dir.path(), "z1", "");
        auto t = table<lww_state>::open(dir.path());
        REQUIRE(t.has_error());
        CHECK(t.error().code == capkit::errc::corrupt_record);
        CHECK(t.error().message.find("7a 31 (\"z1\")") != str::npos);
    }
}

TEST_CASE("a rocksdb table refuses a directory it cannot own", "[rocksdb]") {
    temp_dir dir;
    SECTION("one open table at a time") {
        auto first = open<lww_state>(dir.path());
        auto second = table<lww_state>::open(dir.path());
        REQUIRE(second.has_error());
        CHECK(second.error().code == capkit::errc::storage_failed);
        CHECK(first.close().has_value());
        CHECK_FALSE(first.persistent());
        CHECK(table<lww_state>::open(dir.path()).has_value());
    }
    SECTION("a missing directory, unless asked to create it") {
        rocksdb_storage::options opt;
        opt.create_if_missing = false;
        auto t = table<lww_state>::open(dir / "missing", opt);
        REQUIRE(t.has_error());
        CHECK(t.error().code == capkit::errc::storage_failed);
        CHECK(t.error().message.find("missing") != str::npos);
    }
    SECTION("a RocksDB database capkit did not write") {
        overwrite_raw(dir / "foreign", "a", "b");
        auto t = table<lww_state>::open(dir / "foreign");
        REQUIRE(t.has_error());
        CHECK(t.error().code == capkit::errc::storage_failed);
        CHECK(t.error().message.find("not a capkit store") != str::npos);
    }
}

TEST_CASE("a default rocksdb table keeps its states in memory only", "[rocksdb]") {
    table<lww_state> t;
    CHECK_FALSE(t.persistent());
    t.put("a", samples<lww_state>()[0]);
    t.put_meta("m", "v");
    CHECK(t.size() == 1);
    CHECK(t.find_meta("m") != nullptr);
    CHECK(t.sync().has_value());
    CHECK(t.close().has_value());
    // A table moved from persists nothing either; the one moved to holds the directory.
    temp_dir dir;
    auto opened = open<lww_state>(dir.path());
    table<lww_state> moved = std::move(opened);
    CHECK(moved.persistent());
    moved.put("b", samples<lww_state>()[1]);
    moved = table<lww_state>();  // closes the directory
    CHECK(open<lww_state>(dir.path()).find("b") != nullptr);
}

namespace {

// The WAL syncs RocksDB counted while `writes` puts ran under `sync`, before the table closed.
std::uint64_t wal_syncs(const temp_dir& dir, rocksdb_storage::sync_policy sync, int writes,
                        bool wait_for_a_sync = false) {
    auto stats = ::rocksdb::CreateDBStatistics();
    rocksdb_storage::options opt;
    opt.sync = sync;
    opt.tune = [&](::rocksdb::Options& o) { o.statistics = stats; };
    auto t = open<lww_state>(dir.path(), opt);
    const auto before = stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED);
    for (int i = 0; i < writes; ++i)
        t.put(capkit::detail::cat("k", std::to_string(i)), samples<lww_state>()[0]);
    // The periodic syncer runs on its own; give it up to 10 s to run once (no timing is asserted).
    for (int i = 0; wait_for_a_sync && i < 1000; ++i) {
        if (stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED) > before) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED) - before;
}

}  // namespace

TEST_CASE("each sync policy fsyncs the WAL when it says it does", "[rocksdb]") {
    temp_dir dir;
    CHECK(wal_syncs(dir, rocksdb_storage::every_write{}, 20) >= 20);
    CHECK(wal_syncs(dir, rocksdb_storage::none{}, 20) == 0);
    CHECK(wal_syncs(dir, rocksdb_storage::periodic{std::chrono::milliseconds(1)}, 20, true) >= 1);
    // An hour-long period has not come round while the test ran: the writes wait for it.
    CHECK(wal_syncs(dir, rocksdb_storage::periodic{std::chrono::hours(1)}, 20) == 0);
    auto t = open<lww_state>(dir.path());
    CHECK(t.size() == 20);  // every close synced what was left
}

TEST_CASE("under every sync policy a write survives the kill -9 of its process", "[rocksdb]") {
    const auto policy =
        GENERATE(as<rocksdb_storage::sync_policy>{}, rocksdb_storage::every_write{},
                 rocksdb_storage::periodic{std::chrono::hours(1)}, rocksdb_storage::none{});
    temp_dir dir;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child writes, says nothing to Catch, and dies without closing anything.
        rocksdb_storage::options opt;
        opt.sync = policy;
        auto t = table<lww_state>::open(dir.path(), opt);
        if (!t) ::_exit(2);
        t->put("acknowledged", samples<lww_state>()[1]);
        ::kill(::getpid(), SIGKILL);
        ::_exit(3);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    auto t = open<lww_state>(dir.path());
    REQUIRE(t.find("acknowledged") != nullptr);
    CHECK(*t.find("acknowledged") == samples<lww_state>()[1]);
}
