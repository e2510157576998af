// Server errors in CLI terms, without a database: exit codes, hints that name
// pgque commands instead of SQL functions, roles to grant, a missing extension.
#include <gtest/gtest.h>

#include "errors.hpp"

using namespace pgque::cli;

namespace {

pgque::sql_error server_error(const std::string& sqlstate, const std::string& message, const std::string& hint = {},
                              const std::string& table = {}, const std::string& schema = {}) {
    pgque::sql_error_info info;
    info.sqlstate = sqlstate;
    info.message = message;
    info.hint = hint;
    info.table = table;
    info.schema = schema;
    return pgque::sql_error(info);
}

session_facts facts(std::optional<std::string> version, std::string user = "alice", std::string db = "app") {
    return session_facts{std::move(user), std::move(db), std::move(version)};
}

}  // namespace

TEST(CliErrors, MissingQueueHintsPgqueCreate) {
    auto e = server_error("42704", "queue not found: my q", "Create it with pgque.create_queue().", "queue", "pgque");
    auto r = explain(e, parse_args({"send", "my q", "x"}), std::nullopt);
    EXPECT_EQ(r.exit_code, exit_not_found);
    EXPECT_EQ(r.kind, "not found");
    EXPECT_EQ(r.message, "queue not found: my q");
    EXPECT_EQ(r.hint, "create it with: pgque create 'my q'");
    EXPECT_EQ(r.sqlstate, "42704");
    EXPECT_EQ(r.object, "queue");
    // a command without a queue argument still names the command
    auto replay = explain(e, parse_args({"status"}), std::nullopt);
    EXPECT_EQ(replay.hint, "create it with: pgque create QUEUE");
}

TEST(CliErrors, MissingSubscriptionHintsPgqueSubscribe) {
    auto e = server_error("42704", "consumer not found: \"c\" is not subscribed to queue \"q\"",
                          "Subscribe it with pgque.subscribe().", "consumer", "pgque");
    auto r = explain(e, parse_args({"consumers", "q", "c"}), std::nullopt);
    EXPECT_EQ(r.exit_code, exit_not_found);
    EXPECT_EQ(r.hint, "subscribe it with: pgque subscribe q c");
    // tail: the fix is the message, never a silent subscription
    auto t = explain(e, parse_args({"tail", "q", "it's"}), std::nullopt);
    EXPECT_EQ(t.exit_code, exit_not_found);
    EXPECT_EQ(t.message,
              "consumer \"it's\" is not subscribed to queue \"q\": run pgque subscribe q 'it'\\''s', or pass "
              "--subscribe");
    EXPECT_EQ(t.hint, "");
    EXPECT_EQ(t.server_message, "consumer not found: \"c\" is not subscribed to queue \"q\"");
    // pause/resume name the consumer too
    EXPECT_EQ(explain(e, parse_args({"pause", "q", "c"}), std::nullopt).hint, "subscribe it with: pgque subscribe q c");
    EXPECT_EQ(explain(e, parse_args({"resume", "q", "c"}), std::nullopt).hint,
              "subscribe it with: pgque subscribe q c");
}

TEST(CliErrors, DropWithConsumersHintsForce) {
    auto e = server_error("55006", "queue \"q\" has 1 consumer(s)",
                          "Unsubscribe them first, or call pgque.drop_queue(queue, force => true).");
    auto r = explain(e, parse_args({"drop", "q"}), std::nullopt);
    EXPECT_EQ(r.exit_code, exit_server);
    EXPECT_EQ(r.hint, "unsubscribe them first (pgque consumers q lists them), or drop the queue with them: "
                      "pgque drop q --force");
    EXPECT_EQ(r.hint.find("pgque.drop_queue"), std::string::npos);
}

TEST(CliErrors, ReplayOfALeftConsumerHintsCommands) {
    auto e = server_error("55000", "consumer \"c\" of dead letter 7 is not subscribed to queue \"q\"",
                          "Subscribe the consumer again, or remove the entry with pgque.dlq_purge().", "consumer",
                          "pgque");
    auto r = explain(e, parse_args({"dlq", "replay", "7"}), std::nullopt);
    EXPECT_EQ(r.exit_code, exit_server);
    EXPECT_NE(r.hint.find("pgque subscribe QUEUE CONSUMER"), std::string::npos) << r.hint;
    EXPECT_NE(r.hint.find("pgque dlq purge QUEUE"), std::string::npos) << r.hint;
    EXPECT_EQ(r.hint.find("pgque.dlq_purge"), std::string::npos) << r.hint;
}

