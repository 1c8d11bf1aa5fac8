// SPDX-License-Identifier: MIT
// Put throughput of capkit::rocksdb_storage's table under each sync policy against
// capkit::memory's table, in the same run: one iteration is one put of an lww state (a 100-byte
// value) under a 16-byte key, over 100k keys in turn. Wall-clock time, since a put under
// every_write waits for the disk. Each rocksdb benchmark reports `vs_memory`, its time per put
// over memory's in this run. The store goes in a fresh directory under $CAPKIT_BENCH_DIR (else
// the system's temporary folder), removed afterwards: point it at the disk you mean to measure.
#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#include <capkit/storage/rocksdb.hpp>

namespace {

using state = capkit::quorum_replica<std::string, std::string, capkit::lww<>>::state;

constexpr std::size_t key_count = 100'000;
constexpr std::size_t value_size = 100;

// "key-" and 12 digits: 16 bytes.
const std::vector<std::string>& keys() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> out;
        out.reserve(key_count);
        for (std::size_t i = 0; i < key_count; ++i) {
            std::string k = "key-000000000000";
            for (std::size_t pos = k.size(), n = i; n != 0; n /= 10)
                k[--pos] = static_cast<char>('0' + n % 10);
            out.push_back(std::move(k));
        }
        return out;
    }();
    return all;
}

state value_at(std::uint64_t stamp) {
    return state{std::string(value_size, 'v'), {stamp, 0}, 1};
}

// The memory table's nanoseconds per put, measured first in the same run.
double memory_ns_per_put = 0;

template <class Table>
double run_puts(benchmark::State& bm, Table& t) {
    const auto& ks = keys();
    std::size_t i = 0;
    std::uint64_t stamp = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : bm) {
        t.put(ks[i], value_at(++stamp));
        if (++i == ks.size()) i = 0;
    }
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    bm.SetItemsProcessed(bm.iterations());
    return bm.iterations() ? took.count() / static_cast<double>(bm.iterations()) : 0;
}

void bm_memory(benchmark::State& bm) {
    capkit::memory::table<std::string, state> t;
    memory_ns_per_put = run_puts(bm, t);
}

class scratch_dir {
public:
    scratch_dir() {
        const char* base = std::getenv("CAPKIT_BENCH_DIR");
        std::string name =
            (base ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) /
            "capkit-storage-bench-XXXXXX";
        if (::mkdtemp(name.data()) == nullptr)
            throw std::runtime_error("cannot make a directory from " + name);
        path_ = name;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

template <class Sync>
void bm_rocksdb(benchmark::State& bm, Sync sync) {
    scratch_dir dir;
    capkit::rocksdb_storage::options opt;
    opt.sync = sync;
    auto t = capkit::rocksdb_storage::table<std::string, state>::open(dir.path(), opt);
    if (!t) {
        bm.SkipWithError(t.error().message.c_str());
        return;
    }
    const double ns = run_puts(bm, *t);
    if (memory_ns_per_put > 0) bm.counters["vs_memory"] = ns / memory_ns_per_put;
}

}  // namespace

BENCHMARK(bm_memory)->Name("storage/put/memory")->UseRealTime();
BENCHMARK_CAPTURE(bm_rocksdb, none, capkit::rocksdb_storage::none{})
    ->Name("storage/put/rocksdb/none")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_rocksdb, periodic, capkit::rocksdb_storage::periodic{})
    ->Name("storage/put/rocksdb/periodic_100ms")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_rocksdb, every_write, capkit::rocksdb_storage::every_write{})
    ->Name("storage/put/rocksdb/every_write")
    ->UseRealTime();
