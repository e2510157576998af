#include "output.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <regex>

namespace pgque::cli {

std::string json_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
    return out;
}

json_object& json_object::add(const std::string& key, std::string_view value) {
    return add_raw(key, json_quote(value));
}

json_object& json_object::add(const std::string& key, std::int64_t value) {
    return add_raw(key, std::to_string(value));
}

json_object& json_object::add(const std::string& key, double value) {
    if (!std::isfinite(value)) return add_null(key);
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec != std::errc()) return add_null(key);
    return add_raw(key, std::string(buf, end));
}

json_object& json_object::add(const std::string& key, bool value) { return add_raw(key, value ? "true" : "false"); }

json_object& json_object::add_null(const std::string& key) { return add_raw(key, "null"); }

json_object& json_object::add_raw(const std::string& key, std::string raw_json) {
    m_fields.emplace_back(key, std::move(raw_json));
    return *this;
}

std::string json_object::str() const {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : m_fields) {
        if (!first) out += ',';
        first = false;
        out += json_quote(k);
        out += ':';
        out += v;
    }
    out += '}';
    return out;
}

std::string json_array(const std::vector<std::string>& raw_items) {
    std::string out = "[";
    for (std::size_t i = 0; i < raw_items.size(); ++i) {
        if (i != 0) out += ',';
        out += raw_items[i];
    }
    out += ']';
    return out;
}

std::size_t display_width(std::string_view text) {
    std::size_t n = 0;
    for (char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // count lead bytes only
    }
    return n;
}

std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

std::string shorten(std::string_view text, std::size_t max_width) {
    if (display_width(text) <= max_width) return std::string(text);
    std::size_t keep = max_width > 3 ? max_width - 3 : 0;
    std::string out;
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        bool lead = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
        if (lead && n++ == keep) break;
        out += text[i];
    }
    return out + "...";
}

std::string paint(std::string_view text, color c, bool enabled) {
    const char* code = nullptr;
    switch (c) {
        case color::none: break;
        case color::red: code = "\x1b[31m"; break;
        case color::green: code = "\x1b[32m"; break;
        case color::yellow: code = "\x1b[33m"; break;
        case color::bold: code = "\x1b[1m"; break;
    }
    if (code == nullptr || !enabled || text.empty()) return std::string(text);
    return code + std::string(text) + "\x1b[0m";
}

color status_color(std::string_view status) {
    if (status == "ok" || status == "running") return color::green;
    if (status == "manual" || status == "paused" || status == "standby") return color::yellow;
    return color::red;
}

text_table::text_table(std::vector<std::string> headers) : m_headers(std::move(headers)) {}

void text_table::add_row(std::vector<std::string> cells) { add_row(std::move(cells), {}); }

void text_table::add_row(std::vector<std::string> cells, std::vector<color> colors) {
    cells.resize(m_headers.size());
    colors.resize(m_headers.size(), color::none);
    for (auto& c : cells) c = one_line(c);
    m_rows.push_back(std::move(cells));
    m_colors.push_back(std::move(colors));
}

void text_table::print(std::ostream& out, bool use_color) const {
    std::vector<std::size_t> width(m_headers.size());
    for (std::size_t i = 0; i < m_headers.size(); ++i) width[i] = display_width(m_headers[i]);
    for (const auto& row : m_rows) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));
    }
    auto line = [&](const std::vector<std::string>& cells, const std::vector<color>* colors) {
        std::string s;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (i != 0) s += "  ";
            s += paint(cells[i], colors != nullptr ? (*colors)[i] : color::none, use_color);
            if (i + 1 < cells.size()) s.append(width[i] - display_width(cells[i]), ' ');
        }
        out << s << '\n';
    };
    line(m_headers, nullptr);
    std::vector<std::string> rule;
    for (auto w : width) rule.emplace_back(w, '-');
    line(rule, nullptr);
    for (std::size_t r = 0; r < m_rows.size(); ++r) line(m_rows[r], &m_colors[r]);
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    auto frac = static_cast<long>(us - static_cast<std::int64_t>(secs) * 1000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

std::string human_duration(std::chrono::microseconds d) {
    std::int64_t us = d.count();
    std::string sign;
    if (us < 0) {
        sign = "-";
        us = -us;
    }
    char buf[64];
    if (us == 0) return "0s";
    if (us < 1'000'000) {
        std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(us / 1000));
        return sign + buf;
    }
    // tenths of a second, rounded: 59.96 s is "1m00s", not "60.0s"
    std::int64_t tenths = (us + 50'000) / 100'000;
    if (tenths < 600) {
        std::snprintf(buf, sizeof buf, "%lld.%llds", static_cast<long long>(tenths / 10),
                      static_cast<long long>(tenths % 10));
        return sign + buf;
    }
    std::int64_t s = (us + 500'000) / 1'000'000;  // whole seconds, rounded like the tenths above
    if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    } else if (s < 86400) {
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                      static_cast<long long>(s % 3600 / 60));
    } else {
        std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                      static_cast<long long>(s % 86400 / 3600));
    }
    return sign + buf;
}

std::string humanize_intervals(std::string_view text) {
    // PostgreSQL's interval output (IntervalStyle postgres) for what now()
    // minus a timestamp gives: [N day[s] ][-]HH:MM:SS[.ffffff]
    static const std::regex interval(R"((?:(-?\d+) days? )?(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)");
    static const std::regex date_before(R"(\d{4}-\d{2}-\d{2}[ T]$)");
    std::string in(text);
    std::string out;
    std::size_t copied = 0;
    for (auto it = std::sregex_iterator(in.begin(), in.end(), interval); it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        auto start = static_cast<std::size_t>(m.position(0));
        auto end = start + static_cast<std::size_t>(m.length(0));
        char before = start > 0 ? in[start - 1] : ' ';
        char after = end < in.size() ? in[end] : ' ';
        bool word_start = !(std::isalnum(static_cast<unsigned char>(before)) || before == ':' || before == '.' ||
                            before == '-' || before == '+');
        bool word_end = !(std::isalnum(static_cast<unsigned char>(after)) || after == ':' || after == '.' ||
                          after == '+' || after == '-');
        bool timestamp = std::regex_search(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(start), date_before);
        if (!word_start || !word_end || timestamp) continue;
        std::int64_t days = m[1].matched ? std::stoll(m[1].str()) : 0;
        std::int64_t micros = ((std::stoll(m[3].str()) * 60 + std::stoll(m[4].str())) * 60 + std::stoll(m[5].str())) *
                              1'000'000;
        if (m[6].matched) {
            std::string frac = m[6].str();
            frac.append(6 - frac.size(), '0');
            micros += std::stoll(frac);
        }
        if (m[2].matched) micros = -micros;
        micros += days * 86'400'000'000LL;
        out.append(in, copied, start - copied);
        out += human_duration(std::chrono::microseconds(micros));
        copied = end;
    }
    out.append(in, copied, std::string::npos);
    return out;
}

std::string format_rate(double per_second) {
    char buf[64];
    if (!std::isfinite(per_second)) return "";
    if (per_second >= 100) std::snprintf(buf, sizeof buf, "%.0f", per_second);
    else if (per_second >= 10) std::snprintf(buf, sizeof buf, "%.1f", per_second);
    else std::snprintf(buf, sizeof buf, "%.2f", per_second);
    return buf;
}

double to_seconds(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace pgque::cli
