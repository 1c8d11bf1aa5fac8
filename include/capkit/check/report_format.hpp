// SPDX-License-Identifier: MIT
/// @file Defines capkit::lab::print_table, write_json and write_svg: the lab's reports as an
/// aligned text table, as JSON and as a self-contained SVG plot of the CAP trade-off.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <capkit/check/report.hpp>

namespace capkit::lab {

namespace detail {

// The shortest text that reads back as `d`; null for NaN and infinities, which JSON lacks.
inline std::string json_number(double d) {
    if (!std::isfinite(d)) return "null";
    std::array<char, 32> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    return ec == std::errc{} ? std::string(buf.data(), end) : "null";
}

inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (c < 0x20) {
                    constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + '"';
}

// Text for XML character data and attribute values.
inline std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                // XML 1.0 forbids most control characters even as references.
                out += (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') ? ' ' : c;
        }
    }
    return out;
}

inline std::string fixed(double d, int decimals) {
    if (!std::isfinite(d)) return "-";
    std::ostringstream o;
    o << std::fixed << std::setprecision(decimals) << d;
    return o.str();
}

// A number for SVG coordinates: two decimals are below a pixel's worth.
inline std::string px(double d) {
    return fixed(d, 2);
}

inline double linearizable_share(const report& r) {
    return r.seeds ? double(r.linearizable_seeds) / double(r.seeds) : std::nan("");
}

// Where a staleness window sits on a log time axis: its geometric middle; the first window
// (from 0) at its upper end, an open-ended last one (up to "forever") just past its start.
inline double staleness_x(const staleness_point& p) {
    if (p.from_ms <= 0) return p.to_ms;
    if (p.to_ms > 10 * p.from_ms) return 2 * p.from_ms;
    return std::sqrt(p.from_ms * p.to_ms);
}

inline std::string staleness_window(const staleness_point& p) {
    std::ostringstream o;
    o << p.from_ms;
    if (p.to_ms > 10 * p.from_ms && p.from_ms > 0) {
        o << " ms or later";
    } else {
        o << " to " << p.to_ms << " ms";
    }
    return o.str();
}

// Dash patterns, so that presets whose profiles coincide still show apart.
inline constexpr std::array<std::string_view, 4> dashes = {"", "8 4", "3 3", "12 4 3 4"};

