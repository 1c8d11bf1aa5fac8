// A user's program on durable storage: a table written, closed, and read back from its directory.
#include <capkit/capkit.hpp>
#include <capkit/storage/rocksdb.hpp>

#include <filesystem>
#include <iostream>
#include <string>

int main(int argc, char* argv[]) {
    if (argc != 2) return 2;
    const std::filesystem::path dir = argv[1];
    std::filesystem::remove_all(dir);
    using table = capkit::rocksdb_storage::table<std::string, std::string>;
    table::open(dir).value().put("k", "v");
    const table t = table::open(dir).value();
    const bool ok = t.find("k") != nullptr && *t.find("k") == "v";
    std::cout << (ok ? "consumer rocksdb ok" : "consumer rocksdb lost its write") << '\n';
    return ok ? 0 : 1;
}
