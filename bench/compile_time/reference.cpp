// SPDX-License-Identifier: MIT
// The reference of bench/compile_time.sh: a file that includes Boost.Asio and Boost.Hana, which
// capkit's users already compile, and runs an io_context.
#include <boost/asio.hpp>
#include <boost/hana.hpp>

#include <iostream>

int main() {
    boost::asio::io_context io;
    auto pair = boost::hana::make_tuple(1, 2.0);
    boost::asio::post(io, [&] { std::cout << boost::hana::size(pair) << '\n'; });
    io.run();
}