// A rectangle on the plot, to keep labels apart.
struct box {
    double x0, y0, x1, y1;
    bool overlaps(const box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// About how wide `s` is in a 12 px sans-serif font (0.55 em a character).
inline double text_width(std::string_view s) {
    return 6.6 * double(s.size());
}

// Tableau 10: distinct for the usual kinds of colour blindness and in print.
inline constexpr std::array<std::string_view, 10> palette = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

}  // namespace detail

/// Prints one row per report, aligned, with a legend line under the header. `color` marks with
/// ANSI escapes what breaks a guarantee (lost writes, non-linearizable seeds) in red and what
/// holds in green; give it only when the stream is a terminal.
inline void print_table(std::ostream& out, const std::vector<report>& reports, bool color = false) {
    enum class tone { none, good, bad, warn };
    struct cell {
        std::string text;
        tone t = tone::none;
    };
    const std::vector<std::string> header = {"preset", "avail", "part",   "minor",       "major",
                                             "p50ms",  "p99ms", "stale",  "lost",        "lwwdrop",
                                             "sibl",   "conv",  "unread", "linearizable"};
    std::vector<std::vector<cell>> rows;
    for (const report& r : reports) {
        std::string lin = std::to_string(r.linearizable_seeds) + "/" + std::to_string(r.seeds);
        if (r.unknown_seeds) lin += " (" + std::to_string(r.unknown_seeds) + " unknown)";
        rows.push_back({
            {r.preset},
            {detail::fixed(r.availability, 3)},
            {detail::fixed(r.availability_partitioned, 3)},
            {detail::fixed(r.availability_minority, 3)},
            {detail::fixed(r.availability_majority, 3)},
            {detail::fixed(r.p50_latency_ms, 1)},
            {detail::fixed(r.p99_latency_ms, 1)},
            {std::to_string(r.stale_reads), r.stale_reads ? tone::warn : tone::none},
            {std::to_string(r.lost_writes), r.lost_writes ? tone::bad : tone::good},
            {std::to_string(r.lww_discarded), r.lww_discarded ? tone::warn : tone::none},
            {std::to_string(r.max_siblings)},
            {detail::fixed(r.converged, 3), r.converged < 1 ? tone::bad : tone::none},
            {detail::fixed(r.converged_unread, 3)},
            {lin, r.linearizable_seeds == r.seeds ? tone::good : tone::bad},
        });
    }
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        width[c] = header[c].size();
        for (const auto& row : rows) width[c] = std::max(width[c], row[c].text.size());
    }
    auto put = [&](const std::string& text, std::size_t c, tone t) {
        std::string pad(width[c] - text.size(), ' ');
        if (c) out << "  ";
        const char* on = !color || t == tone::none ? ""
                         : t == tone::good         ? "\x1b[32m"
                         : t == tone::bad          ? "\x1b[31m"
                                                   : "\x1b[33m";
        const char* off = *on ? "\x1b[0m" : "";
        // The preset name is left-aligned, numbers right-aligned; the last column has no tail.
        if (c == 0) {
            out << on << text << off << pad;
        } else {
            out << pad << on << text << off;
        }
    };
    for (std::size_t c = 0; c < header.size(); ++c) put(header[c], c, tone::none);
    out << '\n';
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) put(row[c].text, c, row[c].t);
        out << '\n';
    }
    // The legend, wrapped at 100 columns.
    const char* legend[] = {
        "avail: share of operations answered",
        "part: the same while a fault was active",
        "minor/major: the same for clients on the minority/majority side of a split",
        "p50ms/p99ms: latency of answered operations (virtual ms)",
        "stale: reads that missed a write acknowledged before they began",
        "lost: acknowledged writes lost",
        "lwwdrop: acknowledged writes last-writer-wins discarded for a concurrent one",
        "sibl: most siblings of one key",
        "conv: share of seeds whose replicas converged",
        "unread: the same before the final reads (without read repair)",
        "linearizable: seeds whose history the checker accepts"};
    std::string line;
    for (std::string_view item : legend) {
        std::string text = std::string(item) + (item == legend[std::size(legend) - 1] ? "" : ";");
        if (!line.empty() && line.size() + 1 + text.size() > 100) {
            out << line << '\n';
            line.clear();
        }
        line += (line.empty() ? "" : " ") + text;
    }
    out << line << '\n';
}

