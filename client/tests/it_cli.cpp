// The built `pgque` binary, end to end. Tests that need no server run
// always; the rest need PGQUE_TEST_DSN.
#include <signal.h>

#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "support.hpp"

using namespace std::chrono_literals;
using pgque::test::run_process;
using pgque::test::ticker_thread;
using pgque::test::wait_until;

namespace {

const std::string k_cli = PGQUE_CLI_PATH;

class CliTest : public pgque::test::db_test {
protected:
    pgque::test::process_result cli(std::vector<std::string> args, const std::string& in = {}) {
        args.insert(args.begin(), {"--dsn", dsn()});
        return run_process(k_cli, args, in);
    }
};

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) ++n;
    return n;
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

// The whitespace-separated cells of the first line of a table that starts with `first`.
std::vector<std::string> table_row(const std::string& table, const std::string& first) {
    std::istringstream lines(table);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::vector<std::string> cells;
        for (std::string w; words >> w;) cells.push_back(w);
        if (!cells.empty() && cells[0] == first) return cells;
    }
    return {};
}

// The cells of every line of the output that starts with `first` (the
// queues command has one such line per table).
std::vector<std::vector<std::string>> table_rows(const std::string& out, const std::string& first) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::vector<std::string> cells;
        for (std::string w; words >> w;) cells.push_back(w);
        if (!cells.empty() && cells[0] == first) rows.push_back(std::move(cells));
    }
    return rows;
}

// The number after "key": in a JSON text (the first occurrence); NaN if absent or null.
double json_number(const std::string& json, const std::string& key) {
    auto at = json.find("\"" + key + "\":");
    if (at == std::string::npos) return std::nan("");
    const char* start = json.c_str() + at + key.size() + 3;
    char* end = nullptr;
    double v = std::strtod(start, &end);
    return end == start ? std::nan("") : v;
}

// Moves the ticks of queue q back in time by `hours` (as if they were taken
// that long ago); only ticks that brought events when with_events_only.
void age_ticks(pgque::client& admin, const std::string& q, int hours, bool with_events_only = false) {
    static_cast<void>(admin.connection().exec(
        "update pgque.tick t set tick_time = tick_time - $2::int4 * interval '1 hour' from pgque.queue q"
        " where t.tick_queue = q.queue_id and q.queue_name = $1 and (not $3::bool or t.tick_event_seq > 0)",
        {q, std::to_string(hours), std::string(with_events_only ? "true" : "false")}));
}

}  // namespace

