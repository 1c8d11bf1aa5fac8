// SPDX-License-Identifier: MIT
// capkit-kv: a replicated key-value server whose clients speak the Redis protocol, and a small
// client. `capkit-kv serve` runs one replica of a preset from the lab's catalogue; `capkit-kv
// presets` lists them; `capkit-kv put|get|del|cas` talk to a server as redis-cli would.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/hana/length.hpp>

#include <capkit/policy/describe.hpp>
#include <capkit/presets.hpp>
#include <capkit/transport/tls.hpp>

#include <capkit-kv/commands.hpp>
#include <capkit-kv/resp.hpp>
#include <capkit-kv/serve.hpp>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

using capkit::kv::cli::refused_exit;
using capkit::kv::cli::unreachable_exit;
using capkit::kv::cli::usage_error;
using capkit::kv::cli::usage_exit;

// The catalogue's presets, served from the translation units CMake generated (serve_preset.hpp)
// after counting them in capkit/presets.hpp.
constexpr std::size_t preset_count = boost::hana::length(capkit::lab::presets);
static_assert(preset_count == CAPKIT_KV_PRESETS,
              "capkit-kv: tools/CMakeLists.txt generated a serve_preset file for another count of "
              "presets than capkit::lab::presets holds; reconfigure, and if the count is still "
              "wrong, fix how tools/CMakeLists.txt counts them");

capkit::tcp_address address(const std::string& text, const std::string& what) {
    auto a = capkit::parse_tcp_address(text);
    if (!a) throw usage_error(what + ": '" + text + "' is not HOST:PORT");
    return *a;
}

// "0=HOST:PORT,1=HOST:PORT,..." (this node's own entry may be there; it is skipped).
std::map<capkit::node_id, capkit::tcp_address> parse_peers(const std::string& text,
                                                           capkit::node_id self) {
    std::map<capkit::node_id, capkit::tcp_address> peers;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            throw usage_error("--peers: '" + item + "' is not ID=HOST:PORT");
        capkit::node_id id = 0;
        try {
            std::size_t used = 0;
            unsigned long v = std::stoul(item.substr(0, eq), &used);
            if (used != eq || v > 1000) throw std::invalid_argument("id");
            id = static_cast<capkit::node_id>(v);
        } catch (const std::exception&) {
            throw usage_error("--peers: '" + item.substr(0, eq) + "' is not a node id");
        }
        if (peers.contains(id))
            throw usage_error("--peers names node " + std::to_string(id) + " twice");
        auto a = address(item.substr(eq + 1), "--peers entry for node " + std::to_string(id));
        if (id != self) peers[id] = a;
    }
    return peers;
}

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    auto a = asio::ip::make_address(host, ec);
    return !ec && a.is_loopback();
}

capkit::log_level parse_level(const std::string& s) {
    if (s == "error") return capkit::log_level::error;
    if (s == "warn") return capkit::log_level::warn;
    if (s == "info") return capkit::log_level::info;
    if (s == "debug") return capkit::log_level::debug;
    throw usage_error("--log-level: '" + s + "' is not one of error, warn, info, debug");
}

// One line per event on stderr: UTC time, level, node, what happened.
capkit::tcp_logger make_logger(capkit::node_id id, capkit::log_level threshold) {
    return [id, threshold](capkit::log_level level, const std::string& line) {
        if (level > threshold) return;
        auto now = std::chrono::system_clock::now();
        std::time_t t = std::chrono::system_clock::to_time_t(now);
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
        std::tm tm{};
        gmtime_r(&t, &tm);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
        std::fprintf(stderr, "%s.%03d %-5s node %u: %s\n", stamp, int(ms.count()),
                     std::string(capkit::to_string(level)).c_str(), unsigned(id), line.c_str());
    };
}

// --tls-ca, --tls-cert, --tls-key: all three or none.
struct tls_args {
    std::string ca, cert, key;

