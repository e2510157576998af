// The pgque CLI's JSON payload check (send --json): the grammar of RFC 8259,
// which is what PostgreSQL's jsonb input accepts, plus jsonb's refusal of
// \u0000 and of unpaired surrogates. Checked before connecting, so a bad
// payload sends nothing; the server's ::jsonb cast checks again.
#ifndef PGQUE_CLI_JSON_CHECK_HPP
#define PGQUE_CLI_JSON_CHECK_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pgque::cli {

struct json_problem {
    std::string what;    // "unexpected character 'x': expected a JSON value"
    std::size_t line;    // 1-based
    std::size_t column;  // 1-based, in code points
};

// nullopt if text is one JSON value (surrounded by optional whitespace),
// else the first thing wrong with it.
[[nodiscard]] std::optional<json_problem> json_error(std::string_view text);

// "<what> at line L, column C" ("... at column C" for one-line text)
[[nodiscard]] std::string to_string(const json_problem& p, bool one_line = false);

}  // namespace pgque::cli

#endif
