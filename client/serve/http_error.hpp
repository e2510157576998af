// Errors of `pgque serve` as HTTP: a status code and the JSON body
// {"error", "sqlstate", "detail", "hint"}. Database errors keep their
// SQLSTATE; the status follows from it (http_status). Errors the server
// finds itself (a bad request body, a missing token) are api_error.
#ifndef PGQUE_SERVE_HTTP_ERROR_HPP
#define PGQUE_SERVE_HTTP_ERROR_HPP

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace pgque::serve {

class api_error : public std::runtime_error {
public:
    api_error(int status, const std::string& message, std::string sqlstate = {}, std::string hint = {})
        : std::runtime_error(message), m_status(status), m_sqlstate(std::move(sqlstate)), m_hint(std::move(hint)) {}
    [[nodiscard]] int status() const noexcept { return m_status; }
    [[nodiscard]] const std::string& sqlstate() const noexcept { return m_sqlstate; }
    [[nodiscard]] const std::string& hint() const noexcept { return m_hint; }

private:
    int m_status;
    std::string m_sqlstate;
    std::string m_hint;
};

// 404 undefined object, 409 exists / wrong state / in use, 422 bad input
// (class 22 and invalid_parameter_value), 403 insufficient privilege, 501
// not supported, 503 the database cannot be reached (class 08, 53, 57P),
// else 500.
[[nodiscard]] int http_status(const std::string& sqlstate);

struct error_reply {
    int status;
    nlohmann::json body;
};

// The reply for the exception being handled (call inside a catch block).
[[nodiscard]] error_reply current_error();

}  // namespace pgque::serve

#endif
