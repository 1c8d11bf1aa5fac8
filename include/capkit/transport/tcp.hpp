// SPDX-License-Identifier: MIT
/// @file Defines capkit::tcp_transport: protocol messages between processes over TCP (Boost.Asio).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/hana/define_struct.hpp>

#include <capkit/detail/hash.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/node_id.hpp>
#include <capkit/protocol/failure_detector.hpp>
#include <capkit/protocol/reconnect_backoff.hpp>
#include <capkit/time.hpp>
#include <capkit/transport/transport.hpp>
#include <capkit/wire/frame.hpp>
#include <capkit/wire/frame_reader.hpp>

namespace capkit {

/// A host and port, written "HOST:PORT" ("[::1]:7000" for IPv6).
struct tcp_address {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const {
        bool v6 = host.find(':') != std::string::npos;
        return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
    friend bool operator==(const tcp_address&, const tcp_address&) = default;
};

/// Reads "HOST:PORT"; empty when the text is not one (no port, a port above 65535, no host).
inline std::optional<tcp_address> parse_tcp_address(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return {};
    std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return {};
        host = host.substr(1, host.size() - 2);
    }
    unsigned value = 0;
    for (char c : port) {
        if (c < '0' || c > '9' || (value = value * 10 + unsigned(c - '0')) > 65535) return {};
    }
    return tcp_address{std::string(host), static_cast<std::uint16_t>(value)};
}

/// Opens `acceptor` listening on `at` (resolved at once; port 0 lets the kernel pick one), with
/// SO_REUSEADDR so a restarted process can listen again at once. Throws on failure.
inline void listen_on(boost::asio::ip::tcp::acceptor& acceptor, const tcp_address& at) {
    boost::asio::ip::tcp::resolver resolver(acceptor.get_executor());
    auto endpoint = resolver.resolve(at.host, std::to_string(at.port)).begin()->endpoint();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
}

/// How urgent a transport's log line is.
enum class log_level { error, warn, info, debug };

inline std::string_view to_string(log_level l) {
    switch (l) {
        case log_level::error:
            return "error";
        case log_level::warn:
            return "warn";
        case log_level::info:
            return "info";
        case log_level::debug:
            return "debug";
    }
    return "?";
}

/// Receives one line per event worth knowing (peer up or down, a refused frame, a connection
/// lost); an empty logger says nothing.
using tcp_logger = std::function<void(log_level, const std::string&)>;

/// Timing and bounds of a tcp_transport.
struct tcp_options {
    /// A connection with nothing else to send carries a heartbeat this often.
    std::chrono::milliseconds heartbeat_interval{100};
    /// A peer heard nothing from (not even a heartbeat) for this long is reported down.
    std::chrono::milliseconds peer_timeout{500};
    /// Reconnection waits start here and double up to the maximum (with jitter).
    std::chrono::milliseconds reconnect_min{20};
    std::chrono::milliseconds reconnect_max{1000};
    /// A dial (with its TLS handshake) not done within this is abandoned and retried.
    std::chrono::milliseconds connect_timeout{1000};
    /// An accepted connection must say who it is within this time.
    std::chrono::milliseconds handshake_timeout{2000};
    /// Bytes waiting for one peer; beyond them send() answers queue_full (backpressure).
    std::size_t max_queue_bytes = std::size_t{8} << 20;
    /// What a frame may hold (wire::limits): a larger announced body closes the connection.
    wire::limits limits{};
    /// Mixed into the hello: nodes given different values refuse each other's connections.
    /// capkit-kv gives a hash_ring's node count, so a node told of another ring is refused
    /// instead of computing other owners for the same keys.
    std::uint64_t layout = 0;
};

/// What a tcp_transport has done (for INFO lines and benchmarks).
struct tcp_stats {
    std::uint64_t frames_sent = 0, frames_received = 0;
    std::uint64_t bytes_sent = 0, bytes_received = 0;
    std::uint64_t writes = 0;            ///< socket writes: frames_sent / writes is the batching
    std::uint64_t queue_full = 0;        ///< messages refused because a peer's queue was full
    std::uint64_t bad_frames = 0;        ///< connections closed for a frame that did not decode
    std::uint64_t connects = 0;          ///< outgoing connections established
    std::uint64_t connect_failures = 0;  ///< attempts that failed (each retried after a backoff)
    std::uint64_t refused = 0;  ///< connections refused by the security policy (TLS checks)
};

/// The security of a tcp_transport's connections: none. The TLS policy, tls_security, is in
/// <capkit/transport/tls.hpp>. A policy names the stream a connection is, wraps a connected
/// socket in it, and decides whether a connection may carry traffic:
///  - `handshake_dialled(stream, peer, done)`: after dialling `peer`, `done(refusal)` with an
///    empty optional, or the sentence saying why the other end is not `peer`;
///  - `handshake_accepted(stream, done)`: after accepting, `done(refusal, certified)` where
///    `certified` is the node the other end proved it is (empty: unproven), which its hello must
///    then name.
/// plain_tcp completes both at once, refusing nothing and proving nothing.
struct plain_tcp {
    using stream_type = boost::asio::ip::tcp::socket;
    stream_type wrap(boost::asio::ip::tcp::socket s) const { return s; }
    template <class Done>
    void handshake_dialled(stream_type&, node_id, Done&& done) const {
        std::forward<Done>(done)(std::optional<std::string>{});
    }
    template <class Done>
    void handshake_accepted(stream_type&, Done&& done) const {
        std::forward<Done>(done)(std::optional<std::string>{}, std::optional<node_id>{});
    }
};

namespace detail {

// Control frames, kinds the codec reserves for transports. A connection's first frame is the
// dialler's hello; its heartbeats keep the receiver's failure detector quiet.
struct tcp_hello {
    BOOST_HANA_DEFINE_STRUCT(tcp_hello, (node_id, from), (node_id, to), (std::uint64_t, schema));
};
inline constexpr std::uint8_t tcp_hello_kind = 0xF0;

// Which messages a node speaks: a hash of the message type's name (the Itanium ABI's, the same
// under g++ and clang). Frames name an alternative of the variant, not the configuration, so
// nodes of different presets could otherwise misread each other's states.
template <class Message>
std::uint64_t message_schema() {
    static const std::uint64_t schema = fnv1a64(std::string_view(typeid(Message).name()));
    return schema;
}

// What a hello names: the messages spoken, and the layout (tcp_options::layout) mixed in.
template <class Message>
std::uint64_t hello_schema(std::uint64_t layout) {
    return message_schema<Message>() ^ (layout * 0x9E3779B97F4A7C15ULL);
}
inline constexpr std::uint8_t tcp_heartbeat_kind = 0xF1;

template <class Message, class Security>
class tcp_state : public std::enable_shared_from_this<tcp_state<Message, Security>> {
    using tcp = boost::asio::ip::tcp;
    using stream_type = typename Security::stream_type;
    using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
    using clock = std::chrono::steady_clock;

public:
    tcp_state(boost::asio::io_context& io, node_id self, const tcp_address& listen,
              tcp_options options, tcp_logger log, Security security)
        : strand_(boost::asio::make_strand(io)),
          self_(self),
          options_(options),
          log_(std::move(log)),
          security_(std::move(security)),
          acceptor_(strand_),
          wake_timer_(strand_),
          tick_timer_(strand_),
          detector_(options.peer_timeout),
          jitter_(0x7463700000000000ULL ^ self) {
        listen_on(acceptor_, listen);
    }

