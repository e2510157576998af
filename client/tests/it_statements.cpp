// Statement modes (named / unnamed prepared statements, automatic fallback)
// and the Consumer's wakeup modes, on a direct connection. The same through
// pgbouncer's transaction pooling: test/scripts/pgbouncer.sh.
#include <cstdlib>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {

class StatementTest : public pgque::test::db_test {};

int our_statements(pgque::client& c) {
    return static_cast<int>(c.connection()
                                .exec("select count(*) from pg_prepared_statements where name like 'pgque\\_%'")
                                .get_int64(0, 0));
}

// PGQUE_PREPARED set for one test (ctest runs each test in its own process)
struct env_var {
    explicit env_var(const char* value) { ::setenv("PGQUE_PREPARED", value, 1); }
    ~env_var() { ::unsetenv("PGQUE_PREPARED"); }
};

}  // namespace

TEST_F(StatementTest, ADirectConnectionUsesNamedStatements) {
    auto q = make_queue("st_named");
    pgque::client c(dsn());
    EXPECT_EQ(c.connection().statement_mode(), pgque::statement_mode::automatic);
    EXPECT_FALSE(c.connection().through_pooler());
    static_cast<void>(c.send(q, "a"));
    EXPECT_TRUE(c.connection().uses_named_statements());
    EXPECT_EQ(our_statements(c), 1);
}

TEST_F(StatementTest, UnnamedModeLeavesNoStatementInTheSession) {
    auto q = make_queue("st_unnamed");
    ASSERT_TRUE(admin().subscribe(q, "c"));
    pgque::client c(dsn());
    c.connection().set_statement_mode(pgque::statement_mode::unnamed);
    std::int64_t id = c.send(q, "a");
    static_cast<void>(c.send_batch(q, "t", {"b", "c"}));
    tick(q);
    auto batch = c.receive(q, "c");
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_EQ(batch.messages[0].msg_id, id);
    EXPECT_TRUE(c.ack(batch.id));
    EXPECT_EQ(our_statements(c), 0);
}

TEST_F(StatementTest, PgqueEnvironmentVariableSetsTheMode) {
    {
        env_var off("off");
        EXPECT_EQ(pgque::client(dsn()).connection().statement_mode(), pgque::statement_mode::unnamed);
    }
    {
        env_var on("on");
        EXPECT_EQ(pgque::client(dsn()).connection().statement_mode(), pgque::statement_mode::named);
    }
    env_var bad("yes");
    EXPECT_THROW(pgque::client{dsn()}, pgque::usage_error);
}

TEST_F(StatementTest, AStatementThatAlreadyExistsSwitchesToUnnamedAndRetriesOnce) {
    auto q = make_queue("st_exists");
    ASSERT_TRUE(admin().subscribe(q, "c"));
    pgque::client c(dsn());
    std::vector<std::string> lines;
    c.connection().set_log_handler([&](const std::string& line) { lines.push_back(line); });
    // what a pooler's other client left on this server connection
    static_cast<void>(c.connection().exec("prepare pgque_1_send(text, text) as select 0::int8"));
    std::int64_t id = c.send(q, "a");  // PREPARE fails with 42P05: sent unnamed, once
    static_cast<void>(c.send(q, "b"));
    EXPECT_FALSE(c.connection().uses_named_statements());
    EXPECT_TRUE(c.connection().through_pooler());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("42P05"), std::string::npos) << lines[0];
    tick(q);
    auto batch = admin().receive(q, "c");
    ASSERT_EQ(batch.size(), 2u);  // each send once
    EXPECT_EQ(batch.messages[0].msg_id, id);
    EXPECT_EQ(batch.messages[0].payload, "a");
    EXPECT_TRUE(admin().ack(batch.id));
}

TEST_F(StatementTest, AMissingStatementInATransactionAbortsItAndTheNextOneWorks) {
    auto q = make_queue("st_missing");
    pgque::client c(dsn());
    static_cast<void>(c.send(q, "a"));
    static_cast<void>(c.connection().exec("deallocate all"));
    {
        pgque::transaction tx(c.connection());
        try {
            static_cast<void>(c.send(q, "b"));
            ADD_FAILURE() << "the send ran";
        } catch (const pgque::sql_error& e) {
            EXPECT_EQ(e.sqlstate(), "26000");  // the transaction is aborted: only its owner can retry
        }
    }
    EXPECT_FALSE(c.connection().uses_named_statements());
    pgque::transaction tx(c.connection());
    static_cast<void>(c.send(q, "c"));
    tx.commit();
}

TEST_F(StatementTest, NamedModePreparesAgainAfterDeallocate) {
    auto q = make_queue("st_on");
    pgque::client c(dsn());
    c.connection().set_statement_mode(pgque::statement_mode::named);
    std::int64_t first = c.send(q, "a");
    static_cast<void>(c.connection().exec("deallocate all"));
    EXPECT_EQ(c.send(q, "b"), first + 1);
    EXPECT_TRUE(c.connection().uses_named_statements());
    EXPECT_EQ(our_statements(c), 1);
}

TEST_F(StatementTest, ConsumerPollsWithWakeupPollAndSaysSoOnce) {
    auto q = make_queue("st_poll");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    pgque::consumer_options opts;
    opts.wakeup = pgque::wakeup_mode::poll;
    opts.polling_interval = 100ms;
    opts.max_messages = 2;
    std::vector<std::string> lines;  // run() is on this thread: no lock needed
    opts.logger = [&](pgque::log_level, const std::string& line) { lines.push_back(line); };
    pgque::consumer consumer(dsn(), q, "w", opts);
    int n = 0;
    consumer.on("*", [&](const pgque::message&) { ++n; });
    pgque::test::ticker_thread ticker(dsn(), {q});
    std::thread producer([&] {
        std::this_thread::sleep_for(500ms);  // the consumer is waiting by then
        pgque::client p(dsn());
        static_cast<void>(p.send(q, "a"));
        std::this_thread::sleep_for(300ms);
        static_cast<void>(p.send(q, "b"));
    });
    EXPECT_EQ(consumer.run_for(30s), pgque::run_result::max_messages);
    producer.join();
    EXPECT_EQ(n, 2);
    int polling = 0;
    for (const auto& l : lines) polling += l.find("polling every 100 ms") != std::string::npos ? 1 : 0;
    EXPECT_EQ(polling, 1);
}
