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

void set_role(pgque::connection& conn, const std::optional<std::string>& role) {
    if (role) conn.exec("select pg_catalog.set_config('role', $1, true)", {*role});
}

void api::run(const httplib::Request& req, httplib::Response& res,
              const std::function<reply(pgque::connection&, int)>& fn) {
    run_session(req, res, [&fn](pgque::connection& conn, int slot, const std::optional<std::string>& role) {
        conn.exec("begin");
        set_role(conn, role);
        reply r = fn(conn, slot);
        conn.exec("commit");
        return r;
    });
}

void api::run_session(
    const httplib::Request& req, httplib::Response& res,
    const std::function<reply(pgque::connection&, int, const std::optional<std::string>&)>& fn) {
    try {
        auto role_name = role(req);
        auto conn = m_pool.borrow(borrow_wait);
        try {
            reply r = fn(*conn, conn.slot(), role_name);
            if (r.content_type != nullptr) {
                res.status = r.status;
                res.set_content(r.text, r.content_type);
            } else {
                send_json(res, r.status, r.body);
            }
        } catch (...) {
            rollback_quietly(*conn);
            throw;
        }
    } catch (...) {
        auto e = current_error();
        if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
        send_json(res, e.status, e.body);
    }
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
