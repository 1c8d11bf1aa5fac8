// SPDX-License-Identifier: MIT
/// @file Defines capkit::kv::executor, which runs one Redis command against a capkit::node and
/// completes with the encoded reply, and capkit::kv::session, one client connection's commands
/// run in order. No I/O: any transport's node will do.
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/hana/type.hpp>
#include <boost/system/error_code.hpp>

#include <capkit/detail/text.hpp>
#include <capkit/error.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/presets.hpp>
#include <capkit/protocol/paxos_replica.hpp>
#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/vector_clocks.hpp>
#include <capkit/wire/encoding.hpp>

#include <capkit-kv/resp.hpp>

namespace capkit::kv {

namespace detail {
template <class Replica>
struct string_keyed;
template <class K, class V, class... Policies>
struct string_keyed<quorum_replica<K, V, Policies...>> {
    using type = replica<std::string, std::conditional_t<crdt<V>, V, std::string>, Policies...>;
};
template <class K, class V, class... Policies>
struct string_keyed<paxos_replica<K, V, Policies...>> {
    using type = replica<std::string, std::string, Policies...>;
};

// The policies of a pack but its storage, as a std::tuple.
template <class P>
using unless_storage =
    std::conditional_t<policy_of<P, storage_category>, std::tuple<>, std::tuple<P>>;
template <class... Policies>
using without_storage = decltype(std::tuple_cat(std::declval<unless_storage<Policies>>()...));

template <class K, class V, class Storage, class Kept>
struct replica_with;
template <class K, class V, class Storage, class... Kept>
struct replica_with<K, V, Storage, std::tuple<Kept...>> {
    using type = replica<K, V, Kept..., Storage>;
};

template <class Replica, class Storage>
struct with_storage;
template <class K, class V, class... Policies, class Storage>
struct with_storage<quorum_replica<K, V, Policies...>, Storage>
    : replica_with<K, V, Storage, without_storage<Policies...>> {};
template <class K, class V, class... Policies, class Storage>
struct with_storage<paxos_replica<K, V, Policies...>, Storage>
    : replica_with<K, V, Storage, without_storage<Policies...>> {};
}  // namespace detail

/// `Replica` with the same policies but byte-string keys and values (a CRDT value stays), as
/// Redis clients need: the lab's presets store integers.
template <class Replica>
using string_keyed = typename detail::string_keyed<Replica>::type;

/// `Replica` with the same keys, values and policies but its storage policy replaced by
/// `Storage` (given or defaulted): capkit-kv runs the catalogue's presets, which keep their keys
/// in capkit::memory, on capkit::rocksdb_storage, without a second catalogue.
template <class Replica, policy_of<storage_category> Storage>
using with_storage = typename detail::with_storage<Replica, Storage>::type;

/// Calls `f(boost::hana::type_c<Replica>)` with the string-keyed replica of the catalogue's
/// preset called `name` (see capkit::lab::presets); false if there is none.
template <class F>
bool with_preset(std::string_view name, F&& f) {
    return lab::with_preset(
        name, [&](auto t) { f(boost::hana::type_c<string_keyed<typename decltype(t)::type>>); });
}

/// What the executor is told about the server it runs in.
struct executor_options {
    /// The preset this node runs, named in INFO and in the sentences refusing a command.
    std::string preset = "a custom configuration";
    /// The peers this node can reach now, from the server's failure detector. Without it, INFO
    /// counts the peers the replica believes reachable.
    std::function<std::size_t()> peers_up{};
    /// Where the node keeps its keys, as INFO's `storage:` line shows it: `memory`, or
    /// `rocksdb sync=POLICY dir=DIR` (the server's --data and --sync).
    std::string storage = "memory";
};

/// What the executor counts itself (the replica counts the rest: capkit::replica_stats).
struct command_stats {
    std::uint64_t commands = 0;  ///< commands executed
    std::uint64_t errors = 0;    ///< of those, answered with an error
};

/// `s` in ASCII upper case (`upper`) or lower case: command names and options are
/// case-insensitive.
inline std::string ascii_case(std::string_view s, bool upper) {
    std::string out(s);
    for (auto& c : out) {
        auto u = static_cast<unsigned char>(c);
        c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    }
    return out;
}

/// The key-value commands a node can serve under its configuration, and the sentence refusing
/// the rest. Commands are case-insensitive, as in Redis.
///
/// - Every preset: PING [message], ECHO message, GET key, SET key value, EXISTS key [key ...],
///   DEL key [key ...] (not counters), INFO [section ...], CONFIG GET ..., COMMAND [...],
///   SELECT 0, QUIT.
/// - serial (cp-serial, n5-serial, ring-serial): CAS key expected new (1 if set, 0 if the key
///   held another value), SETNX key value (1 if set, 0 if the key existed).
/// - vector_clocks and dvv (ap-vclock, ap-dvv): GETCTX key gives [context, sibling ...];
///   SETCTX key context value writes over what that context saw. GET of a key with siblings
///   fails with -SIBLINGS; SET writes over the context a read of the key returns.
/// - crdt_merge counters (ap-crdt-counter): INCR, INCRBY, and with a pn_counter DECR, DECRBY.
template <class Node>
class executor {
public:
    using replica_type = typename Node::replica_type;
    using key_type = typename Node::key_type;
    using value_type = typename Node::value_type;
    using context = typename Node::context;
    /// Receives the encoded reply (RESP2 bytes) of one command.
    using reply_callback = std::function<void(std::string)>;

    static constexpr bool serial_preset =
        std::is_same_v<typename replica_type::consistency, capkit::serial>;
    using resolver = typename replica_type::config::resolver;
    static constexpr bool sibling_preset =
        std::is_same_v<resolver, vector_clocks> || std::is_same_v<resolver, dvv>;
    static constexpr bool counter_preset =
        std::is_same_v<resolver, crdt_merge> && requires(value_type & c, node_id self) {
        c.increment(self, std::uint64_t{1});
        c.value();
    };
    static constexpr bool crdt_preset = std::is_same_v<resolver, crdt_merge>;
    static constexpr bool decrementing_counter =
        counter_preset && requires(value_type & c, node_id self) {
        c.decrement(self, std::uint64_t{1});
    };

