// pgque/error.hpp -- the exception hierarchy of the pgque client.
//
// Two branches, as in libpqxx: mistakes in the calling code are
// std::logic_error, everything that goes wrong at run time (the server said
// no, the connection broke) is std::runtime_error. Both carry the mixin
// pgque::error, so that one handler can catch whatever the library throws:
//
//   pgque::error                        mixin (not a std::exception): anything the library throws
//
//   std::logic_error
//     pgque::usage_error                misuse found on the client: bad options, a moved-from
//                                       object, a nested transaction, a column that is not there
//   std::runtime_error
//     pgque::failure                    run-time failure (also: a value from the server that
//                                       cannot be read, a transaction that failed earlier)
//       pgque::connection_error         could not connect, or the connection was lost
//       pgque::in_doubt_error           the connection was lost during COMMIT: the transaction
//                                       may or may not have committed
//       pgque::sql_error                the server rejected a call: sqlstate(), detail(), hint()
//         pgque::not_found              42704 undefined_object; object_kind() says what is missing
//           pgque::queue_not_found      ... a queue
//           pgque::consumer_not_found   ... a subscription of a consumer
//           pgque::batch_not_found      ... a batch id
//         pgque::batch_not_open         55000 with object kind "batch": finished, taken over, cancelled
//         pgque::data_error             class 22 data exception (22023 invalid_parameter_value,
//                                       22004 null_value_not_allowed, 22P02 bad JSON, ...)
//         pgque::permission_denied      42501 insufficient_privilege
//
// What to catch:
//   anything the library throws      catch (const pgque::error& e)    -- e.what() works
//   anything at all                  catch (const std::exception& e)  -- also catches every pgque
//                                    error, since each is a std::logic_error or std::runtime_error
//   only run-time failures           catch (const pgque::failure& e)  -- not usage errors (bugs)
//
// The server tags its "does not exist" errors with the object kind in the
// error's table field (queue, consumer, batch, event, tick, dead_letter) and
// schema "pgque"; the mapping reads that field, never the message text.
#ifndef PGQUE_ERROR_HPP
#define PGQUE_ERROR_HPP

#include <stdexcept>
#include <string>

#include <pgque/export.hpp>

namespace pgque {

// The mixin of every exception the library throws. It is not a
// std::exception itself (each concrete class already is one, through
// std::logic_error or std::runtime_error), so catching std::exception stays
// unambiguous; what() is the same text as the std::exception's.
class PGQUE_EXPORT error {
public:
    virtual ~error() noexcept;
    [[nodiscard]] virtual const char* what() const noexcept = 0;

protected:
    error() noexcept = default;
    error(const error&) noexcept = default;
    error& operator=(const error&) noexcept = default;
};

// Misuse of the client, found before (or instead of) asking the server: a
// bug in the calling code, like libpqxx's usage_error.
class PGQUE_EXPORT usage_error : public std::logic_error, public error {
public:
    explicit usage_error(const std::string& message);
    ~usage_error() noexcept override;
    [[nodiscard]] const char* what() const noexcept override;
};

// Anything that went wrong at run time.
class PGQUE_EXPORT failure : public std::runtime_error, public error {
public:
    explicit failure(const std::string& message);
    ~failure() noexcept override;
    [[nodiscard]] const char* what() const noexcept override;
};

// Connecting failed or the connection broke (server restart,
// pg_terminate_backend, network). Not an sql_error: the call may or may not
// have taken effect on the server. sqlstate() is set when the server said
// why (class 08, or 57P01..57P03), empty otherwise.
class PGQUE_EXPORT connection_error : public failure {
public:
    explicit connection_error(const std::string& message, std::string sqlstate = {});
    ~connection_error() noexcept override;
    [[nodiscard]] const std::string& sqlstate() const noexcept { return m_sqlstate; }

private:
    std::string m_sqlstate;
};

// transaction::commit() lost the connection after sending COMMIT: the
// server may have committed or not, and this client cannot tell. Check the
// transaction's effects after reconnecting. Deliberately not a
// connection_error, so that code retrying on connection_error does not
// repeat a transaction that may have committed.
class PGQUE_EXPORT in_doubt_error : public failure {
public:
    explicit in_doubt_error(const std::string& message);
    ~in_doubt_error() noexcept override;
};

// The fields of a server error (PQresultErrorField).
struct PGQUE_EXPORT sql_error_info {
    std::string sqlstate;  // PG_DIAG_SQLSTATE, e.g. "42704"
    std::string message;   // PG_DIAG_MESSAGE_PRIMARY
    std::string detail;    // PG_DIAG_MESSAGE_DETAIL
    std::string hint;      // PG_DIAG_MESSAGE_HINT
    std::string schema;    // PG_DIAG_SCHEMA_NAME ("pgque" for pgque's own errors)
    std::string table;     // PG_DIAG_TABLE_NAME (object kind for pgque's own errors)
};

class PGQUE_EXPORT sql_error : public failure {
public:
    explicit sql_error(sql_error_info info);
    ~sql_error() noexcept override;

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
// "batch", "event", "tick", "dead_letter", "schedule", or empty for other
// objects.
class PGQUE_EXPORT not_found : public sql_error {
public:
    using sql_error::sql_error;
    ~not_found() noexcept override;
    [[nodiscard]] const std::string& object_kind() const noexcept { return table_name(); }
};

class PGQUE_EXPORT queue_not_found : public not_found {
public:
    using not_found::not_found;
    ~queue_not_found() noexcept override;
};

class PGQUE_EXPORT consumer_not_found : public not_found {
public:
    using not_found::not_found;
    ~consumer_not_found() noexcept override;
};

class PGQUE_EXPORT batch_not_found : public not_found {
public:
    using not_found::not_found;
    ~batch_not_found() noexcept override;
};

// The batch exists but can no longer be acked or nacked: already finished,
// re-delivered under a new id, or cancelled by a consumer reposition.
class PGQUE_EXPORT batch_not_open : public sql_error {
public:
    using sql_error::sql_error;
    ~batch_not_open() noexcept override;
};

// SQLSTATE class 22, PostgreSQL's "data exception": a value the server
// would not take (bad queue or consumer name, unknown config parameter,
// NULL where none is allowed, invalid JSON). Named after the class, not
// after std::invalid_argument, which is a logic_error about C++ arguments.
class PGQUE_EXPORT data_error : public sql_error {
public:
    using sql_error::sql_error;
    ~data_error() noexcept override;
};

class PGQUE_EXPORT permission_denied : public sql_error {
public:
    using sql_error::sql_error;
    ~permission_denied() noexcept override;
};

// Throws the most specific exception for a server error: one of the classes
// above, connection_error for connection-loss SQLSTATEs (class 08, 57P01,
// 57P02, 57P03), else sql_error.
[[noreturn]] PGQUE_EXPORT void throw_sql_error(sql_error_info info);

}  // namespace pgque

#endif