    strand_type& strand() { return strand_; }
    node_id self() const { return self_; }
    std::uint16_t listen_port() const { return acceptor_.local_endpoint().port(); }
    const tcp_stats& stats() const { return stats_; }

    void add_peer(node_id id, tcp_address address) {
        if (id == self_) throw std::invalid_argument("a node is not its own peer");
        auto p = std::make_unique<peer>(strand_);
        p->id = id;
        p->address = std::move(address);
        p->backoff = reconnect_backoff(options_.reconnect_min, options_.reconnect_max);
        peers_[id] = std::move(p);
        detector_.watch(id);
    }

    void start() {
        auto self = this->shared_from_this();
        boost::asio::post(strand_, [self] {
            if (self->closed_) return;
            self->accept();
            for (auto& [id, p] : self->peers_) self->connect(*p);
            self->tick();
        });
    }

    void attach(node_id id, std::function<void(node_id, Message&&)> receiver,
                std::function<void()> waker) {
        if (id != self_)
            throw std::invalid_argument("this tcp_transport carries node " + std::to_string(self_) +
                                        ", not node " + std::to_string(id));
        receiver_ = std::move(receiver);
        waker_ = std::move(waker);
    }
    void detach(node_id id) {
        if (id != self_) return;
        receiver_ = nullptr;
        waker_ = nullptr;
        wake_timer_.cancel();
        wake_at_.reset();  // a node attached later must be able to ask for the same moment
    }
    void on_peer_change(std::function<void(node_id, bool)> f) { on_peer_ = std::move(f); }

