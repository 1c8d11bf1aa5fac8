// SPDX-License-Identifier: MIT
// The one concurrent part of RocksDB storage: under sync = periodic a background thread fsyncs
// the WAL while the table's own thread writes, syncs and closes. Tagged [syncer] so that the
// ThreadSanitizer pass runs these in capkit_concurrency_tests (tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <rocksdb/statistics.h>

#include <capkit/detail/text.hpp>
#include <capkit/storage/rocksdb.hpp>

#include "rocksdb/temp_dir.hpp"

namespace {

using capkit::rocksdb_storage;
using table = rocksdb_storage::table<std::string, std::uint64_t>;

table open_periodic(const std::filesystem::path& dir,
                    std::shared_ptr<::rocksdb::Statistics> stats = nullptr) {
    rocksdb_storage::options opt;
    opt.sync = rocksdb_storage::periodic{std::chrono::milliseconds(1)};
    if (stats) opt.tune = [stats](::rocksdb::Options& o) { o.statistics = stats; };
    auto t = table::open(dir, std::move(opt));
    if (!t) FAIL(t.error().message);
    return std::move(*t);
}

}  // namespace

TEST_CASE("the periodic syncer fsyncs beside the writes and stops with the table",
          "[rocksdb][syncer]") {
    capkit::test::temp_dir dir;
    auto stats = ::rocksdb::CreateDBStatistics();
    constexpr std::uint64_t writes = 2000;
    {
        auto t = open_periodic(dir.path(), stats);
        for (std::uint64_t i = 0; i < writes; ++i) {
            t.put(capkit::detail::cat("k", std::to_string(i)), i);
            if (i % 500 == 0) REQUIRE(t.sync().has_value());  // this thread syncs too
        }
        // Let the syncer come round at least once while the table is open (no time asserted).
        for (int i = 0; i < 1000 && stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED) < 5; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CHECK(stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED) >= 5);
        REQUIRE(t.close().has_value());
    }
    auto again = open_periodic(dir.path());
    CHECK(again.size() == writes);
    const std::uint64_t* last = again.find(capkit::detail::cat("k", std::to_string(writes - 1)));
    REQUIRE(last != nullptr);
    CHECK(*last == writes - 1);
}

TEST_CASE("tables with periodic syncers open, write and close one after another",
          "[rocksdb][syncer]") {
    // Each table starts and joins its own syncer: a syncer must never outlive its database.
    capkit::test::temp_dir dir;
    for (std::uint64_t round = 0; round < 20; ++round) {
        auto t = open_periodic(dir.path());
        t.put("round", round);
        table moved = std::move(t);  // the syncer follows the handle, not the table object
        CHECK(*moved.find("round") == round);
    }
    CHECK(*open_periodic(dir.path()).find("round") == 19);
}