    static_assert(std::is_same_v<key_type, std::string> || std::is_integral_v<key_type>,
                  "capkit::kv::executor: keys must be std::string or an integer type; use "
                  "capkit::kv::string_keyed<Replica> for Redis clients.");
    static_assert(std::is_same_v<value_type, std::string> || std::is_integral_v<value_type> ||
                      counter_preset,
                  "capkit::kv::executor: values must be std::string, an integer type, or a "
                  "counter CRDT (g_counter, pn_counter) under crdt_merge.");

    /// Both `node` and the executor must outlive every command started.
    explicit executor(Node& node, executor_options options = {})
        : node_(node), options_(std::move(options)) {}
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    /// Runs `cmd` and calls `done` once with its encoded reply: at once for commands the node
    /// answers alone, after the quorum decides for the others. Replies of pipelined commands may
    /// complete out of order; capkit::kv::session puts them back in order.
    void execute(const resp::command& cmd, reply_callback done) {
        ++stats_.commands;
        reply_callback counted = [this, done = std::move(done)](std::string&& reply) {
            if (!reply.empty() && reply.front() == '-') ++stats_.errors;
            done(std::move(reply));
        };
        if (cmd.empty()) return counted(error("ERR empty command"));
        std::string name = upper(cmd.front());
        const command_spec* spec = find_spec(name);
        if (!spec) return counted(error(unknown_command(cmd)));
        if (!arity_ok(spec->arity, cmd.size()))
            return counted(
                error("ERR wrong number of arguments for '" + lower(cmd.front()) + "' command"));
        (this->*(spec->run))(cmd, std::move(counted));
    }

    const command_stats& stats() const noexcept { return stats_; }
    Node& node() noexcept { return node_; }

    /// True for QUIT: the server sends its reply, then closes the connection.
    static bool closes_connection(const resp::command& cmd) {
        return !cmd.empty() && upper(cmd.front()) == "QUIT";
    }

    /// The commands served, with Redis's arity (negative: at least that many words) and where
    /// their keys are, as Redis's COMMAND INFO says it: words first_key..last_key (last_key -1:
    /// to the end; first_key 0: no key).
    struct command_spec {
        std::string_view name;
        int arity;
        void (executor::*run)(const resp::command&, reply_callback);
        int first_key = 0, last_key = 0;
    };
    static std::span<const command_spec> specs() {
        static constexpr command_spec table[] = {
            {"PING", -1, &executor::ping},          {"ECHO", 2, &executor::echo},
            {"GET", 2, &executor::get, 1, 1},       {"SET", -3, &executor::set, 1, 1},
            {"DEL", -2, &executor::del, 1, -1},     {"EXISTS", -2, &executor::exists, 1, -1},
            {"INCR", 2, &executor::incr, 1, 1},     {"DECR", 2, &executor::incr, 1, 1},
            {"INCRBY", 3, &executor::incr, 1, 1},   {"DECRBY", 3, &executor::incr, 1, 1},
            {"CAS", 4, &executor::cas, 1, 1},       {"SETNX", 3, &executor::cas, 1, 1},
            {"GETCTX", 2, &executor::getctx, 1, 1}, {"SETCTX", 4, &executor::setctx, 1, 1},
            {"CONFIG", -2, &executor::config},      {"COMMAND", -1, &executor::command},
            {"INFO", -1, &executor::info},          {"SELECT", 2, &executor::select},
            {"QUIT", -1, &executor::quit},          {"MGET", -2, &executor::mget, 1, -1},
            {"MSET", -3, &executor::mset, 1, -1},   {"DBSIZE", 1, &executor::dbsize},
            {"SCAN", -2, &executor::scan},          {"KEYS", 2, &executor::keys},
        };
        return table;
    }

    /// The keys `cmd` reads or writes (none for an unknown command or a wrong arity).
    static std::span<const std::string> keys_of(const resp::command& cmd) {
        if (cmd.empty()) return {};
        const command_spec* spec = find_spec(upper(cmd.front()));
        if (!spec || spec->first_key == 0 || !arity_ok(spec->arity, cmd.size())) return {};
        auto first = static_cast<std::size_t>(spec->first_key);
        auto end = spec->last_key < 0 ? cmd.size() : static_cast<std::size_t>(spec->last_key) + 1;
        return std::span<const std::string>(cmd).subspan(first, end - first);
    }

private:
    // ---- helpers ----

    static std::string upper(std::string_view s) { return ascii_case(s, true); }
    static std::string lower(std::string_view s) { return ascii_case(s, false); }
    static const command_spec* find_spec(std::string_view name) {
        for (const auto& s : specs())
            if (s.name == name) return &s;
        return nullptr;
    }
    static bool arity_ok(int arity, std::size_t words) {
        return arity >= 0 ? words == static_cast<std::size_t>(arity)
                          : words >= static_cast<std::size_t>(-arity);
    }

    // Redis 7's sentence, its args quoted and cut at 128 bytes, a space after each.
    static std::string unknown_command(const resp::command& cmd) {
        std::string args;
        for (std::size_t i = 1; i < cmd.size() && args.size() < 128; ++i)
            args += capkit::detail::cat("'", cmd[i].substr(0, 128 - args.size()), "' ");
        return capkit::detail::cat("ERR unknown command '", cmd.front().substr(0, 128),
                                   "', with args beginning with: ", args);
    }

