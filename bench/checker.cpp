// SPDX-License-Identifier: MIT
// The linearizability checker on the published histories (../shared/testdata/histories beside
// the repository, or $CAPKIT_TESTDATA): the 50 Porcupine etcd logs together, etcd_002 alone (the
// slowest), and the 50-client kv history checked per key. Each input is timed three ways:
// end to end (read the files, parse, pair, check, as Porcupine's own timing includes parsing its
// log files), parse only (text in memory to paired history), and search only (parsed histories).
// Every run checks that the verdicts are the published ones.
#include <capkit/check/history.hpp>
#include <capkit/check/linearizability.hpp>
#include <capkit/check/models.hpp>
#include <capkit/check/parse.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace {

namespace ck = capkit::check;
namespace fs = std::filesystem;

fs::path histories_dir() {
    if (const char* dir = std::getenv("CAPKIT_TESTDATA"); dir && *dir) return dir;
    return CAPKIT_TESTDATA_DIR;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// One published history: where it is, how to read and check it, and its verdict.
struct input {
    std::string file;
    bool edn = false;  // porcupine-kv (EDN, kv model per key), else porcupine-etcd (Jepsen log)
    bool expected = true;
};

// The rows of verdicts.tsv for these files; empty if the folder or a row is absent.
std::vector<input> published(const std::vector<std::string>& files) {
    std::ifstream tsv(histories_dir() / "verdicts.tsv");
    std::string line;
    std::vector<input> out;
    for (const std::string& f : files) {
        tsv.clear();
        tsv.seekg(0);
        while (std::getline(tsv, line)) {
            if (line.rfind(f + '\t', 0) != 0) continue;
            out.push_back(
                {f, line.find("\tporcupine-kv\t") != std::string::npos, line.ends_with("\ttrue")});
            break;
        }
    }
    if (out.size() != files.size()) out.clear();
    return out;
}

std::vector<std::string> etcd_files() {
    std::vector<std::string> out;
    for (int i = 0; i < 50; ++i) {
        std::string n = std::to_string(i);
        n.insert(0, 3 - n.size(), '0');
        out.push_back("porcupine/etcd/etcd_" + n + ".log");
    }
    return out;
}

ck::history parse(const input& in, const std::string& text) {
    if (in.edn)
        return ck::pair_events(ck::read_edn(text, ck::default_read_options(ck::format::edn)));
    return ck::pair_events(
        ck::read_jepsen_log(text, ck::default_read_options(ck::format::jepsen_log)));
}

ck::verdict check(const input& in, const ck::history& h) {
    if (in.edn) return ck::check_linearizability(h, ck::kv_model{std::string{}}).result;
    return ck::check_linearizability(h, ck::register_model{}).result;
}

bool right(const input& in, ck::verdict v) {
    return v == (in.expected ? ck::verdict::linearizable : ck::verdict::not_linearizable);
}

// Loads the texts, or says why it cannot.
bool load(benchmark::State& st, const std::vector<input>& inputs, std::vector<std::string>& texts) {
    if (inputs.empty()) {
        st.SkipWithError(("the published histories are absent: no " +
                          (histories_dir() / "verdicts.tsv").string() +
                          " with these files (set CAPKIT_TESTDATA to the histories folder)")
                             .c_str());
        return false;
    }
    for (const input& in : inputs) {
        fs::path p = histories_dir() / in.file;
        if (!fs::exists(p)) {
            st.SkipWithError(("the published histories are absent: no " + p.string() +
                              " (set CAPKIT_TESTDATA to the histories folder)")
                                 .c_str());
            return false;
        }
        texts.push_back(slurp(p));
    }
    return true;
}

enum class part { end_to_end, parse, search };

void bm_checker(benchmark::State& st, const std::vector<std::string>& files, part what) {
    const std::vector<input> inputs = published(files);
    std::vector<std::string> texts;
    if (!load(st, inputs, texts)) return;
    std::vector<ck::history> parsed;
    for (std::size_t i = 0; i < inputs.size(); ++i) parsed.push_back(parse(inputs[i], texts[i]));
    // The verdicts first, outside the timing: a benchmark of wrong answers measures nothing.
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!right(inputs[i], check(inputs[i], parsed[i]))) {
            st.SkipWithError((inputs[i].file + ": not the published verdict").c_str());
            return;
        }
    }
    std::size_t ops = 0;
    for (const auto& h : parsed) ops += h.ops.size();
    for (auto _ : st) {
        bool wrong = false;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            switch (what) {
                case part::end_to_end: {
                    std::string text = slurp(histories_dir() / inputs[i].file);
                    wrong |= !right(inputs[i], check(inputs[i], parse(inputs[i], text)));
                    break;
                }
                case part::parse:
                    benchmark::DoNotOptimize(parse(inputs[i], texts[i]));
                    break;
                case part::search:
                    wrong |= !right(inputs[i], check(inputs[i], parsed[i]));
                    break;
            }
        }
        if (wrong) {
            st.SkipWithError("a verdict changed between runs");
            return;
        }
    }
    st.counters["ops"] = static_cast<double>(ops);
}

[[maybe_unused]] const bool registered = [] {
    const std::pair<const char*, std::vector<std::string>> sets[] = {
        {"checker/etcd_all", etcd_files()},
        {"checker/etcd_002", {"porcupine/etcd/etcd_002.log"}},
        {"checker/kv_c50_per_key", {"porcupine/kv/c50-ok.txt"}},
    };
    const std::pair<const char*, part> parts[] = {
        {"", part::end_to_end}, {"/parse", part::parse}, {"/search", part::search}};
    for (const auto& [name, files] : sets) {
        for (const auto& [suffix, what] : parts) {
            benchmark::RegisterBenchmark((std::string(name) + suffix).c_str(), bm_checker, files,
                                         what)
                ->Unit(benchmark::kMillisecond);
        }
    }
    return true;
}();

}  // namespace
