// Internal: conversions between C++ values and PostgreSQL's text format.
#ifndef PGQUE_SRC_TEXT_HPP
#define PGQUE_SRC_TEXT_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgque::detail {

// {"a","b\"c"}: a text[] literal; every element quoted, so any text is safe.
[[nodiscard]] std::string array_literal(const std::vector<std::string>& values);

// "{1,2,3}" -> {1,2,3}. Throws pgque::failure on anything else.
[[nodiscard]] std::vector<std::int64_t> parse_int64_array(std::string_view text);

[[nodiscard]] std::int64_t parse_int64(std::string_view text);
[[nodiscard]] double parse_double(std::string_view text);
[[nodiscard]] bool parse_bool(std::string_view text);

// Microseconds since the Unix epoch <-> system_clock. to_epoch_micros
// truncates towards the past (the server keeps microseconds).
[[nodiscard]] std::chrono::system_clock::time_point from_epoch_micros(std::int64_t micros);
[[nodiscard]] std::int64_t to_epoch_micros(std::chrono::system_clock::time_point t);

// Parameter text for an interval given in microseconds (bound as int8 and
// turned into an interval by the SQL: $n::int8 * interval '1 microsecond').
[[nodiscard]] std::string micros_param(std::chrono::microseconds value);

}  // namespace pgque::detail

#endif
