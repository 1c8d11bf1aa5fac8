// SPDX-License-Identifier: MIT
// The lab's reports as a table, JSON and SVG. (Boost.JSON is compiled once for the test binary,
// in json_history.cpp.)
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <capkit/check/report_format.hpp>

#include <catch2/catch.hpp>

namespace lab = capkit::lab;

namespace {

std::vector<lab::report> sample() {
    lab::report cp;
    cp.preset = "cp-serial";
    cp.description = "N=3 R=2 W=2 serial lww<hlc>: tolerates 1 failed replica";
    cp.scenario = "split";
    cp.seeds = 200;
    cp.ops = 240000;
    cp.availability = 0.8125;
    cp.availability_partitioned = 0.5;
    cp.availability_minority = 0;
    cp.availability_majority = 0.9975;
    cp.p50_latency_ms = 4.25;
    cp.p99_latency_ms = 12.5;
    cp.linearizable_seeds = 200;
    cp.converged = 1;
    cp.converged_unread = 0.25;
    cp.max_siblings = 1;
    cp.staleness_profile = {{0, 1, 100, 100}, {1, 10, 50, 50}};

    lab::report ap;
    ap.preset = "ap<lww> & co";  // needs escaping in SVG
    ap.description = "N=3 R=1 W=1 eventual lww<hlc>";
    ap.scenario = "split";
    ap.seeds = 200;
    ap.ops = 240000;
    ap.availability = 1;
    ap.availability_partitioned = 0.995;
    ap.availability_minority = 0.99;
    ap.availability_majority = 1;
    ap.p50_latency_ms = 1.5;
    ap.p99_latency_ms = 4.75;
    ap.stale_reads = 1234;
    ap.stale_minority_seeds = 150;
    ap.lost_writes = 7;
    ap.lww_discarded = 42;
    ap.max_siblings = 1;
    ap.converged = 0.995;
    ap.converged_unread = 0.5;
    ap.linearizable_seeds = 12;
    ap.unknown_seeds = 3;
    ap.amnesia_restarts = 0;
    ap.staleness_profile = {{0, 1, 80, 20}, {1, 10, 60, 45}, {10, 100, 40, 40}, {100, 1000, 0, 0}};
    ap.failing_seeds = {3, 5, 8};
    lab::seed_result s;
    s.seed = 3;
    s.ops = 1200;
    s.answered = 1199;
    s.stale_reads = 9;
    s.verdict = "not linearizable";
    s.culprit = "read k1 \"x\"";
    ap.per_seed = {s};
    return {cp, ap};
}

std::vector<std::string> split_ws(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// Checks that every tag is closed in order (comments, the XML declaration and self-closing tags
// aside) and that no raw '<' or '&' appears in text; returns the first problem, or "".
std::string xml_problem(const std::string& doc) {
    std::vector<std::string> open;
    for (std::size_t i = 0; i < doc.size();) {
        if (doc[i] == '&') {
            std::size_t semi = doc.find(';', i);
            std::string ent = doc.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
            if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" &&
                ent != "&#39;") {
                return "raw & at " + std::to_string(i);
            }
            i = semi + 1;
            continue;
        }
        if (doc[i] != '<') {
            ++i;
            continue;
        }
        std::size_t end = doc.find('>', i);
        if (end == std::string::npos) return "unclosed < at " + std::to_string(i);
        std::string tag = doc.substr(i + 1, end - i - 1);
        if (tag.find('<') != std::string::npos) return "raw < inside a tag at " + std::to_string(i);
        i = end + 1;
        if (tag.starts_with("?") || tag.starts_with("!--")) continue;
        if (tag.ends_with("/")) continue;
        std::string name = tag.substr(tag.starts_with("/") ? 1 : 0);
        name = name.substr(0, name.find_first_of(" \t\n"));
        if (tag.starts_with("/")) {
            if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
            open.pop_back();
        } else {
            open.push_back(name);
        }
    }
    return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

}  // namespace

TEST_CASE("report table: every column aligned with the numbers", "[check][lab][report]") {
    std::ostringstream out;
    lab::print_table(out, sample());
    std::string text = out.str();
    std::istringstream lines(text);
    std::string header, row1, row2, legend;
    std::getline(lines, header);
    std::getline(lines, row1);
    std::getline(lines, row2);
    for (std::string l; std::getline(lines, l);) {
        CHECK(l.size() <= 100);
        legend += l + " ";
    }
    CHECK(split_ws(header) == std::vector<std::string>{"preset", "avail", "part", "minor", "major",
                                                       "p50ms", "p99ms", "stale", "lost", "lwwdrop",
                                                       "sibl", "conv", "unread", "linearizable"});
    CHECK(split_ws(row1) == std::vector<std::string>{"cp-serial", "0.812", "0.500", "0.000",
                                                     "0.998", "4.2", "12.5", "0", "0", "0", "1",
                                                     "1.000", "0.250", "200/200"});
    CHECK(split_ws(row2) == std::vector<std::string>{"ap<lww>", "&", "co", "1.000", "0.995",
                                                     "0.990", "1.000", "1.5", "4.8", "1234", "7",
                                                     "42", "1", "0.995", "0.500", "12/200", "(3",
                                                     "unknown)"});
    // Aligned: every row as wide as the header up to its last column.
    CHECK(row1.size() == header.size());
    for (const char* word : {"avail:", "part:", "minor/major:", "stale:", "lost:", "lwwdrop:",
                             "sibl:", "conv:", "linearizable:"}) {
        CHECK(legend.find(word) != std::string::npos);
    }
    CHECK(text.find('\x1b') == std::string::npos);

    std::ostringstream colored;
    lab::print_table(colored, sample(), true);
    CHECK(colored.str().find("\x1b[31m7\x1b[0m") != std::string::npos);  // lost writes in red
}

TEST_CASE("report: a share with nothing to measure is a dash (null in JSON)",
          "[check][lab][report]") {
    auto r = sample();
    r[0].availability_minority = std::nan("");
    std::ostringstream out;
    lab::print_table(out, r);
    std::string text = out.str();
    std::string row1 = text.substr(text.find('\n') + 1);
    CHECK(split_ws(row1.substr(0, row1.find('\n')))[3] == "-");
    std::ostringstream json;
    lab::write_json(json, r);
    CHECK(boost::json::parse(json.str()).at("reports").at(0).at("availability_minority").is_null());
}

TEST_CASE("report JSON: every field round-trips through boost::json::parse",
          "[check][lab][report]") {
    auto reports = sample();
    std::ostringstream out;
    lab::write_json(out, reports);
    boost::json::value doc = boost::json::parse(out.str());
    const auto& a = doc.at("reports").as_array();
    REQUIRE(a.size() == 2);
    const auto& cp = a[0].as_object();
    const auto& ap = a[1].as_object();
    CHECK(cp.at("preset").as_string() == "cp-serial");
    CHECK(cp.at("description").as_string() == reports[0].description);
    CHECK(cp.at("scenario").as_string() == "split");
    CHECK(cp.at("seeds").to_number<std::size_t>() == 200);
    CHECK(cp.at("ops").to_number<std::size_t>() == 240000);
    CHECK(cp.at("availability").to_number<double>() == 0.8125);
    CHECK(cp.at("availability_partitioned").to_number<double>() == 0.5);
    CHECK(cp.at("availability_minority").to_number<double>() == 0);
    CHECK(cp.at("availability_majority").to_number<double>() == 0.9975);
    CHECK(cp.at("p50_latency_ms").to_number<double>() == 4.25);
    CHECK(cp.at("p99_latency_ms").to_number<double>() == 12.5);
    CHECK(cp.at("linearizable_seeds").to_number<int>() == 200);
    CHECK(cp.at("converged").to_number<double>() == 1);
    CHECK(cp.at("converged_unread").to_number<double>() == 0.25);
    CHECK(cp.at("failing_seeds").as_array().empty());
    CHECK_FALSE(cp.contains("per_seed"));
    REQUIRE(cp.at("staleness_profile").as_array().size() == 2);

    CHECK(ap.at("preset").as_string() == "ap<lww> & co");
    CHECK(ap.at("stale_reads").to_number<int>() == 1234);
    CHECK(ap.at("stale_minority_seeds").to_number<int>() == 150);
    CHECK(ap.at("lost_writes").to_number<int>() == 7);
    CHECK(ap.at("lww_discarded").to_number<int>() == 42);
    CHECK(ap.at("max_siblings").to_number<int>() == 1);
    CHECK(ap.at("converged").to_number<double>() == 0.995);
    CHECK(ap.at("linearizable_seeds").to_number<int>() == 12);
    CHECK(ap.at("unknown_seeds").to_number<int>() == 3);
    CHECK(ap.at("amnesia_restarts").to_number<int>() == 0);
    const auto& profile = ap.at("staleness_profile").as_array();
    REQUIRE(profile.size() == 4);
    CHECK(profile[1].at("from_ms").to_number<double>() == 1);
    CHECK(profile[1].at("to_ms").to_number<double>() == 10);
    CHECK(profile[1].at("reads").to_number<int>() == 60);
    CHECK(profile[1].at("fresh").to_number<int>() == 45);
    CHECK(profile[1].at("probability").to_number<double>() == 0.75);
    const auto& failing = ap.at("failing_seeds").as_array();
    REQUIRE(failing.size() == 3);
    CHECK(failing[2].to_number<int>() == 8);
    const auto& per_seed = ap.at("per_seed").as_array();
    REQUIRE(per_seed.size() == 1);
    CHECK(per_seed[0].at("seed").to_number<int>() == 3);
    CHECK(per_seed[0].at("answered").to_number<int>() == 1199);
    CHECK(per_seed[0].at("verdict").as_string() == "not linearizable");
    CHECK(per_seed[0].at("culprit").as_string() == "read k1 \"x\"");
    CHECK(per_seed[0].at("converged").as_bool() == false);
    CHECK(per_seed[0].at("converged_unread").as_bool() == false);

    std::ostringstream empty;
    lab::write_json(empty, {});
    CHECK(boost::json::parse(empty.str()).at("reports").as_array().empty());
}

TEST_CASE("report SVG: well-formed and self-contained with every preset named and escaped",
          "[check][lab][report]") {
    std::ostringstream out;
    lab::write_svg(out, sample());
    std::string svg = out.str();
    CHECK(svg.starts_with("<?xml"));
    CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(xml_problem(svg).empty());
    CHECK(svg.find("cp-serial") != std::string::npos);
    CHECK(svg.find("ap&lt;lww&gt; &amp; co") != std::string::npos);
    CHECK(svg.find("ap<lww>") == std::string::npos);
    CHECK(svg.find("<script") == std::string::npos);
    CHECK(svg.find("@import") == std::string::npos);
    CHECK(svg.find("href") == std::string::npos);
    CHECK(svg.find("<polyline") != std::string::npos);  // staleness profiles drawn
    CHECK(svg.find("nan") == std::string::npos);

    // The checker of this test catches what it should.
    CHECK_FALSE(xml_problem("<svg><g></svg>").empty());
    CHECK_FALSE(xml_problem("<svg><text>a & b</text></svg>").empty());

    std::ostringstream none;
    lab::write_svg(none, {});
    CHECK(xml_problem(none.str()).empty());
}
