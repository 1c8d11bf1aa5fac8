// SPDX-License-Identifier: MIT
/// @file Defines capkit::lab::parse_scenario and load_scenario, which read a lab scenario from
/// JSON (the format of docs/scenarios.md) with Boost.JSON, and scenario_error. Boost.JSON is
/// header-only only if exactly one translation unit of the program includes
/// <boost/json/src.hpp>; include this header where you need it and src.hpp once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include <capkit/check/scenario.hpp>

namespace capkit::lab {

/// A scenario that cannot be read: the message names the field (`nemesis[2].at_ms`) and says
/// what is wrong with it.
class scenario_error : public std::runtime_error {
public:
    scenario_error(std::string field, const std::string& what)
        : std::runtime_error(field.empty() ? what : field + ": " + what),
          field_(std::move(field)) {}
    /// The path of the offending field, empty for the document as a whole.
    const std::string& field() const noexcept { return field_; }

private:
    std::string field_;
};

namespace detail {

inline std::string json_kind(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return v.get_bool() ? "true" : "false";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_:
            return boost::json::serialize(v);
        case boost::json::kind::string:
            return "a string";
        case boost::json::kind::array:
            return "an array";
        case boost::json::kind::object:
            return "an object";
    }
    return "a value";
}

// Levenshtein distance, to suggest the field a typo meant.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// Reads the fields of one JSON object; every key the caller never asked for is an error.
class object_reader {
public:
    object_reader(const boost::json::value& v, std::string path) : path_(std::move(path)) {
        if (!v.is_object()) {
            throw scenario_error(path_.empty() ? "the scenario" : path_,
                                 "must be an object ({...}), not " + json_kind(v));
        }
        obj_ = &v.get_object();
    }

    /// The value of `key`, or null if absent; `key` becomes a known field either way.
    const boost::json::value* get(std::string_view key) {
        known_.emplace_back(key);
        return obj_->if_contains(key);
    }

    std::string path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    const std::string& path() const noexcept { return path_; }