    send_status send(node_id, node_id to, Message m) {
        auto it = peers_.find(to);
        if (it == peers_.end()) return send_status::unknown_node;
        peer& p = *it->second;
        std::size_t before = p.pending.size();
        wire::encode_frame(m, p.pending);
        if (p.pending.size() > options_.max_queue_bytes) {  // keep what was there, refuse this
            p.pending.resize(before);
            ++stats_.queue_full;
            return send_status::queue_full;
        }
        ++stats_.frames_sent;
        schedule_write(p);
        return send_status::sent;
    }

    // Wall-clock time: HLC stamps from different machines are compared, so every process must
    // count from the same epoch (a steady clock counts from each boot).
    static time_point now() {
        return std::chrono::duration_cast<time_point>(
            std::chrono::system_clock::now().time_since_epoch());
    }

    void wake(node_id id, time_point at) {
        if (id != self_ || closed_) return;
        if (at == time_point::max()) {
            if (wake_at_) wake_timer_.cancel();
            wake_at_.reset();
            return;
        }
        if (wake_at_ == at) return;  // already armed for that moment
        wake_at_ = at;
        auto delay = std::max(at - now(), time_point::zero());
        wake_timer_.expires_after(delay);
        auto gen = ++wake_generation_;
        wake_timer_.async_wait(
            [self = this->shared_from_this(), gen](boost::system::error_code ec) {
                if (ec || gen != self->wake_generation_ || self->closed_) return;
                self->wake_at_.reset();
                if (self->waker_) self->waker_();
            });
    }

    bool peer_up(node_id id) const { return detector_.up(id); }
    std::size_t peers_up() const { return detector_.up_count(); }
    /// True when nothing waits to be written to any connected peer.
    bool flushed() const {
        return std::ranges::all_of(peers_, [](const auto& kv) {
            const peer& p = *kv.second;
            return !p.connected || (!p.writing && p.pending.empty());
        });
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        wake_timer_.cancel();
        tick_timer_.cancel();
        for (auto& [id, p] : peers_) {
            p->retry.cancel();
            if (p->out) p->out->lowest_layer().close(ignored);
        }
        for (auto& in : inbound_) in->stream.lowest_layer().close(ignored);
        inbound_.clear();
        receiver_ = nullptr;
        waker_ = nullptr;
        on_peer_ = nullptr;
    }

private:
    std::uint64_t schema() const { return hello_schema<Message>(options_.layout); }

    struct peer {
        explicit peer(strand_type& s) : retry(s) {}
        node_id id = 0;
        tcp_address address;
        // Our connection to it: we write, it never answers. Its handlers share it, as a TLS stream
        // must outlive the operations on it.
        std::shared_ptr<stream_type> out;
        std::uint64_t generation = 0;  // bumped per connection, so stale handlers stand down
        bool connecting = false, connected = false, writing = false, ever_connected = false;
        bool write_scheduled = false;
        std::vector<std::byte> pending, in_write;  // whole frames only
        boost::asio::steady_timer retry;
        reconnect_backoff backoff;
        std::byte probe{};  // the read that notices the connection closing
    };
    struct inbound {
        inbound(stream_type s, const wire::limits& lim) : stream(std::move(s)), reader(lim) {}
        stream_type stream;
        wire::frame_reader reader;
        std::optional<node_id> from;
        std::optional<node_id> certified;  // the node its certificate names (under TLS)
        std::string remote;
        clock::time_point accepted = clock::now();
    };

    void say(log_level level, const std::string& line) const {
        if (log_) log_(level, line);
    }

    // Dialling ------------------------------------------------------------------------------

