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
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <capkit/capkit.hpp>
#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/storage/memory.hpp>
#include <capkit/storage/rocksdb.hpp>
#include <capkit/transport/in_memory.hpp>

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

// ---- group commit: replicated writes on three RocksDB replicas ----
//
// Three strong-lww replicas (quorum<3, 2, 2>) over the in-memory transport on virtual time, each
// on its own RocksDB directory; puts go `in_flight` at a
// time through node 0 (an iteration: `in_flight` puts until all are acknowledged; the times are
// per put). every_write fsyncs each write at each replica; group commit (table sync
// none, replica_options::group_commit.window 2 ms) fsyncs once per replica per window and holds
// the replies until then. The window is virtual time here, so what is measured is the work per
// write (fsyncs, RocksDB, the protocol), not the latency the window adds (up to 2 ms by design).
// `vs_every_write` is the time per write over every_write's in this run.

using durable_replica = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>,
                                        capkit::strong, capkit::rocksdb_storage>;
using bench_transport = capkit::in_memory<durable_replica::message>;
using bench_node = capkit::node<durable_replica, bench_transport>;

double every_write_ns_per_put = 0;

// Runs the nodes' group commit syncs on threads of their own (a node's sync on its thread, in
// order), as a server would, and hands each finished one back to the thread driving the nodes.
class sync_threads {
public:
    explicit sync_threads(std::size_t nodes) {
        for (std::size_t i = 0; i < nodes; ++i) lanes_.push_back(std::make_unique<lane>());
    }

    bench_node::sync_runner runner(std::size_t node) {
        return [this, node](std::function<void()> sync, std::function<void()> done) {
            ++running_;
            lanes_[node]->push([this, sync = std::move(sync), done = std::move(done)]() mutable {
                sync();
                std::lock_guard lock(m_);
                finished_.push_back(std::move(done));
                cv_.notify_one();
            });
        };
    }

    /// Runs, on this thread, what the finished syncs left to do; waits for one when `wait`.
    void finish(bool wait) {
        std::vector<std::function<void()>> now;
        {
            std::unique_lock lock(m_);
            if (wait) cv_.wait(lock, [&] { return !finished_.empty(); });
            now.swap(finished_);
        }
        running_ -= now.size();
        for (auto& done : now) done();
    }

    bool busy() const noexcept { return running_ > 0; }

private:
    struct lane {
        void push(std::function<void()> job) {
            {
                std::lock_guard lock(m);
                jobs.push_back(std::move(job));
            }
            cv.notify_one();
        }
        std::mutex m;
        std::condition_variable_any cv;  // waits on the thread's stop token too
        std::deque<std::function<void()>> jobs;
        std::jthread thread{[this](std::stop_token stop) {
            for (;;) {
                std::function<void()> job;
                {
                    std::unique_lock lock(m);
                    if (!cv.wait(lock, stop, [&] { return !jobs.empty(); })) return;
                    job = std::move(jobs.front());
                    jobs.pop_front();
                }
                job();
            }
        }};
    };

    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::function<void()>> finished_;
    std::size_t running_ = 0;
    std::vector<std::unique_ptr<lane>> lanes_;
};

enum class syncs { in_step, driver_inline, driver_thread };