    static std::string error(std::string_view sentence) {
        std::string out;
        resp::encoder(out).error(sentence);
        return out;
    }
    static std::string simple(std::string_view s) {
        std::string out;
        resp::encoder(out).simple_string(s);
        return out;
    }
    static std::string integer(std::int64_t v) {
        std::string out;
        resp::encoder(out).integer(v);
        return out;
    }
    static std::string bulk(std::string_view s) {
        std::string out;
        resp::encoder(out).bulk_string(s);
        return out;
    }
    static std::string null_bulk() {
        std::string out;
        resp::encoder(out).null_bulk();
        return out;
    }
    static std::string empty_array() {
        std::string out;
        resp::encoder(out).array(0);
        return out;
    }

    std::optional<key_type> parse_key(std::string_view s, std::string& why) const {
        if constexpr (std::is_same_v<key_type, std::string>) {
            return std::string(s);
        } else {
            auto k = resp::to_integer<key_type>(s);
            if (!k)
                why = "ERR this node's keys are integers (" + options_.preset + "); '" +
                      std::string(s.substr(0, 64)) + "' is not one";
            return k;
        }
    }
    static std::optional<value_type> parse_value(std::string_view s, std::string& why) {
        if constexpr (std::is_same_v<value_type, std::string>) {
            return std::string(s);
        } else if constexpr (std::is_integral_v<value_type>) {
            auto v = resp::to_integer<value_type>(s);
            if (!v) why = "ERR value is not an integer or out of range";
            return v;
        } else {
            why = "ERR this node's values are counters";
            return std::nullopt;
        }
    }
    static std::string show(const value_type& v) {
        if constexpr (std::is_same_v<value_type, std::string>) {
            return v;
        } else if constexpr (std::is_integral_v<value_type>) {
            return std::to_string(v);
        } else {
            return std::to_string(v.value());
        }
    }

    // An unavailable or timed-out request, said as it is, with how far its quorum fell short.
    std::string failure(const capkit::failure& ec, bool writes) const {
        if (ec == errc::unavailable) {
            return error("UNAVAILABLE quorum not reached (" + ec.shortfall_text() + ")");
        }
        if (ec == errc::recovering)
            return error(
                "UNAVAILABLE this node restarted without its data and is catching up from its "
                "peers; the request took no effect; try another node");
        if (ec == errc::overloaded)
            return error(
                "OVERLOADED too many requests wait for their quorum on this node; the "
                "request took no effect; retry later");
        if (ec == errc::timeout)
            return error(writes
                             ? "TIMEOUT write not confirmed by a quorum; it may have been applied"
                             : "TIMEOUT read not confirmed by a quorum; try again");
        return error("ERR " + ec.message());
    }

    // The sentence refusing `what` on this preset, and what would serve it.
    std::string needs(std::string_view what, std::string_view preset_kind,
                      std::string_view why) const {
        return error("ERR " + std::string(what) + " needs " + std::string(preset_kind) +
                     "; this node runs " + options_.preset + std::string(why));
    }
    static constexpr std::string_view register_kind() {
        if constexpr (serial_preset) return ", which keeps one value per key";
        if constexpr (sibling_preset) return ", which keeps concurrent values as siblings";
        if constexpr (crdt_preset) return ", whose values are CRDTs";
        return ", which keeps one value per key";
    }

    // ---- the commands ----

    void ping(const resp::command& cmd, reply_callback done) {
        if (cmd.size() > 2) return done(error("ERR wrong number of arguments for 'ping' command"));
        done(cmd.size() == 2 ? bulk(cmd[1]) : simple("PONG"));
    }

    void echo(const resp::command& cmd, reply_callback done) { done(bulk(cmd[1])); }

    void select(const resp::command& cmd, reply_callback done) {
        done(cmd[1] == "0" ? simple("OK") : error("ERR DB index is out of range"));
    }

    void quit(const resp::command&, reply_callback done) { done(simple("OK")); }

    void config(const resp::command& cmd, reply_callback done) {
        std::string sub = upper(cmd[1]);
        if (sub == "GET") {
            if (cmd.size() < 3)
                return done(error("ERR wrong number of arguments for 'config|get' command"));
            return done(empty_array());  // capkit-kv has no Redis parameters to show
        }
        if (sub == "SET" || sub == "RESETSTAT" || sub == "REWRITE")
            return done(error("ERR CONFIG " + sub +
                              " is not supported: a capkit-kv node is configured by its "
                              "command line (CONFIG GET answers with no parameters)"));
        done(error("ERR unknown subcommand '" + cmd[1].substr(0, 128) + "'. Try CONFIG HELP."));
    }

    void command(const resp::command& cmd, reply_callback done) {
        if (cmd.size() >= 2 && upper(cmd[1]) == "COUNT")
            return done(integer(static_cast<std::int64_t>(specs().size())));
        done(empty_array());  // COMMAND, COMMAND DOCS (redis-cli 7 asks at start), INFO, LIST
    }

