#include "tokens.hpp"

#include <fstream>
#include <sstream>

#include <pgque/error.hpp>

namespace pgque::serve {

namespace {

// as long as the token whatever is presented
bool same(std::string_view presented, std::string_view token) {
    unsigned char diff = presented.size() == token.size() ? 0 : 1;
    for (std::size_t i = 0; i < token.size(); i++) {
        const char p = i < presented.size() ? presented[i] : '\0';
        diff |= static_cast<unsigned char>(p ^ token[i]);
    }
    return diff == 0;
}

}  // namespace

tokens tokens::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw pgque::usage_error("cannot read the tokens file " + path);
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

tokens tokens::parse(std::string_view text, const std::string& origin) {
    tokens out;
    std::istringstream lines{std::string(text)};
    std::string line;
    for (int n = 1; std::getline(lines, line); n++) {
        std::istringstream words(line);
        std::string token, role, extra;
        if (!(words >> token) || token[0] == '#') continue;
        if (!(words >> role) || (words >> extra))
            throw pgque::usage_error(origin + ":" + std::to_string(n) + ": expected \"TOKEN ROLE\"");
        if (token.size() < 16)
            throw pgque::usage_error(origin + ":" + std::to_string(n) +
                                     ": a token must be at least 16 characters long");
        out.m_entries.push_back({token, role});
    }
    return out;
}

std::optional<std::string> tokens::role_of(std::string_view authorization) const {
    constexpr std::string_view bearer = "Bearer ";
    if (authorization.substr(0, bearer.size()) != bearer) return std::nullopt;
    std::string_view presented = authorization.substr(bearer.size());
    std::optional<std::string> role;
    for (const auto& e : m_entries) {
        if (same(presented, e.token) && !role) role = e.role;
    }
    return role;
}

}  // namespace pgque::serve