    void connect(peer& p) {
        if (closed_ || p.connecting || p.connected) return;
        p.connecting = true;
        auto gen = ++p.generation;
        // A dial into a cut network hangs in SYN retries for minutes: give up, and try again
        // after the backoff, so that a healed link is found within about reconnect_max.
        p.retry.expires_after(options_.connect_timeout);
        p.retry.async_wait([self = this->shared_from_this(), &p,
                            gen](boost::system::error_code ec) {
            if (!ec && !self->closed_ && gen == p.generation && p.connecting)
                self->lost(p, "no connection within " +
                                  std::to_string(self->options_.connect_timeout.count()) + " ms");
        });
        auto resolver = std::make_shared<tcp::resolver>(strand_);
        resolver->async_resolve(
            p.address.host, std::to_string(p.address.port),
            [self = this->shared_from_this(), &p, gen, resolver](
                boost::system::error_code ec, tcp::resolver::results_type results) {
                if (self->closed_ || gen != p.generation) return;
                if (ec)
                    return self->lost(p, "cannot resolve " + p.address.host + ": " + ec.message());
                p.out =
                    std::make_shared<stream_type>(self->security_.wrap(tcp::socket(self->strand_)));
                boost::asio::async_connect(
                    p.out->lowest_layer(), results,
                    [self, &p, gen, out = p.out](boost::system::error_code ec2,
                                                 const tcp::endpoint&) {
                        if (self->closed_ || gen != p.generation) return;
                        if (ec2) return self->lost(p, ec2.message());
                        self->security_.handshake_dialled(
                            *out, p.id,
                            [self, &p, gen, out](const std::optional<std::string>& refusal) {
                                if (self->closed_ || gen != p.generation) return;
                                if (refusal) return self->lost(p, *refusal, true);
                                self->connected(p, gen);
                            });
                    });
            });
    }

    void connected(peer& p, std::uint64_t gen) {
        boost::system::error_code ignored;
        p.out->lowest_layer().set_option(tcp::no_delay(true), ignored);
        p.retry.cancel();  // the connect timeout
        p.connecting = false;
        p.connected = true;
        p.backoff.reset();
        ++stats_.connects;
        say(p.ever_connected ? log_level::info : log_level::debug,
            "connected to node " + std::to_string(p.id) + " at " + p.address.to_string());
        p.ever_connected = true;
        // The hello goes first, ahead of whatever waited for the connection.
        std::vector<std::byte> hello;
        wire::encode_control_frame(tcp_hello_kind, tcp_hello{self_, p.id, schema()}, hello);
        p.pending.insert(p.pending.begin(), hello.begin(), hello.end());
        start_write(p);
        // The peer never writes on this connection: a completed read means it closed it.
        p.out->async_read_some(boost::asio::buffer(&p.probe, 1), [self = this->shared_from_this(),
                                                                  &p, gen, out = p.out](
                                                                     boost::system::error_code ec,
                                                                     std::size_t) {
            if (self->closed_ || gen != p.generation) return;
            self->lost(p, ec ? ec.message() : std::string("it wrote on a send-only connection"));
        });
    }

    // The connection to `p` failed or closed: what was being written is lost (as on a real
    // network); what is queued waits for the next connection, attempted after a backoff. A
    // connection the security policy refused is worth a warning each time: it will not mend.
    void lost(peer& p, const std::string& why, bool refused = false) {
        bool was_connected = p.connected;
        ++p.generation;
        p.connecting = p.connected = p.writing = false;
        p.in_write.clear();
        if (p.out) {
            boost::system::error_code ignored;
            p.out->lowest_layer().close(ignored);
            p.out.reset();
        }
        if (closed_) return;
        if (!was_connected) ++stats_.connect_failures;
        if (refused) ++stats_.refused;
        say(was_connected || refused ? log_level::warn : log_level::debug,
            (was_connected ? "lost connection to node " : "cannot connect to node ") +
                std::to_string(p.id) + " at " + p.address.to_string() + ": " + why +
                "; retrying in " + std::to_string(p.backoff.current().count()) + " ms");
        const auto wait = p.backoff.after_failure(jitter_);
        p.retry.expires_after(wait);
        auto gen = p.generation;
        p.retry.async_wait(
            [self = this->shared_from_this(), &p, gen](boost::system::error_code ec) {
                if (!ec && !self->closed_ && gen == p.generation) self->connect(p);
            });
    }

