// SPDX-License-Identifier: MIT
// capkit-lab: runs a scenario (docs/scenarios.md) against presets of the built-in catalogue on
// the same seeds, prints a table of what each did, and writes JSON, an SVG plot and the history
// of one seed on request. Exit 0 when the runs completed; 2 for bad arguments, a scenario that
// cannot be read (with the error) or an output file that cannot be written; 1 if a run failed.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

// The one translation unit that compiles Boost.JSON.
#include <boost/json/src.hpp>

#include <capkit/check/lab.hpp>
#include <capkit/check/recorder.hpp>
#include <capkit/check/report_format.hpp>
#include <capkit/check/scenario_json.hpp>
#include <capkit/presets.hpp>

namespace {

namespace lab = capkit::lab;
using steady = std::chrono::steady_clock;

// A bar on stderr, drawn only on a terminal and only once the run has taken a second.
class progress_bar {
public:
    progress_bar(std::size_t total) : total_(total), on_(isatty(STDERR_FILENO) == 1) {}
    ~progress_bar() { clear(); }

    void update(std::size_t done, const std::string& what) {
        if (!on_) return;
        auto now = steady::now();
        if (now - start_ < std::chrono::seconds(1) ||
            now - last_ < std::chrono::milliseconds(100)) {
            return;
        }
        last_ = now;
        constexpr std::size_t width = 30;
        std::size_t filled = total_ ? done * width / total_ : width;
        std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] "
                  << (total_ ? done * 100 / total_ : 100) << "% " << done << '/' << total_
                  << " seeds  " << what << "\x1b[K" << std::flush;
        drawn_ = true;
    }
    void clear() {
        if (drawn_) std::cerr << "\r\x1b[K" << std::flush;
        drawn_ = false;
    }

private:
    std::size_t total_;
    bool on_;
    bool drawn_ = false;
    steady::time_point start_ = steady::now(), last_{};
};

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) {
        auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    }
    return out;
}

// Where the history of `preset` goes: `path` itself for one preset, else with the preset's name
// before the extension (h.jsonl -> h.ap-lww.jsonl).
std::filesystem::path history_path(const std::filesystem::path& path, const std::string& preset,
                                   bool several) {
    if (!several) return path;
    std::filesystem::path p = path;
    p.replace_filename(path.stem().string() + "." + preset + path.extension().string());
    return p;
}

