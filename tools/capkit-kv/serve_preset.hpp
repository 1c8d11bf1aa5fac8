// SPDX-License-Identifier: MIT
/// @file Defines serve_preset: one preset's server, from its checked serve_plan to the end of its
/// io_context. Included only by the translation units tools/CMakeLists.txt generates, each with
/// explicit instantiations of serve_preset for some of the presets.
#pragma once

#include <csignal>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/hana/at.hpp>

#include <capkit/presets.hpp>
#include <capkit/storage/memory.hpp>

#include <capkit-kv/commands.hpp>
#include <capkit-kv/serve.hpp>
#include <capkit-kv/server.hpp>

namespace capkit::kv::cli {

#if CAPKIT_KV_ROCKSDB
// Every preset runs on rocksdb_storage; without --data its table is bound to no directory and
// persists nothing, as memory's would (one instantiation per preset, not two).
using kv_storage = rocksdb_storage;
#else
using kv_storage = memory;
#endif

/// The catalogue's preset number `Preset` as capkit-kv runs it: string keys and values, on
/// kv_storage.
template <std::size_t Preset>
using preset_replica = with_storage<
    string_keyed<typename std::decay_t<decltype(boost::hana::at_c<Preset>(lab::presets))>::replica>,
    kv_storage>;

template <std::size_t Preset>
int serve_preset(serve_plan& plan) {
    using replica = preset_replica<Preset>;
    auto& o = plan.options;
    const auto& name = plan.preset;
    // The cluster's nodes: N, or on a hash_ring as many as --peers names plus this one.
    unsigned m = replica::n;
    std::string has = "N=" + std::to_string(m);
    if constexpr (on_hash_ring<replica>) {
        m = static_cast<unsigned>(o.peers.size()) + 1;
        has = "M=" + std::to_string(m) + " nodes (--peers and this one)";
        if (m < replica::n || m > replica::max_nodes)
            throw usage_error("preset " + name + " places N=" + std::to_string(replica::n) +
                              " copies on a hash_ring of " + std::to_string(replica::n) + " to " +
                              std::to_string(replica::max_nodes) + " nodes; --peers names " +
                              std::to_string(o.peers.size()) + " besides this one");
        o.replica.cluster_size = m;
        o.transport.layout = m;  // a node given another count of peers is refused
    }
    for (node_id i = 0; i < m; ++i)
        if (i != o.id && !o.peers.contains(i))
            throw usage_error("--peers has no address for node " + std::to_string(i) + ": preset " +
                              name + " has " + has + ", so give every node 0.." +
                              std::to_string(m - 1));
    if (o.id >= m)
        throw usage_error("--id " + std::to_string(o.id) + " is beyond " + has + " of preset " +
                          name);
    for (const auto& [id, p] : o.peers)
        if (id >= m)
            throw usage_error("--peers names node " + std::to_string(id) + ", beyond " + has +
                              " of preset " + name);
    typename replica::durable_state recovered{};
#if CAPKIT_KV_ROCKSDB
    if (!plan.data.empty()) {
        std::error_code made;
        std::filesystem::create_directories(plan.data, made);
        if (made)
            throw usage_error("--data " + plan.data +
                              ": cannot create the directory: " + made.message());
        rocksdb_storage::options opened;
        opened.sync = plan.sync.table;
        // RocksDB's own info log (DIR/LOG) stays quiet: on a full disk its writes fail first,
        // and Debian's librocksdb (built with assertions) then aborts in the next log line
        // instead of returning the write's error to the table. The node logs on stderr.
        opened.tune = [](::rocksdb::Options& db) {
            db.info_log_level = ::rocksdb::InfoLogLevel::HEADER_LEVEL;
        };
        auto table = replica::table_type::open(plan.data, opened);
        // Another process holds the directory, a record is corrupt, not a capkit store...
        if (!table) throw usage_error(table.error().message);
        plan.logger(log_level::info, "storage: " + plan.data + " opened with " +
                                         std::to_string(table->size()) + " keys recovered, sync " +
                                         plan.sync_text);
        recovered.table = std::move(table).value();
    }
#endif
    int status = 0;
    boost::asio::io_context io;
    auto run = [&](auto& server) {
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code ec, int) {
            if (!ec) server.stop([&] { io.stop(); });
        });
        server.start();
        try {
            io.run();
        } catch (const boost::system::system_error& e) {
            // Fail-stop: the write that failed was not acknowledged (it threw before any
            // reply), and a node whose disk refuses writes must not acknowledge more.
            if (e.code() != make_error_code(errc::storage_failed)) throw;
            plan.logger(log_level::error,
                        std::string("stopping at once, answering nothing more: ") + e.what() +
                            "; restart the node once the disk is fixed, it reopens its directory");
            status = refused_exit;
        }
    };
    if (plan.tls) {
        server<replica, tls_security> s(io, o, plan.logger, *plan.tls, std::move(recovered));
        run(s);
    } else {
        server<replica> s(io, o, plan.logger, {}, std::move(recovered));
        run(s);
    }
    return status;
}

}  // namespace capkit::kv::cli