/// Writes every field of every report as one JSON document, `{"reports": [...]}`; per_seed
/// only where it is filled. Shares that have no operations to measure (NaN) are null.
inline void write_json(std::ostream& out, const std::vector<report>& reports) {
    using detail::json_number;
    using detail::json_string;
    auto seeds = [](const std::vector<std::uint64_t>& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        return s + "]";
    };
    out << "{\n  \"reports\": [";
    for (std::size_t i = 0; i < reports.size(); ++i) {
        const report& r = reports[i];
        out << (i ? ",\n" : "\n") << "    {\n";
        out << "      \"preset\": " << json_string(r.preset) << ",\n";
        out << "      \"description\": " << json_string(r.description) << ",\n";
        out << "      \"scenario\": " << json_string(r.scenario) << ",\n";
        out << "      \"seeds\": " << r.seeds << ",\n";
        out << "      \"ops\": " << r.ops << ",\n";
        out << "      \"availability\": " << json_number(r.availability) << ",\n";
        out << "      \"availability_partitioned\": " << json_number(r.availability_partitioned)
            << ",\n";
        out << "      \"availability_minority\": " << json_number(r.availability_minority) << ",\n";
        out << "      \"availability_majority\": " << json_number(r.availability_majority) << ",\n";
        out << "      \"p50_latency_ms\": " << json_number(r.p50_latency_ms) << ",\n";
        out << "      \"p99_latency_ms\": " << json_number(r.p99_latency_ms) << ",\n";
        out << "      \"stale_reads\": " << r.stale_reads << ",\n";
        out << "      \"stale_minority_seeds\": " << r.stale_minority_seeds << ",\n";
        out << "      \"lost_writes\": " << r.lost_writes << ",\n";
        out << "      \"lww_discarded\": " << r.lww_discarded << ",\n";
        out << "      \"max_siblings\": " << r.max_siblings << ",\n";
        out << "      \"converged\": " << json_number(r.converged) << ",\n";
        out << "      \"converged_unread\": " << json_number(r.converged_unread) << ",\n";
        out << "      \"linearizable_seeds\": " << r.linearizable_seeds << ",\n";
        out << "      \"unknown_seeds\": " << r.unknown_seeds << ",\n";
        out << "      \"amnesia_restarts\": " << r.amnesia_restarts << ",\n";
        out << "      \"staleness_profile\": [";
        for (std::size_t k = 0; k < r.staleness_profile.size(); ++k) {
            const staleness_point& p = r.staleness_profile[k];
            out << (k ? ",\n" : "\n") << "        {\"from_ms\": " << json_number(p.from_ms)
                << ", \"to_ms\": " << json_number(p.to_ms) << ", \"reads\": " << p.reads
                << ", \"fresh\": " << p.fresh
                << ", \"probability\": " << json_number(p.probability()) << "}";
        }
        out << (r.staleness_profile.empty() ? "" : "\n      ") << "],\n";
        out << "      \"failing_seeds\": " << seeds(r.failing_seeds);
        if (!r.per_seed.empty()) {
            out << ",\n      \"per_seed\": [";
            for (std::size_t k = 0; k < r.per_seed.size(); ++k) {
                const seed_result& s = r.per_seed[k];
                out << (k ? ",\n" : "\n") << "        {\"seed\": " << s.seed
                    << ", \"ops\": " << s.ops << ", \"answered\": " << s.answered
                    << ", \"ops_partitioned\": " << s.ops_partitioned
                    << ", \"answered_partitioned\": " << s.answered_partitioned
                    << ", \"ops_minority\": " << s.ops_minority
                    << ", \"answered_minority\": " << s.answered_minority
                    << ", \"ops_majority\": " << s.ops_majority
                    << ", \"answered_majority\": " << s.answered_majority
                    << ", \"stale_reads\": " << s.stale_reads
                    << ", \"stale_reads_minority\": " << s.stale_reads_minority
                    << ", \"lost_writes\": " << s.lost_writes
                    << ", \"lww_discarded\": " << s.lww_discarded
                    << ", \"max_siblings\": " << s.max_siblings
                    << ", \"converged\": " << (s.converged ? "true" : "false")
                    << ", \"converged_unread\": " << (s.converged_unread ? "true" : "false")
                    << ", \"verdict\": " << json_string(s.verdict)
                    << ", \"culprit\": " << json_string(s.culprit) << ", \"amnesia\": " << s.amnesia
                    << "}";
            }
            out << "\n      ]";
        }
        out << "\n    }";
    }
    out << (reports.empty() ? "" : "\n  ") << "]\n}\n";
}

