#include "http_error.hpp"

#include <pgque/error.hpp>

namespace pgque::serve {

int http_status(const std::string& s) {
    if (s == "42704" || s == "42P01") return 404;                        // undefined object / table
    if (s == "42710" || s == "42P06" || s == "23505") return 409;         // already exists
    if (s == "55000" || s == "55006" || s == "55P03" || s == "40001") return 409;  // state, in use, lock
    if (s == "42501") return 403;                                        // insufficient privilege
    if (s == "0A000" || s == "42883") return 501;                        // not supported / no such function
    if (s.rfind("22", 0) == 0) return 422;                                // data exceptions
    if (s.rfind("08", 0) == 0 || s.rfind("53", 0) == 0 || s.rfind("57P", 0) == 0) return 503;
    if (s == "25006") return 503;                                        // read-only: a standby
    return 500;
}

namespace {

nlohmann::json body(const std::string& message, const std::string& sqlstate, const std::string& detail,
                    const std::string& hint) {
    nlohmann::json j = {{"error", message}};
    j["sqlstate"] = sqlstate.empty() ? nlohmann::json() : nlohmann::json(sqlstate);
    j["detail"] = detail.empty() ? nlohmann::json() : nlohmann::json(detail);
    j["hint"] = hint.empty() ? nlohmann::json() : nlohmann::json(hint);
    return j;
}

}  // namespace

error_reply current_error() {
    try {
        throw;
    } catch (const api_error& e) {
        return {e.status(), body(e.what(), e.sqlstate(), {}, e.hint())};
    } catch (const pgque::sql_error& e) {
        return {http_status(e.sqlstate()), body(e.server_message(), e.sqlstate(), e.detail(), e.hint())};
    } catch (const pgque::connection_error& e) {
        return {503, body(e.what(), e.sqlstate().empty() ? "08006" : e.sqlstate(), {}, {})};
    } catch (const nlohmann::json::exception& e) {
        return {400, body(std::string("bad JSON: ") + e.what(), {}, {}, {})};
    } catch (const pgque::in_doubt_error& e) {
        return {503, body(e.what(), "08007", {}, "the outcome is unknown: read the state before trying again")};
    } catch (const std::exception& e) {
        return {500, body(e.what(), {}, {}, {})};
    }
}

}  // namespace pgque::serve
