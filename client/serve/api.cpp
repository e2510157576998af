#include "api.hpp"

#include <pgque/error.hpp>

namespace pgque::serve {

namespace {

constexpr std::chrono::milliseconds borrow_wait{5000};

void rollback_quietly(pgque::connection& conn) {
    try {
        if (conn.is_open() && conn.in_transaction()) conn.exec("rollback");
    } catch (...) {
        // the pool drops a connection left inside a transaction
    }
}

}  // namespace

std::optional<std::string> api::role(const httplib::Request& req) const {
    if (!m_tokens) return std::nullopt;
    if (!req.has_header("Authorization"))
        throw api_error(401, "no bearer token", "28000", "send \"Authorization: Bearer TOKEN\"");
    auto r = m_tokens->role_of(req.get_header_value("Authorization"));
    if (!r) throw api_error(401, "unknown bearer token", "28000");
    return r;
}

std::string array_literal(const std::vector<std::string>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); i++) {
        if (i > 0) out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

void set_role(pgque::connection& conn, const std::optional<std::string>& role) {
    if (role) conn.exec("select pg_catalog.set_config('role', $1, true)", {*role});
}

void api::run(const httplib::Request& req, httplib::Response& res,
              const std::function<reply(pgque::connection&, int)>& fn) {
    try {
        send_reply(res, transaction(role(req), fn));
    } catch (...) {
        send_current_error(res);
    }
}

reply api::transaction(const std::optional<std::string>& role_name,
                       const std::function<reply(pgque::connection&, int)>& fn) {
    auto conn = m_pool.borrow(borrow_wait);
    try {
        conn->exec("begin");
        set_role(*conn, role_name);
        reply r = fn(*conn, conn.slot());
        conn->exec("commit");
        return r;
    } catch (...) {
        rollback_quietly(*conn);
        throw;
    }
}

void send_reply(httplib::Response& res, const reply& r) {
    if (r.content_type != nullptr) {
        res.status = r.status;
        res.set_content(r.text, r.content_type);
    } else {
        send_json(res, r.status, r.body);
    }
}

void send_current_error(httplib::Response& res) {
    auto e = current_error();
    if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    send_json(res, e.status, e.body);
}

void send_json(httplib::Response& res, int status, const json& j) {
    res.status = status;
    if (status != 204) res.set_content(j.dump() + "\n", "application/json");
}

json body_json(const httplib::Request& req) {
    if (req.body.empty()) return json::object();
    try {
        return json::parse(req.body);
    } catch (const json::parse_error& e) {
        throw api_error(400, std::string("the request body is not JSON: ") + e.what());
    }
}

}  // namespace pgque::serve

namespace pgque::serve {

long long duration_ms(const std::string& what, const std::string& text) {
    std::size_t end = 0;
    double value = 0;
    try {
        value = std::stod(text, &end);
    } catch (const std::exception&) {
        end = 0;
    }
    const std::string unit = text.substr(end);
    double scale = 0;
    if (unit.empty() || unit == "s") scale = 1000;
    else if (unit == "ms") scale = 1;
    else if (unit == "m") scale = 60000;
    else if (unit == "h") scale = 3600000;
    if (end == 0 || scale == 0 || !(value >= 0))
        throw api_error(422, what + " must be a duration such as 10, 1.5s, 500ms, 2m or 1h, got \"" + text + "\"",
                        "22023");
    return static_cast<long long>(value * scale);
}

std::string string_field(const json& body, const char* name) {
    if (!body.is_object() || !body.contains(name) || !body[name].is_string())
        throw api_error(422, std::string("the body needs \"") + name + "\" (a string)", "22023");
    return body[name];
}

long long integer_field(const json& body, const char* name) {
    if (!body.is_object() || !body.contains(name) || !body[name].is_number_integer())
        throw api_error(422, std::string("the body needs \"") + name + "\" (a whole number)", "22023");
    return body[name];
}

}  // namespace pgque::serve
