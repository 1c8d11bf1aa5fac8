// SPDX-License-Identifier: MIT
/// @file Defines capkit::async_client: a node's client API with Asio completion tokens.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/system/error_code.hpp>

#include <capkit/error.hpp>

namespace capkit {

/// Calls a node from any thread with any Asio completion token: a callback
/// `void(error_code, T)`, `asio::use_future` (a future that throws system_error carrying the
/// capkit error), or `asio::use_awaitable` (co_await returns the result or throws). The call is
/// dispatched to `executor` (the node's strand: a tcp_transport's strand()), and the completion
/// runs on the token's associated executor, which is kept busy until it does.
template <class Node, class Executor>
class async_client {
public:
    using key_type = typename Node::key_type;
    using value_type = typename Node::value_type;
    using context = typename Node::context;
    using read_result = typename Node::read_result;
    using write_result = typename Node::write_result;
    using update_result = typename Node::update_result;

    async_client(Node& node, Executor executor) : node_(node), executor_(std::move(executor)) {}

    template <class Token>
    auto get(key_type key, Token&& token) {
        return start<read_result>(std::forward<Token>(token),
                                  [key = std::move(key)](Node& n, auto done) mutable {
                                      n.async_get(key, std::move(done));
                                  });
    }
    template <class Token>
    auto put(key_type key, value_type value, context ctx, Token&& token) {
        return start<write_result>(std::forward<Token>(token),
                                   [key = std::move(key), value = std::move(value),
                                    ctx = std::move(ctx)](Node& n, auto done) mutable {
                                       n.async_put(key, std::move(value), ctx, std::move(done));
                                   });
    }
    template <class Token>
    auto put(key_type key, value_type value, Token&& token) {
        return put(std::move(key), std::move(value), context{}, std::forward<Token>(token));
    }
    template <class Token>
    auto remove(key_type key, context ctx, Token&& token) {
        return start<write_result>(
            std::forward<Token>(token),
            [key = std::move(key), ctx = std::move(ctx)](Node& n, auto done) mutable {
                n.async_remove(key, ctx, std::move(done));
            });
    }
    template <class Op, class Token>
    auto update(key_type key, Op op, Token&& token) {
        return start<update_result>(
            std::forward<Token>(token),
            [key = std::move(key), op = std::move(op)](Node& n, auto done) mutable {
                n.async_update(key, std::move(op), std::move(done));
            });
    }
    template <class Token>
    auto compare_and_set(key_type key, std::optional<value_type> expected,
                         std::optional<value_type> desired, Token&& token) {
        return start<write_result>(std::forward<Token>(token),
                                   [key = std::move(key), expected = std::move(expected),
                                    desired = std::move(desired)](Node& n, auto done) mutable {
                                       n.async_compare_and_set(key, std::move(expected),
                                                               std::move(desired), std::move(done));
                                   });
    }

    const Executor& executor() const noexcept { return executor_; }

private:
    // The node's callbacks are std::function (copyable), Asio's handlers may be move-only: the
    // handler and the work that keeps its executor alive share one heap cell.
    template <class T, class Token, class Start>
    auto start(Token&& token, Start call) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, T)>(
            [this](auto handler, Start call) {
                using handler_type = decltype(handler);
                auto ex = boost::asio::get_associated_executor(handler, executor_);
                struct pending {
                    handler_type handler;
                    boost::asio::executor_work_guard<decltype(ex)> work;
                };
                auto op = std::make_shared<pending>(
                    pending{std::move(handler), boost::asio::make_work_guard(ex)});
                // The node, not this client: a temporary client may be gone when the strand runs.
                boost::asio::dispatch(executor_, [&node = node_, op,
                                                  call = std::move(call)]() mutable {
                    call(node, [op](result<T> r) {
                        auto ex2 = op->work.get_executor();
                        boost::asio::dispatch(ex2, [op, r = std::move(r)]() mutable {
                            op->work.reset();
                            if (r) {
                                std::move(op->handler)(boost::system::error_code{}, std::move(*r));
                            } else {
                                // Asio's idiom: an error_code first (the shortfall stays in
                                // capkit::failure, for callers of the node itself).
                                std::move(op->handler)(r.error().error_code(), T{});
                            }
                        });
                    });
                });
            },
            token, std::move(call));
    }

    Node& node_;
    Executor executor_;
};

}  // namespace capkit
