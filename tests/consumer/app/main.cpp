// A user's program: include the umbrella header, pick a configuration, use it.
#include <capkit/capkit.hpp>

#include <iostream>

int main() {
    using config = capkit::config<capkit::quorum<3, capkit::majority, 2>, capkit::linearizable>;
    static_assert(config::quorum::r == 2 && config::quorum::w == 2);
    std::cout << "consumer ok: " << capkit::describe<config>() << '\n';
}
