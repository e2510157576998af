// pgque/error.hpp -- the exception hierarchy of the pgque client.
//
//   pgque::error                        anything the library throws
//     pgque::usage_error                misuse detected on the client (bad options, moved-from object)
//     pgque::connection_error           could not connect, or the connection was lost
//     pgque::sql_error                  the server rejected a call: sqlstate(), detail(), hint()
//       pgque::not_found                42704 undefined_object; object_kind() says what is missing
//         pgque::queue_not_found        ... a queue
//         pgque::consumer_not_found     ... a subscription of a consumer
//         pgque::batch_not_found        ... a batch id
//       pgque::batch_not_open           55000 with object kind "batch": finished, taken over, cancelled
//       pgque::invalid_argument         class 22 (22023 invalid_parameter_value, 22004, 22P02 bad JSON, ...)
//       pgque::permission_denied        42501 insufficient_privilege
//
// The server tags its "does not exist" errors with the object kind in the
// error's table field (queue, consumer, batch, event, tick, dead_letter) and
// schema "pgque"; the mapping reads that field, never the message text.
#ifndef PGQUE_ERROR_HPP
#define PGQUE_ERROR_HPP

#include <stdexcept>
#include <string>

namespace pgque {

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Misuse of the client detected before anything is sent to the server.
class usage_error : public error {
public:
    using error::error;
};

// Connecting failed or the connection broke (server restart,
// pg_terminate_backend, network). Not an sql_error: the call may or may not
// have taken effect on the server. sqlstate() is set when the server said
// why (class 08, or 57P01..57P03), empty otherwise.
class connection_error : public error {
public:
    explicit connection_error(const std::string& message, std::string sqlstate = {})
        : error(message), m_sqlstate(std::move(sqlstate)) {}
    [[nodiscard]] const std::string& sqlstate() const noexcept { return m_sqlstate; }

private:
    std::string m_sqlstate;
};

// The fields of a server error (PQresultErrorField).
struct sql_error_info {
    std::string sqlstate;  // PG_DIAG_SQLSTATE, e.g. "42704"
    std::string message;   // PG_DIAG_MESSAGE_PRIMARY
    std::string detail;    // PG_DIAG_MESSAGE_DETAIL
    std::string hint;      // PG_DIAG_MESSAGE_HINT
    std::string schema;    // PG_DIAG_SCHEMA_NAME ("pgque" for pgque's own errors)
    std::string table;     // PG_DIAG_TABLE_NAME (object kind for pgque's own errors)
};

class sql_error : public error {
public:
    explicit sql_error(sql_error_info info) : error(info.message), m_info(std::move(info)) {}

    [[nodiscard]] const std::string& sqlstate() const noexcept { return m_info.sqlstate; }
    [[nodiscard]] const std::string& server_message() const noexcept { return m_info.message; }
    [[nodiscard]] const std::string& detail() const noexcept { return m_info.detail; }
    [[nodiscard]] const std::string& hint() const noexcept { return m_info.hint; }
    [[nodiscard]] const std::string& schema_name() const noexcept { return m_info.schema; }
    [[nodiscard]] const std::string& table_name() const noexcept { return m_info.table; }
    [[nodiscard]] const sql_error_info& info() const noexcept { return m_info; }

private:
    sql_error_info m_info;
};

// 42704. object_kind() is the server's table field: "queue", "consumer",
// "batch", "event", "tick", "dead_letter", or empty for other objects.
class not_found : public sql_error {
public:
    using sql_error::sql_error;
    [[nodiscard]] const std::string& object_kind() const noexcept { return table_name(); }
};

class queue_not_found : public not_found {
public:
    using not_found::not_found;
};

class consumer_not_found : public not_found {
public:
    using not_found::not_found;
};

class batch_not_found : public not_found {
public:
    using not_found::not_found;
};

// The batch exists but can no longer be acked or nacked: already finished,
// re-delivered under a new id, or cancelled by a consumer reposition.
class batch_not_open : public sql_error {
public:
    using sql_error::sql_error;
};

class invalid_argument : public sql_error {
public:
    using sql_error::sql_error;
};

class permission_denied : public sql_error {
public:
    using sql_error::sql_error;
};

// Throws the most specific exception for a server error: one of the classes
// above, connection_error for connection-loss SQLSTATEs (class 08, 57P01,
// 57P02, 57P03), else sql_error.
[[noreturn]] void throw_sql_error(sql_error_info info);

}  // namespace pgque

#endif
