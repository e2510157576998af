#include "json_check.hpp"

#include <cstdio>

namespace pgque::cli {

namespace {

// Recursive descent over one value; the first problem ends the check.
class checker {
public:
    explicit checker(std::string_view text) : m_text(text) {}

    std::optional<json_problem> run() {
        skip_space();
        if (at_end()) return problem("empty payload: expected a JSON value");
        if (auto e = value(0)) return e;
        skip_space();
        if (!at_end()) return problem("unexpected " + describe() + " after the JSON value");
        return std::nullopt;
    }

private:
    // jsonb itself recurses without a fixed limit; a bound here only keeps
    // the CLI's stack safe from a hostile payload.
    static constexpr int k_max_depth = 1000;

    std::string_view m_text;
    std::size_t m_pos = 0;

    [[nodiscard]] bool at_end() const { return m_pos >= m_text.size(); }
    [[nodiscard]] char peek() const { return m_text[m_pos]; }

    void skip_space() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++m_pos;
    }

    [[nodiscard]] json_problem problem(std::string what) const {
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i < m_pos && i < m_text.size(); ++i) {
            if (m_text[i] == '\n') {
                ++line;
                column = 1;
            } else if ((static_cast<unsigned char>(m_text[i]) & 0xC0) != 0x80) {
                ++column;
            }
        }
        return json_problem{std::move(what), line, column};
    }

    [[nodiscard]] std::string describe() const {
        if (at_end()) return "end of input";
        auto c = static_cast<unsigned char>(peek());
        if (c < 0x20 || c == 0x7f) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
            return buf;
        }
        if (c >= 0x80) return "non-ASCII character";
        return std::string("character '") + static_cast<char>(c) + "'";
    }

    std::optional<json_problem> value(int depth) {
        if (depth > k_max_depth) return problem("JSON nested deeper than " + std::to_string(k_max_depth) + " levels");
        if (at_end()) return problem("unexpected end of input: expected a JSON value");
        switch (peek()) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return string();
            case 't': return literal("true");
            case 'f': return literal("false");
            case 'n': return literal("null");
            default:
                if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
                return problem("unexpected " + describe() + ": expected a JSON value");
        }
    }

    std::optional<json_problem> literal(std::string_view word) {
        for (char expected : word) {
            if (at_end() || peek() != expected) {
                return problem("unexpected " + describe() + " (expected " + std::string(word) + ")");
            }
            ++m_pos;
        }
        return std::nullopt;
    }

    bool digits() {
        std::size_t start = m_pos;
        while (!at_end() && peek() >= '0' && peek() <= '9') ++m_pos;
        return m_pos > start;
    }

    std::optional<json_problem> number() {
        if (peek() == '-') ++m_pos;
        if (at_end() || !(peek() >= '0' && peek() <= '9')) return problem("invalid number: expected a digit");
        if (peek() == '0') {
            ++m_pos;
            if (!at_end() && peek() >= '0' && peek() <= '9') return problem("invalid number: leading zero");
        } else {
            digits();
        }
        if (!at_end() && peek() == '.') {
            ++m_pos;
            if (!digits()) return problem("invalid number: expected a digit after '.'");
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            ++m_pos;
            if (!at_end() && (peek() == '+' || peek() == '-')) ++m_pos;
            if (!digits()) return problem("invalid number: expected a digit in the exponent");
        }
        return std::nullopt;
    }

    static int hex_value(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // After "\u": four hex digits.
    std::optional<json_problem> unicode_escape(int& code) {
        code = 0;
        for (int i = 0; i < 4; ++i) {
            if (at_end() || hex_value(peek()) < 0) return problem("invalid \\u escape: expected four hex digits");
            code = code * 16 + hex_value(peek());
            ++m_pos;
        }
        return std::nullopt;
    }

    std::optional<json_problem> string() {
        ++m_pos;  // opening quote
        for (;;) {
            if (at_end()) return problem("unterminated string");
            auto c = static_cast<unsigned char>(peek());
            if (c == '"') {
                ++m_pos;
                return std::nullopt;
            }
            if (c < 0x20) return problem("unescaped " + describe() + " in a string");
            if (c != '\\') {
                ++m_pos;
                continue;
            }
            ++m_pos;
            if (at_end()) return problem("unterminated string");
            char e = peek();
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                ++m_pos;
                continue;
            }
            if (e != 'u') return problem("invalid escape \\" + std::string(1, e) + " in a string");
            ++m_pos;
            int code = 0;
            if (auto err = unicode_escape(code)) return err;
            if (code == 0) return problem("\\u0000 is not allowed in jsonb");
            if (code >= 0xDC00 && code <= 0xDFFF) return problem("unpaired low surrogate \\u escape");
            if (code >= 0xD800 && code <= 0xDBFF) {
                if (m_text.substr(m_pos, 2) != "\\u") return problem("high surrogate \\u escape without its low half");
                m_pos += 2;
                int low = 0;
                if (auto err = unicode_escape(low)) return err;
                if (low < 0xDC00 || low > 0xDFFF) return problem("high surrogate \\u escape without its low half");
            }
        }
    }

    std::optional<json_problem> array(int depth) {
        ++m_pos;  // [
        skip_space();
        if (!at_end() && peek() == ']') {
            ++m_pos;
            return std::nullopt;
        }
        for (;;) {
            skip_space();
            if (auto e = value(depth + 1)) return e;
            skip_space();
            if (at_end()) return problem("unterminated array: expected ',' or ']'");
            if (peek() == ']') {
                ++m_pos;
                return std::nullopt;
            }
            if (peek() != ',') return problem("unexpected " + describe() + " in an array: expected ',' or ']'");
            ++m_pos;
        }
    }

    std::optional<json_problem> object(int depth) {
        ++m_pos;  // {
        skip_space();
        if (!at_end() && peek() == '}') {
            ++m_pos;
            return std::nullopt;
        }
        for (;;) {
            skip_space();
            if (at_end() || peek() != '"') {
                return problem("unexpected " + describe() + " in an object: expected a \"key\"");
            }
            if (auto e = string()) return e;
            skip_space();
            if (at_end() || peek() != ':') {
                return problem("unexpected " + describe() + " after an object key: expected ':'");
            }
            ++m_pos;
            skip_space();
            if (auto e = value(depth + 1)) return e;
            skip_space();
            if (at_end()) return problem("unterminated object: expected ',' or '}'");
            if (peek() == '}') {
                ++m_pos;
                return std::nullopt;
            }
            if (peek() != ',') return problem("unexpected " + describe() + " in an object: expected ',' or '}'");
            ++m_pos;
        }
    }
};

}  // namespace

std::optional<json_problem> json_error(std::string_view text) { return checker(text).run(); }

std::string to_string(const json_problem& p, bool one_line) {
    if (one_line) return p.what + " at column " + std::to_string(p.column);
    return p.what + " at line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

}  // namespace pgque::cli