TEST(CliErrors, PermissionDeniedNamesTheRoleByCommand) {
    auto e = server_error("42501", "permission denied for schema pgque");
    struct role_case {
        std::vector<std::string> args;
        const char* role;
    };
    for (const auto& c : std::vector<role_case>{{{"create", "q"}, "pgque_admin"},
                                                {{"drop", "q"}, "pgque_admin"},
                                                {{"dlq", "purge", "q"}, "pgque_admin"},
                                                {{"pause", "q"}, "pgque_admin"},
                                                {{"resume", "q"}, "pgque_admin"},
                                                {{"send", "q", "x"}, "pgque_writer"},
                                                {{"send", "q", "x", "--delay", "5s"}, "pgque_writer"},
                                                {{"dlq", "replay", "1"}, "pgque_writer"},
                                                {{"status"}, "pgque_reader"},
                                                {{"queues"}, "pgque_reader"},
                                                {{"consumers"}, "pgque_reader"},
                                                {{"subscribe", "q", "c"}, "pgque_reader"},
                                                {{"unsubscribe", "q", "c"}, "pgque_reader"},
                                                {{"tail", "q", "c"}, "pgque_reader"},
                                                {{"pause", "q", "c"}, "pgque_reader"},
                                                {{"resume", "q", "c"}, "pgque_reader"},
                                                {{"dlq", "list", "q"}, "pgque_reader"}}) {
        auto a = parse_args(c.args);
        EXPECT_STREQ(required_role(a), c.role) << command_name(a);
        auto r = explain(e, a, facts("0.2.0", "Bob"));
        EXPECT_EQ(r.exit_code, exit_server);
        EXPECT_EQ(r.kind, "permission denied");
        EXPECT_EQ(r.message, std::string("grant ") + c.role + " to Bob");
        EXPECT_EQ(r.hint, std::string("as an administrator: GRANT ") + c.role + " TO \"Bob\";");
        EXPECT_EQ(r.detail, command_name(a) + " needs the role " + c.role +
                                "; the server said: permission denied for schema pgque");
    }
    // without facts (the session could not be asked) it still names the role
    auto blind = explain(e, parse_args({"create", "q"}), std::nullopt);
    EXPECT_EQ(blind.message, "grant pgque_admin to <your role>");
    // a restricted queue is pgque's own check: its grant_queue hint stays
    auto restricted = server_error("42501", "permission denied to consume queue \"q\"",
                                   "An administrator can run pgque.grant_queue('q', 'bob', 'consume').", "queue",
                                   "pgque");
    auto rr = explain(restricted, parse_args({"tail", "q", "c"}), facts("0.2.0", "bob"));
    EXPECT_EQ(rr.kind, "permission denied");
    EXPECT_EQ(rr.message, "permission denied to consume queue \"q\"");
    EXPECT_EQ(rr.hint, "An administrator can run pgque.grant_queue('q', 'bob', 'consume').");
}

TEST(CliErrors, MissingExtensionSaysSo) {
    for (const char* state : {"3F000", "42883", "42P01"}) {
        auto e = server_error(state, "schema \"pgque\" does not exist");
        EXPECT_TRUE(needs_session_facts(e)) << state;
        auto r = explain(e, parse_args({"queues"}), facts(std::nullopt, "alice", "app db"));
        EXPECT_EQ(r.exit_code, exit_server) << state;
        EXPECT_EQ(r.message, "the pgque extension is not installed in database \"app db\": CREATE EXTENSION pgque")
            << state;
        EXPECT_EQ(r.server_message, "schema \"pgque\" does not exist");
    }
    // installed, but a function is missing: an older extension
    auto old = explain(server_error("42883", "function pgque.status() does not exist"), parse_args({"status"}),
                       facts("0.1.0"));
    EXPECT_EQ(old.message, "function pgque.status() does not exist");
    EXPECT_EQ(old.hint.rfind("pgque 0.1.0 is installed in database app, this client is ", 0), 0u) << old.hint;
    EXPECT_NE(old.hint.find(": ALTER EXTENSION pgque UPDATE"), std::string::npos) << old.hint;
    // other errors need no facts and pass through
    auto other = server_error("22023", "consumer name \"a.b\" must not contain \".\"", "The dot separates a consumer.");
    EXPECT_FALSE(needs_session_facts(other));
    auto r = explain(other, parse_args({"subscribe", "q", "a.b"}), std::nullopt);
    EXPECT_EQ(r.exit_code, exit_server);
    EXPECT_EQ(r.kind, "error");
    EXPECT_EQ(r.hint, "The dot separates a consumer.");
}

TEST(CliErrors, Quoting) {
    EXPECT_EQ(shell_quote("orders"), "orders");
    EXPECT_EQ(shell_quote("a.b-c_d/e:f@g%h+i=j,k"), "a.b-c_d/e:f@g%h+i=j,k");
    EXPECT_EQ(shell_quote("two words"), "'two words'");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("-dash"), "'-dash'");
    EXPECT_EQ(shell_quote("$(rm)"), "'$(rm)'");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(sql_identifier("alice"), "alice");
    EXPECT_EQ(sql_identifier("app_2"), "app_2");
    EXPECT_EQ(sql_identifier("Bob"), "\"Bob\"");
    EXPECT_EQ(sql_identifier("a\"b"), "\"a\"\"b\"");
    EXPECT_EQ(sql_identifier("1db"), "\"1db\"");
    EXPECT_EQ(command_name(parse_args({"dlq", "purge", "q"})), "pgque dlq purge");
}