    // The write starts after the handlers already waiting on the strand have run, so what they
    // send too (requests of many clients read in one wake-up) leaves in the same write.
    void schedule_write(peer& p) {
        if (p.write_scheduled || p.writing) return;
        p.write_scheduled = true;
        boost::asio::post(strand_, [self = this->shared_from_this(), &p] {
            p.write_scheduled = false;
            if (!self->closed_) self->start_write(p);
        });
    }

    // Everything queued goes out in one write; what is queued meanwhile goes in the next.
    void start_write(peer& p) {
        if (!p.connected || p.writing || p.pending.empty()) return;
        p.writing = true;
        std::swap(p.pending, p.in_write);
        ++stats_.writes;
        auto gen = p.generation;
        boost::asio::async_write(*p.out, boost::asio::buffer(p.in_write),
                                 [self = this->shared_from_this(), &p, gen, out = p.out](
                                     boost::system::error_code ec, std::size_t n) {
                                     if (self->closed_ || gen != p.generation) return;
                                     p.writing = false;
                                     if (ec) return self->lost(p, ec.message());
                                     self->stats_.bytes_sent += n;
                                     p.in_write.clear();
                                     self->start_write(p);
                                 });
    }

    // Listening -----------------------------------------------------------------------------

    void accept() {
        acceptor_.async_accept(strand_, [self = this->shared_from_this()](
                                            boost::system::error_code ec, tcp::socket s) {
            if (self->closed_) return;
            if (!ec) self->start_inbound(std::move(s));
            self->accept();
        });
    }

    void start_inbound(tcp::socket s) {
        auto in = std::make_shared<inbound>(security_.wrap(std::move(s)), options_.limits);
        boost::system::error_code ec;
        auto remote = in->stream.lowest_layer().remote_endpoint(ec);
        in->remote = ec ? std::string("?")
                        : remote.address().to_string() + ":" + std::to_string(remote.port());
        inbound_.insert(in);
        // Under TLS the handshake must end before the hello's handshake_timeout, which tick()
        // enforces on both alike.
        security_.handshake_accepted(in->stream, [self = this->shared_from_this(), in](
                                                     const std::optional<std::string>& refusal,
                                                     std::optional<node_id> certified) {
            if (self->closed_ || !self->inbound_.contains(in)) return;
            if (refusal) return void(self->refuse(in, *refusal, true));
            in->certified = certified;
            self->read(in);
        });
    }

    void read(const std::shared_ptr<inbound>& in) {
        const auto space = in->reader.space();
        in->stream.async_read_some(
            boost::asio::buffer(space.data(), space.size()),
            [self = this->shared_from_this(), in](boost::system::error_code ec, std::size_t n) {
                if (self->closed_ || !self->inbound_.contains(in)) return;
                if (ec) {
                    self->say(log_level::debug,
                              "connection from " + self->who(*in) + " closed: " + ec.message());
                    return self->drop(in);
                }
                self->stats_.bytes_received += n;
                in->reader.commit(n);
                // Bytes count as hearing from the peer, whole frames or not: a large frame that
                // takes longer than peer_timeout to arrive is not silence.
                if (in->from) self->heard(*in->from);
                if (self->consume(in)) self->read(in);
            });
    }

    // Handles every whole frame received; false when the connection was dropped.
    bool consume(const std::shared_ptr<inbound>& in) {
        for (;;) {
            auto f = in->reader.next();
            if (!f) return refuse(in, "bad frame header: " + f.error().message());
            if (!*f) return true;  // wait for the rest
            if (!frame(in, (*f)->header, (*f)->body)) return false;
        }
    }