    std::optional<capkit::tls_security> load() const {
        if (ca.empty() && cert.empty() && key.empty()) return {};
        for (auto [flag, value] : {std::pair{"--tls-ca", &ca}, std::pair{"--tls-cert", &cert},
                                   std::pair{"--tls-key", &key}})
            if (value->empty())
                throw usage_error(std::string(flag) +
                                  " is missing: TLS needs --tls-ca, --tls-cert and --tls-key");
        try {
            return capkit::tls_security({ca, cert, key});
        } catch (const std::runtime_error& e) {
            throw usage_error(e.what());
        }
    }
};

void add_tls_options(CLI::App* app, tls_args& t, const char* whose) {
    app->add_option("--tls-ca", t.ca, "PEM file of the cluster CA: turns TLS on");
    app->add_option("--tls-cert", t.cert, std::string("PEM file of ") + whose);
    app->add_option("--tls-key", t.key, "PEM file of its private key");
}

#if CAPKIT_KV_ROCKSDB
using capkit::kv::cli::sync_choice;
sync_choice parse_sync(const std::string& s) {
    if (s == "always") return {capkit::rocksdb_storage::every_write{}};
    if (s == "never") return {capkit::rocksdb_storage::none{}};
    if (s == "periodic") return {capkit::rocksdb_storage::periodic{}};
    auto ms_after = [&](std::string_view prefix) -> std::optional<std::chrono::milliseconds> {
        if (!s.starts_with(prefix)) return std::nullopt;
        std::string_view ms = std::string_view(s).substr(prefix.size());
        unsigned v = 0;
        auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), v);
        if (ec == std::errc{} && end == ms.data() + ms.size() && v > 0)
            return std::chrono::milliseconds(v);
        return std::nullopt;
    };
    if (auto ms = ms_after("periodic:")) return {capkit::rocksdb_storage::periodic{*ms}};
    if (auto ms = ms_after("group:")) return {capkit::rocksdb_storage::none{}, *ms};
    throw usage_error("--sync: '" + s +
                      "' is not always, periodic:MS, group:MS (MS at least 1) or never");
}
#endif

struct serve_args {
    unsigned id = 0;
    std::string listen, client, peers, preset, log_level = "info";
    std::string data, sync;  // --data DIR, --sync POLICY
    bool insecure = false;
    tls_args tls;
    unsigned request_timeout_ms = 1000, peer_timeout_ms = 500, anti_entropy_ms = 1000;
    std::uint64_t tombstone_grace_ms = 0;
    std::size_t max_clients = 10000;
    std::string catch_up = "always";
};

