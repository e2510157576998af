// The pgque CLI's errors in CLI terms: which exit code, and what to tell the
// user -- the pgque command that fixes it rather than the SQL function the
// server's hint names, the role to grant, a missing extension. No database here.
#ifndef PGQUE_CLI_ERRORS_HPP
#define PGQUE_CLI_ERRORS_HPP

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <pgque/error.hpp>

#include "args.hpp"

namespace pgque::cli {

// What run() prints for a failed command, exactly once:
//   pgque: <kind>: <message>      then DETAIL: / HINT: lines
// or, with --json, {"error":{"kind":...,"message":...,...}} on stderr.
struct error_report {
    int exit_code = exit_server;
    std::string kind = "error";  // "error", "not found", "connection error", "permission denied"
    std::string message;
    std::string detail;
    std::string hint;
    std::string sqlstate;
    std::string object;          // the server's object kind (the error's table field)
    std::string server_message;  // the server's own message, when message says it differently
};

// A failure found by the CLI itself (e.g. an invalid JSON payload).
class command_failed : public std::runtime_error {
public:
    explicit command_failed(error_report report)
        : std::runtime_error(report.message), m_report(std::move(report)) {}
    [[nodiscard]] const error_report& report() const noexcept { return m_report; }

private:
    error_report m_report;
};

// Facts about the session, read on the CLI's connection after an error,
// that turn some server errors into advice.
struct session_facts {
    std::string user;      // current_user
    std::string database;  // current_database()
    std::optional<std::string> extension_version;  // nullopt: pgque is not installed there
};

// Whether explain() can say more about e with session_facts: errors of a
// missing schema, function or table (3F000, 42883, 42P01) and 42501.
[[nodiscard]] bool needs_session_facts(const sql_error& e);

// A server error in CLI terms:
// - 42704: exit 2; a missing queue hints "pgque create Q", a missing
//   subscription "pgque subscribe Q C" (tail: "... or pass --subscribe");
// - 55006 on drop: "pgque drop Q --force"; 55000 of a dead letter whose
//   consumer left: "pgque subscribe" / "pgque dlq purge";
// - 42501 on pgque's functions: the role the command needs
//   (required_role) and the user to grant it to;
// - no pgque extension in the database (facts): says so, with the SQL to fix it.
// Other hints pass through as the server wrote them.
[[nodiscard]] error_report explain(const sql_error& e, const arguments& args,
                                   const std::optional<session_facts>& facts);

// The pgque role a command needs: pgque_writer for send and dlq replay,
// pgque_admin for create, drop, dlq purge and pause/resume of a queue,
// pgque_reader for the rest (pause/resume of a consumer too).
[[nodiscard]] const char* required_role(const arguments& args);

// "pgque dlq purge", "pgque send", ...
[[nodiscard]] std::string command_name(const arguments& args);

// A word for a shell command line: unchanged when it is safe, else in single quotes.
[[nodiscard]] std::string shell_quote(std::string_view word);

// A name for SQL: unchanged when it is a plain lower-case identifier, else in double quotes.
[[nodiscard]] std::string sql_identifier(std::string_view name);

}  // namespace pgque::cli

#endif