    bool frame(const std::shared_ptr<inbound>& in, const wire::frame_header& h,
               std::span<const std::byte> body) {
        if (h.kind == tcp_hello_kind) {
            auto hello = wire::decode<tcp_hello>(body, options_.limits);
            if (!hello) return refuse(in, "bad hello: " + hello.error().message());
            if (in->from) return refuse(in, "a second hello");
            if (hello->schema != schema())
                return refuse(in, "node " + std::to_string(hello->from) +
                                      " speaks other messages or places keys otherwise (another "
                                      "preset, key/value type or hash_ring size); run one "
                                      "configuration, with the same peers, on every node");
            if (in->certified && *in->certified != hello->from)
                return refuse(in,
                              "it says it is node " + std::to_string(hello->from) +
                                  " but its certificate names node " +
                                  std::to_string(*in->certified),
                              true);
            if (hello->to != self_)
                return refuse(in, "it dialled node " + std::to_string(hello->to) +
                                      " but this is node " + std::to_string(self_) +
                                      " (check the peer addresses)");
            if (!peers_.contains(hello->from))
                return refuse(in, "it says it is node " + std::to_string(hello->from) +
                                      ", which is not a peer of this node");
            // A node dials one connection at a time: one it dialled before is dead (it may never
            // say so: over a cut link no FIN or RST arrives), so it goes, with its buffer.
            std::vector<std::shared_ptr<inbound>> stale;
            for (const auto& other : inbound_)
                if (other != in && other->from == hello->from) stale.push_back(other);
            for (const auto& other : stale) drop(other);
            in->from = hello->from;
            heard(hello->from);
            return true;
        }
        if (!in->from) return refuse(in, "a frame before the hello");
        if (h.kind == tcp_heartbeat_kind) return true;
        auto m = wire::decode_frame_body<Message>(h, body, options_.limits);
        if (!m) return refuse(in, "bad message: " + m.error().message());
        ++stats_.frames_received;
        if (receiver_) receiver_(*in->from, std::move(*m));
        return !closed_;
    }

    bool refuse(const std::shared_ptr<inbound>& in, const std::string& why,
                bool by_security = false) {
        ++(by_security ? stats_.refused : stats_.bad_frames);
        say(log_level::warn, "closing connection from " + who(*in) + ": " + why);
        drop(in);
        return false;
    }

    void drop(const std::shared_ptr<inbound>& in) {
        boost::system::error_code ignored;
        in->stream.lowest_layer().close(ignored);
        inbound_.erase(in);
    }

    std::string who(const inbound& in) const {
        return in.from ? "node " + std::to_string(*in.from) + " (" + in.remote + ")" : in.remote;
    }

    // Failure detection ---------------------------------------------------------------------

    // The failure detector's time: the steady clock, not the nodes' shared wall clock (a
    // stepped wall clock must not make every peer look silent at once).
    static time_point detector_now() {
        return std::chrono::duration_cast<time_point>(clock::now().time_since_epoch());
    }

    void heard(node_id id) {
        auto it = peers_.find(id);
        if (it == peers_.end()) return;
        peer& p = *it->second;
        if (detector_.heard(id, detector_now())) {
            say(log_level::info, "node " + std::to_string(id) + " is up");
            if (!p.connected && !p.connecting) {  // it is back: dial now, not after the backoff
                p.retry.cancel();
                p.backoff.reset();
                connect(p);
            }
            if (on_peer_) on_peer_(id, true);
        }
    }

    // Every heartbeat interval: a heartbeat on each idle connection, peers gone quiet reported
    // down, and accepted connections that never said who they are closed.
    void tick() {
        if (closed_) return;
        auto t = clock::now();
        for (auto& [id, pp] : peers_) {
            peer& p = *pp;
            if (p.connected && !p.writing && p.pending.empty()) {
                wire::encode_control_frame(tcp_heartbeat_kind, std::uint8_t{0}, p.pending);
                start_write(p);
            }
        }
        for (const auto& down : detector_.tick(detector_now())) {
            peer& p = *peers_.at(down.peer);
            say(log_level::warn,
                "node " + std::to_string(down.peer) + " is down: nothing heard for " +
                    std::to_string(
                        std::chrono::duration_cast<std::chrono::milliseconds>(down.silent)
                            .count()) +
                    " ms");
            if (on_peer_) on_peer_(down.peer, false);
            // Its connection may be dead without a word (a cut link keeps TCP retrying with
            // ever longer pauses): drop it and dial afresh, soon.
            if (p.connected || p.connecting) {
                p.backoff.reset();
                lost(p, "nothing heard from it");
            }
        }
        std::vector<std::shared_ptr<inbound>> silent;
        for (const auto& in : inbound_)
            if (!in->from && t - in->accepted > options_.handshake_timeout) silent.push_back(in);
        for (const auto& in : silent) refuse(in, "no hello within the handshake timeout");
        tick_timer_.expires_after(options_.heartbeat_interval);
        tick_timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->tick();
        });
    }

