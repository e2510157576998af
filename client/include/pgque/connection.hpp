// pgque/connection.hpp -- one PostgreSQL connection (RAII over libpq's PGconn).
//
// Threading: a connection, and every client/consumer built on it, is used by
// one thread at a time (libpq's rule). Use one connection per thread.
#ifndef PGQUE_CONNECTION_HPP
#define PGQUE_CONNECTION_HPP

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <pgque/export.hpp>
#include <pgque/result.hpp>

namespace pgque {

class transaction;

// Text parameters of a query; std::nullopt is SQL NULL. Values are always
// sent as parameters, never spliced into the SQL text.
using params = std::vector<std::optional<std::string>>;

// A server notice or warning (e.g. the WARNING of ack() on a closed batch).
struct PGQUE_EXPORT notice {
    std::string severity;  // "WARNING", "NOTICE", ... (not localized)
    std::string sqlstate;
    std::string message;
};

// Whether exec_prepared() uses named prepared statements (session state on
// the server) or unnamed ones (parsed with every call, nothing outliving
// the call). Named statements break behind a pooler in transaction mode
// (pgbouncer pool_mode = transaction), where the next transaction may run
// on another server connection. See docs/cpp-client.md#connection-poolers.
enum class statement_mode {
    // Named, unless the connection goes through a pooler: before its first
    // prepared call the connection compares the server's pg_backend_pid()
    // with the process id libpq was given at connect (a pooler hands out its
    // own); they differ -> unnamed. Also unnamed for good after a named
    // statement failed with 42P05 (already exists) or 26000 (does not exist).
    automatic,
    named,    // always named statements "pgque_*" (a direct connection, session pooling)
    unnamed,  // never: every call is PQexecParams
};

// "auto", "on" (named), "off" (unnamed).
[[nodiscard]] PGQUE_EXPORT const char* to_string(statement_mode mode) noexcept;
// Parses "auto", "on", "off"; std::nullopt for anything else.
[[nodiscard]] PGQUE_EXPORT std::optional<statement_mode> parse_statement_mode(std::string_view text) noexcept;

class PGQUE_EXPORT connection {
public:
    // Connects with a libpq conninfo string or URI ("" = libpq environment:
    // PGHOST, PGDATABASE, ...). Throws connection_error. The statement mode
    // starts as the environment variable PGQUE_PREPARED says (auto, on,
    // off; unset = auto; anything else is a usage_error), for this
    // constructor and wrap() alike.
    explicit connection(const std::string& conninfo);

    // Wraps a connection owned by the caller, who keeps it open while this
    // object lives and closes it afterwards. Nothing about the session is
    // changed except named prepared statements "pgque_*" created on demand.
    // A null conn is a usage_error.
    [[nodiscard]] static connection wrap(PGconn* conn);

    // Do not move a connection while a transaction is open on it: the
    // transaction keeps a reference to this object.
    connection(connection&& other) noexcept;
    connection& operator=(connection&& other) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() noexcept;

    [[nodiscard]] PGconn* native_handle() const noexcept { return m_conn.get(); }
    [[nodiscard]] bool owns_connection() const noexcept { return m_owned; }
    [[nodiscard]] bool is_open() const noexcept;
    [[nodiscard]] int backend_pid() const noexcept;
    [[nodiscard]] int socket() const noexcept;
    // Inside a transaction block (also: a failed one waiting for ROLLBACK),
    // whoever opened it: a pgque::transaction or a BEGIN sent through exec().
    [[nodiscard]] bool in_transaction() const noexcept;
    [[nodiscard]] bool transaction_failed() const noexcept;
    // libpq's last error message for this connection.
    [[nodiscard]] std::string error_message() const;

    // Runs one statement with text parameters ($1, $2, ...). Throws
    // sql_error (or a subclass) if the server rejects it, connection_error
    // if the connection is lost, usage_error on a moved-from connection.
    result exec(std::string_view sql, const params& values = {});

    // Like exec, through a named prepared statement created on first use on
    // this session. `name` must be unique for `sql` and start with "pgque_"
    // (else usage_error). With statement_mode::unnamed (or automatic behind
    // a pooler) it is exec(sql, values). In automatic mode a named statement
    // that fails with 42P05 or 26000 switches the connection to unnamed
    // statements and the call is retried once, unnamed -- unless a
    // transaction block is open: it is aborted, and the error is thrown.
    result exec_prepared(const std::string& name, std::string_view sql, const params& values);

    [[nodiscard]] pgque::statement_mode statement_mode() const noexcept { return m_mode; }
    // Switching back to named (or automatic) forgets which statements the
    // session holds; they are looked up again before the next named call.
    void set_statement_mode(pgque::statement_mode mode);
    // Whether exec_prepared() uses named statements now (in automatic mode:
    // probes the server first if it has not yet).
    [[nodiscard]] bool uses_named_statements();
    // Whether the connection goes through a pooler: the server's
    // pg_backend_pid() is not the process id libpq got at connect. Asks the
    // server once per connection (one round trip), then remembers. Also
    // true once automatic mode fell back to unnamed statements after an error.
    [[nodiscard]] bool through_pooler();

    // Called (once per connection) with a line saying that automatic mode
    // switched to unnamed statements, and why. Without a handler it is dropped.
    void set_log_handler(std::function<void(const std::string&)> handler);

    // "name" -> "\"name\"" with embedded quotes doubled (PQescapeIdentifier).
    [[nodiscard]] std::string quote_identifier(std::string_view name) const;

    // LISTEN on a channel; the name is quoted, so any characters are fine.
    void listen(std::string_view channel);
    // Reads what the server has sent without blocking; false if the
    // connection is broken (then is_open() is false too).
    bool consume_input() noexcept;
    // Channels of the notifications received so far, oldest first; clears them.
    [[nodiscard]] std::vector<std::string> take_notifications();

    // Called for every NOTICE/WARNING the server sends on a connection this
    // object owns. Without a handler notices are dropped (a wrapped
    // connection keeps the caller's own notice processing).
    void set_notice_handler(std::function<void(const notice&)> handler);

private:
    // transaction registers itself here, so that a second one is refused
    friend class transaction;

    connection(PGconn* conn, bool owned);
    [[nodiscard]] PGconn* handle() const;
    [[noreturn]] void throw_error(PGresult* res) const;
    result check(PGresult* res) const;
    void prepare(const std::string& name, std::string_view sql);
    result run_prepared(const std::string& name, const params& values);
    void load_existing_statements();
    void switch_to_unnamed(const std::string& why);

    struct notice_sink;
    // Declared before m_conn so that it outlives it: libpq calls into the
    // sink until PQfinish.
    std::unique_ptr<notice_sink> m_notice;
    std::unique_ptr<PGconn, void (*)(PGconn*)> m_conn;
    bool m_owned = true;
    bool m_statements_loaded = false;
    std::unordered_set<std::string> m_prepared;
    pgque::statement_mode m_mode = pgque::statement_mode::automatic;
    // automatic mode: decided to use unnamed statements (pooler or errors)
    bool m_fallback = false;
    // through_pooler(): probed yet, and the answer
    bool m_probed = false;
    bool m_pooler = false;
    std::function<void(const std::string&)> m_log;
    // The transaction object open on this connection, if any (not moved
    // with the connection).
    const transaction* m_transaction = nullptr;
};

}  // namespace pgque

#endif
