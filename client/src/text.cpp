// Text-format conversions between C++ values and PostgreSQL parameters/results.
#include "text.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <pgque/error.hpp>

namespace pgque::detail {

std::string array_literal(const std::vector<std::string>& values) {
    std::size_t size = 2;
    for (const auto& v : values) size += v.size() + 3;
    std::string out;
    out.reserve(size);
    out += '{';
    bool first = true;
    for (const auto& v : values) {
        if (!first) out += ',';
        first = false;
        out += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::int64_t parse_int64(std::string_view text) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) {
        throw failure("pgque: unexpected integer value from the server: \"" + std::string(text) + "\"");
    }
    return value;
}

double parse_double(std::string_view text) {
    // strtod handles "NaN"/"Infinity" the way the server prints them.
    std::string copy(text);
    char* end = nullptr;
    errno = 0;
    double value = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size()) {
        throw failure("pgque: unexpected float value from the server: \"" + copy + "\"");
    }
    return value;
}

bool parse_bool(std::string_view text) {
    if (text == "t") return true;
    if (text == "f") return false;
    throw failure("pgque: unexpected boolean value from the server: \"" + std::string(text) + "\"");
}

std::vector<std::int64_t> parse_int64_array(std::string_view text) {
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
        throw failure("pgque: unexpected array value from the server: \"" + std::string(text) + "\"");
    }
    std::vector<std::int64_t> out;
    std::string_view body = text.substr(1, text.size() - 2);
    while (!body.empty()) {
        auto comma = body.find(',');
        out.push_back(parse_int64(body.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        body.remove_prefix(comma + 1);
        if (body.empty()) throw failure("pgque: unexpected array value from the server: \"" + std::string(text) + "\"");
    }
    return out;
}

std::chrono::system_clock::time_point from_epoch_micros(std::int64_t micros) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

std::int64_t to_epoch_micros(std::chrono::system_clock::time_point t) {
    return std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string micros_param(std::chrono::microseconds value) {
    return std::to_string(value.count());
}

}  // namespace pgque::detail
