// SPDX-License-Identifier: MIT
/// @file Defines capkit::tls_security: TLS with mutual authentication for tcp_transport (Boost.Asio
/// SSL over OpenSSL; link capkit::tls), and capkit::tls_transport.
#pragma once

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/ssl/verify_context.hpp>

#include <capkit/node_id.hpp>
#include <capkit/transport/tcp.hpp>

namespace capkit {

/// The files of one end of a TLS connection, all PEM: the cluster CA that signs every
/// certificate, this end's certificate (chain) and its private key.
struct tls_files {
    std::string ca, cert, key;
};

/// Who a certificate says it is: the subjectAltName URI `capkit://node/ID` (a replica) or
/// `capkit://client/NAME` (a client), exactly one of them.
struct tls_identity {
    enum class role { none, node, client };
    role kind = role::none;
    node_id node = 0;  ///< kind == node
    std::string name;  ///< kind == client

    std::string to_string() const {
        switch (kind) {
            case role::node:
                return "node " + std::to_string(node);
            case role::client:
                return "client " + name;
            case role::none:
                break;
        }
        return "nobody";
    }
    friend bool operator==(const tls_identity&, const tls_identity&) = default;
};

/// Reads a capkit identity URI; empty when `uri` is not one (another scheme, a node id that is
/// not a decimal number, an empty client name).
inline std::optional<tls_identity> parse_tls_identity(std::string_view uri) {
    constexpr std::string_view node = "capkit://node/", client = "capkit://client/";
    if (uri.starts_with(node)) {
        auto digits = uri.substr(node.size());
        node_id id = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return {};
        return tls_identity{tls_identity::role::node, id, {}};
    }
    if (uri.starts_with(client) && uri.size() > client.size())
        return tls_identity{tls_identity::role::client, 0, std::string(uri.substr(client.size()))};
    return {};
}

namespace detail {

struct x509_deleter {
    void operator()(X509* x) const { X509_free(x); }
};
struct general_names_deleter {
    void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

inline std::string x509_subject(X509* cert) {
    if (!cert) return "no certificate";
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
    return buf;
}

// The identity a certificate's subjectAltName URIs give, or the sentence saying why there is
// none (no capkit URI, or more than one).
inline std::pair<tls_identity, std::string> x509_identity(X509* cert) {
    std::unique_ptr<GENERAL_NAMES, general_names_deleter> names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    std::optional<tls_identity> found;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
        if (n->type != GEN_URI) continue;
        std::string_view uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.ia5)),
                             static_cast<std::size_t>(ASN1_STRING_length(n->d.ia5)));
        if (!uri.starts_with("capkit://")) continue;
        auto id = parse_tls_identity(uri);
        if (!id)
            return {{},
                    "its certificate (" + x509_subject(cert) + ") has a malformed capkit URI '" +
                        std::string(uri) + "'"};
        if (found)
            return {{},
                    "its certificate (" + x509_subject(cert) + ") names both " +
                        found->to_string() + " and " + id->to_string()};
        found = id;
    }
    if (!found)
        return {{},
                "its certificate (" + x509_subject(cert) +
                    ") names no capkit identity (a subjectAltName URI capkit://node/ID or "
                    "capkit://client/NAME)"};
    return {*found, {}};
}

inline std::unique_ptr<X509, x509_deleter> peer_certificate(SSL* ssl) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return std::unique_ptr<X509, x509_deleter>(SSL_get1_peer_certificate(ssl));
#else
    return std::unique_ptr<X509, x509_deleter>(SSL_get_peer_certificate(ssl));
#endif
}

}  // namespace detail

/// TLS 1.2+ with mutual authentication, as tcp_transport's security policy (and capkit-kv's
/// client listener): each end presents a certificate signed by the cluster CA, and its
/// subjectAltName URI says who it is. A dialler checks that the node it dialled presents
/// `capkit://node/<that id>`; a listener accepts only node certificates on the peer port, and
/// the hello that follows must name the node the certificate names. Host names are not checked:
/// identity is the URI. Refusals are sentences saying which check failed and whose certificate
/// it was; the transport logs them as warnings. Copies share one OpenSSL context.
class tls_security {
public:
    using stream_type = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