double run_replicated(benchmark::State& bm, capkit::rocksdb_storage::sync_policy sync,
                      std::chrono::nanoseconds window, std::size_t in_flight,
                      syncs where = syncs::in_step) {
    scratch_dir dir;
    capkit::rocksdb_storage::options opt;
    opt.sync = sync;
    capkit::replica_options options;
    options.group_commit.window = window;
    options.group_commit.on = where != syncs::in_step;
    sync_threads threads(where == syncs::driver_thread ? durable_replica::n : 0);
    bench_transport net;
    std::vector<std::unique_ptr<bench_node>> nodes;
    for (capkit::node_id i = 0; i < durable_replica::n; ++i) {
        auto t = durable_replica::table_type::open(dir.path() / std::to_string(i), opt);
        if (!t) {
            bm.SkipWithError(t.error().message.c_str());
            return 0;
        }
        nodes.push_back(std::make_unique<bench_node>(
            i, net, options, durable_replica::durable_state{.table = std::move(*t)}));
        if (where == syncs::driver_thread) nodes.back()->sync_with(threads.runner(i));
    }
    const auto& ks = keys();
    const std::string value(value_size, 'v');
    std::size_t next = 0, done = 0, failed = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : bm) {
        // One iteration: `in_flight` puts issued at once, run until all are acknowledged.
        const std::size_t want = done + in_flight;
        for (std::size_t k = 0; k < in_flight; ++k, ++next)
            nodes[0]->async_put(ks[next % ks.size()], value, {}, [&](const auto& r) {
                failed += r ? 0 : 1;
                ++done;
            });
        while (done < want) {
            // Virtual time must not run ahead to a request's deadline while a disk syncs.
            if (threads.busy() && net.in_flight() == 0) {
                threads.finish(true);
            } else {
                threads.finish(false);
                if (!net.step() && !threads.busy()) break;
            }
        }
    }
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    if (failed) bm.SkipWithError("a put failed");
    const auto puts = static_cast<double>(bm.iterations() * in_flight);
    bm.SetItemsProcessed(static_cast<std::int64_t>(puts));
    double syncs = 0;
    for (const auto& n : nodes) syncs += static_cast<double>(n->replica().stats().group_syncs);
    if (options.group_commit.active() && puts > 0) bm.counters["syncs_per_put"] = syncs / puts;
    return puts > 0 ? took.count() / puts : 0;
}

void bm_replicated_every_write(benchmark::State& bm) {
    every_write_ns_per_put = run_replicated(bm, capkit::rocksdb_storage::every_write{}, {},
                                            static_cast<std::size_t>(bm.range(0)));
}

void bm_replicated_group(benchmark::State& bm) {
    const double ns =
        run_replicated(bm, capkit::rocksdb_storage::none{}, std::chrono::milliseconds(2),
                       static_cast<std::size_t>(bm.range(0)));
    if (every_write_ns_per_put > 0) bm.counters["vs_every_write"] = ns / every_write_ns_per_put;
}

// Group commit with no window, each node's sync on a thread of its own: a write is durable at
// its replicas before it is acknowledged, as under every_write, but no replica's step waits for
// the disk, and the writes that arrive during a sync share the next one.
void bm_replicated_driver_sync(benchmark::State& bm) {
    const double ns = run_replicated(bm, capkit::rocksdb_storage::none{}, {},
                                     static_cast<std::size_t>(bm.range(0)), syncs::driver_thread);
    if (every_write_ns_per_put > 0) bm.counters["vs_every_write"] = ns / every_write_ns_per_put;
}

// The same with the sync on the node's own thread, between steps: each write's step is followed
// by its sync, as under every_write, but outside the step.
void bm_replicated_driver_inline(benchmark::State& bm) {
    const double ns = run_replicated(bm, capkit::rocksdb_storage::none{}, {},
                                     static_cast<std::size_t>(bm.range(0)), syncs::driver_inline);
    if (every_write_ns_per_put > 0) bm.counters["vs_every_write"] = ns / every_write_ns_per_put;
}

}  // namespace

BENCHMARK(bm_replicated_every_write)
    ->Name("replicated_put/every_write")
    ->Arg(64)
    ->ArgName("in_flight")
    ->UseRealTime();
BENCHMARK(bm_replicated_group)
    ->Name("replicated_put/group_commit_2ms")
    ->Arg(64)
    ->ArgName("in_flight")
    ->UseRealTime();
BENCHMARK(bm_replicated_driver_inline)
    ->Name("replicated_put/driver_sync_inline")
    ->Arg(64)
    ->ArgName("in_flight")
    ->UseRealTime();
BENCHMARK(bm_replicated_driver_sync)
    ->Name("replicated_put/driver_sync_thread")
    ->Arg(64)
    ->ArgName("in_flight")
    ->UseRealTime();

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