/// Draws the reports as one self-contained SVG (no fonts, scripts or links to fetch): on the
/// left, availability while a fault was active against the share of linearizable seeds, one
/// labelled point per preset; on the right, each preset's staleness profile, the probability
/// that a read returns a write (or newer) against the time since it was acknowledged, on a log
/// axis. Hovering a point shows its numbers.
inline void write_svg(std::ostream& out, const std::vector<report>& reports) {
    using detail::px;
    using detail::xml_escape;
    constexpr double panel_w = 420, panel_h = 300;  // plot areas
    constexpr double left1 = 70, left2 = 590, top = 60;
    const double legend_top = top + panel_h + 70;
    const double legend_rows = double((reports.size() + 2) / 3);
    const double width = left2 + panel_w + 30;
    const double height = legend_top + legend_rows * 20 + 20;
    auto color = [](std::size_t i) {
        return std::string(detail::palette[i % detail::palette.size()]);
    };
    auto dash = [](std::size_t i) {
        std::string_view d = detail::dashes[i % detail::dashes.size()];
        return d.empty() ? std::string() : " stroke-dasharray=\"" + std::string(d) + "\"";
    };

    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\""
        << px(height) << "\" viewBox=\"0 0 " << px(width) << ' ' << px(height)
        << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    std::string title = "capkit lab";
    if (!reports.empty()) {
        const report& r = reports.front();
        title += ": " + r.scenario + ", " + std::to_string(r.seeds) +
                 (r.seeds == 1 ? " seed" : " seeds");
    }
    out << "<text x=\"" << px(width / 2) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" "
        << "font-weight=\"bold\">" << xml_escape(title) << "</text>\n";

    // A frame with a title, axis labels and ticks; `xs` and `ys` are (position, label) pairs.
    auto frame = [&](double left, const std::string& title, const std::string& xlabel,
                     const std::string& ylabel,
                     const std::vector<std::pair<double, std::string>>& xs,
                     const std::vector<std::pair<double, std::string>>& ys) {
        out << "<g>\n<text x=\"" << px(left + panel_w / 2) << "\" y=\"" << px(top - 12)
            << "\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">"
            << xml_escape(title) << "</text>\n";
        out << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(panel_w)
            << "\" height=\"" << px(panel_h) << "\" fill=\"none\" stroke=\"#444\"/>\n";
        for (const auto& [x, label] : xs) {
            out << "<line x1=\"" << px(x) << "\" y1=\"" << px(top) << "\" x2=\"" << px(x)
                << "\" y2=\"" << px(top + panel_h) << "\" stroke=\"#e4e4e4\"/>\n";
            out << "<line x1=\"" << px(x) << "\" y1=\"" << px(top + panel_h) << "\" x2=\"" << px(x)
                << "\" y2=\"" << px(top + panel_h + 5) << "\" stroke=\"#444\"/>\n";
            out << "<text x=\"" << px(x) << "\" y=\"" << px(top + panel_h + 18)
                << "\" text-anchor=\"middle\">" << xml_escape(label) << "</text>\n";
        }
        for (const auto& [y, label] : ys) {
            out << "<line x1=\"" << px(left) << "\" y1=\"" << px(y) << "\" x2=\""
                << px(left + panel_w) << "\" y2=\"" << px(y) << "\" stroke=\"#e4e4e4\"/>\n";
            out << "<line x1=\"" << px(left - 5) << "\" y1=\"" << px(y) << "\" x2=\"" << px(left)
                << "\" y2=\"" << px(y) << "\" stroke=\"#444\"/>\n";
            out << "<text x=\"" << px(left - 8) << "\" y=\"" << px(y + 4)
                << "\" text-anchor=\"end\">" << xml_escape(label) << "</text>\n";
        }
        out << "<text x=\"" << px(left + panel_w / 2) << "\" y=\"" << px(top + panel_h + 38)
            << "\" text-anchor=\"middle\">" << xml_escape(xlabel) << "</text>\n";
        double cy = top + panel_h / 2;
        out << "<text x=\"" << px(left - 45) << "\" y=\"" << px(cy)
            << "\" text-anchor=\"middle\" transform=\"rotate(-90 " << px(left - 45) << ' ' << px(cy)
            << ")\">" << xml_escape(ylabel) << "</text>\n</g>\n";
    };
    auto share_ticks = [](double origin, double span, bool vertical) {
        std::vector<std::pair<double, std::string>> t;
        for (int i = 0; i <= 5; ++i) {
            double v = i / 5.0;
            t.emplace_back(vertical ? origin + span * (1 - v) : origin + span * v,
                           detail::fixed(v, 1));
        }
        return t;
    };

    // Left panel: the trade-off.
    auto x1 = [&](double a) { return left1 + std::clamp(a, 0.0, 1.0) * panel_w; };
    auto y1 = [&](double c) { return top + (1 - std::clamp(c, 0.0, 1.0)) * panel_h; };
    frame(left1, "Availability against consistency", "availability while a fault is active",
          "linearizable share of seeds", share_ticks(left1, panel_w, false),
          share_ticks(top, panel_h, true));
    struct point {
        std::size_t i;
        double x, y, r;
    };
    std::vector<point> points;
    for (std::size_t i = 0; i < reports.size(); ++i) {
        double a = reports[i].availability_partitioned, c = detail::linearizable_share(reports[i]);
        if (std::isfinite(a) && std::isfinite(c)) points.push_back({i, x1(a), y1(c), 6});
    }
    // Presets on the same spot are drawn as rings, the earlier ones wider, so each shows.
    for (std::size_t k = 0; k < points.size(); ++k) {
        for (std::size_t j = k + 1; j < points.size(); ++j) {
            if (std::hypot(points[k].x - points[j].x, points[k].y - points[j].y) < 4) {
                points[k].r += 4;
            }
        }
    }
    // Each label takes the first place near its point that covers no other label or point,
    // inside the plot; one away from its point gets a leader line.
    std::vector<detail::box> taken;
    for (const point& p : points) taken.push_back({p.x - p.r, p.y - p.r, p.x + p.r, p.y + p.r});
    for (const point& p : points) {
        const report& r = reports[p.i];
        std::string label = r.preset;
        if (r.stale_reads) label += " (" + std::to_string(r.stale_reads) + " stale)";
        double w = detail::text_width(label);
        struct spot {
            double x, y;
            int anchor;  // -1 end, 0 middle, 1 start
        };
        std::vector<spot> spots = {{p.x + p.r + 4, p.y + 4, 1},
                                   {p.x - p.r - 4, p.y + 4, -1},
                                   {p.x, p.y - p.r - 4, 0},
                                   {p.x, p.y + p.r + 13, 0}};
        for (double dy = 14; dy <= panel_h; dy += 14) {
            for (double sign : {1.0, -1.0}) {
                spots.push_back({p.x + p.r + 4, p.y + 4 + sign * dy, 1});
                spots.push_back({p.x - p.r - 4, p.y + 4 + sign * dy, -1});
            }
        }
        auto box_of = [&](const spot& s) {
            double l = s.anchor == 1 ? s.x : s.anchor == 0 ? s.x - w / 2 : s.x - w;
            return detail::box{l, s.y - 11, l + w, s.y + 3};
        };
        auto fits = [&](const spot& s) {
            detail::box b = box_of(s);
            if (b.x0 < left1 + 2 || b.x1 > left1 + panel_w + 50 || b.y0 < top - 4 ||
                b.y1 > top + panel_h - 2) {
                return false;
            }
            return std::none_of(taken.begin(), taken.end(),
                                [&](const detail::box& t) { return t.overlaps(b); });
        };
        auto it = std::find_if(spots.begin(), spots.end(), fits);
        spot s = it == spots.end() ? spots.front() : *it;
        taken.push_back(box_of(s));

        out << "<g>\n<title>" << xml_escape(r.preset) << ": availability while faulted "
            << detail::fixed(r.availability_partitioned, 3) << ", linearizable "
            << r.linearizable_seeds << '/' << r.seeds << " seeds, " << r.stale_reads
            << " stale reads, " << r.lost_writes << " lost writes</title>\n";
        out << "<circle cx=\"" << px(p.x) << "\" cy=\"" << px(p.y) << "\" r=\"" << px(p.r)
            << "\" fill=\"" << color(p.i) << "\" stroke=\"#222\"/>\n";
        if (it - spots.begin() >= 4) {
            out << "<line x1=\"" << px(p.x) << "\" y1=\"" << px(p.y) << "\" x2=\""
                << px(s.anchor == 1 ? s.x - 2 : s.x + 2) << "\" y2=\"" << px(s.y - 4)
                << "\" stroke=\"#999\"/>\n";
        }
        out << "<text x=\"" << px(s.x) << "\" y=\"" << px(s.y) << "\" text-anchor=\""
            << (s.anchor == 1   ? "start"
                : s.anchor == 0 ? "middle"
                                : "end")
            << "\">" << xml_escape(label) << "</text>\n</g>\n";
    }

    // Right panel: staleness profiles on a log time axis, whole decades wide.
    double lo = 0, hi = 3;
    bool any = false;
    for (const report& r : reports) {
        for (const staleness_point& p : r.staleness_profile) {
            double t = detail::staleness_x(p);
            if (p.reads == 0 || !(t > 0) || !std::isfinite(t)) continue;
            double l = std::log10(t);
            lo = any ? std::min(lo, std::floor(l)) : std::floor(l);
            hi = any ? std::max(hi, std::ceil(l)) : std::ceil(l);
            any = true;
        }
    }
    if (hi <= lo) hi = lo + 1;
    auto x2 = [&](double t) { return left2 + (std::log10(t) - lo) / (hi - lo) * panel_w; };
    std::vector<std::pair<double, std::string>> decades;
    for (double d = lo; d <= hi; ++d) {
        double t = std::pow(10.0, d);
        std::ostringstream label;
        label << t;
        decades.emplace_back(x2(t), label.str());
    }
    frame(left2, "Staleness profile (PBS)",
          "time since the write was acknowledged (ms, virtual, log scale)",
          "P(read returns it or newer)", decades, share_ticks(top, panel_h, true));
    for (double d = lo; d < hi; ++d) {  // minor ticks at 2..9 of each decade
        for (int k = 2; k <= 9; ++k) {
            double x = x2(k * std::pow(10.0, d));
            out << "<line x1=\"" << px(x) << "\" y1=\"" << px(top + panel_h) << "\" x2=\"" << px(x)
                << "\" y2=\"" << px(top + panel_h + 3) << "\" stroke=\"#444\"/>\n";
        }
    }
    if (!any) {
        out << "<text x=\"" << px(left2 + panel_w / 2) << "\" y=\"" << px(top + panel_h / 2)
            << "\" text-anchor=\"middle\" fill=\"#888\">no probe reads</text>\n";
    }
    for (std::size_t i = 0; i < reports.size(); ++i) {
        const report& r = reports[i];
        std::string points;
        std::ostringstream marks;
        for (const staleness_point& p : r.staleness_profile) {
            double t = detail::staleness_x(p);
            if (p.reads == 0 || !(t > 0) || !std::isfinite(t)) continue;
            double x = x2(t), y = y1(p.probability());
            points += (points.empty() ? "" : " ") + px(x) + "," + px(y);
            marks << "<circle cx=\"" << px(x) << "\" cy=\"" << px(y) << "\" r=\"3\" fill=\""
                  << color(i) << "\"><title>" << xml_escape(r.preset) << ": "
                  << detail::staleness_window(p) << ", " << p.fresh << " of " << p.reads
                  << " reads fresh</title></circle>\n";
        }
        if (points.empty()) continue;
        out << "<g>\n<polyline points=\"" << points << "\" fill=\"none\" stroke=\"" << color(i)
            << "\" stroke-width=\"2\"" << dash(i) << "/>\n"
            << marks.str() << "</g>\n";
    }

    // Legend: three presets per row, with their descriptions on hover.
    for (std::size_t i = 0; i < reports.size(); ++i) {
        double x = left1 + double(i % 3) * 310, y = legend_top + double(i / 3) * 20;
        out << "<g>\n<title>" << xml_escape(reports[i].description) << "</title>\n"
            << "<line x1=\"" << px(x) << "\" y1=\"" << px(y - 4) << "\" x2=\"" << px(x + 28)
            << "\" y2=\"" << px(y - 4) << "\" stroke=\"" << color(i) << "\" stroke-width=\"2\""
            << dash(i) << "/>\n"
            << "<circle cx=\"" << px(x + 14) << "\" cy=\"" << px(y - 4) << "\" r=\"5\" fill=\""
            << color(i) << "\" stroke=\"#222\"/>\n"
            << "<text x=\"" << px(x + 36) << "\" y=\"" << px(y) << "\">"
            << xml_escape(reports[i].preset) << "</text>\n</g>\n";
    }
    out << "</svg>\n";
}

}  // namespace capkit::lab
