// Bearer tokens of `pgque serve --tokens FILE`: one per line, "TOKEN ROLE",
// blank lines and lines starting with # ignored. A request that presents a
// token runs its SQL as the token's database role (SET LOCAL ROLE), so
// the extension's grants (pgque_reader, pgque_writer, pgque_admin or a
// role of one's own) decide what it may do.
#ifndef PGQUE_SERVE_TOKENS_HPP
#define PGQUE_SERVE_TOKENS_HPP

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgque::serve {

class tokens {
public:
    // Throws pgque::usage_error naming the file and line of a bad entry.
    static tokens load(const std::string& path);
    static tokens parse(std::string_view text, const std::string& origin);

    // The role of an "Authorization: Bearer ..." header value, or nothing
    // (no header, not Bearer, unknown token). Compares every token in full,
    // so the time taken does not tell how much of a guess was right.
    [[nodiscard]] std::optional<std::string> role_of(std::string_view authorization) const;
    [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }

private:
    struct entry {
        std::string token;
        std::string role;
    };
    std::vector<entry> m_entries;
};

}  // namespace pgque::serve

#endif