int serve(const serve_args& a) {
    capkit::kv::cli::serve_plan plan;
    auto& o = plan.options;
    plan.preset = a.preset;
    plan.data = a.data;
    o.id = static_cast<capkit::node_id>(a.id);
    o.listen = address(a.listen, "--listen");
    o.client = address(a.client, "--client");
    o.peers = parse_peers(a.peers, o.id);
    o.preset = a.preset;
    o.replica.request_timeout = std::chrono::milliseconds(a.request_timeout_ms);
    o.transport.peer_timeout = std::chrono::milliseconds(a.peer_timeout_ms);
    o.replica.anti_entropy.interval = std::chrono::milliseconds(a.anti_entropy_ms);
    o.replica.tombstone_gc.grace = std::chrono::milliseconds(a.tombstone_grace_ms);
    o.max_clients = a.max_clients;
    if (a.catch_up == "always")
        o.replica.catch_up.when = capkit::catch_up_when::always;
    else if (a.catch_up == "never")
        o.replica.catch_up.when = capkit::catch_up_when::never;
    else
        throw usage_error("--catch-up " + a.catch_up +
                          ": say always (the default: a node that starts with no keys fetches "
                          "them from its peers before it serves) or never (it serves at once, "
                          "and may read stale data if it lost what it had acknowledged)");
    auto level = parse_level(a.log_level);
    plan.logger = make_logger(o.id, level);
    if (a.data.empty() && !a.sync.empty())
        throw usage_error("--sync " + a.sync +
                          " needs --data DIR: without it the node keeps its keys in memory only, "
                          "so there is nothing to sync");
#if CAPKIT_KV_ROCKSDB
    plan.sync_text = a.sync.empty() ? "always" : a.sync;
    plan.sync = parse_sync(plan.sync_text);
    if (!a.data.empty()) {
        o.storage = "rocksdb sync=" + plan.sync_text + " dir=" + a.data;
        o.replica.group_commit.window = plan.sync.group_window;
    }
#else
    if (!a.data.empty())
        throw usage_error("--data " + a.data +
                          ": this capkit-kv was built without RocksDB (librocksdb and its headers "
                          "were not found when it was configured), so it cannot keep its keys on "
                          "disk; install librocksdb-dev and build it again, or leave out --data "
                          "to keep the keys in memory");
#endif
    plan.tls = a.tls.load();
    const auto& tls = plan.tls;
    if (tls && tls->identity() != capkit::tls_identity{capkit::tls_identity::role::node, o.id, {}})
        throw usage_error("--tls-cert " + a.tls.cert + " names " + tls->identity().to_string() +
                          ", not node " + std::to_string(o.id) +
                          ": peers would refuse it (each node's certificate carries the URI "
                          "capkit://node/ID)");

    // Plain TCP only where nobody else can listen in, unless the user says otherwise.
    std::vector<std::string> exposed;
    if (!is_loopback(o.listen.host)) exposed.push_back(o.listen.to_string());
    if (!is_loopback(o.client.host)) exposed.push_back(o.client.to_string());
    for (const auto& [id, p] : o.peers)
        if (!is_loopback(p.host)) exposed.push_back(p.to_string());
    if (!exposed.empty() && !a.insecure && !tls)
        throw usage_error("refusing plain TCP on " + exposed.front() +
                          ", which is not a loopback address: give --tls-ca, --tls-cert and "
                          "--tls-key, or pass --insecure to accept unencrypted, unauthenticated "
                          "traffic on a network you trust");

    const auto names = capkit::lab::preset_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] != a.preset) continue;
        static constexpr auto table =
            capkit::kv::cli::serve_table(std::make_index_sequence<preset_count>{});
        return table[i](plan);
    }
    throw usage_error("no preset called " + a.preset + " (capkit-kv presets lists them)");
}

int presets() {
    for (const auto& name : capkit::lab::preset_names()) {
        capkit::kv::with_preset(name, [&](auto t) {
            using replica = typename decltype(t)::type;
            std::cout << name << "\n    " << capkit::describe<typename replica::config>()
                      << "\n    " << capkit::lab::preset_description(name) << '\n';
        });
    }
    return 0;
}

// The client side: one command, one reply, printed as redis-cli prints it.
struct reply {
    char type = '+';
    std::string text;  // simple, error, integer, bulk
    bool null = false;
    std::vector<reply> items;
};

template <class Stream>
reply read_reply(Stream& s, asio::streambuf& buf) {
    auto line = [&] {
        asio::read_until(s, buf, "\r\n");
        std::istream in(&buf);
        std::string l;
        std::getline(in, l);
        if (!l.empty() && l.back() == '\r') l.pop_back();
        return l;
    };
    std::string head = line();
    if (head.empty()) throw std::runtime_error("the server sent an empty line");
    reply r;
    r.type = head[0];
    r.text = head.substr(1);
    if (r.type == '$' || r.type == '*') {
        long long n = std::stoll(r.text);
        if (n < 0) {
            r.null = true;
        } else if (r.type == '$') {
            std::size_t want = static_cast<std::size_t>(n) + 2;
            if (buf.size() < want) asio::read(s, buf, asio::transfer_exactly(want - buf.size()));
            std::string data(static_cast<std::size_t>(n), '\0');
            std::istream in(&buf);
            in.read(data.data(), n);
            buf.consume(2);
            r.text = std::move(data);
        } else {
            for (long long i = 0; i < n; ++i) r.items.push_back(read_reply(s, buf));
        }
    }
    return r;
}

