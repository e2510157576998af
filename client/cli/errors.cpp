#include "errors.hpp"

#include <cctype>

#include <pgque/version.hpp>

namespace pgque::cli {

namespace {

// The queue / consumer a command names, where its arguments have one.
std::optional<std::string> queue_argument(const arguments& a) {
    if (a.positional.empty()) return std::nullopt;
    if (a.command == "status") return std::nullopt;
    if (a.command == "dlq" && a.subcommand == "replay" && !a.all) return std::nullopt;  // dead letter ids
    return a.positional[0];
}

std::optional<std::string> consumer_argument(const arguments& a) {
    if (a.positional.size() < 2) return std::nullopt;
    if (a.command == "consumers" || a.command == "subscribe" || a.command == "unsubscribe" || a.command == "tail" ||
        a.command == "pause" || a.command == "resume") {
        return a.positional[1];
    }
    return std::nullopt;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool is_missing_catalog_object(const std::string& state) {
    return state == "3F000"      // invalid_schema_name: schema "pgque" does not exist
           || state == "42883"   // undefined_function
           || state == "42P01";  // undefined_table
}

}  // namespace

bool needs_session_facts(const sql_error& e) {
    return is_missing_catalog_object(e.sqlstate()) || e.sqlstate() == "42501";
}

const char* required_role(const arguments& a) {
    if (a.command == "send" || (a.command == "dlq" && a.subcommand == "replay")) return "pgque_writer";
    if (a.command == "create" || a.command == "drop" || (a.command == "dlq" && a.subcommand == "purge")) {
        return "pgque_admin";
    }
    // a queue is paused by its administrator, a consumer by its reader
    if ((a.command == "pause" || a.command == "resume") && a.positional.size() == 1) return "pgque_admin";
    return "pgque_reader";
}

std::string command_name(const arguments& a) {
    std::string name = "pgque " + a.command;
    if (!a.subcommand.empty()) name += " " + a.subcommand;
    return name;
}

std::string shell_quote(std::string_view word) {
    bool safe = !word.empty();
    for (char ch : word) {
        auto c = static_cast<unsigned char>(ch);
        if (!(std::isalnum(c) || ch == '_' || ch == '-' || ch == '.' || ch == '/' || ch == ':' || ch == '@' ||
              ch == '%' || ch == '+' || ch == '=' || ch == ',')) {
            safe = false;
            break;
        }
    }
    if (safe && word[0] != '-') return std::string(word);
    std::string out = "'";
    for (char ch : word) {
        if (ch == '\'') out += "'\\''";
        else out += ch;
    }
    return out + "'";
}

std::string sql_identifier(std::string_view name) {
    bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9') && name[0] != '$';
    for (char ch : name) {
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '$')) {
            plain = false;
            break;
        }
    }
    if (plain) return std::string(name);
    std::string out = "\"";
    for (char ch : name) {
        if (ch == '"') out += "\"\"";
        else out += ch;
    }
    return out + "\"";
}

error_report explain(const sql_error& e, const arguments& a, const std::optional<session_facts>& facts) {
    error_report r;
    r.message = e.what();
    r.detail = e.detail();
    r.hint = e.hint();
    r.sqlstate = e.sqlstate();
    r.object = e.table_name();
    const std::string& state = e.sqlstate();
    const std::string& kind = e.table_name();
    const bool pgque_error = e.schema_name() == "pgque";
    const std::string queue = shell_quote(queue_argument(a).value_or("QUEUE"));
    const std::string consumer = shell_quote(consumer_argument(a).value_or("CONSUMER"));

    if (is_missing_catalog_object(state) && facts) {
        if (!facts->extension_version) {
            r.message = "the pgque extension is not installed in database " + sql_identifier(facts->database) +
                        ": CREATE EXTENSION pgque";
            r.server_message = e.what();
            r.detail = "the server said: " + std::string(e.what());
            r.hint.clear();
            return r;
        }
        if (state == "42883") {
            r.hint = "pgque " + *facts->extension_version + " is installed in database " +
                     sql_identifier(facts->database) + ", this client is " + PGQUE_CLIENT_VERSION +
                     ": ALTER EXTENSION pgque UPDATE";
            return r;
        }
    }

    if (state == "42704") {
        r.kind = "not found";
        r.exit_code = exit_not_found;
        if (kind == "queue") {
            r.hint = "create it with: pgque create " + queue;
        } else if (kind == "consumer" && a.command == "tail") {
            // the fix is the point of the message: tail never subscribes by itself
            r.server_message = e.what();
            r.message = "consumer " + quoted(consumer_argument(a).value_or("")) + " is not subscribed to queue " +
                        quoted(queue_argument(a).value_or("")) + ": run pgque subscribe " + queue + " " + consumer +
                        ", or pass --subscribe";
            r.hint.clear();
        } else if (kind == "consumer") {
            r.hint = "subscribe it with: pgque subscribe " + queue + " " + consumer;
        }
        return r;
    }

    if (state == "42501") {
        r.kind = "permission denied";
        if (pgque_error) {
            // a restricted queue (pgque.grant_queue): no pgque command grants
            // that, so the server's hint stays
            return r;
        }
        const char* role = required_role(a);
        const std::string user = facts ? facts->user : std::string("<your role>");
        r.server_message = e.what();
        r.message = std::string("grant ") + role + " to " + user;
        r.detail = command_name(a) + " needs the role " + role + "; the server said: " + e.what();
        r.hint = std::string("as an administrator: GRANT ") + role + " TO " +
                 (facts ? sql_identifier(facts->user) : user) + ";";
        return r;
    }

    if (state == "55006" && a.command == "drop") {
        r.hint = "unsubscribe them first (pgque consumers " + queue + " lists them), or drop the queue with them: "
                 "pgque drop " + queue + " --force";
        return r;
    }

    if (state == "55000" && kind == "consumer" && a.command == "dlq") {
        r.hint = "subscribe the consumer again (pgque subscribe QUEUE CONSUMER, with the names above), or delete "
                 "the queue's dead letters with pgque dlq purge QUEUE";
        return r;
    }
    return r;
}

}  // namespace pgque::cli
