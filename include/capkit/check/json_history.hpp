// SPDX-License-Identifier: MIT
/// @file Defines capkit::check::read_jsonl and read_history, which read JSON-lines histories with
/// Boost.JSON. Boost.JSON is header-only only if exactly one translation unit of the program
/// includes <boost/json/src.hpp>; include this header where you need it and src.hpp once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include <capkit/check/history.hpp>
#include <capkit/check/parse.hpp>

namespace capkit::check {

namespace detail {
inline datum from_json(const boost::json::value& j, std::size_t line) {
    datum d;
    d.line = line;
    switch (j.kind()) {
        case boost::json::kind::null:
            break;
        case boost::json::kind::bool_:
            d.k = datum::kind::boolean;
            d.b = j.get_bool();
            break;
        case boost::json::kind::int64:
            d.k = datum::kind::integer;
            d.i = j.get_int64();
            break;
        case boost::json::kind::uint64:
            if (j.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) {
                throw history_error(line, "an integer is larger than 2^63 - 1");
            }
            d.k = datum::kind::integer;
            d.i = static_cast<std::int64_t>(j.get_uint64());
            break;
        case boost::json::kind::double_:
            throw history_error(line, "values are integers or strings, not fractions (" +
                                          boost::json::serialize(j) + ")");
        case boost::json::kind::string:
            d.k = datum::kind::string;
            d.s = j.get_string();
            break;
        case boost::json::kind::array:
            d.k = datum::kind::vector;
            for (const auto& x : j.get_array()) d.items.push_back(from_json(x, line));
            break;
        case boost::json::kind::object:
            d.k = datum::kind::map;
            for (const auto& [k, v] : j.get_object()) {
                datum key;
                key.k = datum::kind::string;
                key.s = k;
                key.line = line;
                d.items.push_back(std::move(key));
                d.items.push_back(from_json(v, line));
            }
            break;
    }
    return d;
}
}  // namespace detail

/// Reads a history of JSON lines, one event object per line (blank lines are skipped):
/// `{"process": 3, "type": "invoke", "f": "write", "key": "x", "value": 5, "time": 120}`.
/// See docs/history-format.md. Throws history_error naming the line.
inline std::vector<event> read_jsonl(std::string_view text, const read_options& opt = {}) {
    std::vector<event> events;
    for_each_line(text, [&](std::string_view l, std::size_t line) {
        if (l.find_first_not_of(" \t\r") == std::string_view::npos) return;
        boost::system::error_code ec;
        boost::json::value j = boost::json::parse(l, ec);
        if (ec) throw history_error(line, "this is not a JSON object: " + ec.message());
        if (!j.is_object()) throw history_error(line, "each line must hold one JSON object");
        events.push_back(event_from_map(detail::from_json(j, line), opt));
    });
    return events;
}

/// Reads a history in format `f`, or in the detected format if `f` is empty, and pairs its
/// events. Throws history_error.
inline history read_history(std::string_view text, std::optional<format> f = std::nullopt,
                            std::optional<read_options> opt = std::nullopt) {
    if (!f) f = detect_format(text);
    if (!f) {
        throw history_error(1,
                            "the format is not recognised: expected JSON lines ({\"process\": "
                            "...}), Jepsen EDN ({:process ...} or [...]) or a Jepsen log "
                            "(... jepsen.util - ...); force one with --format");
    }
    read_options o = opt ? *opt : default_read_options(*f);
    switch (*f) {
        case format::jsonl:
            return pair_events(read_jsonl(text, o));
        case format::edn:
            return pair_events(read_edn(text, o));
        case format::jepsen_log:
            return pair_events(read_jepsen_log(text, o));
    }
    return {};
}

}  // namespace capkit::check
