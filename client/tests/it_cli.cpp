// The built `pgque` binary, end to end. Tests that need no server run
// always; the rest need PGQUE_TEST_DSN.
#include <signal.h>

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

}  // namespace

TEST(CliBinary, HelpForEveryCommand) {
    for (std::vector<std::string> cmd :
         {std::vector<std::string>{"status"}, {"queues"}, {"consumers"}, {"create"}, {"drop"}, {"subscribe"},
          {"unsubscribe"}, {"send"}, {"tail"}, {"dlq", "list"}, {"dlq", "replay"}, {"dlq", "purge"}}) {
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
    pgque::test::background_process tail(k_cli, {"--dsn", dsn(), "tail", q, "follower"});
    // it subscribes when it connects
    ASSERT_TRUE(wait_until([&] { return !admin().consumer_info(q).empty(); }))
        << "tail did not subscribe: " << tail.err();
    auto id = admin().send(q, "ping", "hello tail");
    ASSERT_TRUE(wait_until([&] { return contains(tail.out(), "hello tail"); })) << tail.err();
    EXPECT_EQ(tail.out(), std::to_string(id) + " ping hello tail\n");

    tail.signal(SIGINT);
    auto code = tail.wait(10s);
    ASSERT_TRUE(code.has_value()) << "tail did not stop on SIGINT";
    EXPECT_EQ(*code, 0) << tail.err();
    // the printed message was acknowledged
    EXPECT_EQ(admin().consumer_info(q, "follower").pending_events, 0);
    EXPECT_TRUE(admin().receive(q, "follower").empty());
}

TEST_F(CliTest, TailTimeoutExitsFive) {
    auto q = make_queue("cli_to");
    auto start = std::chrono::steady_clock::now();
    auto r = cli({"tail", q, "w", "--count", "1", "--timeout", "500ms"});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_TRUE(contains(r.err, "timeout"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    // without --count the timeout is just how long to follow
    EXPECT_EQ(cli({"tail", q, "w", "--timeout", "200ms"}).exit_code, 0);
}
