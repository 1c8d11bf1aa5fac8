// SPDX-License-Identifier: MIT
// Writes the codec fuzzer's seed corpus: real frames from small clusters of the lab's presets and
// of each CRDT (fuzz/codec_workload.hpp), at most a few dozen distinct ones per configuration,
// one file each, into the folder given as the only argument.
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/hana/for_each.hpp>

#include <capkit/presets.hpp>
#include <capkit/wire/frame.hpp>

#include "codec_workload.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr,
                     "usage: codec_seeds <folder>: writes the codec fuzzer's seeds there\n");
        return 2;
    }
    std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    std::set<std::vector<std::byte>> frames;
    auto collect = [&](auto t) {
        using replica = typename decltype(t)::type;
        std::size_t kept = 0;
        capkit::fuzz::run_workload<replica>(
            [&](const typename replica::message& m) {
                std::vector<std::byte> frame;
                capkit::wire::encode_frame(m, frame);
                if (kept < 40 && frames.insert(std::move(frame)).second) ++kept;
            },
            1);
    };
    boost::hana::for_each(capkit::lab::presets, [&](const auto& p) {
        collect(boost::hana::type_c<typename std::decay_t<decltype(p)>::replica>);
    });
    boost::hana::for_each(capkit::fuzz::extra_replicas, collect);
    std::size_t i = 0;
    for (const auto& frame : frames) {
        std::ofstream out(dir / ("seed-" + std::to_string(i++)), std::ios::binary);
        out.write(reinterpret_cast<const char*>(frame.data()),
                  static_cast<std::streamsize>(frame.size()));
    }
    std::printf("codec_seeds: %zu frames written to %s\n", frames.size(), dir.c_str());
    return 0;
}