// Shell-quotes `s` if it needs it, for the replay command lines.
std::string shell_quote(const std::string& s) {
    if (s.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:") ==
        std::string::npos) {
        return s;
    }
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

bool write_file(const std::string& path, const auto& writer) {
    std::ofstream out(path, std::ios::binary);
    if (out) writer(out);
    out.close();
    if (!out) {
        std::cerr << "capkit-lab: cannot write " << path << '\n';
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Runs a scenario against presets of the built-in catalogue, on the same seeds, and "
        "prints what each did (docs/scenarios.md). Exit 0 when the runs completed, 2 for bad "
        "arguments or a scenario that cannot be read"};
    bool list = false, per_seed = false;
    std::string scenario_file, preset_list = "all";
    std::optional<unsigned> seeds;
    std::optional<std::uint64_t> first_seed, history_seed;
    std::optional<std::string> json_out, svg_out, history_out;
    app.add_flag("--list", list, "print the catalogue of presets, each with what it promises");
    app.add_option("--scenario", scenario_file, "the scenario file (JSON)");
    app.add_option("--preset", preset_list,
                   "presets to run, separated by commas, or all (the default): the whole "
                   "catalogue but the presets whose cluster size the scenario refuses");
    app.add_option("--seeds", seeds, "run this many seeds (default: the scenario's)")
        ->check(CLI::PositiveNumber);
    app.add_option("--first-seed", first_seed, "start from this seed (default: the scenario's)");
    app.add_option("--json", json_out, "write every report as JSON to this file");
    app.add_flag("--per-seed", per_seed, "include each seed's results in the JSON");
    app.add_option("--svg", svg_out, "draw the trade-off and staleness profiles to this SVG");
    app.add_option("--history", history_out,
                   "write the history of one seed as JSON lines (docs/history-format.md); with "
                   "several presets, one file each, named FILE.<preset>.jsonl");
    app.add_option("--history-seed", history_seed,
                   "the seed whose history --history writes (default: the first seed)");
    try {
        app.parse(argc, argv);
        if (!list && scenario_file.empty()) {
            throw CLI::RequiredError("--scenario FILE (or --list)");
        }
        if (history_seed && !history_out) {
            throw CLI::ValidationError("--history-seed", "needs --history FILE");
        }
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    std::vector<std::string> catalogue = lab::preset_names();
    if (list) {
        std::size_t width = 0;
        for (const auto& name : catalogue) width = std::max(width, name.size());
        for (const auto& name : catalogue) {
            std::cout << name << std::string(width - name.size() + 2, ' ')
                      << lab::preset_description(name) << '\n';
        }
        if (scenario_file.empty()) return 0;
    }

    lab::scenario sc;
    try {
        sc = lab::load_scenario(scenario_file);
    } catch (const lab::scenario_error& e) {
        std::cerr << "capkit-lab: " << scenario_file << ": " << e.what() << '\n';
        return 2;
    }
    if (seeds) sc.seeds = *seeds;
    if (first_seed) sc.first_seed = *first_seed;

    bool all = preset_list == "all";
    std::vector<std::string> chosen = all ? catalogue : split_commas(preset_list);
    if (chosen.empty()) {
        std::cerr << "capkit-lab: --preset names no preset\n";
        return 2;
    }
    for (const auto& name : chosen) {
        if (std::find(catalogue.begin(), catalogue.end(), name) == catalogue.end()) {
            std::cerr << "capkit-lab: there is no preset called " << name << "; the catalogue ("
                      << "capkit-lab --list) has";
            for (const auto& c : catalogue) std::cerr << ' ' << c;
            std::cerr << '\n';
            return 2;
        }
    }
    std::vector<std::string> runnable;
    for (const auto& name : chosen) {
        std::optional<std::string> why;
        lab::with_preset(name, [&](auto t) { why = lab::refuses<typename decltype(t)::type>(sc); });
        if (!why) {
            runnable.push_back(name);
        } else if (all) {
            std::cout << "skipped " << name << ": " << *why << '\n';
        } else {
            std::cerr << "capkit-lab: " << name << " cannot run this scenario: " << *why << '\n';
            return 2;
        }
    }
    if (runnable.empty()) {
        std::cerr << "capkit-lab: no preset of the catalogue can run " << scenario_file << '\n';
        return 2;
    }

    std::uint64_t replay_seed = history_seed.value_or(sc.first_seed);
    bool one_seed = sc.seeds == 1;
    std::vector<lab::report> reports;
    bool written = true;  // every file asked for was written
    std::string current;  // the preset running
    try {
        progress_bar bar(runnable.size() * sc.seeds);
        for (std::size_t k = 0; k < runnable.size(); ++k) {
            const std::string& name = current = runnable[k];
            lab::run_options opt;
            opt.keep_per_seed = per_seed || one_seed;
            opt.progress = [&](std::size_t done, std::size_t) {
                bar.update(k * sc.seeds + done, name);
            };
            lab::with_preset(name, [&](auto t) {
                using replica_type = typename decltype(t)::type;
                reports.push_back(lab::run<replica_type>(sc, opt, name));
                if (history_out) {
                    auto path = history_path(*history_out, name, runnable.size() > 1);
                    written &= write_file(path.string(), [&](std::ostream& out) {
                        capkit::check::write_jsonl(out, lab::record<replica_type>(sc, replay_seed));
                    });
                }
            });
        }
    } catch (const std::exception& e) {
        std::cerr << "capkit-lab: the run of " << current << " failed: " << e.what() << '\n';
        return 1;
    }
    if (!per_seed && !one_seed) {
        for (auto& r : reports) r.per_seed.clear();
    }

    std::cout << "scenario " << sc.name << ": " << sc.seeds << (sc.seeds == 1 ? " seed" : " seeds")
              << " from " << sc.first_seed << '\n';
    const char* no_color = std::getenv("NO_COLOR");
    lab::print_table(std::cout, reports, isatty(STDOUT_FILENO) == 1 && (!no_color || !*no_color));

    bool header = false;
    for (const auto& r : reports) {
        if (one_seed && !r.per_seed.empty()) {
            const auto& s = r.per_seed.front();
            std::cout << r.preset << ", seed " << s.seed << ": " << s.verdict;
            if (!s.culprit.empty()) std::cout << "; culprit: " << s.culprit;
            std::cout << (s.converged ? "" : "; did not converge");
            if (s.lost_writes) std::cout << "; " << s.lost_writes << " lost writes";
            std::cout << '\n';
            continue;
        }
        if (r.failing_seeds.empty()) continue;
        if (!header) {
            std::cout << "\nseeds to replay (not linearizable, not converged, or losing writes):\n";
            header = true;
        }
        std::cout << "  " << r.preset << ":";
        for (auto s : r.failing_seeds) std::cout << ' ' << s;
        std::cout << "\n    capkit-lab --scenario " << shell_quote(scenario_file) << " --preset "
                  << r.preset << " --seeds 1 --first-seed " << r.failing_seeds.front()
                  << " --history h.jsonl\n";
    }
    std::size_t amnesia = 0;
    for (const auto& r : reports) amnesia = std::max(amnesia, r.amnesia_restarts);
    if (amnesia) {
        std::cout << "\nnote: this scenario restarts nodes with an empty store (amnesia, "
                  << amnesia
                  << " times over its seeds): strong, linearizable and serial presets catch up "
                     "from their peers before the node counts again; eventual ones serve at once "
                     "and may lose or hide what it had (docs/protocol.md, \"Amnesia\")\n";
    }

    if (json_out) {
        written &= write_file(*json_out, [&](std::ostream& out) { lab::write_json(out, reports); });
    }
    if (svg_out) {
        written &= write_file(*svg_out, [&](std::ostream& out) { lab::write_svg(out, reports); });
    }
    return written ? 0 : 2;
}
