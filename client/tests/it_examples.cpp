// The example programs, run as `make demo` would run them.
#include "support.hpp"

using namespace std::chrono_literals;
using pgque::test::run_process;

namespace {

class ExamplesTest : public pgque::test::db_test {};

}  // namespace

TEST_F(ExamplesTest, ProducerThenConsumer) {
    auto q = make_queue("ex");
    ASSERT_TRUE(admin().subscribe(q, "billing"));
    auto produced = run_process(PGQUE_EXAMPLE_PRODUCER, {"--dsn", dsn(), "--queue", q, "--count", "3"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    EXPECT_EQ(std::count(produced.out.begin(), produced.out.end(), '\n'), 3);
    EXPECT_EQ(produced.out.rfind("sent ", 0), 0u);

    pgque::test::ticker_thread ticker(dsn(), {q});
    auto consumed = run_process(PGQUE_EXAMPLE_CONSUMER,
                                {"--dsn", dsn(), "--queue", q, "--consumer", "billing", "--count", "3",
                                 "--timeout", "30"});
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
    EXPECT_EQ(std::count(consumed.out.begin(), consumed.out.end(), '\n'), 3);
    EXPECT_NE(consumed.out.find("handled "), std::string::npos);
    EXPECT_NE(consumed.out.find("order.created {\"order\": 3}"), std::string::npos) << consumed.out;

    // nothing left: the next run times out with exit status 5
    auto idle = run_process(PGQUE_EXAMPLE_CONSUMER,
                            {"--dsn", dsn(), "--queue", q, "--consumer", "billing", "--count", "1",
                             "--timeout", "1"});
    EXPECT_EQ(idle.exit_code, 5);
    EXPECT_EQ(run_process(PGQUE_EXAMPLE_PRODUCER, {"--queue"}).exit_code, 1);
}

TEST_F(ExamplesTest, TransactionalSendDeliversOnlyTheCommittedEvent) {
    auto q = make_queue("ex_tx");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    auto r = run_process(PGQUE_EXAMPLE_TRANSACTIONAL, {"--dsn", dsn(), "--queue", q});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("committed: event"), std::string::npos);
    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch.messages[0].payload, "{\"item\": \"book\"}");
    EXPECT_TRUE(admin().ack(batch.id));
}