    void info(const resp::command& cmd, reply_callback done) {
        const auto& rs = node_.replica().stats();
        using config_type = typename replica_type::config;
        std::size_t nodes = replica_type::n;
        if constexpr (on_hash_ring<replica_type>) nodes = node_.replica().nodes();
        std::size_t peers_total = nodes - 1, peers_up = 0;
        if (options_.peers_up) {
            peers_up = options_.peers_up();
        } else {
            for (node_id i = 0; i < nodes; ++i)
                if (i != node_.id() && node_.replica().reachable(i)) ++peers_up;
        }
        struct section {
            std::string_view name;
            std::string body;
        };
        const section sections[] = {
            {"server", "capkit_kv_version:1\r\nnode_id:" + std::to_string(node_.id()) +
                           "\r\npreset:" + options_.preset +
                           "\r\nconsistency:" + std::string(replica_type::consistency::name) +
                           "\r\nresolver:" + std::string(resolver::name) + "\r\nquorum:N=" +
                           std::to_string(config_type::n) + " R=" + std::to_string(config_type::r) +
                           " W=" + std::to_string(config_type::w) + "\r\nplacement:" +
                           (on_hash_ring<replica_type> ? "hash_ring M=" + std::to_string(nodes)
                                                       : std::string("all_nodes")) +
                           "\r\nstorage:" + options_.storage + "\r\nincarnation:" +
                           std::to_string(node_.replica().incarnation()) + "\r\n"},
            {"stats", "commands_processed:" + std::to_string(stats_.commands) +
                          "\r\ncommand_errors:" + std::to_string(stats_.errors) +
                          "\r\nrequests:" + std::to_string(rs.requests) +
                          "\r\nquorum_failures:" + std::to_string(rs.unavailable) +
                          "\r\ntimeouts:" + std::to_string(rs.timeouts) +
                          "\r\nread_repairs:" + std::to_string(rs.read_repairs) +
                          "\r\nclock_refusals:" + std::to_string(rs.clock_refusals) +
                          "\r\nretries:" + std::to_string(rs.retries) +
                          "\r\nanti_entropy_rounds:" + std::to_string(rs.anti_entropy_rounds) +
                          "\r\nanti_entropy_keys:" + std::to_string(rs.anti_entropy_keys) +
                          "\r\ntombstones_purged:" + std::to_string(rs.tombstones_purged) +
                          "\r\nhints_stored:" + std::to_string(rs.hints_stored) +
                          "\r\nhints_delivered:" + std::to_string(rs.hints_delivered) +
                          "\r\nhints_dropped:" + std::to_string(rs.hints_dropped) +
                          "\r\nsend_failures:" + std::to_string(node_.send_failures()) +
                          "\r\nrecovering_refusals:" + std::to_string(rs.recovering) +
                          "\r\ncatch_up_keys:" + std::to_string(rs.catch_up_keys) + "\r\n"},
            {"replication", "peers_up:" + std::to_string(peers_up) +
                                "\r\npeers_total:" + std::to_string(peers_total) +
                                "\r\ncatching_up:" + (node_.replica().catching_up() ? "1" : "0") +
                                "\r\n"},
            // Redis's shape; the count is this replica's own copy (tombstones included), which
            // shows whether a restarted node has caught up.
            {"keyspace", "db0:keys=" + std::to_string(node_.replica().stored_keys()) +
                             ",expires=0,avg_ttl=0\r\n"},
        };
        auto wanted = [&](std::string_view name) {
            if (cmd.size() == 1) return true;
            for (std::size_t i = 1; i < cmd.size(); ++i) {
                auto arg = lower(cmd[i]);
                if (arg == name || arg == "all" || arg == "default" || arg == "everything")
                    return true;
            }
            return false;
        };
        std::string text;
        for (const auto& s : sections) {
            if (!wanted(s.name)) continue;
            if (!text.empty()) text += "\r\n";
            std::string title(s.name);
            title.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
            text += "# " + title + "\r\n" + s.body;
        }
        done(bulk(text));
    }

    void get(const resp::command& cmd, reply_callback done) {
        std::string why;
        auto key = parse_key(cmd[1], why);
        if (!key) return done(error(why));
        node_.async_get(*key, [this, done = std::move(done)](result<typename Node::read_result> r) {
            if (!r.has_value()) return done(failure(r.error(), false));
            if (r->values.empty()) return done(null_bulk());
            if (r->values.size() > 1)
                return done(error("SIBLINGS the key holds " + std::to_string(r->values.size()) +
                                  " concurrent values; GETCTX key returns them with their "
                                  "context, and SETCTX key context value resolves them"));
            done(bulk(show(r->values.front())));
        });
    }

    void set(const resp::command& cmd, reply_callback done) {
        if (cmd.size() > 3) {
            std::string option = upper(cmd[3]);
            std::string hint = "; use SET key value";
            if (option == "EX" || option == "PX" || option == "EXAT" || option == "PXAT" ||
                option == "KEEPTTL")
                hint = ": capkit-kv keys never expire; use SET key value";
            else if (option == "NX" && serial_preset)
                hint = "; SETNX key value sets a key only if it is absent, atomically";
            else if ((option == "NX" || option == "XX") && !serial_preset)
                hint = "; conditional writes need a serial preset such as cp-serial (SETNX, CAS)";
            return done(
                error("ERR SET option '" + cmd[3].substr(0, 64) + "' is not supported" + hint));
        }
        if constexpr (crdt_preset) {
            return done(needs("SET", "a register preset such as cp-serial, strong-lww or ap-lww",
                              ", whose values are CRDTs that only merge: use INCRBY"));
        } else {
            std::string why;
            auto key = parse_key(cmd[1], why);
            auto value = key ? parse_value(cmd[2], why) : std::nullopt;
            if (!key || !value) return done(error(why));
            if constexpr (sibling_preset) {
                // A write over nothing seen would stand beside every sibling; SET means "replace
                // what is there", so it writes over the context a read returns.
                node_.async_get(
                    *key, [this, key = *key, value = std::move(*value),
                           done = std::move(done)](result<typename Node::read_result> r) mutable {
                        if (!r.has_value()) return done(failure(r.error(), false));
                        put(key, std::move(value), r->context, std::move(done));
                    });
            } else {
                put(*key, std::move(*value), context{}, std::move(done));
            }
        }
    }

    void put(const key_type& key, value_type value, const context& ctx, reply_callback done) {
        node_.async_put(key, std::move(value), ctx,
                        [this, done = std::move(done)](result<typename Node::write_result> r) {
                            done(r.has_value() ? simple("OK") : failure(r.error(), true));
                        });
    }

