// SPDX-License-Identifier: MIT
// capkit-check: is a recorded history linearizable? Reads JSON lines, Jepsen EDN or Jepsen log
// lines (docs/history-format.md) and prints `linearizable` (exit 0), `not linearizable` with the
// culprit and the operations concurrent with it (exit 1), or `unknown` when a bound ended the
// search (exit 3). Unreadable input exits 2 with the line and what is wrong.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

// The one translation unit that compiles Boost.JSON.
#include <boost/json/src.hpp>

#include <capkit/check/history.hpp>
#include <capkit/check/json_history.hpp>
#include <capkit/check/linearizability.hpp>
#include <capkit/check/models.hpp>
#include <capkit/check/parse.hpp>

namespace {

namespace ck = capkit::check;

// --initial: nil (or null, absent), an integer, or a string (quotes optional).
ck::value parse_initial(const std::string& s) {
    if (s == "nil" || s == "null" || s == "absent") return {};
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (!s.empty() && ec == std::errc{} && p == s.data() + s.size()) return i;
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
    return s;
}

std::string where(const ck::operation& op) {
    std::string out = "event " + std::to_string(op.ret == ck::never ? op.call : op.ret);
    std::size_t line = op.ret == ck::never ? op.call_line : op.ret_line;
    if (line) out += ", line " + std::to_string(line);
    return out;
}

template <class M>
int report(const ck::history& h, const M& model, const ck::check_options& opt) {
    auto started = std::chrono::steady_clock::now();
    ck::check_result r = ck::check_linearizability(h, model, opt);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << ck::name(r.result) << '\n';
    std::cerr << "capkit-check: " << h.ops.size() << " operations, " << r.partitions
              << " independent key groups, " << r.explored << " configurations explored in "
              << seconds << " s (model " << M::name << ")\n";
    if (r.result == ck::verdict::unknown) {
        std::cout << "the search stopped: " << r.reason
                  << "; raise --max-states or --timeout to go further\n";
        return 3;
    }
    if (r.result == ck::verdict::linearizable) return 0;
    const ck::operation& c = h.ops[*r.culprit];
    std::cout << "culprit (" << where(c) << "): " << ck::describe(c) << '\n';
    std::cout << "  called at event " << c.call;
    if (c.call_line) std::cout << ", line " << c.call_line;
    std::cout << "; no order of the operations before it can linearize it\n";
    if (!r.states.empty()) {
        std::cout << "the model could have been: ";
        for (std::size_t i = 0; i < r.states.size(); ++i) {
            std::cout << (i ? ", " : "") << r.states[i];
        }
        std::cout << '\n';
    }
    std::cout << "concurrent with it (" << r.concurrent.size() << "):\n";
    for (std::size_t i : r.concurrent) {
        const ck::operation& op = h.ops[i];
        std::cout << "  " << ck::describe(op) << "  (called at event " << op.call;
        if (op.ret != ck::never) {
            std::cout << ", returned at " << where(op);
        } else {
            std::cout << ", never returned";
        }
        std::cout << ")\n";
    }
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Checks that a recorded history is linearizable (exit 0), or not (1); 2: "
        "unreadable input; 3: unknown (a bound ended the search)"};
    std::string file;
    std::optional<std::string> format_name, model_name, initial, nil_read, failed_cas;
    bool no_partition = false;
    std::size_t max_states = 20'000'000;
    double timeout = 0;
    app.add_option("FILE", file, "history file (JSON lines, Jepsen EDN or Jepsen log); - for stdin")
        ->required();
    app.add_option("--format", format_name, "input format (default: detected)")
        ->check(CLI::IsMember({"jsonl", "edn", "jepsen-log"}));
    app.add_option("--model", model_name,
                   "register (read, write, cas, add), counter (read, add), kv (registers by key, "
                   "with append and add) or multi-register (txn); default: multi-register if "
                   "there are txns, counter if there are adds and reads only, kv if there are "
                   "keys or appends, else register")
        ->check(CLI::IsMember({"register", "counter", "kv", "multi-register"}));
    app.add_option("--initial", initial,
                   "initial value of every register: nil (absent, the default; 0 for counter), "
                   "an integer or a string");
    app.add_option("--nil-read", nil_read,
                   "a completed read of nil means: absent, or unknown (any value); default: "
                   "unknown for EDN (as Knossos), absent otherwise")
        ->check(CLI::IsMember({"absent", "unknown"}));
    app.add_option("--failed-cas", failed_cas,
                   "a failed cas: drop (did not happen, as Jepsen) or mismatch (happened where the "
                   "value differed, as Porcupine's etcd model); default: mismatch for Jepsen "
                   "logs, drop otherwise")
        ->check(CLI::IsMember({"drop", "mismatch"}));
    app.add_flag("--no-partition", no_partition,
                 "check all keys together instead of each independent group of keys alone");
    app.add_option("--max-states", max_states,
                   "give up (unknown) after exploring this many configurations; 0: no bound")
        ->capture_default_str();
    app.add_option("--timeout", timeout, "give up (unknown) after this many seconds; 0: no bound")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    std::string text;
    if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "capkit-check: cannot open " << file << '\n';
            return 2;
        }
        text.assign(std::istreambuf_iterator<char>(in), {});
    }

    ck::history h;
    try {
        std::optional<ck::format> fmt;
        if (format_name) {
            fmt = *format_name == "jsonl" ? ck::format::jsonl
                  : *format_name == "edn" ? ck::format::edn
                                          : ck::format::jepsen_log;
        } else {
            fmt = ck::detect_format(text);
        }
        if (!fmt) {
            std::cerr << file
                      << ":1: the format is not recognised: expected JSON lines ({\"process\": "
                         "...}), Jepsen EDN ({:process ...} or [...]) or a Jepsen log (... "
                         "jepsen.util - ...); force one with --format\n";
            return 2;
        }
        ck::read_options ro = ck::default_read_options(*fmt);
        if (nil_read) ro.nil_read_unknown = *nil_read == "unknown";
        if (failed_cas) ro.failed_cas_mismatch = *failed_cas == "mismatch";
        h = ck::read_history(text, fmt, ro);

        if (!model_name) {
            bool txn = false, keyed = false, add = false, not_counter = false;
            for (const auto& op : h.ops) {
                txn = txn || op.f == ck::op_kind::txn;
                keyed = keyed || op.key || op.f == ck::op_kind::append;
                add = add || op.f == ck::op_kind::add;
                not_counter =
                    not_counter || (op.f != ck::op_kind::add && op.f != ck::op_kind::read);
            }
            model_name = txn                   ? "multi-register"
                         : add && !not_counter ? "counter"
                         : keyed               ? "kv"
                                               : "register";
        }
        ck::check_options opt;
        opt.partition = !no_partition;
        opt.max_states = max_states;
        opt.time_limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(timeout));
        ck::value init = initial ? parse_initial(*initial) : ck::value{};
        if (*model_name == "register") {
            if (no_partition) {
                // One register, keys and all: the kv model over a single key group is the same.
                return report(h, ck::kv_model{init}, opt);
            }
            return report(h, ck::register_model{init}, opt);
        }
        if (*model_name == "counter") {
            ck::counter_model m;
            if (initial) m.initial = init;
            return report(h, m, opt);
        }
        if (*model_name == "kv") return report(h, ck::kv_model{init}, opt);
        ck::multi_register_model m;
        m.initial = init;
        return report(h, m, opt);
    } catch (const ck::history_error& e) {
        std::cerr << file;
        if (e.line()) std::cerr << ':' << e.line();
        std::cerr << ": " << e.what() << '\n';
        return 2;
    }
}