    /// Loads the CA, certificate and key; throws std::runtime_error naming the file that could
    /// not be used and why.
    explicit tls_security(const tls_files& files)
        : ctx_(std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls)) {
        namespace ssl = boost::asio::ssl;
        ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
        load("--tls-ca", files.ca,
             [&](boost::system::error_code& ec) { ctx_->load_verify_file(files.ca, ec); });
        // The key first: a certificate that does not match it then fails the check below, with
        // a sentence naming both files.
        load("--tls-key", files.key, [&](boost::system::error_code& ec) {
            ctx_->use_private_key_file(files.key, ssl::context::pem, ec);
        });
        load("--tls-cert", files.cert, [&](boost::system::error_code& ec) {
            ctx_->use_certificate_chain_file(files.cert, ec);
        });
        if (SSL_CTX_check_private_key(ctx_->native_handle()) != 1)
            throw std::runtime_error("--tls-key " + files.key + " does not belong to certificate " +
                                     files.cert);
        ctx_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        auto [id, why] = detail::x509_identity(SSL_CTX_get0_certificate(ctx_->native_handle()));
        if (id.kind == tls_identity::role::none)
            throw std::runtime_error("TLS certificate " + files.cert + ": " + why);
        self_ = id;
    }

    /// Who this end's own certificate says it is.
    const tls_identity& identity() const { return self_; }
    boost::asio::ssl::context& context() const { return *ctx_; }

    stream_type wrap(boost::asio::ip::tcp::socket s) const {
        return stream_type(std::move(s), *ctx_);
    }

    /// tcp_transport's policy: the node dialled must prove it is `peer`.
    template <class Done>
    void handshake_dialled(stream_type& s, node_id peer, Done done) const {
        handshake(s, boost::asio::ssl::stream_base::client,
                  [peer, done = std::move(done)](std::optional<std::string> refusal,
                                                 const tls_identity& id) mutable {
                      if (!refusal && !(id.kind == tls_identity::role::node && id.node == peer))
                          refusal = "its certificate names " + id.to_string() + ", not node " +
                                    std::to_string(peer) + " (check the peer addresses)";
                      done(refusal);
                  });
    }

    /// tcp_transport's policy: a connection to the peer port must prove it is a node.
    template <class Done>
    void handshake_accepted(stream_type& s, Done done) const {
        handshake(s, boost::asio::ssl::stream_base::server,
                  [done = std::move(done)](std::optional<std::string> refusal,
                                           const tls_identity& id) mutable {
                      if (refusal) return done(refusal, std::optional<node_id>{});
                      if (id.kind != tls_identity::role::node)
                          return done(std::optional<std::string>(
                                          "a " + id.to_string() +
                                          " certificate on the peer port, which takes node "
                                          "certificates (capkit://node/ID) only"),
                                      std::optional<node_id>{});
                      done(std::optional<std::string>{}, std::optional<node_id>(id.node));
                  });
    }

    /// For a client listener (capkit-kv): the connection must prove it is a client; node
    /// certificates are refused there. `done(refusal, identity)`.
    template <class Done>
    void handshake_client(stream_type& s, Done done) const {
        handshake(s, boost::asio::ssl::stream_base::server,
                  [done = std::move(done)](std::optional<std::string> refusal,
                                           const tls_identity& id) mutable {
                      if (!refusal && id.kind != tls_identity::role::client)
                          refusal = "a " + id.to_string() +
                                    " certificate on the client port, which takes client "
                                    "certificates (capkit://client/NAME) only";
                      done(refusal, id);
                  });
    }

    /// For a blocking client (capkit-kv get): handshakes on a connected stream and checks that
    /// the server is a node of the cluster; the refusal, if any.
    std::optional<std::string> connect_to_node(stream_type& s) const {
        auto why = watch(s);
        boost::system::error_code ec;
        s.handshake(boost::asio::ssl::stream_base::client, ec);
        auto [refusal, id] = verdict(s, ec, *why);
        if (!refusal && id.kind != tls_identity::role::node)
            refusal = "its certificate names " + id.to_string() + ", not a node";
        return refusal;
    }

private:
    template <class F>
    static void load(const char* what, const std::string& file, F f) {
        boost::system::error_code ec;
        f(ec);
        if (ec)
            throw std::runtime_error(std::string(what) + " " + file + ": " + ec.message() +
                                     " (a PEM file is expected)");
    }

    // Records the first certificate the chain verification refused, and why, for the log line.
    static std::shared_ptr<std::string> watch(stream_type& s) {
        auto why = std::make_shared<std::string>();
        s.set_verify_callback([why](bool ok, boost::asio::ssl::verify_context& ctx) {
            if (!ok && why->empty()) {
                X509_STORE_CTX* store = ctx.native_handle();
                int err = X509_STORE_CTX_get_error(store);
                *why = std::string("certificate verify failed: ") +
                       X509_verify_cert_error_string(err) + " (subject " +
                       detail::x509_subject(X509_STORE_CTX_get_current_cert(store)) + ")";
            }
            return ok;
        });
        return why;
    }

    static std::pair<std::optional<std::string>, tls_identity> verdict(
        stream_type& s, const boost::system::error_code& ec, const std::string& why) {
        if (ec) {
            std::string hint;
            if (ec.category() == boost::asio::error::get_ssl_category() &&
                (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                     SSL_R_WRONG_VERSION_NUMBER ||
                 ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST))
                hint = " (it does not speak TLS: plain TCP where TLS is expected?)";
            return {"TLS handshake failed: " + (why.empty() ? ec.message() : why) + hint, {}};
        }
        auto cert = detail::peer_certificate(s.native_handle());
        if (!cert) return {std::string("it presented no certificate"), {}};
        auto [id, none] = detail::x509_identity(cert.get());
        if (id.kind == tls_identity::role::none) return {none, {}};
        return {std::nullopt, id};
    }

    template <class Then>
    void handshake(stream_type& s, boost::asio::ssl::stream_base::handshake_type type,
                   Then then) const {
        auto why = watch(s);
        s.async_handshake(
            type, [&s, why, then = std::move(then)](const boost::system::error_code& ec) mutable {
                auto [refusal, id] = verdict(s, ec, *why);
                then(std::move(refusal), id);
            });
    }

    std::shared_ptr<boost::asio::ssl::context> ctx_;
    tls_identity self_;
};

/// tcp_transport over TLS with mutual authentication:
/// `tls_transport<M> net(io, self, listen, options, log, tls_security({ca, cert, key}));`
template <class Message>
using tls_transport = tcp_transport<Message, tls_security>;

}  // namespace capkit