    // MGET and MSET: each key its own request, as GET and SET (not atomic: docs/capkit-kv.md).
    // The replies joined in order; the first key's error instead, if any failed.
    template <class Each>
    void per_pair(const resp::command& cmd, std::size_t step, Each each, reply_callback done) {
        struct join {
            std::size_t left;
            std::vector<std::string> replies;
            reply_callback done;
            bool as_array;
        };
        const std::size_t n = (cmd.size() - 1) / step;
        auto j = std::make_shared<join>(
            join{n, std::vector<std::string>(n), std::move(done), step == 1});
        for (std::size_t i = 0; i < n; ++i) {
            each(1 + i * step, [j, i](std::string reply) {
                j->replies[i] = std::move(reply);
                if (--j->left != 0) return;
                for (auto& r : j->replies)
                    if (!r.empty() && r.front() == '-') return j->done(std::move(r));
                if (!j->as_array) return j->done(simple("OK"));
                std::string out;
                resp::encoder(out).array(j->replies.size());
                for (auto& r : j->replies) out += r;
                j->done(std::move(out));
            });
        }
    }

    void mget(const resp::command& cmd, reply_callback done) {
        per_pair(
            cmd, 1,
            [this, &cmd](std::size_t i, reply_callback one) {
                get({"GET", cmd[i]}, std::move(one));
            },
            std::move(done));
    }

    void mset(const resp::command& cmd, reply_callback done) {
        if (cmd.size() % 2 == 0)
            return done(error("ERR wrong number of arguments for 'mset' command"));
        per_pair(
            cmd, 2,
            [this, &cmd](std::size_t i, reply_callback one) {
                set({"SET", cmd[i], cmd[i + 1]}, std::move(one));
            },
            std::move(done));
    }

    // DBSIZE, SCAN and KEYS read this node's own copy, no quorum: the keys it holds a live value
    // of (not tombstones), as they are here now (docs/capkit-kv.md).
    static bool live(const typename replica_type::state& s) {
        if constexpr (serial_preset) {
            return s.value.has_value();
        } else if constexpr (crdt_preset) {
            return true;
        } else {
            return !capkit::detail::is_tombstone<resolver>(s);
        }
    }
    std::vector<std::string> live_keys() const {
        std::vector<std::string> out;
        node_.replica().for_each([&](const key_type& key, const auto& s) {
            if (!live(s)) return;
            if constexpr (std::is_same_v<key_type, std::string>)
                out.push_back(key);
            else
                out.push_back(std::to_string(key));
        });
        std::ranges::sort(out);
        return out;
    }

    void dbsize(const resp::command&, reply_callback done) {
        done(integer(static_cast<std::int64_t>(live_keys().size())));
    }

    void keys(const resp::command& cmd, reply_callback done) {
        std::vector<std::string> found;
        for (auto& k : live_keys())
            if (glob_match(cmd[1], k)) found.push_back(std::move(k));
        done(bulk_array(found));
    }

    // SCAN cursor [MATCH pattern] [COUNT n] [TYPE string]: the cursor is a position in this
    // node's live keys in byte order, so a key present for the whole scan is returned once,
    // and one written or deleted meanwhile may or may not be (Redis's guarantee).
    void scan(const resp::command& cmd, reply_callback done) {
        auto cursor = resp::to_integer<std::uint64_t>(cmd[1]);
        if (!cursor) return done(error("ERR invalid cursor"));
        std::string pattern = "*";
        std::uint64_t count = 10;
        for (std::size_t i = 2; i < cmd.size(); i += 2) {
            std::string option = upper(cmd[i]);
            if (i + 1 >= cmd.size()) return done(error("ERR syntax error"));
            if (option == "MATCH") {
                pattern = cmd[i + 1];
            } else if (option == "COUNT") {
                auto c = resp::to_integer<std::uint64_t>(cmd[i + 1]);
                if (!c || *c == 0)
                    return done(error("ERR value is out of range, must be positive"));
                count = *c;
            } else if (option == "TYPE") {
                if (lower(cmd[i + 1]) != "string") pattern.clear();  // only strings here
            } else {
                return done(error("ERR syntax error"));
            }
        }
        auto all = live_keys();
        std::vector<std::string> found;
        std::uint64_t at = std::min<std::uint64_t>(*cursor, all.size());
        std::uint64_t seen = 0;
        for (; at < all.size() && seen < count; ++at, ++seen)
            if (!pattern.empty() && glob_match(pattern, all[at])) found.push_back(all[at]);
        std::string out;
        resp::encoder(out).array(2).bulk_string(std::to_string(at < all.size() ? at : 0));
        out += bulk_array(found);
        done(std::move(out));
    }

    static std::string bulk_array(const std::vector<std::string>& items) {
        std::string out;
        resp::encoder e(out);
        e.array(items.size());
        for (const auto& i : items) e.bulk_string(i);
        return out;
    }

    // Redis's glob: * any run, ? any byte, [abc], [^a], [a-z], and a backslash quoting the
    // next byte.
    static bool glob_match(std::string_view p, std::string_view s) {
        std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
        while (si < s.size()) {
            if (pi < p.size() && p[pi] == '*') {
                star = pi++;
                mark = si;
                continue;
            }
            if (pi < p.size()) {
                std::size_t next = pi;
                if (one_matches(p, next, s[si])) {
                    pi = next;
                    ++si;
                    continue;
                }
            }
            if (star == std::string_view::npos) return false;
            pi = star + 1;
            si = ++mark;
        }
        while (pi < p.size() && p[pi] == '*') ++pi;
        return pi == p.size();
    }
    // Whether the pattern element at `pi` matches byte `c`; moves `pi` past the element.
    static bool one_matches(std::string_view p, std::size_t& pi, char c) {
        if (p[pi] == '?') {
            ++pi;
            return true;
        }
        if (p[pi] == '\\' && pi + 1 < p.size()) {
            pi += 2;
            return p[pi - 1] == c;
        }
        if (p[pi] != '[') return p[pi++] == c;
        std::size_t i = pi + 1;
        bool negate = i < p.size() && p[i] == '^';
        if (negate) ++i;
        bool hit = false;
        while (i < p.size() && p[i] != ']') {
            if (p[i] == '\\' && i + 1 < p.size()) {
                hit |= p[i + 1] == c;
                i += 2;
            } else if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
                auto lo = std::min(p[i], p[i + 2]), hi = std::max(p[i], p[i + 2]);
                hit |= c >= lo && c <= hi;
                i += 3;
            } else {
                hit |= p[i++] == c;
            }
        }
        pi = i < p.size() ? i + 1 : i;  // past the ']' (an unclosed class runs to the end)
        return hit != negate;
    }