    strand_type strand_;
    node_id self_;
    tcp_options options_;
    tcp_logger log_;
    Security security_;
    tcp::acceptor acceptor_;
    boost::asio::steady_timer wake_timer_, tick_timer_;
    std::optional<time_point> wake_at_;
    std::uint64_t wake_generation_ = 0;
    std::function<void(node_id, Message&&)> receiver_;
    std::function<void()> waker_;
    std::function<void(node_id, bool)> on_peer_;
    std::map<node_id, std::unique_ptr<peer>> peers_;
    std::set<std::shared_ptr<inbound>> inbound_;
    failure_detector detector_;
    detail::rng jitter_;
    tcp_stats stats_;
    bool closed_ = false;
};

}  // namespace detail

/// Carries one node's protocol messages to its peers over TCP, on a strand of an io_context.
/// Each node dials every peer and writes only on the connection it dialled (it reads on those
/// its peers dialled), opening with a hello that names both ends; frames are the codec's
/// (wire/frame.hpp). Whatever is queued for a peer goes out in one write, so pipelined
/// messages share frames' syscalls. Heartbeats on idle connections feed a timeout failure
/// detector whose verdicts on_peer_change reports (tell the replica: set_reachable). Time is
/// the wall clock, since HLC stamps from different machines are compared.
/// Threading: call everything but the constructor, add_peer and start on strand() (the node's
/// callbacks run there); the transport's handlers hold its state, so destroying it while the
/// io_context still runs is safe: close() is posted and pending handlers stand down.
template <class Message, class Security = plain_tcp>
class tcp_transport {
public:
    using time_point = capkit::time_point;
    using message_type = Message;

    using security_type = Security;

    /// Listens on `listen` at once (port 0 picks a free port: see listen_port()); dials peers
    /// from start(). `security` secures every connection (tls_security: TLS, both ends proven).
    tcp_transport(boost::asio::io_context& io, node_id self, const tcp_address& listen,
                  tcp_options options = {}, tcp_logger log = {}, Security security = {})
        : state_(std::make_shared<detail::tcp_state<Message, Security>>(
              io, self, listen, options, std::move(log), std::move(security))) {}
    tcp_transport(const tcp_transport&) = delete;
    tcp_transport& operator=(const tcp_transport&) = delete;
    ~tcp_transport() {
        boost::asio::post(state_->strand(), [s = state_] { s->close(); });
    }

    void add_peer(node_id id, tcp_address address) { state_->add_peer(id, std::move(address)); }
    void start() { state_->start(); }
    /// Stops listening, closes every connection and cancels the timers; nothing is called after.
    void close() { state_->close(); }

    // The transport concept.
    void attach(node_id id, std::function<void(node_id, Message&&)> receiver,
                std::function<void()> waker) {
        state_->attach(id, std::move(receiver), std::move(waker));
    }
    void detach(node_id id) { state_->detach(id); }
    send_status send(node_id from, node_id to, Message m) {
        return state_->send(from, to, std::move(m));
    }
    time_point now() const { return detail::tcp_state<Message, Security>::now(); }
    void wake(node_id id, time_point at) { state_->wake(id, at); }

    auto& strand() { return state_->strand(); }
    node_id self() const { return state_->self(); }
    std::uint16_t listen_port() const { return state_->listen_port(); }
    /// Calls `f(peer, up)` when the failure detector changes its mind about a peer.
    void on_peer_change(std::function<void(node_id, bool)> f) {
        state_->on_peer_change(std::move(f));
    }
    bool peer_up(node_id id) const { return state_->peer_up(id); }
    std::size_t peers_up() const { return state_->peers_up(); }
    /// True when nothing waits to be written to a connected peer (for a graceful shutdown).
    bool flushed() const { return state_->flushed(); }
    const tcp_stats& stats() const { return state_->stats(); }

private:
    std::shared_ptr<detail::tcp_state<Message, Security>> state_;
};

}  // namespace capkit
