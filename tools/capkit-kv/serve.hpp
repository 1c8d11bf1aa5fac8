// SPDX-License-Identifier: MIT
/// @file Defines what `capkit-kv serve` has parsed and checked before it knows the preset's type
/// (serve_plan), and the entry point per preset of the catalogue. The presets' servers are
/// compiled in a few translation units that CMake generates (serve_preset.hpp), so they build in
/// parallel instead of in one long file.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <capkit/transport/tls.hpp>

#include <capkit-kv/server.hpp>

// Set by tools/CMakeLists.txt when capkit::rocksdb exists: `serve --data DIR` keeps the keys in
// RocksDB. Without it capkit-kv builds on memory storage alone and refuses --data.
#ifndef CAPKIT_KV_ROCKSDB
#define CAPKIT_KV_ROCKSDB 0
#endif
#if CAPKIT_KV_ROCKSDB
#include <capkit/storage/rocksdb.hpp>
#endif

namespace capkit::kv::cli {

/// Exit codes: 0 done, 1 the server refused or failed the request, 2 bad arguments, 3 no server.
inline constexpr int refused_exit = 1, usage_exit = 2, unreachable_exit = 3;

/// A command line that cannot run, in a sentence for the user; exits with usage_exit.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

#if CAPKIT_KV_ROCKSDB
/// --sync always | periodic:MS | group:MS | never: the table's every_write, periodic{MS}, none;
/// group:MS is none plus group commit (replica_options::group_commit: the node, not the replica,
/// fsyncs the table every MS at most, between steps; the replica holds its replies until then).
struct sync_choice {
    rocksdb_storage::sync_policy table;
    std::chrono::milliseconds group_window{0};
};
#endif

/// What `serve` knows before the preset's type is chosen: the server's options, checked, and
/// where its keys live.
struct serve_plan {
    std::string preset;  ///< its name, for the sentences
    server_options options;
    tcp_logger logger;
    std::optional<tls_security> tls;
    std::string data;  ///< --data DIR; empty: the keys stay in memory
#if CAPKIT_KV_ROCKSDB
    sync_choice sync{};
    std::string sync_text;  ///< --sync as given (or its default), for the log
#endif
};

/// Runs a server of the catalogue's preset number `Preset` (capkit::lab::presets) until it is
/// stopped; its exit status. Defined in serve_preset.hpp and instantiated in the translation
/// units tools/CMakeLists.txt generates.
template <std::size_t Preset>
int serve_preset(serve_plan& plan);

/// serve_preset for every preset of the catalogue, by number.
template <std::size_t... Presets>
constexpr auto serve_table(std::index_sequence<Presets...>) {
    return std::array<int (*)(serve_plan&), sizeof...(Presets)>{&serve_preset<Presets>...};
}

}  // namespace capkit::kv::cli