    // Joins the per-key requests of DEL and EXISTS: the count, or the first key's failure.
    struct fan_in {
        std::size_t left = 0;
        std::int64_t count = 0;
        std::vector<std::optional<std::string>> failures;
        reply_callback done;
        void settle(std::size_t i, std::optional<std::string> failed, bool counted) {
            if (failed) failures[i] = std::move(failed);
            if (counted) ++count;
            if (--left != 0) return;
            for (auto& f : failures)
                if (f) return done(std::move(*f));
            done(integer(count));
        }
    };

    template <class PerKey>
    void for_each_key(const resp::command& cmd, reply_callback done, PerKey per_key) {
        std::vector<key_type> keys;
        for (std::size_t i = 1; i < cmd.size(); ++i) {
            std::string why;
            auto key = parse_key(cmd[i], why);
            if (!key) return done(error(why));
            keys.push_back(std::move(*key));
        }
        auto join = std::make_shared<fan_in>();
        join->left = keys.size();
        join->failures.resize(keys.size());
        join->done = std::move(done);
        for (std::size_t i = 0; i < keys.size(); ++i) per_key(keys[i], join, i);
    }

    void exists(const resp::command& cmd, reply_callback done) {
        for_each_key(cmd, std::move(done),
                     [this](const key_type& key, std::shared_ptr<fan_in> join, std::size_t i) {
                         node_.async_get(
                             key, [this, join, i](result<typename Node::read_result> r) {
                                 if (!r.has_value())
                                     return join->settle(i, failure(r.error(), false), false);
                                 join->settle(i, std::nullopt, r->found());
                             });
                     });
    }

    void del(const resp::command& cmd, reply_callback done) {
        if constexpr (crdt_preset) {
            return done(needs("DEL", "a register preset such as cp-serial, strong-lww or ap-lww",
                              ", whose CRDT keys cannot be deleted (a merge would bring them "
                              "back)"));
        } else {
            // Read, then delete over what the read saw: the reply counts the keys found, and the
            // deletion supersedes every sibling read. The delete is sent even for a key not
            // found: a read of R < N replicas may miss a value that others hold.
            for_each_key(
                cmd, std::move(done),
                [this](const key_type& key, std::shared_ptr<fan_in> join, std::size_t i) {
                    node_.async_get(
                        key, [this, key, join, i](result<typename Node::read_result> r) {
                            if (!r.has_value())
                                return join->settle(i, failure(r.error(), false), false);
                            bool found = r->found();
                            node_.async_remove(
                                key, r->context,
                                [this, join, i, found](result<typename Node::write_result> w) {
                                    if (!w.has_value())
                                        return join->settle(i, failure(w.error(), true), false);
                                    join->settle(i, std::nullopt, found);
                                });
                        });
                });
        }
    }

    void incr(const resp::command& cmd, reply_callback done) {
        std::string name = upper(cmd[0]);
        if constexpr (!counter_preset) {
            return done(needs(name, "a counter preset such as ap-crdt-counter", register_kind()));
        } else {
            bool down = name == "DECR" || name == "DECRBY";
            std::int64_t by = 1;
            if (cmd.size() == 3) {
                auto parsed = resp::to_integer<std::int64_t>(cmd[2]);
                if (!parsed) return done(error("ERR value is not an integer or out of range"));
                by = *parsed;
            }
            if (down) {
                if (by == std::numeric_limits<std::int64_t>::min())
                    return done(error("ERR decrement would overflow"));
                by = -by;
            }
            if (by < 0 && !decrementing_counter)
                return done(needs(name + (down ? "" : " with a negative increment"),
                                  "a counter that can decrease (a pn_counter under crdt_merge)",
                                  ", a grow-only g_counter"));
            std::string why;
            auto key = parse_key(cmd[1], why);
            if (!key) return done(error(why));
            node_.async_update(
                *key,
                [by](value_type& counter, node_id self) {
                    // The magnitude, computed without negating INT64_MIN.
                    auto magnitude = by < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(by)
                                            : static_cast<std::uint64_t>(by);
                    if constexpr (decrementing_counter) {
                        if (by < 0) return counter.decrement(self, magnitude);
                    }
                    counter.increment(self, magnitude);
                },
                [this, done = std::move(done)](result<typename Node::update_result> r) {
                    if (!r.has_value()) return done(failure(r.error(), true));
                    done(integer(static_cast<std::int64_t>(r->value())));
                });
        }
    }

    void cas(const resp::command& cmd, reply_callback done) {
        std::string name = upper(cmd[0]);
        if constexpr (!serial_preset) {
            return done(needs(name, "a serial preset such as cp-serial", register_kind()));
        } else {
            // CAS key expected new, or SETNX key value (expected: absent).
            bool setnx = name == "SETNX";
            std::string why;
            auto key = parse_key(cmd[1], why);
            std::optional<value_type> expected;
            if (key && !setnx) {
                expected = parse_value(cmd[2], why);
                if (!expected) key.reset();
            }
            auto desired = key ? parse_value(cmd[setnx ? 2 : 3], why) : std::nullopt;
            if (!key || !desired) return done(error(why));
            node_.async_compare_and_set(
                *key, std::move(expected), std::move(desired),
                [this, done = std::move(done)](result<typename Node::write_result> r) {
                    if (r.has_value()) return done(integer(1));
                    if (r.error() == errc::precondition_failed) return done(integer(0));
                    done(failure(r.error(), true));
                });
        }
    }