void print(const reply& r, const std::string& indent = "") {
    switch (r.type) {
        case '$':
            std::cout << (r.null ? "(nil)" : r.text) << '\n';
            break;
        case ':':
            std::cout << "(integer) " << r.text << '\n';
            break;
        case '*':
            if (r.null || r.items.empty()) std::cout << "(empty array)\n";
            for (std::size_t i = 0; i < r.items.size(); ++i) {
                std::cout << indent << i + 1 << ") ";
                print(r.items[i], indent + "   ");
            }
            break;
        default:
            std::cout << r.text << '\n';
    }
}

// Sends one command and prints its reply; the exit code.
template <class Stream>
int exchange(Stream& s, const capkit::tcp_address& a, const std::vector<std::string>& command) {
    std::string out;
    capkit::kv::resp::encoder enc(out);
    enc.array(command.size());
    for (const auto& w : command) enc.bulk_string(w);
    asio::streambuf buf;
    reply r;
    try {
        // Under TLS 1.3 a server that refuses this client's certificate says so only now.
        asio::write(s, asio::buffer(out));
        r = read_reply(s, buf);
    } catch (const std::exception& e) {
        std::cerr << "capkit-kv: no reply from " << a.to_string() << ": " << e.what() << '\n';
        return unreachable_exit;
    }
    if (r.type == '-') {
        std::cerr << "capkit-kv: " << command.front() << " failed: " << r.text << '\n';
        return refused_exit;
    }
    print(r);
    return 0;
}

