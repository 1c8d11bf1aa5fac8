// SPDX-License-Identifier: MIT
/// @file Defines how a replica keeps, beside its keys, what else it must find again after a
/// crash (its last ABD tag, Paxos ballots, purge floor, hints): as named records of a storage
/// table that has them (rocksdb_storage), through put_meta.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/system_error.hpp>

#include <capkit/error.hpp>
#include <capkit/wire/encoding.hpp>

namespace capkit::detail {

/// A table that keeps named byte strings durable beside its states. memory's does not: a
/// replica on it keeps that metadata only in its durable_state (the simulator's crash model).
template <class Table>
concept keeps_meta = requires(Table& t, const Table& ct, std::string_view s) {
    { ct.persistent() } -> std::same_as<bool>;
    t.put_meta(s, s);
    t.erase_meta(s);
    { ct.find_meta(s) } -> std::same_as<const std::string*>;
    ct.for_each_meta([](std::string_view, std::string_view) {});
};

/// True when `t` writes metadata through to durable storage.
template <class Table>
bool persists_meta(const Table& t) {
    if constexpr (keeps_meta<Table>)
        return t.persistent();
    else
        return false;
}

inline std::string_view as_chars(const std::vector<std::byte>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const std::byte> as_bytes(std::string_view chars) {
    return {reinterpret_cast<const std::byte*>(chars.data()), chars.size()};
}

/// Stores `value` under `name` (its wire encoding), durable as the table's states are.
template <class T, class Table>
void save_meta(Table& t, std::string_view name, const T& value) {
    if constexpr (keeps_meta<Table>) {
        if (!t.persistent()) return;
        std::vector<std::byte> bytes;
        wire::encode(value, bytes);
        t.put_meta(name, as_chars(bytes));
    }
}

/// Decodes a record a replica stored, or throws errc::corrupt_record naming it: a replica must
/// not start on promises it cannot read.
template <class T>
T decode_meta(std::string_view name, std::string_view bytes) {
    auto v = wire::decode<T>(as_bytes(bytes));
    if (!v)
        throw boost::system::system_error(
            make_error_code(errc::corrupt_record),
            "the replica's record " + std::string(name) + " does not decode (" +
                v.error().message() + "); the store was written by another program or damaged");
    return std::move(*v);
}

/// The value stored under `name`, or `fallback` when there is none.
template <class T, class Table>
T load_meta(const Table& t, std::string_view name, T fallback) {
    if constexpr (keeps_meta<Table>) {
        if (const std::string* bytes = t.find_meta(name)) return decode_meta<T>(name, *bytes);
    }
    return fallback;
}

/// The record of the incarnation a replica last started as.
inline constexpr std::string_view incarnation_record = "capkit.incarnation";

/// True when `t` holds the record of an earlier run (rocksdb_storage): a replica that starts on
/// it is not starting empty, even with no states.
template <class Table>
bool ran_before(const Table& t) {
    if constexpr (keeps_meta<Table>) {
        if (t.persistent()) return t.find_meta(incarnation_record) != nullptr;
    }
    return false;
}

/// The incarnation a replica starts as: `given` (replica_options::incarnation), raised above the
/// one its table last recorded when the table keeps records (rocksdb_storage), which then records
/// it and syncs before the replica sends anything. A node restarted on its directory therefore
/// never reuses the request ids of an earlier run, even when the application counts no restarts.
/// On memory storage it is `given`: whoever restarts the node counts (capkit::cluster and
/// capkit::sim_cluster do).
template <class Table>
std::uint32_t start_incarnation(Table& t, std::uint32_t given) {
    if constexpr (keeps_meta<Table>) {
        if (t.persistent()) {
            std::uint32_t last = 0;
            bool recorded = false;
            if (const std::string* bytes = t.find_meta(incarnation_record)) {
                last = decode_meta<std::uint32_t>(incarnation_record, *bytes);
                recorded = true;
            }
            const std::uint32_t now = recorded ? std::max(given, last + 1) : given;
            save_meta(t, incarnation_record, now);
            if constexpr (requires { t.sync().value(); }) t.sync().value();
            return now;
        }
    }
    return given;
}

}  // namespace capkit::detail