    /// Throws for the first key that is not a known field, suggesting the nearest known one.
    void done() const {
        for (const auto& kv : *obj_) {
            std::string_view key = kv.key();
            if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
            std::string best;
            std::size_t best_d = std::numeric_limits<std::size_t>::max();
            for (const auto& k : known_) {
                std::size_t d = edit_distance(key, k);
                if (d < best_d) best_d = d, best = k;
            }
            std::string msg = "unknown field";
            if (best_d <= std::max<std::size_t>(2, key.size() / 3)) {
                msg += "; did you mean \"" + best + "\"?";
            } else {
                msg += "; the fields here are ";
                for (std::size_t i = 0; i < known_.size(); ++i) {
                    msg += (i ? ", " : "") + known_[i];
                }
            }
            throw scenario_error(path(key), msg);
        }
    }

private:
    const boost::json::object* obj_ = nullptr;
    std::string path_;
    std::vector<std::string> known_;
};

inline double json_number(const boost::json::value& v, const std::string& path) {
    if (!v.is_number()) throw scenario_error(path, "must be a number, not " + json_kind(v));
    double d = v.to_number<double>();
    if (!std::isfinite(d)) throw scenario_error(path, "must be a finite number");
    return d;
}

inline std::int64_t json_integer(const boost::json::value& v, const std::string& path,
                                 std::int64_t min, std::int64_t max, std::string_view unit = "") {
    std::int64_t i = 0;
    if (v.is_int64()) {
        i = v.get_int64();
    } else if (v.is_uint64()) {
        i = std::numeric_limits<std::int64_t>::max();  // beyond every bound we ask for
    } else {
        std::string what =
            unit.empty() ? "an integer" : "an integer number of " + std::string(unit);
        throw scenario_error(path, "must be " + what + ", not " + json_kind(v));
    }
    if (i < min || i > max || v.is_uint64()) {
        // Bounds past 2^31 only keep arithmetic safe; they are not worth a mention.
        std::string range = max >= std::numeric_limits<std::int32_t>::max()
                                ? "at least " + std::to_string(min)
                                : "between " + std::to_string(min) + " and " + std::to_string(max);
        throw scenario_error(path, boost::json::serialize(v) + " is out of range: it must be " +
                                       range + (unit.empty() ? "" : " " + std::string(unit)));
    }
    return i;
}

inline unsigned json_unsigned(const boost::json::value& v, const std::string& path,
                              unsigned min = 0) {
    return static_cast<unsigned>(json_integer(v, path, min, std::numeric_limits<unsigned>::max()));
}

inline milliseconds json_ms(const boost::json::value& v, const std::string& path,
                            std::int64_t min = 0) {
    return milliseconds(json_integer(v, path, min, std::int64_t{1} << 50, "milliseconds"));
}

inline double json_probability(const boost::json::value& v, const std::string& path) {
    double p = json_number(v, path);
    if (p < 0 || p > 1) {
        throw scenario_error(
            path, boost::json::serialize(v) + " is not a probability: it must be between 0 and 1");
    }
    return p;
}

inline bool json_bool(const boost::json::value& v, const std::string& path) {
    if (!v.is_bool()) throw scenario_error(path, "must be true or false, not " + json_kind(v));
    return v.get_bool();
}

inline std::string json_string(const boost::json::value& v, const std::string& path) {
    if (!v.is_string()) throw scenario_error(path, "must be a string, not " + json_kind(v));
    return std::string(v.get_string());
}

// A node id, below `nodes` when the scenario names its cluster size.
inline node_id json_node(const boost::json::value& v, const std::string& path, unsigned nodes) {
    auto n =
        static_cast<node_id>(json_integer(v, path, 0, std::numeric_limits<node_id>::max() - 1, ""));
    if (nodes && n >= nodes) {
        throw scenario_error(
            path, "node " + std::to_string(n) + " is beyond the cluster: \"nodes\": " +
                      std::to_string(nodes) + " has nodes 0 to " + std::to_string(nodes - 1));
    }
    return n;
}

inline workload parse_workload(const boost::json::value& v, const std::string& path) {
    object_reader r(v, path);
    workload w;
    if (auto* x = r.get("keys")) w.keys = json_unsigned(*x, r.path("keys"), 1);
    for (auto [name, field] : {std::pair{"read", &w.read}, std::pair{"write", &w.write},
                               std::pair{"cas", &w.cas}, std::pair{"update", &w.update}}) {
        if (auto* x = r.get(name)) {
            *field = json_number(*x, r.path(name));
            if (*field < 0) throw scenario_error(r.path(name), "a weight cannot be negative");
        }
    }
    if (w.read + w.write + w.cas + w.update <= 0) {
        throw scenario_error(path,
                             "the mix read + write + cas + update has zero total weight; give at "
                             "least one operation a positive weight (the defaults are read 0.5, "
                             "write 0.5)");
    }
    if (auto* x = r.get("zipfian")) w.zipfian = json_bool(*x, r.path("zipfian"));
    if (auto* x = r.get("zipf_s")) {
        w.zipf_s = json_number(*x, r.path("zipf_s"));
        if (w.zipf_s <= 0) throw scenario_error(r.path("zipf_s"), "the exponent must be positive");
        if (!w.zipfian) {
            throw scenario_error(r.path("zipf_s"),
                                 "applies only to a zipfian key distribution; add \"zipfian\": "
                                 "true");
        }
    }
    if (auto* x = r.get("rate")) {
        w.rate = json_number(*x, r.path("rate"));
        if (w.rate <= 0) {
            throw scenario_error(r.path("rate"),
                                 "operations per second per client must be positive");
        }
    }
    if (auto* x = r.get("duration_ms")) w.duration = json_ms(*x, r.path("duration_ms"), 1);
    r.done();
    return w;
}

inline latency_spec parse_latency(const boost::json::value& v, const std::string& path) {
    object_reader r(v, path);
    latency_spec l;
    if (auto* x = r.get("shape")) {
        std::string s = json_string(*x, r.path("shape"));
        if (s == "fixed") {
            l.kind = latency_spec::shape::fixed;
        } else if (s == "uniform") {
            l.kind = latency_spec::shape::uniform;
        } else if (s == "long_tailed") {
            l.kind = latency_spec::shape::long_tailed;
        } else {
            throw scenario_error(r.path("shape"), "\"" + s +
                                                      "\" is not a shape: use \"fixed\", "
                                                      "\"uniform\" or \"long_tailed\"");
        }
    }
    auto* ms = r.get("ms");
    auto* min = r.get("min_ms");
    auto* max = r.get("max_ms");
    if (ms) {
        if (l.kind != latency_spec::shape::fixed) {
            throw scenario_error(r.path("ms"),
                                 "applies only to \"shape\": \"fixed\"; use min_ms and max_ms");
        }
        if (min || max) {
            throw scenario_error(r.path("ms"), "give either ms or min_ms, not both");
        }
        l.min = l.max = json_ms(*ms, r.path("ms"));
    }
    if (min) l.min = json_ms(*min, r.path("min_ms"));
    if (max) l.max = json_ms(*max, r.path("max_ms"));
    if (l.kind == latency_spec::shape::fixed) {
        if (max) throw scenario_error(r.path("max_ms"), "a fixed latency has no maximum; use ms");
        l.max = l.min;
    }
    if (l.min > l.max) {
        throw scenario_error(r.path("min_ms"),
                             std::to_string(l.min.count()) + " is above max_ms (" +
                                 std::to_string(l.max.count()) + (max ? ")" : ", the default)") +
                                 "; the lower bound must not exceed the upper one");
    }
    if (auto* x = r.get("tail")) {
        l.tail = json_probability(*x, r.path("tail"));
        if (l.kind != latency_spec::shape::long_tailed) {
            throw scenario_error(r.path("tail"), "applies only to \"shape\": \"long_tailed\"");
        }
        if (l.tail >= 1) {
            throw scenario_error(r.path("tail"),
                                 "must be below 1, or every latency doubles up to the cap");
        }
    }
    r.done();
    return l;
}

inline durability parse_storage(const boost::json::value& v, const std::string& path) {
    object_reader r(v, path);
    durability d;
    if (auto* x = r.get("sync")) {
        std::string s = json_string(*x, r.path("sync"));
        if (s == "always") {
            d.policy = durability::sync::always;
        } else if (s == "interval") {
            d.policy = durability::sync::interval;
        } else if (s == "group") {
            d.policy = durability::sync::group;
        } else if (s == "never") {
            d.policy = durability::sync::never;
        } else {
            throw scenario_error(r.path("sync"), "\"" + s +
                                                     "\" is not a sync policy: use \"always\", "
                                                     "\"interval\", \"group\" or \"never\"");
        }
    }
    if (auto* x = r.get("interval_ms")) {
        d.interval = json_ms(*x, r.path("interval_ms"), 1);
        if (d.policy != durability::sync::interval && d.policy != durability::sync::group) {
            throw scenario_error(r.path("interval_ms"),
                                 "applies only to \"sync\": \"interval\" or \"group\"");
        }
    }
    r.done();
    return d;
}

inline constexpr std::string_view fault_names[] = {
    "partition", "isolate", "bridge",  "cut_one_way", "heal",
    "crash",     "restart", "amnesia", "drop",        "clock_skew"};

inline std::vector<std::vector<node_id>> parse_groups(const boost::json::array& a,
                                                      const std::string& path, unsigned nodes) {
    if (a.size() < 2) {
        throw scenario_error(path, "a partition needs at least two groups, such as [[0], [1, 2]]");
    }
    std::vector<std::vector<node_id>> groups;
    std::set<node_id> seen;
    for (std::size_t g = 0; g < a.size(); ++g) {
        std::string gp = path + "[" + std::to_string(g) + "]";
        if (!a[g].is_array()) {
            throw scenario_error(gp, "a group is an array of node ids, not " + json_kind(a[g]));
        }
        const auto& group = a[g].get_array();
        if (group.empty()) throw scenario_error(gp, "a group cannot be empty");
        groups.emplace_back();
        for (std::size_t i = 0; i < group.size(); ++i) {
            std::string np = gp + "[" + std::to_string(i) + "]";
            node_id n = json_node(group[i], np, nodes);
            if (!seen.insert(n).second) {
                throw scenario_error(np, "node " + std::to_string(n) +
                                             " is named twice; each node belongs to one group");
            }
            groups.back().push_back(n);
        }
    }
    return groups;
}

inline fault parse_fault(const boost::json::value& v, const std::string& path, unsigned nodes) {
    object_reader r(v, path);
    fault f;
    auto* at = r.get("at_ms");
    if (!at) throw scenario_error(path + ".at_ms", "missing: when the fault happens, in ms");
    f.at = json_ms(*at, r.path("at_ms"));

    std::string_view which;
    const boost::json::value* x = nullptr;
    for (std::string_view name : fault_names) {
        if (auto* y = r.get(name)) {
            if (x) {
                throw scenario_error(path, "one fault per entry, but this one has both \"" +
                                               std::string(which) + "\" and \"" +
                                               std::string(name) +
                                               "\"; give each its own entry (same at_ms is fine)");
            }
            which = name, x = y;
        }
    }
    r.done();
    if (!x) {
        std::string all;
        for (std::string_view name : fault_names)
            all += (all.empty() ? "" : ", ") + std::string(name);
        throw scenario_error(path, "says nothing happens: add one of " + all);
    }
    std::string p = r.path(which);
    if (which == "partition") {
        f.what = fault::kind::partition;
        if (x->is_string()) {
            if (x->get_string() != "majority") {
                throw scenario_error(p, "\"" + std::string(x->get_string()) +
                                            "\" is not a partition: use \"majority\" (a "
                                            "majority/minority split), {\"minority\": k} or "
                                            "groups such as [[0], [1, 2]]");
            }
            f.minority = 0;
        } else if (x->is_object()) {
            object_reader o(*x, p);
            auto* k = o.get("minority");
            o.done();
            if (!k) throw scenario_error(p + ".minority", "missing: how many nodes to cut off");
            f.minority = json_unsigned(*k, o.path("minority"), 1);
            if (nodes && 2 * f.minority >= nodes) {
                throw scenario_error(o.path("minority"), std::to_string(f.minority) +
                                                             " nodes are not a minority of " +
                                                             std::to_string(nodes) + "; at most " +
                                                             std::to_string((nodes - 1) / 2));
            }
        } else if (x->is_array()) {
            f.groups = parse_groups(x->get_array(), p, nodes);
        } else {
            throw scenario_error(p,
                                 "must be \"majority\", {\"minority\": k} or groups such as "
                                 "[[0], [1, 2]], not " +
                                     json_kind(*x));
        }
    } else if (which == "heal") {
        f.what = fault::kind::heal;
        if (!x->is_bool() || !x->get_bool()) {
            throw scenario_error(p, "must be true (heal every link), not " + json_kind(*x));
        }
    } else if (which == "drop") {
        f.what = fault::kind::drop;
        f.probability = json_probability(*x, p);
    } else if (which == "cut_one_way") {
        f.what = fault::kind::cut_one_way;
        object_reader o(*x, p);
        auto* from = o.get("from");
        auto* to = o.get("to");
        o.done();
        if (!from) throw scenario_error(p + ".from", "missing: the node whose messages are lost");
        if (!to) throw scenario_error(p + ".to", "missing: the node that stops hearing it");
        f.node = json_node(*from, o.path("from"), nodes);
        f.to = json_node(*to, o.path("to"), nodes);
        if (f.node == f.to) throw scenario_error(p, "from and to are the same node");
    } else if (which == "clock_skew") {
        f.what = fault::kind::clock_skew;
        object_reader o(*x, p);
        auto* n = o.get("node");
        auto* ms = o.get("ms");
        o.done();
        if (!n) throw scenario_error(p + ".node", "missing: whose clock is skewed");
        if (!ms) throw scenario_error(p + ".ms", "missing: how far ahead (negative: behind)");
        f.node = json_node(*n, o.path("node"), nodes);
        f.skew = milliseconds(json_integer(*ms, o.path("ms"), -(std::int64_t{1} << 40),
                                           std::int64_t{1} << 40, "milliseconds"));
    } else {
        f.what = which == "isolate"   ? fault::kind::isolate
                 : which == "bridge"  ? fault::kind::bridge
                 : which == "crash"   ? fault::kind::crash
                 : which == "restart" ? fault::kind::restart
                                      : fault::kind::amnesia;
        f.node = json_node(*x, p, nodes);
        if (f.what == fault::kind::bridge && nodes && nodes < 3) {
            throw scenario_error(p, "a bridge needs at least 3 nodes: two halves and the bridge");
        }
    }
    return f;
}

inline std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t at) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < at && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line, col = 1;
        } else {
            ++col;
        }
    }
    return {line, col};
}

}  // namespace detail