int client(const std::string& server, const tls_args& tls_files,
           const std::vector<std::string>& command) {
    auto a = address(server, "--server");
    auto tls = tls_files.load();
    if (tls && tls->identity().kind != capkit::tls_identity::role::client)
        throw usage_error("--tls-cert " + tls_files.cert + " names " + tls->identity().to_string() +
                          ", not a client: servers admit client certificates "
                          "(capkit://client/NAME) on their client ports");
    asio::io_context io;
    tcp::socket s(io);
    try {
        tcp::resolver resolver(io);
        asio::connect(s, resolver.resolve(a.host, std::to_string(a.port)));
    } catch (const boost::system::system_error& e) {
        std::cerr << "capkit-kv: cannot reach " << a.to_string() << ": " << e.code().message()
                  << '\n';
        return unreachable_exit;
    }
    if (!tls) return exchange(s, a, command);
    auto stream = tls->wrap(std::move(s));
    if (auto refusal = tls->connect_to_node(stream)) {
        std::cerr << "capkit-kv: refusing " << a.to_string() << ": " << *refusal << '\n';
        return unreachable_exit;
    }
    return exchange(stream, a, command);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"capkit-kv: a replicated key-value server for Redis clients, and its client"};
    app.require_subcommand(1);

    serve_args sa;
    auto* serve_cmd = app.add_subcommand("serve", "run one replica of a cluster");
    serve_cmd->add_option("--id", sa.id, "this node's id (0..N-1)")->required();
    serve_cmd->add_option("--listen", sa.listen, "HOST:PORT for peers")->required();
    serve_cmd->add_option("--client", sa.client, "HOST:PORT for Redis clients")->required();
    serve_cmd->add_option("--peers", sa.peers, "every node: 0=HOST:PORT,1=HOST:PORT,...")
        ->required();
    serve_cmd->add_option("--preset", sa.preset, "a preset from `capkit-kv presets`")->required();
    serve_cmd->add_option("--log-level", sa.log_level, "error, warn, info (default) or debug");
    serve_cmd->add_option("--request-timeout-ms", sa.request_timeout_ms,
                          "how long a request waits for its quorum (default 1000)");
    serve_cmd->add_option("--peer-timeout-ms", sa.peer_timeout_ms,
                          "silence after which a peer is reported down (default 500)");
    serve_cmd->add_option("--anti-entropy-ms", sa.anti_entropy_ms,
                          "time between Merkle-tree comparisons with the next peer, which repair "
                          "the keys nobody reads (default 1000; 0: off; serial presets ignore it)");
    serve_cmd
        ->add_option("--max-clients", sa.max_clients,
                     "clients connected at once; one more is refused with -ERR (default 10000)")
        ->check(CLI::PositiveNumber);
    serve_cmd->add_option(
        "--catch-up", sa.catch_up,
        "always (default): a node that starts with no keys (in memory, or on a new --data "
        "directory) fetches them from its peers before it counts toward a quorum, as it may "
        "have lost what it acknowledged; a new cluster serves once every node has started. "
        "never: serve at once (strong, linearizable and serial presets may then read stale "
        "data after a restart without data)");
    serve_cmd->add_option("--tombstone-grace-ms", sa.tombstone_grace_ms,
                          "erase a deleted key's tombstones once every replica holds them and "
                          "they are this old (default 0: kept for ever; lww presets only)");
    serve_cmd->add_option("--data", sa.data,
                          "keep the keys in RocksDB in this directory (created if missing) and "
                          "recover them on restart (default: in memory only)");
    serve_cmd->add_option("--sync", sa.sync,
                          "with --data, when a write is fsynced: always (before it is "
                          "acknowledged; the default), periodic:MS (every MS milliseconds, "
                          "acknowledged before), group:MS (group commit: every MS at most, "
                          "acknowledged after), never (left to the operating system)");
    serve_cmd->add_flag("--insecure", sa.insecure,
                        "accept plain TCP on addresses that are not loopback");

    app.add_subcommand("presets", "list the presets a server can run");

    std::string server = "127.0.0.1:6379";
    std::vector<std::string> words;
    tls_args client_tls;
    add_tls_options(serve_cmd, sa.tls, "this node's certificate (URI capkit://node/ID)");
    struct client_cmd {
        const char* name;
        const char* redis;  // the command it sends
        const char* help;
        std::size_t args;
    };
    static const client_cmd commands[] = {
        {"put", "SET", "put KEY VALUE: set a key", 2},
        {"get", "GET", "get KEY: read a key", 1},
        {"del", "DEL", "del KEY: delete a key", 1},
        {"cas", "CAS", "cas KEY EXPECTED NEW: compare and set (serial presets)", 3}};
    std::vector<std::pair<const client_cmd*, CLI::App*>> client_apps;
    for (const auto& c : commands) {
        auto* sub = app.add_subcommand(c.name, c.help);
        sub->add_option("--server", server, "HOST:PORT of a server's client listener");
        sub->add_option("args", words, "arguments")->required()->expected(int(c.args));
        add_tls_options(sub, client_tls, "a client certificate (URI capkit://client/NAME)");
        client_apps.emplace_back(&c, sub);
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : usage_exit;
    }
    try {
        if (*serve_cmd) return serve(sa);
        if (app.got_subcommand("presets")) return presets();
        for (const auto& [c, sub] : client_apps) {
            if (!*sub) continue;
            std::vector<std::string> command{c->redis};
            command.insert(command.end(), words.begin(), words.end());
            return client(server, client_tls, command);
        }
    } catch (const usage_error& e) {
        std::cerr << "capkit-kv: " << e.what() << '\n';
        return usage_exit;
    } catch (const std::invalid_argument& e) {  // a replica refusing its options, say
        std::cerr << "capkit-kv: " << e.what() << '\n';
        return usage_exit;
    } catch (const std::exception& e) {
        std::cerr << "capkit-kv: " << e.what() << '\n';
        return refused_exit;
    }
    return usage_exit;
}
