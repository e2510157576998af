// The pgque CLI's output: aligned text tables for people (coloured on a
// terminal), JSON for scripts, and the one duration format of every table.
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

// ANSI colours (SGR). none leaves the text alone.
enum class color { none, red, green, yellow, bold };

// text wrapped in the colour's escape sequence and a reset; unchanged for
// color::none or when enabled is false.
[[nodiscard]] std::string paint(std::string_view text, color c, bool enabled = true);

// The colour of a status word of pgque.status() and the worker: ok/running
// green; manual, paused, standby yellow; stale, stopped, no ticks, rotation
// blocked, not running (anything else) red.
[[nodiscard]] color status_color(std::string_view status);

// A text table with a header row, columns padded to the widest cell.
// Colours are applied at print time, after padding, so they never disturb
// the alignment.
class text_table {
public:
    explicit text_table(std::vector<std::string> headers);
    void add_row(std::vector<std::string> cells);
    // colors[i] paints cells[i] (missing entries: none)
    void add_row(std::vector<std::string> cells, std::vector<color> colors);
    void print(std::ostream& out, bool use_color = false) const;
    [[nodiscard]] std::size_t rows() const noexcept { return m_rows.size(); }

private:
    std::vector<std::string> m_headers;
    std::vector<std::vector<std::string>> m_rows;
    std::vector<std::vector<color>> m_colors;
};

// Display width of UTF-8 text (code points; good enough for alignment).
[[nodiscard]] std::size_t display_width(std::string_view text);
// Newlines, tabs and other control characters as \n, \t, \xNN, for one-line output.
[[nodiscard]] std::string one_line(std::string_view text);
// At most max_width code points, "..." marking a cut.
[[nodiscard]] std::string shorten(std::string_view text, std::size_t max_width);

// 2026-01-02T03:04:05.678901Z
[[nodiscard]] std::string iso_time(std::chrono::system_clock::time_point t);
// The CLI's one human duration format, in every table and status line:
// 0s, 250ms, 3.2s, 4m05s, 2h03m, 5d02h (two units at most, the larger one
// first; a negative duration gets a leading "-"). JSON uses to_seconds().
[[nodiscard]] std::string human_duration(std::chrono::microseconds d);
// PostgreSQL interval texts inside a server message ("last tick 00:01:47.617
// ago", "waiting 1 day 02:00:00") rewritten with human_duration; timestamps
// (a date before the time, or a zone after it) and other text stay as they are.
[[nodiscard]] std::string humanize_intervals(std::string_view text);
// Events per second for a table: 1234, 56.7, 0.25, 0.00.
[[nodiscard]] std::string format_rate(double per_second);
// seconds as a JSON number
[[nodiscard]] double to_seconds(std::chrono::microseconds d);

}  // namespace pgque::cli

#endif