    // A causal context as a printable token: the wire codec's bytes, in lowercase hex.
    static std::string encode_context(const context& ctx) {
        std::vector<std::byte> bytes;
        wire::encode(ctx, bytes);
        static constexpr char hex[] = "0123456789abcdef";
        std::string out;
        out.reserve(2 * bytes.size());
        for (auto b : bytes) {
            auto u = std::to_integer<unsigned>(b);
            out += hex[u >> 4];
            out += hex[u & 15];
        }
        return out;
    }
    static std::optional<context> decode_context(std::string_view token, std::string& why) {
        if (token.size() % 2 != 0) {
            why = "ERR bad context: an odd number of hex digits; pass the token GETCTX returned";
            return std::nullopt;
        }
        std::vector<std::byte> bytes;
        bytes.reserve(token.size() / 2);
        for (std::size_t i = 0; i < token.size(); i += 2) {
            int hi = resp::hex_digit(token[i]), lo = resp::hex_digit(token[i + 1]);
            if (hi < 0 || lo < 0) {
                why = "ERR bad context: not hexadecimal; pass the token GETCTX returned";
                return std::nullopt;
            }
            bytes.push_back(static_cast<std::byte>(hi * 16 + lo));
        }
        auto decoded = wire::decode<context>(std::span<const std::byte>(bytes));
        if (!decoded.has_value()) {
            why = "ERR bad context: " + decoded.error().message();
            return std::nullopt;
        }
        return std::move(*decoded);
    }

    void getctx(const resp::command& cmd, reply_callback done) {
        if constexpr (!sibling_preset) {
            return done(
                needs("GETCTX", "a sibling preset such as ap-dvv or ap-vclock", register_kind()));
        } else {
            std::string why;
            auto key = parse_key(cmd[1], why);
            if (!key) return done(error(why));
            node_.async_get(
                *key, [this, done = std::move(done)](result<typename Node::read_result> r) {
                    if (!r.has_value()) return done(failure(r.error(), false));
                    std::string out;
                    resp::encoder e(out);
                    e.array(1 + r->values.size()).bulk_string(encode_context(r->context));
                    for (const auto& v : r->values) e.bulk_string(show(v));
                    done(std::move(out));
                });
        }
    }

    void setctx(const resp::command& cmd, reply_callback done) {
        if constexpr (!sibling_preset) {
            return done(
                needs("SETCTX", "a sibling preset such as ap-dvv or ap-vclock", register_kind()));
        } else {
            std::string why;
            auto key = parse_key(cmd[1], why);
            auto ctx = key ? decode_context(cmd[2], why) : std::nullopt;
            auto value = ctx ? parse_value(cmd[3], why) : std::nullopt;
            if (!key || !ctx || !value) return done(error(why));
            put(*key, std::move(*value), *ctx, std::move(done));
        }
    }

    Node& node_;
    executor_options options_;
    command_stats stats_;
};

/// One client connection, sans-I/O: bytes in, reply bytes out. Replies go out in the order the
/// commands came, as Redis sends them. A command starts once no earlier command of the
/// connection on one of its keys is unanswered: a pipelined GET sees the SET of its key before
/// it, as in Redis, while commands on other keys run meanwhile, so a pipeline of sixteen costs
/// about one quorum round trip, not sixteen. Reordering those is sound: the client has seen no
/// reply yet, so the commands are concurrent to it, and any order of concurrent operations keeps
/// every consistency level's promise. The server feeds what it reads to receive(), writes what
/// take_output() gives, stops reading while busy() holds many commands, and closes once
/// closing() is true and the output is written (after QUIT or malformed input, whose
/// `-ERR Protocol error: ...` is the last reply).
template <class Node>
class session {
public:
    /// `exec` must outlive the session; the session may go first (its pending replies are then
    /// dropped). `on_output` is called when replies became ready outside receive().
    explicit session(executor<Node>& exec, resp::limits limits = {},
                     std::function<void()> on_output = {})
        : exec_(exec), parser_(limits), on_output_(std::move(on_output)) {}
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// Takes bytes read from the client (any split); starts the commands they complete.
    void receive(std::string_view bytes) {
        if (last_received_) return;  // after QUIT or malformed input nothing more is read
        for (bool more = true; more;) {
            switch (parser_.parse(bytes)) {
                case resp::status::command: {
                    entry& e = queue_.emplace_back();
                    e.cmd = parser_.take();
                    e.keys = executor<Node>::keys_of(e.cmd);
                    ++unstarted_;
                    e.closes = executor<Node>::closes_connection(e.cmd);
                    if (e.closes) {
                        last_received_ = true;
                        more = false;
                    }
                    break;
                }
                case resp::status::need_more:
                    more = false;
                    break;
                case resp::status::error: {
                    // The error's reply takes its place in line, after the earlier replies.
                    entry& e = queue_.emplace_back();
                    e.started = e.answered = e.closes = true;
                    e.reply = "-ERR " + parser_.error() + "\r\n";
                    last_received_ = true;
                    more = false;
                    break;
                }
            }
        }
        pump();
    }

    /// The reply bytes produced so far, to write in one go.
    std::string take_output() { return std::exchange(output_, {}); }
    bool has_output() const noexcept { return !output_.empty(); }
    /// Commands received and not yet answered (those running included).
    std::size_t busy() const noexcept { return queue_.size(); }
    /// True once the connection must close after its output is written.
    bool closing() const noexcept { return closing_ && queue_.empty(); }

private:
    struct entry {
        resp::command cmd;
        std::span<const std::string> keys;  // within cmd, found once
        bool started = false, answered = false, closes = false;
        std::string reply;
    };

    // Starts what may start and moves the replies at the front of the line to the output. A
    // reply that comes at once (inside execute) only marks its entry: the loop goes round again,
    // so the line is never popped while it is being walked.
    void pump() {
        if (pumping_) {
            repump_ = true;
            return;
        }
        pumping_ = true;
        do {
            repump_ = false;
            emit();
            start_ready();
        } while (repump_);
        emit();
        pumping_ = false;
    }

