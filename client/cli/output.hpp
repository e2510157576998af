// The pgque CLI's output: aligned text tables for people, JSON for scripts.
#ifndef PGQUE_CLI_OUTPUT_HPP
#define PGQUE_CLI_OUTPUT_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgque::cli {

// "a\"b" -> "\"a\\\"b\"": a JSON string literal. Control characters are
// escaped; other bytes (UTF-8) pass through unchanged.
[[nodiscard]] std::string json_quote(std::string_view text);

// One JSON object, fields in insertion order.
class json_object {
public:
    json_object& add(const std::string& key, std::string_view value);
    json_object& add(const std::string& key, const char* value) { return add(key, std::string_view(value)); }
    json_object& add(const std::string& key, const std::string& value) { return add(key, std::string_view(value)); }
    json_object& add(const std::string& key, std::int64_t value);
    json_object& add(const std::string& key, int value) { return add(key, static_cast<std::int64_t>(value)); }
    json_object& add(const std::string& key, double value);  // NaN/inf -> null
    json_object& add(const std::string& key, bool value);
    json_object& add_null(const std::string& key);
    json_object& add_raw(const std::string& key, std::string raw_json);
    template <typename T>
    json_object& add(const std::string& key, const std::optional<T>& value) {
        return value ? add(key, *value) : add_null(key);
    }
    [[nodiscard]] std::string str() const;

private:
    std::vector<std::pair<std::string, std::string>> m_fields;
};

[[nodiscard]] std::string json_array(const std::vector<std::string>& raw_items);

// A text table with a header row, columns padded to the widest cell.
class text_table {
public:
    explicit text_table(std::vector<std::string> headers);
    void add_row(std::vector<std::string> cells);
    void print(std::ostream& out) const;
    [[nodiscard]] std::size_t rows() const noexcept { return m_rows.size(); }

private:
    std::vector<std::string> m_headers;
    std::vector<std::vector<std::string>> m_rows;
};

// Display width of UTF-8 text (code points; good enough for alignment).
[[nodiscard]] std::size_t display_width(std::string_view text);
// Newlines, tabs and other control characters as \n, \t, \xNN, for one-line output.
[[nodiscard]] std::string one_line(std::string_view text);
// At most max_width code points, "..." marking a cut.
[[nodiscard]] std::string shorten(std::string_view text, std::size_t max_width);

// 2026-01-02T03:04:05.678901Z
[[nodiscard]] std::string iso_time(std::chrono::system_clock::time_point t);
// 0.004s, 3.2s, 2m05s, 1h02m, 3d04h
[[nodiscard]] std::string human_duration(std::chrono::microseconds d);
// seconds as a JSON number
[[nodiscard]] double to_seconds(std::chrono::microseconds d);

}  // namespace pgque::cli

#endif
