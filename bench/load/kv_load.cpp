// SPDX-License-Identifier: MIT
// kv_load: a closed-loop load generator for key-value servers, so that capkit-kv, Redis and
// etcd are driven the same way: N clients, each on its own connection, each sending one
// operation and waiting for its answer before the next, for a fixed time. It speaks RESP
// (capkit-kv, Redis; `set-wait` pairs SET with WAIT 1 on one connection, Redis's nearest
// promise to "acknowledged by two copies") and etcd's HTTP/JSON gateway (/v3/kv/put, /v3/kv/range).
// Prints one line of JSON: ops, ops_per_s, p50_ms, p99_ms, errors.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <capkit/transport/tcp.hpp>

#include <capkit-kv/resp.hpp>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct options {
    std::vector<std::string> servers;
    std::string protocol = "resp";  // resp or etcd
    std::string op = "set";         // set, get, set-wait
    unsigned clients = 16;
    double seconds = 5;
    unsigned keys = 10000;
    unsigned value_size = 16;
};

struct results {
    std::vector<double> latencies_ms;
    std::size_t errors = 0;
    std::string first_error;
};

// Appends one RESP command to `out`, as capkit-kv's own client writes it.
void resp_command(std::string& out, std::initializer_list<std::string_view> words) {
    capkit::kv::resp::encoder enc(out);
    enc.array(words.size());
    for (auto w : words) enc.bulk_string(w);
}

// Reads one RESP reply; true unless it is an error, or an integer below `min_integer`. Arrays
// and bulk strings are skipped whole.
asio::awaitable<bool> read_resp(tcp::socket& s, asio::streambuf& buf, std::string& error,
                                long long min_integer = 0) {
    std::size_t n = co_await asio::async_read_until(s, buf, "\r\n", asio::use_awaitable);
    std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 2);
    buf.consume(n);
    if (line.empty()) throw std::runtime_error("empty RESP line");
    switch (line[0]) {
        case '-':
            error = line.substr(1);
            co_return false;
        case '$': {
            long long len = std::stoll(line.substr(1));
            if (len >= 0) {
                auto want = static_cast<std::size_t>(len) + 2;
                if (buf.size() < want)
                    co_await asio::async_read(s, buf, asio::transfer_exactly(want - buf.size()),
                                              asio::use_awaitable);
                buf.consume(want);
            }
            co_return true;
        }
        case '*': {
            long long items = std::stoll(line.substr(1));
            bool ok = true;
            for (long long i = 0; i < items; ++i) ok = co_await read_resp(s, buf, error) && ok;
            co_return ok;
        }
        case ':':
            if (std::stoll(line.substr(1)) < min_integer) {
                error = "integer reply " + line.substr(1) + " below " + std::to_string(min_integer);
                co_return false;
            }
            co_return true;
        default:
            co_return true;
    }
}

std::string base64(const std::string& in) {
    static constexpr char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v =
            (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += {table[v >> 18], table[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
    }
    return out;
}

// One HTTP/1.1 POST on a kept-alive connection; true on a 200 whose body has no "error".
asio::awaitable<bool> http_post(tcp::socket& s, asio::streambuf& buf, const std::string& host,
                                const std::string& path, const std::string& body,
                                std::string& error) {
    std::string request =
        "POST " + path + " HTTP/1.1\r\nHost: " + host +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
    std::size_t n = co_await asio::async_read_until(s, buf, "\r\n\r\n", asio::use_awaitable);
    std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
    buf.consume(n);
    std::string lower = head;
    std::ranges::transform(lower, lower.begin(), [](char c) { return char(std::tolower(c)); });
    std::string payload;
    if (auto at = lower.find("content-length:"); at != std::string::npos) {
        auto len = static_cast<std::size_t>(std::stoul(lower.substr(at + 15)));
        if (buf.size() < len)
            co_await asio::async_read(s, buf, asio::transfer_exactly(len - buf.size()),
                                      asio::use_awaitable);
        payload.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + len);
        buf.consume(len);
    } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
        for (;;) {
            std::size_t m = co_await asio::async_read_until(s, buf, "\r\n", asio::use_awaitable);
            std::string size_line(asio::buffers_begin(buf.data()),
                                  asio::buffers_begin(buf.data()) + m - 2);
            buf.consume(m);
            auto len = static_cast<std::size_t>(std::stoul(size_line, nullptr, 16));
            if (buf.size() < len + 2)
                co_await asio::async_read(s, buf, asio::transfer_exactly(len + 2 - buf.size()),
                                          asio::use_awaitable);
            payload.append(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + len);
            buf.consume(len + 2);
            if (len == 0) break;
        }
    }
    bool ok = head.starts_with("HTTP/1.1 200") && payload.find("\"error\"") == std::string::npos;
    if (!ok) error = head.substr(0, head.find("\r\n")) + " " + payload.substr(0, 200);
    co_return ok;
}