    void start_ready() {
        if (unstarted_ == 0) return;  // nothing waits for a key: nothing to walk
        claimed_.clear();
        // Indexes, not iterators: execute() may answer at once, which only marks the entry.
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            entry& e = queue_[i];
            if (e.answered) continue;
            bool blocked = !e.started && std::ranges::any_of(e.keys, [&](const std::string& k) {
                return claimed_.contains(k);
            });
            for (const auto& k : e.keys) claimed_.insert(k);
            if (e.started || blocked) continue;
            e.started = true;
            --unstarted_;
            if (auto reply = about_this_connection(e.cmd)) {
                e.reply = std::move(*reply);
                e.answered = true;
                repump_ = true;
                continue;
            }
            std::weak_ptr<bool> alive = alive_;
            exec_.execute(e.cmd, [this, alive, &e](std::string&& reply) {
                if (alive.expired()) return;
                e.reply = std::move(reply);
                e.answered = true;
                if (pumping_) {
                    repump_ = true;
                } else {
                    pump();
                    if (on_output_ && !output_.empty()) on_output_();
                }
            });
        }
    }

    // CLIENT and HELLO are about this connection: answered here, where its name is kept.
    std::optional<std::string> about_this_connection(const resp::command& cmd) {
        std::string name = upper(cmd.front());
        if (name != "CLIENT" && name != "HELLO") return std::nullopt;
        std::string out;
        resp::encoder e(out);
        if (name == "HELLO") {
            std::size_t i = 1;
            if (cmd.size() > 1) {
                auto version = resp::to_integer<std::int64_t>(cmd[1]);
                if (!version) {
                    e.error("ERR Protocol version is not an integer or out of range");
                    return out;
                }
                if (*version != 2) {
                    e.error(
                        "NOPROTO sorry, this protocol version is not supported; capkit-kv "
                        "speaks RESP2 (HELLO 2)");
                    return out;
                }
                i = 2;
            }
            for (; i < cmd.size(); ++i) {
                std::string option = upper(cmd[i]);
                if (option == "SETNAME" && i + 1 < cmd.size() && valid_name(cmd[i + 1])) {
                    client_name_ = cmd[++i];
                } else if (option == "SETNAME" && i + 1 < cmd.size()) {
                    e.error(bad_name);
                    return out;
                } else if (option == "AUTH") {
                    e.error(
                        "ERR AUTH is not supported: capkit-kv clients authenticate with TLS "
                        "certificates (docs/capkit-kv.md)");
                    return out;
                } else {
                    e.error("ERR Syntax error in HELLO option '" + cmd[i].substr(0, 64) + "'");
                    return out;
                }
            }
            e.array(14).bulk_string("server").bulk_string("capkit-kv").bulk_string("version");
            e.bulk_string("1.0.0").bulk_string("proto").integer(2).bulk_string("id");
            e.integer(static_cast<std::int64_t>(id_)).bulk_string("mode");
            e.bulk_string("standalone").bulk_string("role").bulk_string("master");
            e.bulk_string("modules").array(0);
            return out;
        }
        const std::string sub = cmd.size() > 1 ? upper(cmd[1]) : std::string();
        const std::size_t words = cmd.size();
        if (sub == "SETNAME" && words == 3 && valid_name(cmd[2])) {
            client_name_ = cmd[2];
            e.simple_string("OK");
        } else if (sub == "SETNAME" && words == 3) {
            e.error(bad_name);
        } else if (sub == "GETNAME" && words == 2) {
            if (client_name_.empty())
                e.null_bulk();
            else
                e.bulk_string(client_name_);
        } else if (sub == "SETINFO" && words == 4) {
            const std::string attr = upper(cmd[2]);
            if (attr == "LIB-NAME" || attr == "LIB-VER")
                e.simple_string("OK");
            else
                e.error("ERR Unrecognized option '" + cmd[2].substr(0, 64) + "'");
        } else if (sub == "ID" && words == 2) {
            e.integer(static_cast<std::int64_t>(id_));
        } else if ((sub == "INFO" && words == 2) || (sub == "LIST" && words >= 2)) {
            e.bulk_string("id=" + std::to_string(id_) + " name=" + client_name_ + " db=0 resp=2\n");
        } else if ((sub == "NO-EVICT" || sub == "NO-TOUCH") && words == 3) {
            e.simple_string("OK");
        } else if (sub.empty() || sub == "SETNAME" || sub == "GETNAME" || sub == "SETINFO" ||
                   sub == "ID" || sub == "INFO") {
            e.error("ERR wrong number of arguments for 'client|" + lower(sub) + "' command");
        } else {
            e.error("ERR unknown subcommand '" + cmd[1].substr(0, 64) + "'. Try CLIENT HELP.");
        }
        return out;
    }
    static constexpr std::string_view bad_name =
        "ERR Client names cannot contain spaces, newlines or special characters.";
    static bool valid_name(std::string_view n) {
        return std::ranges::all_of(n, [](char c) { return c > ' ' && c <= '~'; });
    }
    static std::string upper(std::string_view s) { return ascii_case(s, true); }
    static std::string lower(std::string_view s) { return ascii_case(s, false); }

    void emit() {
        while (!queue_.empty() && queue_.front().answered) {
            output_ += queue_.front().reply;
            if (queue_.front().closes) closing_ = true;
            queue_.pop_front();  // deque: the other entries stay where they are
        }
    }

    executor<Node>& exec_;
    resp::parser parser_;
    std::function<void()> on_output_;
    std::deque<entry> queue_;  // received and not yet replied, in order
    std::unordered_set<std::string_view> claimed_;
    std::string output_;
    std::size_t unstarted_ = 0;  // command entries not yet handed to the executor
    bool pumping_ = false, repump_ = false, closing_ = false, last_received_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::string client_name_;  // CLIENT SETNAME
    std::uint64_t id_ = next_id();

    static std::uint64_t next_id() {
        static std::atomic<std::uint64_t> ids{0};
        return ++ids;
    }
};

}  // namespace capkit::kv
