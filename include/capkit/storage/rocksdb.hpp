// SPDX-License-Identifier: MIT
/// @file Defines capkit::rocksdb_storage, storage that writes every change through to RocksDB
/// and loads it back when a directory is opened again (link capkit::rocksdb).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <capkit/error.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/storage/memory.hpp>
#include <capkit/storage/storage.hpp>
#include <capkit/wire/encoding.hpp>

namespace capkit {

/// Why a durable store could not be opened or read: errc::storage_failed or
/// errc::corrupt_record, and a sentence naming the directory and, for a record, its key bytes.
struct storage_error {
    boost::system::error_code code;
    std::string message;
};

/// Lets storage_result<T>::value() throw: a system_error with the code and the message.
[[noreturn]] inline void throw_exception_from_error(const storage_error& e,
                                                    const boost::source_location&) {
    throw boost::system::system_error(e.code, e.message);
}

/// A value, or why the store refused it.
template <class T>
using storage_result = boost::system::result<T, storage_error>;

namespace detail {

// The first byte of every RocksDB key says what the record is; the rest is the capkit::wire
// encoding of the key (states) or the name (metadata). Bytewise order puts the format first.
inline constexpr char format_prefix = 'f';
inline constexpr char meta_prefix = 'm';
inline constexpr char state_prefix = 's';
inline constexpr std::string_view format_key = "f";
inline constexpr std::string_view format_version = "capkit.rocksdb_storage 1";

// Stored records come from our own disk: no size limit, but still decoded without a crash.
inline wire::limits stored_limits() {
    wire::limits lim;
    lim.max_frame_body = std::numeric_limits<std::size_t>::max();
    return lim;
}

// "73 6b 31 ("sk1")": the bytes in hex, then as text with the unprintable ones escaped; long
// keys are cut at 64 bytes.
inline std::string describe_bytes(std::string_view bytes) {
    constexpr std::size_t shown = 64;
    constexpr std::string_view digits = "0123456789abcdef";
    std::string hex, text;
    for (std::size_t i = 0; i < bytes.size() && i < shown; ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        if (i != 0) hex += ' ';
        hex += digits[b >> 4];
        hex += digits[b & 15];
        if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
            text += static_cast<char>(b);
        } else {
            text += "\\x";
            text += digits[b >> 4];
            text += digits[b & 15];
        }
    }
    std::string out = hex + " (\"" + text + "\")";
    if (bytes.size() > shown) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

inline ::rocksdb::Slice slice(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const std::byte> bytes_of(const ::rocksdb::Slice& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace detail

/// Keeps every key's state in memory, as capkit::memory does, and writes each change through to
/// a RocksDB database before the call returns; opening the directory again loads it all back.
/// When a change is durable is the sync policy's choice (docs/storage.md gives each loss window).
/// A table is opened with `open(dir, options)`; a default-constructed one persists nothing (it is
/// the empty table of a replica built without a recovered state). Keys and states are encoded
/// with capkit::wire, so both must be types the codec knows.
struct rocksdb_storage {
    using category = storage_category;
    static constexpr std::string_view name = "rocksdb";

    /// Every write is fsynced (its WAL record) before put, update or erase returns: an
    /// acknowledged write survives a power loss.
    struct every_write {};
    /// The WAL is written on every change and fsynced by a background thread every `every`
    /// (Cassandra's commitlog_sync: periodic): a power loss loses at most the last `every`, a
    /// process crash nothing.
    struct periodic {
        std::chrono::milliseconds every{100};
    };
    /// The WAL is written on every change (to the operating system) but never fsynced by capkit:
    /// it survives a process crash (kill -9), not a machine crash or power loss.
    struct none {};
    /// When a change becomes durable.
    using sync_policy = std::variant<every_write, periodic, none>;

    /// How a directory is opened.
    struct options {
        sync_policy sync = every_write{};
        /// Create the directory and an empty store when there is none (else: storage_failed).
        bool create_if_missing = true;
        /// Changes RocksDB's own options before the open (block cache, compression,
        /// statistics...); capkit has set create_if_missing and paranoid_checks by then.
        std::function<void(::rocksdb::Options&)> tune;
    };

    template <class Key, class State>
    class table;
};

namespace detail {

// The open database, on the heap so a table moves without moving it, and the periodic syncer,
// which holds a pointer to it. Not a template: one copy of this code for every table type.
class rocksdb_handle {
public:
    rocksdb_handle(std::unique_ptr<::rocksdb::DB> db, std::filesystem::path dir,
                   const rocksdb_storage::sync_policy& sync)
        : db_(std::move(db)), dir_(std::move(dir)) {
        write_.sync = std::holds_alternative<rocksdb_storage::every_write>(sync);
        syncs_on_close_ = !write_.sync;
        if (const auto* p = std::get_if<rocksdb_storage::periodic>(&sync))
            syncer_ = std::jthread(
                [this, every = p->every](std::stop_token stop) { run_syncer(stop, every); });
    }
    rocksdb_handle(const rocksdb_handle&) = delete;
    rocksdb_handle& operator=(const rocksdb_handle&) = delete;
    ~rocksdb_handle() { (void)close(); }

    // Writes one record (or deletes it: `value` null); throws on failure, and from then on every
    // write throws: the disk may now be behind the table by this record (fail-stop).
    void write(std::string_view what, ::rocksdb::Slice key, const ::rocksdb::Slice* value) {
        throw_if_failed();
        const ::rocksdb::Status s =
            value ? db_->Put(write_, key, *value) : db_->Delete(write_, key);
        if (!s.ok()) {
            fail("writing " + std::string(what) + " " + describe_bytes(key.ToStringView()) +
                 " failed: " + s.ToString());
            throw_if_failed();
        }
    }

    // fsyncs the WAL now.
    storage_result<void> sync() {
        if (failed_.load(std::memory_order_acquire)) return failure();
        const ::rocksdb::Status s = db_->SyncWAL();
        if (!s.ok()) return error(errc::storage_failed, "syncing the WAL failed: " + s.ToString());
        return {};
    }

    // Stops the syncer, fsyncs the WAL (unless every write already was) and closes the database.
    storage_result<void> close() {
        if (!db_) return {};
        if (syncer_.joinable()) {
            syncer_.request_stop();
            syncer_.join();
        }
        storage_result<void> out;
        if (syncs_on_close_) out = sync();
        const ::rocksdb::Status s = db_->Close();
        db_.reset();
        if (out && !s.ok()) out = error(errc::storage_failed, "closing failed: " + s.ToString());
        return out;
    }

    storage_error error(errc e, const std::string& what) const {
        return {make_error_code(e), "capkit::rocksdb_storage: " + dir_.string() + ": " + what};
    }

private:
    void run_syncer(std::stop_token stop, std::chrono::milliseconds every) {
        std::mutex m;
        std::condition_variable_any wake;
        std::unique_lock lock(m);
        while (!wake.wait_for(lock, stop, every, [] { return false; }) && !stop.stop_requested()) {
            const ::rocksdb::Status s = db_->SyncWAL();
            if (!s.ok()) {
                fail("the periodic sync of the WAL failed: " + s.ToString());
                return;
            }
        }
    }

    void fail(std::string what) {
        std::lock_guard lock(failure_mutex_);
        if (failed_.load(std::memory_order_relaxed)) return;  // the first failure is the cause
        failure_ = std::move(what);
        failed_.store(true, std::memory_order_release);
    }
    storage_error failure() const {
        std::lock_guard lock(failure_mutex_);
        return error(errc::storage_failed,
                     failure_ + "; the store refuses writes until it is opened again");
    }
    void throw_if_failed() const {
        if (!failed_.load(std::memory_order_acquire)) return;
        const storage_error e = failure();
        throw boost::system::system_error(e.code, e.message);
    }

    std::unique_ptr<::rocksdb::DB> db_;
    std::filesystem::path dir_;
    ::rocksdb::WriteOptions write_;
    bool syncs_on_close_ = false;
    std::atomic<bool> failed_{false};
    mutable std::mutex failure_mutex_;
    std::string failure_;
    std::jthread syncer_;  // last: stopped before the members it uses go
};

}  // namespace detail

/// The states of one replica's keys, in memory and in a RocksDB directory. Movable, not
/// copyable (the directory is locked by one open table). Writes throw a
/// boost::system::system_error (errc::storage_failed) when RocksDB refuses them; after that the
/// table refuses every write until the directory is opened again. Used by one thread at a time,
/// as a replica is.
template <class Key, class State>
class rocksdb_storage::table {
public:
    /// A table in memory only, bound to no directory: it persists nothing.
    table() = default;
    table(table&&) noexcept = default;
    table& operator=(table&&) noexcept = default;
    table(const table&) = delete;
    table& operator=(const table&) = delete;
    /// Closes the directory: under periodic and none the WAL is fsynced first (close() reports
    /// a failure; the destructor cannot).
    ~table() = default;

    /// Opens (or, with create_if_missing, creates) the store in `dir` and loads every state and
    /// metadata record. Fails with errc::storage_failed when RocksDB cannot open it (missing,
    /// locked by another open table, damaged beyond RocksDB's checksums, not a capkit store) and
    /// errc::corrupt_record when a record does not decode, naming its key bytes.
    static storage_result<table> open(const std::filesystem::path& dir, const options& opt = {}) {
        ::rocksdb::Options db_options;
        db_options.create_if_missing = opt.create_if_missing;
        db_options.paranoid_checks = true;
        if (opt.tune) opt.tune(db_options);
        auto refused = [&](errc e, const std::string& what) -> storage_error {
            return {make_error_code(e), "capkit::rocksdb_storage: " + dir.string() + ": " + what};
        };
        ::rocksdb::DB* raw = nullptr;
        const ::rocksdb::Status s = ::rocksdb::DB::Open(db_options, dir.string(), &raw);
        if (!s.ok()) return refused(errc::storage_failed, "cannot open: " + s.ToString());
        std::unique_ptr<::rocksdb::DB> db(raw);

        table t;
        if (auto loaded = t.load(*db); !loaded)
            return refused(loaded.error().first, loaded.error().second);
        if (!t.has_format_) {
            ::rocksdb::WriteOptions synced;
            synced.sync = true;
            const ::rocksdb::Status w = db->Put(
                synced, ::rocksdb::Slice(detail::format_key.data(), 1),
                ::rocksdb::Slice(detail::format_version.data(), detail::format_version.size()));
            if (!w.ok())
                return refused(errc::storage_failed,
                               "cannot write the format record: " + w.ToString());
        }
        t.handle_ = std::make_unique<detail::rocksdb_handle>(std::move(db), dir, opt.sync);
        return t;
    }

    /// True when this table writes through to a directory.
    bool persistent() const noexcept { return handle_ != nullptr; }

    const State* find(const Key& k) const { return states_.find(k); }

    /// Stores `s` for `k`: durable (as the sync policy says) before it is visible.
    void put(const Key& k, State s) {
        if (handle_) write_state(k, s);
        states_.put(k, std::move(s));
    }

    /// Calls `f(state&, bool fresh)` on k's state, then writes the state through (whether or not
    /// `f` changed it).
    template <class F>
    void update(const Key& k, F&& f) {
        states_.update(k, [&](State& s, bool fresh) {
            f(s, fresh);
            if (handle_) write_state(k, s);
        });
    }

    /// Deletes k's state, on disk first; false when there was none.
    bool erase(const Key& k) {
        if (states_.find(k) == nullptr) return false;
        if (handle_) {
            encode_key(detail::state_prefix, k);
            handle_->write("the deletion of key", detail::slice(key_), nullptr);
        }
        return states_.erase(k);
    }

    std::size_t size() const noexcept { return states_.size(); }

    template <class F>
    void for_each(F&& f) const {
        states_.for_each(std::forward<F>(f));
    }

    /// Stores a named byte string beside the states (a replica's last tag, its Paxos promises):
    /// durable as a state is.
    void put_meta(std::string_view name, std::string_view bytes) {
        if (handle_) {
            encode_meta_key(name);
            const ::rocksdb::Slice value(bytes.data(), bytes.size());
            handle_->write("the metadata", detail::slice(key_), &value);
        }
        meta_.insert_or_assign(std::string(name), std::string(bytes));
    }

    /// The byte string last stored under `name`, or null.
    const std::string* find_meta(std::string_view name) const {
        auto it = meta_.find(name);
        return it == meta_.end() ? nullptr : &it->second;
    }

    /// Deletes the byte string under `name`; false when there was none.
    bool erase_meta(std::string_view name) {
        auto it = meta_.find(name);
        if (it == meta_.end()) return false;
        if (handle_) {
            encode_meta_key(name);
            handle_->write("the deletion of metadata", detail::slice(key_), nullptr);
        }
        meta_.erase(it);
        return true;
    }

    /// Calls `f(name, bytes)` on every named byte string, in name order.
    template <class F>
    void for_each_meta(F&& f) const {
        for (const auto& [name, bytes] : meta_) f(std::string_view(name), std::string_view(bytes));
    }

    /// fsyncs the WAL now: every change made so far survives a power loss (already so under
    /// every_write). Nothing to do for a table that persists nothing.
    storage_result<void> sync() { return handle_ ? handle_->sync() : storage_result<void>{}; }

    /// Closes the directory, reporting what the destructor cannot: a failed final sync or
    /// close. The table then persists nothing more (it keeps its states in memory).
    storage_result<void> close() {
        if (!handle_) return {};
        auto out = handle_->close();
        handle_.reset();
        return out;
    }

private:
    // errc and message, made into a storage_error naming the directory by open().
    using load_error = std::pair<errc, std::string>;

    boost::system::result<void, load_error> load(::rocksdb::DB& db) {
        ::rocksdb::ReadOptions read;
        read.verify_checksums = true;
        read.fill_cache = false;
        std::unique_ptr<::rocksdb::Iterator> it(db.NewIterator(read));
        const auto limits = detail::stored_limits();
        bool any = false;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            const std::string_view key = it->key().ToStringView();
            const std::string_view value = it->value().ToStringView();
            if (!any && key != detail::format_key)
                return load_error{errc::storage_failed,
                                  "not a capkit store: its first record is key " +
                                      detail::describe_bytes(key) + ", not the format record"};
            any = true;
            if (key.empty()) return load_error{errc::corrupt_record, "a record has an empty key"};
            const auto rest = detail::bytes_of(it->key()).subspan(1);
            switch (key.front()) {
                case detail::format_prefix:
                    if (key != detail::format_key || value != detail::format_version)
                        return load_error{errc::storage_failed,
                                          "the store's format is " + detail::describe_bytes(value) +
                                              ", this capkit "
                                              "reads \"" +
                                              std::string(detail::format_version) + "\""};
                    has_format_ = true;
                    break;
                case detail::meta_prefix: {
                    auto name = wire::decode<std::string>(rest, limits);
                    if (!name) return undecodable("the metadata name", key, name.error());
                    meta_.insert_or_assign(std::move(*name), std::string(value));
                    break;
                }
                case detail::state_prefix: {
                    auto k = wire::decode<Key>(rest, limits);
                    if (!k) return undecodable("the key", key, k.error());
                    auto s = wire::decode<State>(detail::bytes_of(it->value()), limits);
                    if (!s) return undecodable("the state", key, s.error());
                    states_.put(*k, std::move(*s));
                    break;
                }
                default:
                    return load_error{errc::corrupt_record, "record of unknown kind at key " +
                                                                detail::describe_bytes(key)};
            }
        }
        if (!it->status().ok())
            return load_error{errc::storage_failed, "reading failed: " + it->status().ToString()};
        return {};
    }

    static load_error undecodable(std::string_view what, std::string_view key,
                                  const wire::decode_error& e) {
        return {errc::corrupt_record, "the record at key " + detail::describe_bytes(key) +
                                          " is corrupt: " + std::string(what) +
                                          " does not decode (" + e.message() + ")"};
    }

    void encode_key(char prefix, const Key& k) {
        key_.clear();
        key_.push_back(static_cast<std::byte>(prefix));
        wire::encode(k, key_);
    }
    void encode_meta_key(std::string_view name) {
        key_.clear();
        key_.push_back(static_cast<std::byte>(detail::meta_prefix));
        wire::encode(std::string(name), key_);
    }
    void write_state(const Key& k, const State& s) {
        encode_key(detail::state_prefix, k);
        value_.clear();
        wire::encode(s, value_);
        const ::rocksdb::Slice v = detail::slice(value_);
        handle_->write("the state of key", detail::slice(key_), &v);
    }

    memory::table<Key, State> states_;
    std::map<std::string, std::string, std::less<>> meta_;
    std::vector<std::byte> key_, value_;  // reused encoding buffers
    bool has_format_ = false;
    std::unique_ptr<detail::rocksdb_handle> handle_;  // last: closed before the rest goes
};

static_assert(storage<rocksdb_storage>);

}  // namespace capkit