TEST(CliBinary, HelpForEveryCommand) {
    for (std::vector<std::string> cmd :
         {std::vector<std::string>{"status"}, {"queues"}, {"consumers"}, {"create"}, {"drop"}, {"subscribe"},
          {"unsubscribe"}, {"pause"}, {"resume"}, {"send"}, {"tail"}, {"dlq", "list"}, {"dlq", "replay"},
          {"dlq", "purge"}, {"schedules"}, {"schedule"}, {"unschedule"}}) {
        std::string name = cmd[0] + (cmd.size() > 1 ? " " + cmd[1] : "");
        cmd.push_back("--help");
        auto r = run_process(k_cli, cmd);
        EXPECT_EQ(r.exit_code, 0) << name;
        EXPECT_TRUE(contains(r.out, "Usage: pgque " + name)) << name << ": " << r.out;
    }
    auto top = run_process(k_cli, {"--help"});
    EXPECT_EQ(top.exit_code, 0);
    EXPECT_TRUE(contains(top.out, "Commands:"));
    auto version = run_process(k_cli, {"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, std::string("pgque ") + PGQUE_CLIENT_VERSION + "\n");
}

TEST(CliBinary, UsageAndConnectionExitCodes) {
    auto none = run_process(k_cli, {});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_TRUE(contains(none.err, "no command given"));
    EXPECT_EQ(run_process(k_cli, {"create"}).exit_code, 1);
    EXPECT_EQ(run_process(k_cli, {"drop", "q", "--bogus"}).exit_code, 1);
    auto conn = run_process(k_cli, {"--dsn", "host=/nonexistent/pgque port=1", "status"});
    EXPECT_EQ(conn.exit_code, 3);
    EXPECT_TRUE(contains(conn.err, "connection error"));
    EXPECT_TRUE(conn.out.empty());
}

TEST_F(CliTest, QueueLifecycleSendAndTail) {
    const std::string q = pgque::test::unique_name("cli q");  // a space in the name
    m_queues.push_back(q);

    auto created = cli({"create", q});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_EQ(created.out, "created queue \"" + q + "\"\n");
    auto again = cli({"--json", "create", q});
    EXPECT_EQ(again.exit_code, 0);
    EXPECT_EQ(again.out, "{\"queue\":\"" + q + "\",\"created\":false}\n");
    admin().set_queue_config(q, "ticker_max_lag", "0");

    auto sub = cli({"subscribe", q, "cli_reader"});
    ASSERT_EQ(sub.exit_code, 0) << sub.err;
    EXPECT_TRUE(contains(sub.out, "subscribed \"cli_reader\""));

    // argument payload with a type; stdin payload; --lines
    auto one = cli({"send", q, "{\"n\": 1}", "--type", "order.created"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    std::int64_t id1 = std::stoll(one.out);
    auto from_stdin = cli({"--json", "send", q}, "from stdin\n");
    ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
    EXPECT_EQ(from_stdin.out.rfind("{\"queue\":", 0), 0u);
    EXPECT_TRUE(contains(from_stdin.out, "\"id\":" + std::to_string(id1 + 1)));
    auto lines = cli({"send", q, "--lines", "--type", "line"}, "a\nb \"quoted\"\nc\n");
    ASSERT_EQ(lines.exit_code, 0) << lines.err;
    EXPECT_EQ(count_lines(lines.out), 3u);
    tick(q);

    auto tail = cli({"tail", q, "cli_reader", "--count", "5", "--timeout", "20s"});
    ASSERT_EQ(tail.exit_code, 0) << tail.err;
    EXPECT_EQ(tail.out, std::to_string(id1) + " order.created {\"n\": 1}\n" +
                            std::to_string(id1 + 1) + " default from stdin\n" +
                            std::to_string(id1 + 2) + " line a\n" +
                            std::to_string(id1 + 3) + " line b \"quoted\"\n" +
                            std::to_string(id1 + 4) + " line c\n");

    // JSON tail: one object per line
    static_cast<void>(admin().send(q, "j", "multi\nline \"payload\""));
    tick(q);
    auto jtail = cli({"--json", "tail", q, "cli_reader", "--count", "1", "--timeout", "20s"});
    ASSERT_EQ(jtail.exit_code, 0) << jtail.err;
    EXPECT_EQ(count_lines(jtail.out), 1u);
    EXPECT_TRUE(contains(jtail.out, "\"type\":\"j\",\"payload\":\"multi\\nline \\\"payload\\\"\",\"retry_count\":null"))
        << jtail.out;

    auto consumers = cli({"--json", "consumers", q});
    ASSERT_EQ(consumers.exit_code, 0) << consumers.err;
    EXPECT_TRUE(contains(consumers.out, "\"consumer_name\":\"cli_reader\""));
    EXPECT_TRUE(contains(consumers.out, "\"pending_events\":0"));
    auto consumers_h = cli({"consumers", q, "cli_reader"});
    EXPECT_EQ(consumers_h.exit_code, 0);
    EXPECT_TRUE(contains(consumers_h.out, "cli_reader"));
    EXPECT_EQ(count_lines(consumers_h.out), 3u);  // header, rule, one row

    auto queues = cli({"--json", "queues", q});
    ASSERT_EQ(queues.exit_code, 0) << queues.err;
    EXPECT_EQ(queues.out.rfind("[{\"queue_name\":\"" + q + "\",\"ntables\":3", 0), 0u) << queues.out;
    EXPECT_TRUE(contains(queues.out, "\"ticker_max_lag\":0,"));
    auto all_queues = cli({"queues"});
    EXPECT_EQ(all_queues.exit_code, 0);
    EXPECT_TRUE(contains(all_queues.out, q));

    auto status = cli({"status"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_TRUE(contains(status.out, "queue " + q));
    auto status_json = cli({"--json", "status"});
    EXPECT_EQ(status_json.exit_code, 0);
    EXPECT_TRUE(contains(status_json.out, "{\"component\":\"pgque\",\"status\":\"ok\""));

    // drop refuses while consumers exist, --force works; then it is gone
    auto refused = cli({"drop", q});
    EXPECT_EQ(refused.exit_code, 4);
    EXPECT_TRUE(contains(refused.err, "HINT:"));
    auto dropped = cli({"drop", q, "--force"});
    EXPECT_EQ(dropped.exit_code, 0) << dropped.err;
    auto gone = cli({"queues", q});
    EXPECT_EQ(gone.exit_code, 2);
    EXPECT_TRUE(contains(gone.err, "queue not found: "));
    auto gone_json = cli({"--json", "send", q, "x"});
    EXPECT_EQ(gone_json.exit_code, 2);
    EXPECT_TRUE(contains(gone_json.err, "\"sqlstate\":\"42704\""));
    EXPECT_TRUE(contains(gone_json.err, "\"object\":\"queue\""));
}

TEST_F(CliTest, NotFoundExitCodes) {
    auto q = make_queue("cli_nf");
    EXPECT_EQ(cli({"consumers", q, "nobody"}).exit_code, 2);
    EXPECT_EQ(cli({"dlq", "replay", "999999999"}).exit_code, 2);
    EXPECT_EQ(cli({"subscribe", q, "a.b"}).exit_code, 4);  // invalid name: server error, not usage
}

TEST_F(CliTest, DeadLetterCommands) {
    auto q = make_queue("cli_dlq");
    admin().set_queue_config(q, "max_retries", "0");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    auto ids = admin().send_batch(q, "job", {"first", "second"});
    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 2u);
    admin().nack(batch.id, batch.messages[0], 0ms, "broken\nreason");
    admin().nack(batch.id, batch.messages[1], 0ms, "also broken");
    ASSERT_TRUE(admin().ack(batch.id));

    auto list = cli({"dlq", "list", q});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(count_lines(list.out), 4u);  // header, rule, 2 rows
    EXPECT_TRUE(contains(list.out, "broken\\nreason"));
    auto json = cli({"--json", "dlq", "list", q, "--limit", "1"});
    ASSERT_EQ(json.exit_code, 0);
    EXPECT_EQ(json.out.rfind("[{\"dl_id\":", 0), 0u);
    EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '{'), 1);

    auto dead = admin().dlq_inspect(q);
    ASSERT_EQ(dead.size(), 2u);
    auto first = std::find_if(dead.begin(), dead.end(), [&](const auto& d) { return d.ev_id == ids[0]; });
    ASSERT_NE(first, dead.end());
    auto replay = cli({"dlq", "replay", std::to_string(first->dl_id)});
    ASSERT_EQ(replay.exit_code, 0) << replay.err;
    EXPECT_EQ(replay.out, "replayed dead letter " + std::to_string(first->dl_id) + " as event " +
                              std::to_string(ids[0]) + "\n");
    EXPECT_EQ(admin().dlq_inspect(q).size(), 1u);

    auto all = cli({"--json", "dlq", "replay", "--all", q});
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_TRUE(contains(all.out, "\"replayed\":1,\"failed\":0,\"first_error\":null"));
    EXPECT_TRUE(admin().dlq_inspect(q).empty());

    // both come back to "r"; dead-letter them again and purge
    tick(q);
    auto back = admin().receive(q, "r");
    ASSERT_EQ(back.size(), 2u);
    for (const auto& m : back.messages) admin().nack(back.id, m, 0ms, "again");
    ASSERT_TRUE(admin().ack(back.id));
    EXPECT_EQ(cli({"dlq", "purge", q}).out, "purged 0 dead letters\n");  // younger than 30d
    auto purge = cli({"dlq", "purge", q, "--older-than", "0"});
    EXPECT_EQ(purge.exit_code, 0);
    EXPECT_EQ(purge.out, "purged 2 dead letters\n");
}

TEST_F(CliTest, TailFollowsUntilInterrupted) {
    auto q = make_queue("cli_tail");
    ticker_thread ticker(dsn(), {q});
    pgque::test::background_process tail(k_cli, {"--dsn", dsn(), "tail", q, "follower", "--subscribe"});
    // --subscribe: it subscribes when it connects
    ASSERT_TRUE(wait_until([&] { return !admin().consumer_info(q).empty(); }))
        << "tail did not subscribe: " << tail.err();
    auto id = admin().send(q, "ping", "hello tail");
    ASSERT_TRUE(wait_until([&] { return contains(tail.out(), "hello tail"); })) << tail.err();
    EXPECT_EQ(tail.out(), std::to_string(id) + " ping hello tail\n");

    tail.signal(SIGINT);
    auto code = tail.wait(10s);
    ASSERT_TRUE(code.has_value()) << "tail did not stop on SIGINT";
    EXPECT_EQ(*code, 0) << tail.err();
    // and said so, once
    EXPECT_EQ(tail.err(), "pgque: subscribed \"follower\" to queue \"" + q +
                              "\"; it stays subscribed until: pgque unsubscribe " + q + " follower\n");
    // the printed message was acknowledged
    EXPECT_EQ(admin().consumer_info(q, "follower").pending_events, 0);
    EXPECT_TRUE(admin().receive(q, "follower").empty());
}

TEST_F(CliTest, TailTimeoutExitsFive) {
    auto q = make_queue("cli_to");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    auto start = std::chrono::steady_clock::now();
    auto r = cli({"tail", q, "w", "--count", "1", "--timeout", "500ms"});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_TRUE(contains(r.err, "timeout"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    // without --count the timeout is just how long to follow
    EXPECT_EQ(cli({"tail", q, "w", "--timeout", "200ms"}).exit_code, 0);
}

// --------------------------------------------------------------- tail subscriptions

TEST_F(CliTest, TailNeverSubscribesUnlessAsked) {
    auto q = make_queue("cli_nosub");
    auto typo = cli({"tail", q, "typo", "--count", "1", "--timeout", "5s"});
    EXPECT_EQ(typo.exit_code, 2);
    EXPECT_EQ(typo.err, "pgque: not found: consumer \"typo\" is not subscribed to queue \"" + q +
                            "\": run pgque subscribe " + q + " typo, or pass --subscribe\n");
    EXPECT_TRUE(typo.out.empty());
    EXPECT_TRUE(admin().consumer_info(q).empty()) << "tail created a subscription";

    auto json = cli({"--json", "tail", q, "typo", "--timeout", "5s"});
    EXPECT_EQ(json.exit_code, 2);
    EXPECT_EQ(count_lines(json.err), 1u) << json.err;
    EXPECT_TRUE(contains(json.err, "\"object\":\"consumer\"")) << json.err;
    EXPECT_TRUE(contains(json.err, "or pass --subscribe")) << json.err;
    EXPECT_TRUE(admin().consumer_info(q).empty());

    // --subscribe subscribes and says so, once; the next time there is nothing to say
    auto first = cli({"tail", q, "typo", "--subscribe", "--timeout", "200ms"});
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.err, "pgque: subscribed \"typo\" to queue \"" + q +
                             "\"; it stays subscribed until: pgque unsubscribe " + q + " typo\n");
    ASSERT_EQ(admin().consumer_info(q).size(), 1u);
    auto second = cli({"tail", q, "typo", "--subscribe", "--timeout", "200ms"});
    EXPECT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(second.err, "");
    auto plain = cli({"tail", q, "typo", "--timeout", "200ms"});
    EXPECT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(admin().consumer_info(q).size(), 1u);
}

// tails that are members of one cooperative consumer share its messages
TEST_F(CliTest, TailsWithSubconsumersShareAConsumer) {
    auto q = make_queue("cli_coop");
    auto reg = cli({"subscribe", q, "team", "--subconsumer", "a"});
    ASSERT_EQ(reg.exit_code, 0) << reg.err;
    EXPECT_EQ(reg.out, "registered subconsumer \"a\" of \"team\" on \"" + q + "\"\n");
    static_cast<void>(admin().send_batch(q, {"m1", "m2"}));
    tick(q);
    static_cast<void>(admin().send_batch(q, {"m3", "m4"}));
    tick(q);

    auto a = cli({"tail", q, "team", "--subconsumer", "a", "--batch-size", "2", "--count", "2", "--timeout", "10s"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.err, "");  // already registered: nothing to say
    auto b = cli({"tail", q, "team", "--subconsumer", "b", "--batch-size", "2", "--count", "2", "--timeout", "10s"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_TRUE(contains(b.err, "registered subconsumer \"b\"")) << b.err;
    EXPECT_TRUE(contains(a.out, " m1\n") && contains(a.out, " m2\n")) << a.out;
    EXPECT_TRUE(contains(b.out, " m3\n") && contains(b.out, " m4\n")) << b.out;

    auto members = cli({"consumers", q});
    ASSERT_EQ(members.exit_code, 0) << members.err;
    EXPECT_TRUE(contains(members.out, "team.a")) << members.out;
    EXPECT_TRUE(contains(members.out, "team.b")) << members.out;

    auto gone = cli({"unsubscribe", q, "team", "--subconsumer", "b"});
    ASSERT_EQ(gone.exit_code, 0) << gone.err;
    EXPECT_EQ(gone.out, "unregistered subconsumer \"b\" of \"team\" on \"" + q + "\"\n");
    auto bad = cli({"tail", q, "team", "--dead-interval", "1m", "--timeout", "100ms"});
    EXPECT_EQ(bad.exit_code, 1) << bad.err;  // usage
    EXPECT_TRUE(contains(bad.err, "--dead-interval needs --subconsumer")) << bad.err;
}

TEST_F(CliTest, EveryErrorIsPrintedOnce) {
    auto q = make_queue("cli_once");
    ASSERT_TRUE(admin().subscribe(q, "c"));
    const std::string missing = pgque::test::unique_name("cli_missing");
    struct error_case {
        std::vector<std::string> args;
        int exit_code;
        std::string text;
    };
    const std::vector<error_case> cases = {
        {{"tail", missing, "c", "--timeout", "5s"}, 2, "queue not found: " + missing},
        {{"tail", missing, "c", "--subscribe", "--timeout", "5s"}, 2, "queue not found: " + missing},
        {{"tail", q, "nobody", "--timeout", "5s"}, 2, "\"nobody\" is not subscribed"},
        {{"queues", missing}, 2, "queue not found: " + missing},
        {{"send", missing, "x"}, 2, "queue not found: " + missing},
        {{"consumers", q, "nobody"}, 2, "\"nobody\" is not subscribed"},
        {{"drop", q}, 4, "has 1 consumer(s)"},
        {{"dlq", "replay", "999999999"}, 2, "dead letter 999999999"},
        {{"subscribe", q, "a.b"}, 4, "must not contain"},
        {{"dlq", "list", missing}, 2, "queue not found: " + missing},
    };
    for (const auto& c : cases) {
        auto r = cli(c.args);
        const std::string name = joined(c.args);
        EXPECT_EQ(r.exit_code, c.exit_code) << name << ": " << r.err;
        EXPECT_EQ(occurrences(r.err, "pgque: "), 1u) << name << ": " << r.err;
        EXPECT_EQ(occurrences(r.err, c.text), 1u) << name << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << name << ": " << r.out;
        auto j = cli([&] {
            auto a = c.args;
            a.insert(a.begin(), "--json");
            return a;
        }());
        EXPECT_EQ(j.exit_code, c.exit_code) << name;
        EXPECT_EQ(count_lines(j.err), 1u) << name << ": " << j.err;
        EXPECT_EQ(j.err.rfind("{\"error\":{", 0), 0u) << name << ": " << j.err;
    }
}

TEST_F(CliTest, TailReportsALostSubscriptionOnce) {
    // The consumer logs the error that ends its run() and then throws it;
    // tail must print it once, not once per path.
    auto q = make_queue("cli_lost");
    pgque::test::background_process tail(k_cli, {"--dsn", dsn(), "tail", q, "leaving", "--subscribe"});
    ASSERT_TRUE(wait_until([&] { return admin().consumer_info(q).size() == 1; })) << tail.err();
    ASSERT_TRUE(admin().unsubscribe(q, "leaving"));
    static_cast<void>(admin().send(q, "wake"));
    tick(q);  // the tick's NOTIFY wakes it, and its receive fails
    auto code = tail.wait(20s);
    ASSERT_TRUE(code.has_value()) << "tail kept running without its subscription";
    EXPECT_EQ(*code, 2) << tail.err();
    const std::string err = tail.err();
    EXPECT_EQ(count_lines(err), 2u) << err;  // "subscribed ...", then the error
    EXPECT_EQ(occurrences(err, "is not subscribed to queue"), 1u) << err;
    EXPECT_EQ(occurrences(err, "pgque: not found: "), 1u) << err;
    EXPECT_FALSE(contains(err, "consumer failed")) << err;
}

// ------------------------------------------------------------ errors in CLI terms

TEST_F(CliTest, HintsNameCliCommands) {
    auto q = make_queue("cli_hint");
    ASSERT_TRUE(admin().subscribe(q, "c"));
    const std::string missing = pgque::test::unique_name("cli hint");  // a space: quoted for the shell

    auto gone = cli({"send", missing, "x"});
    EXPECT_EQ(gone.exit_code, 2);
    EXPECT_TRUE(contains(gone.err, "\nHINT: create it with: pgque create '" + missing + "'\n")) << gone.err;
    EXPECT_FALSE(contains(gone.err, "pgque.create_queue")) << gone.err;

    auto nobody = cli({"consumers", q, "nobody"});
    EXPECT_EQ(nobody.exit_code, 2);
    EXPECT_TRUE(contains(nobody.err, "\nHINT: subscribe it with: pgque subscribe " + q + " nobody\n")) << nobody.err;
    EXPECT_FALSE(contains(nobody.err, "pgque.subscribe")) << nobody.err;

    auto refused = cli({"drop", q});
    EXPECT_EQ(refused.exit_code, 4);
    EXPECT_TRUE(contains(refused.err, "pgque drop " + q + " --force\n")) << refused.err;
    EXPECT_FALSE(contains(refused.err, "pgque.drop_queue")) << refused.err;
    auto refused_json = cli({"--json", "drop", q});
    EXPECT_TRUE(contains(refused_json.err, "\"hint\":\"unsubscribe them first")) << refused_json.err;
    EXPECT_TRUE(contains(refused_json.err, "\"sqlstate\":\"55006\"")) << refused_json.err;
}

TEST_F(CliTest, MissingExtensionSaysSo) {
    pgque::test::scratch_database db(dsn(), "pgque_it_noext");
    const std::string expected =
        "pgque: error: the pgque extension is not installed in database " + db.name() + ": CREATE EXTENSION pgque\n";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"status"}, {"queues"}, {"send", "q", "x"}, {"tail", "q", "c"}, {"create", "q"}}) {
        std::vector<std::string> full = {"--dsn", db.dsn()};
        full.insert(full.end(), args.begin(), args.end());
        auto r = run_process(k_cli, full);
        EXPECT_EQ(r.exit_code, 4) << joined(args) << ": " << r.err;
        EXPECT_EQ(r.err.rfind(expected, 0), 0u) << joined(args) << ": " << r.err;
        EXPECT_EQ(occurrences(r.err, "pgque: "), 1u) << r.err;
    }
    auto json = run_process(k_cli, {"--dsn", db.dsn(), "--json", "queues"});
    EXPECT_EQ(json.exit_code, 4);
    EXPECT_TRUE(contains(json.err, "\"message\":\"the pgque extension is not installed in database " + db.name()))
        << json.err;
}

TEST_F(CliTest, PermissionErrorsNameTheRoleToGrant) {
    auto q = make_queue("cli_perm");
    ASSERT_TRUE(admin().subscribe(q, "c"));
    pgque::test::scratch_role role(dsn(), "pgque_it_cli_role");
    struct role_case {
        std::vector<std::string> args;
        std::string role;
    };
    const std::vector<role_case> cases = {
        {{"create", "x"}, "pgque_admin"},
        {{"drop", q}, "pgque_admin"},
        {{"dlq", "purge", q}, "pgque_admin"},
        {{"send", q, "x"}, "pgque_writer"},
        {{"dlq", "replay", "1"}, "pgque_writer"},
        {{"queues"}, "pgque_reader"},
        {{"consumers", q}, "pgque_reader"},
        {{"status"}, "pgque_reader"},
        {{"tail", q, "c", "--timeout", "5s"}, "pgque_reader"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> full = {"--dsn", role.dsn()};
        full.insert(full.end(), c.args.begin(), c.args.end());
        auto r = run_process(k_cli, full);
        const std::string name = joined(c.args);
        EXPECT_EQ(r.exit_code, 4) << name << ": " << r.err;
        EXPECT_EQ(r.err.rfind("pgque: permission denied: grant " + c.role + " to " + role.name() + "\n", 0), 0u)
            << name << ": " << r.err;
        EXPECT_TRUE(contains(r.err, "HINT: as an administrator: GRANT " + c.role + " TO " + role.name() + ";\n"))
            << name << ": " << r.err;
    }
    // granted pgque_reader, it may look but still not send
    static_cast<void>(admin().connection().exec("grant pgque_reader to " +
                                                admin().connection().quote_identifier(role.name())));
    auto look = run_process(k_cli, {"--dsn", role.dsn(), "queues", q});
    EXPECT_EQ(look.exit_code, 0) << look.err;
    auto send = run_process(k_cli, {"--dsn", role.dsn(), "send", q, "x"});
    EXPECT_EQ(send.exit_code, 4);
    EXPECT_EQ(send.err.rfind("pgque: permission denied: grant pgque_writer to " + role.name() + "\n", 0), 0u)
        << send.err;
}

// ------------------------------------------------------------------ send --json

TEST_F(CliTest, SendJsonChecksThePayload) {
    auto q = make_queue("cli_json");
    ASSERT_TRUE(admin().subscribe(q, "r"));

    auto one = cli({"send", q, "{\"b\": 1,  \"a\": [true, null]}", "--json", "--type", "j"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_EQ(one.out.rfind("{\"queue\":\"" + q + "\",\"id\":", 0), 0u) << one.out;

    auto bad = cli({"send", q, "{\"a\": 1,}", "--json"});
    EXPECT_EQ(bad.exit_code, 4);
    EXPECT_TRUE(bad.out.empty());
    EXPECT_TRUE(contains(bad.err, "\"message\":\"invalid JSON payload: unexpected character '}' in an object: "
                                  "expected a \\\"key\\\" at line 1, column 9\""))
        << bad.err;
    auto bad_stdin = cli({"send", "--json", q}, "{\"unterminated\": \"x}\n");
    EXPECT_EQ(bad_stdin.exit_code, 4);
    EXPECT_TRUE(contains(bad_stdin.err, "invalid JSON payload: unterminated string")) << bad_stdin.err;
    auto bad_line = cli({"send", q, "--lines", "--json"}, "{\"ok\": 1}\nnot json\n[1]\n");
    EXPECT_EQ(bad_line.exit_code, 4);
    EXPECT_TRUE(contains(bad_line.err, "\"message\":\"invalid JSON on line 2 of stdin: unexpected character 'o' "
                                       "(expected null) at column 2\"")) << bad_line.err;

    auto lines = cli({"send", q, "--lines", "--json"}, "{\"n\":1}\n[1,2]\n");
    ASSERT_EQ(lines.exit_code, 0) << lines.err;
    EXPECT_TRUE(contains(lines.out, "\"ids\":[")) << lines.out;
    // before the command, --json only selects JSON output: any text goes
    auto text = cli({"--json", "send", q, "not json"});
    ASSERT_EQ(text.exit_code, 0) << text.err;

    // the failed sends sent nothing; the JSON ones arrive as jsonb's text
    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 4u);
    EXPECT_EQ(batch.messages[0].type, "j");
    EXPECT_EQ(batch.messages[0].payload, "{\"a\": [true, null], \"b\": 1}");
    EXPECT_EQ(batch.messages[1].type, "default");
    EXPECT_EQ(batch.messages[1].payload, "{\"n\": 1}");
    EXPECT_EQ(batch.messages[2].payload, "[1, 2]");
    EXPECT_EQ(batch.messages[3].payload, "not json");
    EXPECT_TRUE(admin().ack(batch.id));
}

// ------------------------------------------------------- lag, rates, durations

TEST_F(CliTest, ConsumersShowPendingEventsAndTheirAge) {
    auto q = make_queue("cli_lag");
    ASSERT_TRUE(admin().subscribe(q, "slow"));
    ASSERT_TRUE(admin().subscribe(q, "done"));
    static_cast<void>(admin().send_batch(q, "t", {"a", "b"}));
    tick(q);
    auto b = admin().receive(q, "done");
    ASSERT_EQ(b.size(), 2u);
    ASSERT_TRUE(admin().ack(b.id));
    // the tick that brought the events an hour old, the one "slow" stands on two hours
    age_ticks(admin(), q, 2);
    age_ticks(admin(), q, -1, true);
    tick(q);  // and a fresh one on top, so the queue is not stale

    auto human = cli({"consumers", q});
    ASSERT_EQ(human.exit_code, 0) << human.err;
    EXPECT_TRUE(contains(human.out, "consumer  lag    pending  oldest pending")) << human.out;
    std::vector<std::string> slow_row, done_row;
    {
        std::istringstream lines(human.out);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream words(line);
            std::vector<std::string> cells;
            for (std::string w; words >> w;) cells.push_back(w);
            if (cells.size() >= 6 && cells[0] == q && cells[1] == "slow") slow_row = cells;
            if (cells.size() >= 6 && cells[0] == q && cells[1] == "done") done_row = cells;
        }
    }
    ASSERT_FALSE(slow_row.empty()) << human.out;
    ASSERT_FALSE(done_row.empty()) << human.out;
    EXPECT_EQ(slow_row[2], "2h00m") << human.out;  // lag
    EXPECT_EQ(slow_row[3], "2") << human.out;      // pending
    EXPECT_EQ(slow_row[4], "1h00m") << human.out;  // oldest pending
    EXPECT_EQ(done_row[3], "0") << human.out;
    EXPECT_EQ(done_row[4], "-") << human.out;      // nothing waits

    auto json = cli({"--json", "consumers", q, "slow"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_TRUE(contains(json.out, "\"pending_events\":2,\"pending_age\":")) << json.out;
    double age = json_number(json.out, "pending_age");
    EXPECT_GE(age, 3600.0) << json.out;
    EXPECT_LT(age, 3660.0) << json.out;
    double lag = json_number(json.out, "lag");
    EXPECT_GE(lag, 7200.0) << json.out;
    EXPECT_LT(lag, 7260.0) << json.out;
    auto done_json = cli({"--json", "consumers", q, "done"});
    EXPECT_TRUE(contains(done_json.out, "\"pending_events\":0,\"pending_age\":null")) << done_json.out;

    // status: a consumer table after the components; JSON lists them under their queue
    auto status = cli({"status"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    EXPECT_TRUE(contains(status.out, "\nqueue")) << status.out;
    std::regex slow_line("\\n" + q + " +slow +2h00m +2 +1h00m ");
    EXPECT_TRUE(std::regex_search(status.out, slow_line)) << status.out;
    auto status_json = cli({"--json", "status"});
    ASSERT_EQ(status_json.exit_code, 0);
    auto queue_row = status_json.out.find("{\"component\":\"queue " + q + "\"");
    ASSERT_NE(queue_row, std::string::npos) << status_json.out;
    auto consumers_at = status_json.out.find("\"consumers\":[", queue_row);
    ASSERT_NE(consumers_at, std::string::npos) << status_json.out;
    const std::string listed =
        status_json.out.substr(consumers_at, status_json.out.find(']', consumers_at) - consumers_at);
    EXPECT_TRUE(contains(listed, "\"consumer_name\":\"done\"")) << listed;
    EXPECT_TRUE(contains(listed, "\"consumer_name\":\"slow\"")) << listed;
    EXPECT_GE(json_number(listed.substr(listed.find("\"slow\"")), "pending_age"), 3600.0) << listed;
}

TEST_F(CliTest, IdleQueueShowsASmallRate) {
    auto q = make_queue("cli_rate");
    static_cast<void>(admin().send(q, "once"));
    tick(q);
    age_ticks(admin(), q, 1);  // one event, an hour ago, nothing since
    auto json = cli({"--json", "queues", q});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    double rate = json_number(json.out, "ev_per_sec");
    EXPECT_GT(rate, 0.0) << json.out;
    EXPECT_LT(rate, 1.0 / 3000) << json.out;  // 1 event / 3600 s, not the burst between two ticks
    auto human = cli({"queues", q});
    auto row = table_row(human.out, q);
    ASSERT_EQ(row.size(), 8u) << human.out;
    EXPECT_EQ(row[3], "0.00") << human.out;
}

TEST_F(CliTest, OneDurationFormatEverywhere) {
    auto q = make_queue("cli_dur");
    admin().set_queue_config(q, "ticker_idle_period", "90 seconds");
    admin().set_queue_config(q, "max_retries", "0");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    static_cast<void>(admin().send(q, "dead"));
    tick(q);
    auto b = admin().receive(q, "r");
    ASSERT_EQ(b.size(), 1u);
    admin().nack(b.id, b.messages[0], 0ms, "no");
    ASSERT_TRUE(admin().ack(b.id));
    static_cast<void>(admin().send(q, "waiting"));
    tick(q);
    age_ticks(admin(), q, 3, true);
    tick(q);

    const std::regex clock(R"(\d\d:\d\d:\d\d)");  // PostgreSQL's interval text
    const std::regex human_duration(R"(^(\d+ms|\d+\.\ds|\d+m\d\ds|\d+h\d\dm|\d+d\d\dh|0s|-)$)");
    auto queues = cli({"queues", q});
    auto qrow = table_row(queues.out, q);
    ASSERT_EQ(qrow.size(), 8u) << queues.out;
    EXPECT_EQ(qrow[5], "0s") << queues.out;     // max lag
    EXPECT_EQ(qrow[6], "1m30s") << queues.out;  // idle period
    EXPECT_TRUE(std::regex_match(qrow[2], human_duration)) << queues.out;

    auto consumers = cli({"consumers", q});
    auto crow = table_row(consumers.out, q);
    ASSERT_GE(crow.size(), 6u) << consumers.out;
    EXPECT_EQ(crow[4], "3h00m") << consumers.out;
    for (std::size_t i : {2u, 5u}) EXPECT_TRUE(std::regex_match(crow[i], human_duration)) << consumers.out;

    auto status = cli({"status"});
    ASSERT_EQ(status.exit_code, 0);
    EXPECT_FALSE(std::regex_search(status.out, clock)) << status.out;
    EXPECT_TRUE(contains(status.out, "oldest pending event waiting 3h00m (consumer \"r\")")) << status.out;

    auto dlq = cli({"dlq", "list", q});
    ASSERT_EQ(dlq.exit_code, 0) << dlq.err;
    EXPECT_TRUE(contains(dlq.out, "id  consumer  age ")) << dlq.out;
    auto drow = table_row(dlq.out, std::to_string(admin().dlq_inspect(q).at(0).dl_id));
    ASSERT_GE(drow.size(), 3u) << dlq.out;
    EXPECT_TRUE(std::regex_match(drow[2], human_duration)) << dlq.out;

    // JSON keeps seconds as numbers
    auto json = cli({"--json", "consumers", q});
    EXPECT_GE(json_number(json.out, "pending_age"), 3.0 * 3600) << json.out;
    EXPECT_TRUE(contains(cli({"--json", "queues", q}).out, "\"ticker_idle_period\":90,"));
}

// ------------------------------------------------------------------ watch, colour

TEST_F(CliTest, WatchRedrawsUntilItsCount) {
    auto q = make_queue("cli_watch");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    admin().set_queue_config(q, "ticker_paused", "true");  // no tick between frames: its age only grows
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"status"}, {"queues", q}, {"consumers", q}}) {
        auto args = cmd;
        args.insert(args.end(), {"--watch", "0.1", "--watch-count", "3"});
        auto r = cli(args);
        EXPECT_EQ(r.exit_code, 0) << joined(cmd) << ": " << r.err;
        EXPECT_EQ(occurrences(r.out, "pgque " + cmd[0] + " - every 100ms - "), 3u) << r.out;
        // every frame is complete (status: the queue's row and its consumer's;
        // queues: its row in both tables)
        EXPECT_EQ(occurrences(r.out, q), cmd[0] == "consumers" ? 3u : 6u) << r.out;
    }
    auto json = cli({"--json", "queues", q, "--watch", "0.2", "--watch-count", "3"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    ASSERT_EQ(count_lines(json.out), 3u) << json.out;
    std::istringstream frames(json.out);
    double previous = -1;
    for (std::string frame; std::getline(frames, frame);) {
        EXPECT_EQ(frame.rfind("[{\"queue_name\":\"" + q + "\"", 0), 0u) << frame;
        double lag = json_number(frame, "ticker_lag");
        EXPECT_GT(lag, previous) << "frame not queried anew: " << json.out;
        previous = lag;
    }
    EXPECT_EQ(cli({"queues", "--watch-count", "2"}).exit_code, 1);  // only with --watch
    EXPECT_EQ(cli({"send", q, "x", "--watch", "1"}).exit_code, 1);
}

TEST_F(CliTest, WatchStopsOnInterrupt) {
    auto q = make_queue("cli_watch_int");
    pgque::test::background_process watch(k_cli, {"--dsn", dsn(), "consumers", "--watch", "0.1"});
    ASSERT_TRUE(wait_until([&] { return occurrences(watch.out(), "pgque consumers - every 100ms - ") >= 2; }))
        << watch.out() << watch.err();
    watch.signal(SIGINT);
    auto code = watch.wait(10s);
    ASSERT_TRUE(code.has_value()) << "--watch did not stop on SIGINT";
    EXPECT_EQ(*code, 0) << watch.err();
    EXPECT_EQ(watch.err(), "");
}

TEST_F(CliTest, ColourOnATerminalOnly) {
    auto q = make_queue("cli_color");
    const std::string green_ok = "\x1b[32mok\x1b[0m";
    auto file = cli({"status"});  // stdout is a file: no colour
    ASSERT_EQ(file.exit_code, 0) << file.err;
    EXPECT_TRUE(contains(file.out, "queue " + q));
    EXPECT_FALSE(contains(file.out, "\x1b[")) << file.out;
    auto forced = cli({"--color", "always", "status"});
    EXPECT_TRUE(contains(forced.out, green_ok)) << forced.out;

    auto tty = pgque::test::run_process_tty(k_cli, {"--dsn", dsn(), "status"}, {{"NO_COLOR", std::nullopt}});
    EXPECT_EQ(tty.exit_code, 0) << tty.out;
    EXPECT_TRUE(contains(tty.out, green_ok)) << tty.out;
    auto no_color = pgque::test::run_process_tty(k_cli, {"--dsn", dsn(), "status"}, {{"NO_COLOR", "1"}});
    EXPECT_EQ(no_color.exit_code, 0) << no_color.out;
    EXPECT_TRUE(contains(no_color.out, "queue " + q)) << no_color.out;
    EXPECT_FALSE(contains(no_color.out, "\x1b[")) << no_color.out;
    auto never = pgque::test::run_process_tty(k_cli, {"--dsn", dsn(), "--color", "never", "status"},
                                              {{"NO_COLOR", std::nullopt}});
    EXPECT_FALSE(contains(never.out, "\x1b[")) << never.out;

    // errors in red on a terminal
    const std::string missing = pgque::test::unique_name("cli_color_missing");
    auto err = pgque::test::run_process_tty(k_cli, {"--dsn", dsn(), "queues", missing}, {{"NO_COLOR", std::nullopt}});
    EXPECT_EQ(err.exit_code, 2);
    EXPECT_TRUE(contains(err.out, "\x1b[31mpgque: not found:\x1b[0m queue not found: " + missing)) << err.out;
    auto err_file = cli({"queues", missing});
    EXPECT_EQ(err_file.err.rfind("pgque: not found: queue not found: " + missing + "\n", 0), 0u) << err_file.err;
}

// ------------------------------------------------------------------ time

TEST_F(CliTest, PauseAndResume) {
    auto q = make_queue("cli_pause");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    const std::string qq = "\"" + q + "\"";

    auto paused = cli({"pause", q});
    ASSERT_EQ(paused.exit_code, 0) << paused.err;
    EXPECT_EQ(paused.out, "paused queue " + qq + "\n");
    EXPECT_EQ(paused.err, "");
    EXPECT_EQ(cli({"pause", q}).out, "queue already paused: " + qq + "\n");
    EXPECT_TRUE(admin().queue_config(q).paused);
    // queues and consumers show it
    auto rows = table_rows(cli({"queues", q}).out, q);
    ASSERT_EQ(rows.size(), 2u);
    ASSERT_GE(rows[1].size(), 2u);
    EXPECT_EQ(rows[1][1], "yes");
    EXPECT_TRUE(contains(cli({"--json", "queues", q}).out, "\"paused\":true"));
    EXPECT_TRUE(contains(cli({"--json", "consumers", q}).out, "\"paused\":true"));

    // a consumer resumed while its queue is paused still gets nothing: said on stderr
    auto pc = cli({"pause", q, "r"});
    ASSERT_EQ(pc.exit_code, 0) << pc.err;
    EXPECT_EQ(pc.out, "paused consumer \"r\" on queue " + qq + "\n");
    auto rc = cli({"resume", q, "r"});
    ASSERT_EQ(rc.exit_code, 0) << rc.err;
    EXPECT_EQ(rc.out, "resumed consumer \"r\" on queue " + qq + "\n");
    EXPECT_EQ(rc.err, "pgque: warning: queue " + qq + " is paused: \"r\" gets nothing until: pgque resume " + q + "\n");

    auto rq = cli({"--json", "resume", q});
    ASSERT_EQ(rq.exit_code, 0) << rq.err;
    EXPECT_EQ(rq.out, "{\"queue\":" + qq + ",\"resumed\":true}\n");
    EXPECT_EQ(cli({"resume", q}).out, "queue was not paused: " + qq + "\n");
    EXPECT_FALSE(admin().queue_config(q).paused);

    auto pj = cli({"--json", "pause", q, "r"});
    ASSERT_EQ(pj.exit_code, 0) << pj.err;
    EXPECT_EQ(pj.out, "{\"queue\":" + qq + ",\"consumer\":\"r\",\"paused\":true}\n");
    EXPECT_EQ(cli({"--json", "pause", q, "r"}).out, "{\"queue\":" + qq + ",\"consumer\":\"r\",\"paused\":false}\n");
    EXPECT_TRUE(admin().consumer_info(q, "r").paused);
    EXPECT_FALSE(admin().queue_config(q).paused);
    auto consumer_row = table_row(cli({"consumers", q}).out, q);
    ASSERT_FALSE(consumer_row.empty());
    EXPECT_EQ(consumer_row.back(), "yes");
    auto resumed = cli({"resume", q, "r"});
    EXPECT_EQ(resumed.out, "resumed consumer \"r\" on queue " + qq + "\n");
    EXPECT_EQ(resumed.err, "");  // the queue runs: nothing to warn about
    EXPECT_EQ(cli({"resume", q, "r"}).out, "consumer was not paused: \"r\" on queue " + qq + "\n");
    EXPECT_FALSE(admin().consumer_info(q, "r").paused);
    EXPECT_EQ(table_row(cli({"consumers", q}).out, q).back(), "no");

    auto nobody = cli({"pause", q, "nobody"});
    EXPECT_EQ(nobody.exit_code, 2);
    EXPECT_TRUE(contains(nobody.err, "HINT: subscribe it with: pgque subscribe " + q + " nobody")) << nobody.err;
    const std::string missing = pgque::test::unique_name("cli_pause_missing");
    auto gone = cli({"resume", missing});
    EXPECT_EQ(gone.exit_code, 2);
    EXPECT_TRUE(contains(gone.err, "HINT: create it with: pgque create " + missing)) << gone.err;
    EXPECT_EQ(cli({"pause"}).exit_code, 1);
}

TEST_F(CliTest, SendWithAKeyPrintsTheFirstIdAgain) {
    auto q = make_queue("cli_key");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    auto first = cli({"send", q, "once", "--key", "job-1"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto again = cli({"send", q, "twice", "--key", "job-1", "--type", "t"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, first.out);
    auto json = cli({"send", q, "{\"n\": 1}", "--key", "job-1", "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(static_cast<std::int64_t>(json_number(json.out, "id")), std::stoll(first.out));
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.messages[0].payload, "once");
    ASSERT_TRUE(admin().ack(got.id));
    // a bad priority stops before anything is sent
    auto bad = cli({"send", q, "x", "--priority", "12"});
    EXPECT_NE(bad.exit_code, 0);
}

TEST_F(CliTest, SendLaterWithAtOrDelay) {
    auto q = make_queue("cli_later");
    ASSERT_TRUE(admin().subscribe(q, "r"));

    // --at: a time the server reads
    auto at = cli({"--json", "send", q, "new year", "--at", "2099-01-01 01:00:00+01"});
    ASSERT_EQ(at.exit_code, 0) << at.err;
    EXPECT_TRUE(contains(at.out, "\"deliver_at\":\"2099-01-01T00:00:00.000000Z\"")) << at.out;
    auto waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.delayed, 1);
    EXPECT_EQ(waiting.next_delivery, std::chrono::system_clock::time_point(std::chrono::seconds(4070908800)));

    // --delay: an interval from now, by the server's clock; with --lines
    auto lines = cli({"send", q, "--lines", "--delay", "1 hour", "--type", "later"}, "a\nb\n");
    ASSERT_EQ(lines.exit_code, 0) << lines.err;
    EXPECT_EQ(count_lines(lines.out), 2u);
    waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.delayed, 3);
    ASSERT_TRUE(waiting.next_delivery.has_value());
    auto now = std::chrono::system_clock::now();
    EXPECT_GT(*waiting.next_delivery, now + 59min);
    EXPECT_LT(*waiting.next_delivery, now + 61min);

    // not in the future: sent now, and delivered under the id printed
    auto past = cli({"send", q, "past", "--at", "2000-01-01T00:00:00Z"});
    ASSERT_EQ(past.exit_code, 0) << past.err;
    auto zero = cli({"send", q, "{\"n\":  0}", "--delay", "0", "--json"});
    ASSERT_EQ(zero.exit_code, 0) << zero.err;
    EXPECT_TRUE(contains(zero.out, "\"deliver_at\":")) << zero.out;
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got.messages[0].msg_id, std::stoll(past.out));
    EXPECT_EQ(got.messages[0].payload, "past");
    EXPECT_EQ(got.messages[1].msg_id, static_cast<std::int64_t>(json_number(zero.out, "id")));
    EXPECT_EQ(got.messages[1].payload, "{\"n\": 0}");
    ASSERT_TRUE(admin().ack(got.id));

    // a short delay: there once due (moved by the ticker thread or the worker)
    ticker_thread ticker(dsn(), {q}, /*move_retries=*/true);
    auto soon = cli({"send", q, "soon", "--delay", "300ms"});
    ASSERT_EQ(soon.exit_code, 0) << soon.err;
    ASSERT_TRUE(wait_until([&] {
        got = admin().receive(q, "r");
        return !got.empty();
    }));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.messages[0].msg_id, std::stoll(soon.out));
    EXPECT_EQ(got.messages[0].type, "default");
    ASSERT_TRUE(admin().ack(got.id));

    // what the server cannot read is reported against the option, and nothing is sent
    auto bad = cli({"send", q, "x", "--at", "next tuesday-ish"});
    EXPECT_EQ(bad.exit_code, 4);
    EXPECT_EQ(bad.err.rfind("pgque: error: invalid --at time \"next tuesday-ish\": ", 0), 0u) << bad.err;
    EXPECT_TRUE(contains(bad.err, "HINT: give a PostgreSQL timestamp")) << bad.err;
    auto bad_json = cli({"--json", "send", q, "x", "--delay", "soonish"});
    EXPECT_EQ(bad_json.exit_code, 4);
    EXPECT_TRUE(contains(bad_json.err, "invalid --delay duration \\\"soonish\\\"")) << bad_json.err;
    EXPECT_TRUE(contains(bad_json.err, "\"sqlstate\":\"22007\"")) << bad_json.err;
    auto forever = cli({"send", q, "x", "--at", "infinity"});
    EXPECT_EQ(forever.exit_code, 4);
    EXPECT_TRUE(contains(forever.err, "must be a finite time")) << forever.err;
    EXPECT_EQ(cli({"send", q, "x", "--at", "now", "--delay", "1s"}).exit_code, 1);
    EXPECT_EQ(admin().delayed_info(q).delayed, 3);
}

TEST_F(CliTest, QueuesShowDelayedEventsAndTheRetryPolicy) {
    auto q = make_queue("cli_policy");
    ASSERT_TRUE(admin().subscribe(q, "r"));

    // defaults: nothing waits, 60 s fixed retries, no delay, no ttl
    auto rows = table_rows(cli({"queues", q}).out, q);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1], (std::vector<std::string>{q, "no", "0", "-", "0", "-", "-", "fixed", "1m00s", "-"}));
    auto json = cli({"--json", "queues", q});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_TRUE(contains(json.out, "\"paused\":false,\"delivery_delay\":null,\"retry_delay\":60,"
                                   "\"retry_backoff\":\"fixed\",\"retry_max_delay\":3600,\"retry_jitter\":0,"
                                   "\"max_retries\":5,\"message_ttl\":null,\"expired_action\":\"dead_letter\","
                                   "\"delayed\":0,\"next_delivery\":null,\"retries\":0,\"next_retry\":null}]"))
        << json.out;

    // a retry an hour away, an event two hours away, and a policy
    static_cast<void>(admin().send(q, "t", "retried"));
    tick(q);
    auto b = admin().receive(q, "r");
    ASSERT_EQ(b.size(), 1u);
    admin().nack(b.id, b.messages[0], 1h);
    ASSERT_TRUE(admin().ack(b.id));
    admin().set_queue_config(q, "delivery_delay", "90 seconds");
    admin().set_queue_config(q, "retry_delay", "2 seconds");
    admin().set_queue_config(q, "retry_backoff", "exponential");
    admin().set_queue_config(q, "retry_max_delay", "10 minutes");
    admin().set_queue_config(q, "retry_jitter", "0.25");
    admin().set_queue_config(q, "message_ttl", "1 day");
    admin().set_queue_config(q, "expired_action", "drop");
    static_cast<void>(admin().send_in(q, "t", "later", 2h));

    rows = table_rows(cli({"queues", q}).out, q);
    ASSERT_EQ(rows.size(), 2u);
    const auto& r = rows[1];
    ASSERT_EQ(r.size(), 13u) << joined(r);
    EXPECT_EQ(r[1], "no");
    EXPECT_EQ(r[2], "1");                                   // delayed
    EXPECT_TRUE(r[3] == "1h59m" || r[3] == "2h00m") << r[3];  // next delivery
    EXPECT_EQ(r[4], "1");                                   // retries
    EXPECT_TRUE(r[5] == "59m59s" || r[5] == "1h00m") << r[5];  // next retry
    EXPECT_EQ(r[6], "1m30s");                               // delivery delay
    EXPECT_EQ(joined({r[7], r[8], r[9], r[10]}), "exponential 2.0s..10m00s jitter 25%");
    EXPECT_EQ(joined({r[11], r[12]}), "1d00h (drop)");
    json = cli({"--json", "queues", q});
    EXPECT_TRUE(contains(json.out, "\"delivery_delay\":90,\"retry_delay\":2,\"retry_backoff\":\"exponential\","
                                   "\"retry_max_delay\":600,\"retry_jitter\":0.25,\"max_retries\":5,"
                                   "\"message_ttl\":86400,\"expired_action\":\"drop\",\"delayed\":1,"
                                   "\"next_delivery\":\""))
        << json.out;
    EXPECT_TRUE(contains(json.out, "\"retries\":1,\"next_retry\":\"")) << json.out;
}

TEST_F(CliTest, ShowSaysWhereAMessageIsForEachConsumer) {
    auto q = make_queue("cli_show");
    ASSERT_TRUE(admin().subscribe(q, "a"));
    ASSERT_TRUE(admin().subscribe(q, "b"));
    std::int64_t e1 = admin().send(q, "t", "one");
    std::int64_t e2 = admin().send(q, "t", "two");
    tick(q);
    auto batch = admin().receive(q, "a");
    ASSERT_EQ(batch.size(), 2u);
    admin().nack(batch.id, e2, 1h, "later");

    // one line per consumer: a holds e1 in its batch, b has not received it
    auto human = cli({"show", q, std::to_string(e1)});
    ASSERT_EQ(human.exit_code, 0) << human.err;
    EXPECT_TRUE(contains(human.out, "consumer  state")) << human.out;
    auto a = table_row(human.out, "a");
    auto b = table_row(human.out, "b");
    ASSERT_GE(a.size(), 5u) << human.out;
    ASSERT_GE(b.size(), 2u) << human.out;
    EXPECT_EQ(a[1], "in_batch") << human.out;
    EXPECT_EQ(a[3], std::to_string(batch.id)) << human.out;
    EXPECT_EQ(a[4], "1") << human.out;  // first delivery
    EXPECT_EQ(b[1], "pending") << human.out;
    EXPECT_EQ(count_lines(human.out), 4u) << human.out;  // header, rule, a, b

    // a nacked e2: a retry, second delivery, due in about an hour
    auto retry = table_row(cli({"show", q, std::to_string(e2)}).out, "a");
    ASSERT_GE(retry.size(), 7u);
    EXPECT_EQ(retry[1], "retry");
    EXPECT_EQ(retry[4], "2");
    EXPECT_TRUE(retry[6] == "59m59s" || retry[6] == "1h00m") << joined(retry);

    auto json = cli({"--json", "show", q, std::to_string(e2)});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_TRUE(contains(json.out, R"({"consumer":"a","state":"retry","member":null,"batch_id":null,)")) << json.out;
    EXPECT_TRUE(std::regex_search(json.out, std::regex(R"("due_at":"[0-9-]+T[0-9:.]+Z","attempt":2,)"))) << json.out;
    EXPECT_TRUE(contains(json.out, R"({"consumer":"b","state":"pending")")) << json.out;

    EXPECT_EQ(cli({"show", pgque::test::unique_name("missing"), "1"}).exit_code, 2);
    EXPECT_EQ(cli({"show", q, "0"}).exit_code, 1);
}

TEST_F(CliTest, Schedules) {
    auto q = make_queue("cli_sched");
    const std::string name = pgque::test::unique_name("cli_sched");
    const std::string qn = "\"" + name + "\"";

    auto created = cli({"schedule", name, q, "*/5 * * * *", "hello", "--type", "beat"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_TRUE(contains(created.out, "created schedule " + qn + " on queue \"" + q + "\", next run ")) << created.out;
    auto s = admin().schedule_info(name);
    EXPECT_EQ(s.type, "beat");
    EXPECT_EQ(s.payload, "hello");

    auto replaced = cli({"--json", "schedule", name, q, "@daily"});
    ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
    EXPECT_TRUE(contains(replaced.out, "{\"schedule\":" + qn + ",\"created\":false,\"next_run\":\"")) << replaced.out;
    s = admin().schedule_info(name);
    EXPECT_EQ(s.spec, "@daily");
    EXPECT_EQ(s.type, "schedule");
    EXPECT_FALSE(s.payload);

    auto js = cli({"schedule", name, q, "every 10 seconds", "{\"a\": 1}", "--json"});
    ASSERT_EQ(js.exit_code, 0) << js.err;
    EXPECT_EQ(admin().schedule_info(name).payload, "{\"a\": 1}");
    auto bad_json = cli({"schedule", name, q, "every 10 seconds", "{nope", "--json"});
    EXPECT_EQ(bad_json.exit_code, 4);
    EXPECT_EQ(admin().schedule_info(name).spec, "every 10 seconds");

    auto rows = table_rows(cli({"schedules", name}).out, name);
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_GE(rows[0].size(), 6u);
    EXPECT_EQ(rows[0][1], q);
    EXPECT_EQ(rows[0][2] + " " + rows[0][3] + " " + rows[0][4], "every 10 seconds");  // split at blanks
    EXPECT_EQ(rows[0][5], "schedule");
    auto listed = cli({"--json", "schedules"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_TRUE(contains(listed.out, "\"schedule\":" + qn + ",\"queue\":\"" + q + "\",\"spec\":\"every 10 seconds\""))
        << listed.out;

    auto paused = cli({"pause", "--schedule", name});
    ASSERT_EQ(paused.exit_code, 0) << paused.err;
    EXPECT_EQ(paused.out, "paused schedule " + qn + "\n");
    EXPECT_EQ(cli({"pause", "--schedule", name}).out, "schedule already paused: " + qn + "\n");
    EXPECT_TRUE(admin().schedule_info(name).paused);
    EXPECT_TRUE(contains(cli({"schedules", name}).out, "paused"));
    EXPECT_EQ(cli({"--json", "resume", "--schedule", name}).out, "{\"schedule\":" + qn + ",\"resumed\":true}\n");
    EXPECT_FALSE(admin().schedule_info(name).paused);

    // errors: not found (2), bad spec (4)
    EXPECT_EQ(cli({"schedule", name, pgque::test::unique_name("missing"), "@daily"}).exit_code, 2);
    EXPECT_EQ(cli({"pause", "--schedule", pgque::test::unique_name("missing")}).exit_code, 2);
    EXPECT_EQ(cli({"schedules", pgque::test::unique_name("missing")}).exit_code, 2);
    auto bad = cli({"schedule", name, q, "61 * * * *"});
    EXPECT_EQ(bad.exit_code, 4);
    EXPECT_TRUE(contains(bad.err, "invalid schedule")) << bad.err;

    auto removed = cli({"unschedule", name});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_EQ(removed.out, "removed schedule " + qn + "\n");
    EXPECT_EQ(cli({"unschedule", name}).out, "no such schedule: " + qn + "\n");
}