// g++ 12 takes the sized operator delete of Asio's coroutine frames for a mismatch with their
// operator new (a false -Wmismatched-new-delete on coroutines with parameters); clang agrees
// they match.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<void> client(const options& o, unsigned id, clock_type::time_point end,
                             results& out) {
    const std::string& server = o.servers[id % o.servers.size()];
    auto address = capkit::parse_tcp_address(server);
    if (!address) throw std::runtime_error("not HOST:PORT: " + server);
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    tcp::socket s(ex);
    co_await asio::async_connect(
        s,
        co_await resolver.async_resolve(address->host, std::to_string(address->port),
                                        asio::use_awaitable),
        asio::use_awaitable);
    s.set_option(tcp::no_delay(true));
    asio::streambuf buf;
    std::string value(o.value_size, 'v');
    std::uint64_t n = 0;
    while (clock_type::now() < end) {
        std::string key = "key:" + std::to_string((id * 7919 + n++) % o.keys);
        std::string error;
        auto t0 = clock_type::now();
        bool ok = true;
        if (o.protocol == "resp") {
            std::string request;
            if (o.op == "get") {
                resp_command(request, {"GET", key});
            } else {
                resp_command(request, {"SET", key, value});
                // WAIT answers how many replicas acknowledged, after at most a second.
                if (o.op == "set-wait") resp_command(request, {"WAIT", "1", "1000"});
            }
            co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
            ok = co_await read_resp(s, buf, error);
            if (o.op == "set-wait") ok = co_await read_resp(s, buf, error, 1) && ok;
        } else {
            if (o.op == "get") {
                ok = co_await http_post(s, buf, server, "/v3/kv/range",
                                        "{\"key\":\"" + base64(key) + "\"}", error);
            } else {
                ok = co_await http_post(
                    s, buf, server, "/v3/kv/put",
                    "{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(value) + "\"}", error);
            }
        }
        auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
        if (ok) {
            out.latencies_ms.push_back(ms);
        } else {
            if (out.errors++ == 0) out.first_error = error;
        }
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    auto i = static_cast<std::size_t>(p * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(i), v.end());
    return v[i];
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"kv_load: closed-loop load over RESP or etcd's HTTP/JSON gateway"};
    app.add_option("--servers", o.servers, "HOST:PORT of each server; clients spread over them")
        ->required()
        ->delimiter(',');
    app.add_option("--protocol", o.protocol, "resp or etcd")
        ->check(CLI::IsMember({"resp", "etcd"}));
    app.add_option("--op", o.op, "set, get or set-wait (RESP: SET then WAIT 1 1000)")
        ->check(CLI::IsMember({"set", "get", "set-wait"}));
    app.add_option("--clients", o.clients, "connections, each with one request in flight");
    app.add_option("--seconds", o.seconds, "how long to run");
    app.add_option("--keys", o.keys, "distinct keys");
    app.add_option("--value-size", o.value_size, "bytes per value");
    CLI11_PARSE(app, argc, argv);

    asio::io_context io;
    auto end = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                       std::chrono::duration<double>(o.seconds));
    std::vector<results> per_client(o.clients);
    std::string failure;
    auto start = clock_type::now();
    for (unsigned i = 0; i < o.clients; ++i)
        asio::co_spawn(io, client(o, i, end, per_client[i]), [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                if (failure.empty()) failure = x.what();
            }
        });
    io.run();
    double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    results all;
    for (auto& r : per_client) {
        all.latencies_ms.insert(all.latencies_ms.end(), r.latencies_ms.begin(),
                                r.latencies_ms.end());
        all.errors += r.errors;
        if (all.first_error.empty()) all.first_error = r.first_error;
    }
    std::size_t ops = all.latencies_ms.size();
    double p50 = percentile(all.latencies_ms, 0.50), p99 = percentile(all.latencies_ms, 0.99);
    std::printf(
        "{\"ops\": %zu, \"ops_per_s\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"errors\": %zu, \"clients\": %u}\n",
        ops, double(ops) / elapsed, p50, p99, all.errors, o.clients);
    if (!failure.empty()) std::fprintf(stderr, "kv_load: a client failed: %s\n", failure.c_str());
    if (all.errors) std::fprintf(stderr, "kv_load: first error: %s\n", all.first_error.c_str());
    return failure.empty() && ops > 0 ? 0 : 1;
}
