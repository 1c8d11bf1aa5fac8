// SPDX-License-Identifier: MIT
// A fresh directory under the system's temporary folder, removed with everything in it when the
// test is done.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace capkit::test {

class temp_dir {
public:
    temp_dir() {
        std::string name = (std::filesystem::temp_directory_path() / "capkit-rocksdb-XXXXXX");
        if (::mkdtemp(name.data()) == nullptr)
            throw std::runtime_error("cannot make a temporary directory from " + name);
        path_ = name;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const noexcept { return path_; }
    /// A path inside this directory (for a store of its own).
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace capkit::test
