// What every route of `pgque serve` shares: the connection pool, the
// tokens, and one way to run a request -- authenticate, borrow a
// connection, run the route's SQL in one transaction as the token's role,
// reply with JSON, or with the error as JSON.
#ifndef PGQUE_SERVE_API_HPP
#define PGQUE_SERVE_API_HPP

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http_error.hpp"
#include "notifier.hpp"
#include "pool.hpp"
#include "tokens.hpp"

namespace pgque::serve {

using json = nlohmann::json;

// A route's answer: a status and a JSON body (none for 204), or a body of
// another content type (/metrics).
struct reply {
    reply(int code, json j) : status(code), body(std::move(j)) {}
    static reply plain(int code, std::string content, const char* type) {
        reply r(code, nullptr);
        r.text = std::move(content);
        r.content_type = type;
        return r;
    }
    int status;
    json body;
    std::string text;
    const char* content_type = nullptr;   // set: text is the body
};

class api {
public:
    api(pool& connections, notifier& ticks, std::optional<tokens> auth)
        : m_pool(connections), m_ticks(ticks), m_tokens(std::move(auth)) {}

    // The role a request runs as: the token's, or nothing when the server
    // has no tokens (everything runs as the role of the --dsn login).
    // Throws api_error 401 without a known token.
    [[nodiscard]] std::optional<std::string> role(const httplib::Request& req) const;

    // Authenticates, borrows a connection and runs fn in a transaction as
    // the request's role (SET LOCAL ROLE); commits and writes fn's reply,
    // or rolls back and writes the error.
    void run(const httplib::Request& req, httplib::Response& res,
             const std::function<reply(pgque::connection&, int slot)>& fn);

    // One transaction as `role` on a borrowed connection: fn's reply, or
    // the error thrown (for a route that runs several, such as a long poll).
    reply transaction(const std::optional<std::string>& role,
                      const std::function<reply(pgque::connection&, int slot)>& fn);

    [[nodiscard]] pool& connections() noexcept { return m_pool; }
    [[nodiscard]] notifier& ticks() noexcept { return m_ticks; }

private:
    pool& m_pool;
    notifier& m_ticks;
    std::optional<tokens> m_tokens;
};

// Writes j (or, for 204, nothing) as the response.
void send_json(httplib::Response& res, int status, const json& j);
// Writes a reply (JSON or text).
void send_reply(httplib::Response& res, const reply& r);
// Writes the error being handled (inside a catch block).
void send_current_error(httplib::Response& res);

// A duration as a request gives it: seconds ("1.5"), or with a unit
// ("500ms", "10s", "2m", "1h"); 422 otherwise. In milliseconds.
[[nodiscard]] long long duration_ms(const std::string& what, const std::string& text);
// A field of a JSON body: a string / a whole number, or 422.
[[nodiscard]] std::string string_field(const json& body, const char* name);
[[nodiscard]] long long integer_field(const json& body, const char* name);

// A text[] literal of items, every element quoted.
[[nodiscard]] std::string array_literal(const std::vector<std::string>& items);

// The request's body as JSON (400 if it is not); an empty body is {}.
[[nodiscard]] json body_json(const httplib::Request& req);

// SET LOCAL ROLE on conn for the open transaction (no-op without a role).
void set_role(pgque::connection& conn, const std::optional<std::string>& role);

// Routes, one file per concern.
void add_queue_routes(httplib::Server& server, api& a);     // queues.cpp
void add_publish_routes(httplib::Server& server, api& a);   // publish.cpp
void add_consume_routes(httplib::Server& server, api& a);   // consume.cpp
void add_dead_letter_routes(httplib::Server& server, api& a);   // dead_letters.cpp
void add_dashboard_routes(httplib::Server& server, api& a);     // dashboard.cpp

}  // namespace pgque::serve

#endif