/// Reads a scenario from JSON text (docs/scenarios.md). Absent fields keep the defaults of
/// capkit::lab::scenario. Throws scenario_error naming the field for malformed JSON, unknown
/// fields, values of the wrong type or out of range, and faults that contradict each other.
inline scenario parse_scenario(std::string_view json_text) {
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    std::size_t used = parser.write(json_text.data(), json_text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
        auto [line, col] = detail::line_column(json_text, used);
        throw scenario_error("", "the scenario is not valid JSON: " + ec.message() + " (line " +
                                     std::to_string(line) + ", column " + std::to_string(col) +
                                     ")");
    }
    boost::json::value root = parser.release();

    using detail::json_ms;
    using detail::json_probability;
    using detail::json_unsigned;
    detail::object_reader r(root, "");
    scenario s;
    if (auto* x = r.get("name")) s.name = detail::json_string(*x, "name");
    if (auto* x = r.get("description")) s.description = detail::json_string(*x, "description");
    if (auto* x = r.get("nodes")) s.nodes = json_unsigned(*x, "nodes");
    if (auto* x = r.get("clients")) s.clients = json_unsigned(*x, "clients", 1);
    if (auto* x = r.get("workload")) s.load = detail::parse_workload(*x, "workload");
    if (auto* x = r.get("latency")) s.latency = detail::parse_latency(*x, "latency");
    if (auto* x = r.get("drop")) s.drop = json_probability(*x, "drop");
    if (auto* x = r.get("duplicate")) s.duplicate = json_probability(*x, "duplicate");
    if (auto* x = r.get("reorder")) s.reorder = json_probability(*x, "reorder");
    if (auto* x = r.get("reorder_window_ms")) {
        s.reorder_window = json_ms(*x, "reorder_window_ms");
    }
    if (auto* x = r.get("quiet_ms")) s.quiet = json_ms(*x, "quiet_ms");
    if (auto* x = r.get("anti_entropy_ms")) s.anti_entropy = json_ms(*x, "anti_entropy_ms");
    if (auto* x = r.get("storage")) s.storage = detail::parse_storage(*x, "storage");
    if (auto* x = r.get("perfect_failure_detector")) {
        s.perfect_failure_detector = detail::json_bool(*x, "perfect_failure_detector");
    }
    if (auto* x = r.get("request_timeout_ms")) {
        s.request_timeout = json_ms(*x, "request_timeout_ms", 1);
    }
    if (auto* x = r.get("seeds")) s.seeds = json_unsigned(*x, "seeds", 1);
    if (auto* x = r.get("first_seed")) {
        if (!x->is_int64() && !x->is_uint64()) {
            throw scenario_error("first_seed", "must be an integer from 0 to 2^64 - 1, not " +
                                                   detail::json_kind(*x));
        }
        if (x->is_int64() && x->get_int64() < 0) {
            throw scenario_error("first_seed", "must not be negative");
        }
        s.first_seed = x->to_number<std::uint64_t>();
    }
    if (s.first_seed > std::numeric_limits<std::uint64_t>::max() - (s.seeds - 1)) {
        throw scenario_error("first_seed", "first_seed + seeds - 1 overflows 64 bits");
    }
    if (auto* x = r.get("nemesis")) {
        if (!x->is_array()) {
            throw scenario_error("nemesis",
                                 "must be an array of faults such as [{\"at_ms\": 2000, "
                                 "\"partition\": \"majority\"}], not " +
                                     detail::json_kind(*x));
        }
        const auto& a = x->get_array();
        std::set<node_id> down;
        for (std::size_t i = 0; i < a.size(); ++i) {
            std::string p = "nemesis[" + std::to_string(i) + "]";
            fault f = detail::parse_fault(a[i], p, s.nodes);
            if (!s.nemesis.empty() && f.at < s.nemesis.back().at) {
                throw scenario_error(p + ".at_ms", std::to_string(f.at.count()) +
                                                       " is before the previous fault (at " +
                                                       std::to_string(s.nemesis.back().at.count()) +
                                                       "); list faults in time order");
            }
            std::string who = "node " + std::to_string(f.node);
            if (f.what == fault::kind::crash && !down.insert(f.node).second) {
                throw scenario_error(p + ".crash", who + " is already down; restart it first");
            }
            if ((f.what == fault::kind::restart || f.what == fault::kind::amnesia) &&
                down.erase(f.node) == 0) {
                throw scenario_error(
                    p + (f.what == fault::kind::restart ? ".restart" : ".amnesia"),
                    who + " is not down; crash it first (a restart brings back a crashed node)");
            }
            s.nemesis.push_back(std::move(f));
        }
    }
    r.done();
    return s;
}

/// Reads the scenario file at `path`; a scenario without a name takes the file's stem. Throws
/// scenario_error (for an unreadable file too).
inline scenario load_scenario(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw scenario_error("", "cannot open " + path.string());
    std::string text{std::istreambuf_iterator<char>(in), {}};
    if (in.bad()) throw scenario_error("", "cannot read " + path.string());
    scenario s = parse_scenario(text);
    if (s.name.empty()) s.name = path.stem().string();
    return s;
}

}  // namespace capkit::lab
