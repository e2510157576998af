// pgque::client against a live server (PGQUE_TEST_DSN): produce, consume, errors,
// wrapped connections, observation and dead letters.
#include <libpq-fe.h>

#include "support.hpp"

using namespace std::chrono_literals;
using pgque::test::unique_name;

namespace {

class ClientTest : public pgque::test::db_test {};
// In a database of its own with the worker stopped: the database-wide calls
// (ticker(), maint(), maint_retry_events()) return exactly what this test did.
class PrivateDbClientTest : public pgque::test::private_db_test {};

// A connection the test owns, for the wrapped-PGconn tests.
struct raw_connection {
    PGconn* conn;
    explicit raw_connection(const std::string& dsn) : conn(PQconnectdb(dsn.c_str())) {}
    ~raw_connection() { PQfinish(conn); }
    void exec(const char* sql) const {
        PGresult* r = PQexec(conn, sql);
        auto st = PQresultStatus(r);
        PQclear(r);
        ASSERT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(conn);
    }
};

}  // namespace

TEST_F(ClientTest, RoundTripKeepsEveryField) {
    auto q = make_queue("rt");
    ASSERT_TRUE(admin().subscribe(q, "reader"));
    EXPECT_FALSE(admin().subscribe(q, "reader"));  // second time: existed

    const std::string tricky = "quote ' double \" back \\ newline \n tab \t ünïcødé {a,b} NULL";
    auto before = std::chrono::system_clock::now();
    std::int64_t id1 = admin().send(q, "order.created", tricky);
    std::int64_t id2 = admin().send(q, "plain");
    std::int64_t id3 = admin().send_json(q, "j", R"({"b": 1,   "a": [1, 2]})");
    std::int64_t id4 = admin().send(q, "empty", "");
    EXPECT_LT(id1, id2);
    EXPECT_LT(id2, id3);
    tick(q);

    pgque::batch batch = admin().receive(q, "reader", 100);
    ASSERT_EQ(batch.size(), 4u);
    EXPECT_GT(batch.id, 0);
    const auto& m = batch.messages;
    EXPECT_EQ(m[0].msg_id, id1);
    EXPECT_EQ(m[0].type, "order.created");
    EXPECT_EQ(m[0].payload, tricky);
    EXPECT_EQ(m[1].msg_id, id2);
    EXPECT_EQ(m[1].type, "default");
    EXPECT_EQ(m[1].payload, "plain");
    EXPECT_EQ(m[2].msg_id, id3);
    EXPECT_EQ(m[2].payload, R"({"a": [1, 2], "b": 1})");  // jsonb's canonical text
    EXPECT_EQ(m[3].msg_id, id4);
    ASSERT_TRUE(m[3].payload.has_value());
    EXPECT_EQ(*m[3].payload, "");
    for (const auto& msg : m) {
        EXPECT_EQ(msg.batch_id, batch.id);
        EXPECT_FALSE(msg.retry_count.has_value());
        EXPECT_FALSE(msg.extra1 || msg.extra2 || msg.extra3 || msg.extra4);
        EXPECT_GE(msg.created_at, before - 5s);  // server clock, same machine
        EXPECT_LE(msg.created_at, std::chrono::system_clock::now() + 5s);
    }
    EXPECT_TRUE(admin().ack(batch.id));
    EXPECT_FALSE(admin().ack(batch.id));  // already finished: 0 with a WARNING
    EXPECT_TRUE(admin().receive(q, "reader").empty());
}

TEST_F(ClientTest, NullPayloadAndExtrasFromInsertEvent) {
    auto q = make_queue("extras");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    static_cast<void>(admin().connection().exec(
        "select pgque.insert_event($1, 't', null, 'e1', null, 'e3', '')", {q}));
    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_FALSE(batch.messages[0].payload.has_value());
    EXPECT_EQ(batch.messages[0].payload_or_empty(), "");
    EXPECT_EQ(batch.messages[0].extra1, "e1");
    EXPECT_FALSE(batch.messages[0].extra2.has_value());
    EXPECT_EQ(batch.messages[0].extra3, "e3");
    EXPECT_EQ(batch.messages[0].extra4, "");
    EXPECT_TRUE(admin().ack(batch.id));
}

TEST_F(ClientTest, SendBatchKeepsOrderAndBytes) {
    auto q = make_queue("batch");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    std::vector<std::string> payloads = {"NULL", "", "a,b", "{x}", "q\"uote", "back\\slash", "multi\nline"};
    auto ids = admin().send_batch(q, "bulk", payloads);
    ASSERT_EQ(ids.size(), payloads.size());
    for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);
    auto default_ids = admin().send_batch(q, std::vector<std::string>{"d1", "d2"});
    ASSERT_EQ(default_ids.size(), 2u);
    auto json_ids = admin().send_batch_json(q, "js", {R"({"k":1})", "[1,2]"});
    ASSERT_EQ(json_ids.size(), 2u);
    EXPECT_TRUE(admin().send_batch(q, "bulk", {}).empty());
    EXPECT_THROW(static_cast<void>(admin().send_batch_json(q, "js", {"{not json"})), pgque::data_error);
    tick(q);

    auto batch = admin().receive(q, "r", 100);
    ASSERT_EQ(batch.size(), payloads.size() + 4);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        EXPECT_EQ(batch.messages[i].msg_id, ids[i]);
        EXPECT_EQ(batch.messages[i].type, "bulk");
        EXPECT_EQ(batch.messages[i].payload, payloads[i]) << i;
    }
    EXPECT_EQ(batch.messages[payloads.size()].type, "default");
    EXPECT_EQ(batch.messages[payloads.size() + 2].payload, R"({"k": 1})");
    EXPECT_TRUE(admin().ack(batch.id));
}

TEST_F(ClientTest, HigherPrioritiesAreReceivedFirst) {
    auto q = make_queue("prio");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    auto zeros = admin().send_batch(q, "t", {"z1", "z2"});
    std::int64_t nine = admin().send(q, "t", "nine", 9);
    std::int64_t five = admin().send_json(q, "t", R"({"p":5})", 5);
    auto threes = admin().send_batch(q, "t", {"t1", "t2"}, 3);
    auto ones = admin().send_batch_json(q, "t", {"[1]"}, 1);
    EXPECT_TRUE(admin().send_batch(q, "t", {}, 4).empty());
    // one id space for the queue, whatever the priority
    EXPECT_GT(nine, zeros[1]);
    EXPECT_GT(threes[0], five);
    tick(q);

    std::vector<std::vector<std::int64_t>> got;
    for (;;) {
        auto batch = admin().receive(q, "r", 100);
        if (batch.size() == 0) break;
        std::vector<std::int64_t> ids;
        for (const auto& m : batch.messages) ids.push_back(m.msg_id);
        got.push_back(ids);
        EXPECT_TRUE(admin().ack(batch.id));
    }
    EXPECT_EQ(got, (std::vector<std::vector<std::int64_t>>{{nine}, {five}, threes, ones, zeros}));

    try {
        static_cast<void>(admin().send(q, "t", "x", 10));
        FAIL() << "priority 10 was accepted";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }
}

TEST_F(ClientTest, PartialReceiveLeavesTheRestForLater) {
    auto q = make_queue("partial");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    auto ids = admin().send_batch(q, "t", {"1", "2", "3", "4", "5"});
    tick(q);
    auto first = admin().receive(q, "r", 2);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_TRUE(admin().ack(first.id));
    auto rest = admin().receive(q, "r", 100);
    ASSERT_EQ(rest.size(), 3u);
    EXPECT_NE(rest.id, first.id);
    EXPECT_EQ(rest.messages[0].msg_id, ids[2]);
    EXPECT_TRUE(admin().ack(rest.id));
}

TEST_F(ClientTest, ErrorsMapToTheirClasses) {
    auto q = make_queue("errors");
    const std::string missing = unique_name("missing");

    try {
        static_cast<void>(admin().send(missing, "x"));
        FAIL() << "send to a missing queue succeeded";
    } catch (const pgque::queue_not_found& e) {
        EXPECT_EQ(e.sqlstate(), "42704");
        EXPECT_EQ(e.object_kind(), "queue");
        EXPECT_EQ(e.schema_name(), "pgque");
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
        EXPECT_FALSE(e.hint().empty());
    }
    EXPECT_THROW(static_cast<void>(admin().receive(q, "nobody")), pgque::consumer_not_found);
    EXPECT_THROW(static_cast<void>(admin().consumer_info(q, "nobody")), pgque::consumer_not_found);
    EXPECT_THROW(static_cast<void>(admin().queue_info(missing)), pgque::queue_not_found);
    EXPECT_THROW(admin().nack(999999999, 1), pgque::batch_not_found);
    EXPECT_THROW(static_cast<void>(admin().create_queue("")), pgque::data_error);
    EXPECT_THROW(static_cast<void>(admin().create_queue(std::string(58, 'x'))), pgque::data_error);
    EXPECT_THROW(static_cast<void>(admin().subscribe(q, "a.b")), pgque::data_error);
    EXPECT_THROW(admin().set_queue_config(q, "no_such_param", "1"), pgque::data_error);

    ASSERT_TRUE(admin().subscribe(q, "r"));
    EXPECT_THROW(static_cast<void>(admin().receive(q, "r", 0)), pgque::data_error);
    static_cast<void>(admin().send(q, "x"));
    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_THROW(admin().nack(batch.id, batch.messages[0].msg_id + 1000), pgque::not_found);
    EXPECT_TRUE(admin().ack(batch.id));
    try {
        admin().nack(batch.id, batch.messages[0]);
        FAIL() << "nack of a finished batch succeeded";
    } catch (const pgque::batch_not_open& e) {
        EXPECT_EQ(e.sqlstate(), "55000");
    }

    // 55006: consumers exist; an sql_error, but none of the special classes
    try {
        admin().drop_queue(q);
        FAIL() << "drop_queue with consumers succeeded";
    } catch (const pgque::not_found&) {
        FAIL() << "55006 mapped to not_found";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "55006");
    }
    // the connection is still usable after errors
    EXPECT_FALSE(admin().version().empty());
}

TEST_F(ClientTest, PermissionDenied) {
    const std::string role = "pgque_it_noperm";
    try {
        static_cast<void>(admin().connection().exec(
            "do $$ begin create role pgque_it_noperm nologin; exception when duplicate_object then null; end $$"));
    } catch (const pgque::sql_error& e) {
        if (e.sqlstate() != "23505") GTEST_SKIP() << "cannot create a role: " << e.what();
    }
    auto q = make_queue("perm");
    {
        pgque::client limited(dsn());
        static_cast<void>(limited.connection().exec("set role pgque_it_noperm"));
        try {
            static_cast<void>(limited.send(q, "x"));
            ADD_FAILURE() << "send without pgque_writer succeeded";
        } catch (const pgque::permission_denied& e) {
            EXPECT_EQ(e.sqlstate(), "42501");
        }
    }
    try {
        static_cast<void>(admin().connection().exec("drop role if exists " + role));
    } catch (const pgque::sql_error&) {
        // still in use by a concurrent run of this test: left for the next one
    }
}

TEST_F(ClientTest, WrappedConnectionJoinsTheCallersTransaction) {
    auto q = make_queue("wrapped");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    raw_connection raw(dsn());
    ASSERT_EQ(PQstatus(raw.conn), CONNECTION_OK);

    std::int64_t rolled_back = 0, committed = 0;
    // (a rolled-back send still used up its id)
    {
        pgque::client client(raw.conn);
        EXPECT_FALSE(client.connection().owns_connection());
        raw.exec("begin");
        rolled_back = client.send(q, "t", "rolled back");
        EXPECT_TRUE(client.connection().in_transaction());
        raw.exec("rollback");

        raw.exec("begin");
        committed = client.send(q, "t", "committed");
        // not visible to anyone until the caller commits, even after a tick
        tick(q);
        EXPECT_TRUE(admin().receive(q, "r").empty());
        raw.exec("commit");
    }
    // ~client did not close the caller's connection
    ASSERT_EQ(PQstatus(raw.conn), CONNECTION_OK);
    raw.exec("select 1");
    {
        // a second wrapper on the same session finds the prepared statements
        // the first one created, inside a transaction, without failing it
        pgque::client again(raw.conn);
        raw.exec("begin");
        std::int64_t third = again.send(q, "t", "third");
        EXPECT_EQ(third, committed + 1);  // ids are drawn in order, one per send
        raw.exec("commit");
    }

    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch.messages[0].msg_id, committed);
    EXPECT_EQ(batch.messages[0].payload, "committed");
    EXPECT_EQ(batch.messages[1].payload, "third");
    for (const auto& m : batch.messages) EXPECT_NE(m.msg_id, rolled_back);
    EXPECT_TRUE(admin().ack(batch.id));
}

TEST_F(ClientTest, PreparedStatementsSurviveDeallocate) {
    auto q = make_queue("dealloc");
    std::int64_t first = admin().send(q, "a");
    static_cast<void>(admin().connection().exec("deallocate all"));
    EXPECT_EQ(admin().send(q, "b"), first + 1);  // re-prepared transparently, and it really sent
}

TEST_F(ClientTest, TransactionRollsBackUnlessCommitted) {
    auto q = make_queue("tx");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    {
        pgque::transaction tx(admin().connection());
        static_cast<void>(admin().send(q, "dropped"));
    }
    EXPECT_FALSE(admin().connection().in_transaction());
    {
        pgque::transaction tx(admin().connection());
        static_cast<void>(admin().send(q, "kept"));
        tx.commit();
    }
    {
        pgque::transaction tx(admin().connection());
        EXPECT_THROW(static_cast<void>(admin().send(unique_name("nope"), "x")), pgque::queue_not_found);
        EXPECT_TRUE(admin().connection().transaction_failed());
        EXPECT_THROW(tx.commit(), pgque::failure);  // says the transaction was lost
        EXPECT_FALSE(tx.is_open());
    }
    EXPECT_FALSE(admin().connection().in_transaction());
    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch.messages[0].payload, "kept");
    EXPECT_TRUE(admin().ack(batch.id));
}

TEST_F(ClientTest, TransactionsDoNotNest) {
    auto q = make_queue("nest");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    pgque::connection& conn = admin().connection();
    {
        pgque::transaction outer(conn);
        static_cast<void>(admin().send(q, "t", "outer"));
        EXPECT_THROW(pgque::transaction inner(conn), pgque::usage_error);
        EXPECT_THROW(pgque::transaction inner(conn), std::logic_error);
        // the refused one sent nothing: the outer one is open and healthy,
        // and its destructor did not roll the outer one back
        EXPECT_TRUE(outer.is_open());
        EXPECT_TRUE(conn.in_transaction());
        EXPECT_FALSE(conn.transaction_failed());
        static_cast<void>(admin().send(q, "t", "still outer"));
        outer.commit();
    }
    EXPECT_FALSE(conn.in_transaction());
    {
        // once it ended, the next one may start
        pgque::transaction again(conn);
        EXPECT_TRUE(conn.in_transaction());
        again.rollback();
        EXPECT_THROW(again.commit(), pgque::usage_error);  // already ended
    }
    // a BEGIN sent through exec() is a transaction block too
    static_cast<void>(conn.exec("begin"));
    static_cast<void>(admin().send(q, "t", "raw"));
    EXPECT_THROW(pgque::transaction inner(conn), pgque::usage_error);
    EXPECT_TRUE(conn.in_transaction());
    static_cast<void>(conn.exec("commit"));
    // and a block ended through exec() behind the transaction's back is refused
    {
        pgque::transaction tx(conn);
        static_cast<void>(conn.exec("rollback"));
        EXPECT_THROW(tx.commit(), pgque::usage_error);
    }
    EXPECT_FALSE(conn.in_transaction());

    tick(q);
    auto batch = admin().receive(q, "r");
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_EQ(batch.messages[0].payload, "outer");
    EXPECT_EQ(batch.messages[1].payload, "still outer");
    EXPECT_EQ(batch.messages[2].payload, "raw");
    EXPECT_TRUE(admin().ack(batch.id));
}

namespace {

// Terminates the backend and waits until it is gone, so that what the
// client sends next certainly finds no server.
void terminate_backend(pgque::client& admin, int pid) {
    const std::string p = std::to_string(pid);
    auto r = admin.connection().exec("select pg_terminate_backend($1::int4)", {p});
    ASSERT_EQ(r.get(0, 0), "t");
    ASSERT_TRUE(pgque::test::wait_until([&] {
        return admin.connection().exec("select count(*) from pg_stat_activity where pid = $1::int4", {p})
                   .get_int64(0, 0) == 0;
    }));
}

}  // namespace

TEST_F(ClientTest, CommitOnALostConnectionIsInDoubt) {
    auto q = make_queue("doubt");
    ASSERT_TRUE(admin().subscribe(q, "r"));

    // lost after BEGIN, noticed only by COMMIT: the client cannot know
    // whether the server got it, so the outcome is in doubt
    pgque::client victim(dsn());
    pgque::transaction tx(victim.connection());
    static_cast<void>(victim.send(q, "t", "in doubt"));
    ASSERT_NO_FATAL_FAILURE(terminate_backend(admin(), victim.connection().backend_pid()));
    try {
        tx.commit();
        FAIL() << "commit on a terminated backend succeeded";
    } catch (const pgque::connection_error& e) {
        FAIL() << "in-doubt commit reported as a plain connection_error: " << e.what();
    } catch (const pgque::in_doubt_error& e) {
        EXPECT_NE(std::string(e.what()).find("COMMIT"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(tx.is_open());
    EXPECT_FALSE(victim.connection().is_open());

    // lost and already noticed before commit(): COMMIT is never sent, so
    // the transaction certainly did not commit -- a plain connection_error
    pgque::client known(dsn());
    pgque::transaction tx2(known.connection());
    static_cast<void>(known.send(q, "t", "rolled back"));
    ASSERT_NO_FATAL_FAILURE(terminate_backend(admin(), known.connection().backend_pid()));
    EXPECT_THROW(static_cast<void>(known.connection().exec("select 1")), pgque::connection_error);
    ASSERT_FALSE(known.connection().is_open());
    try {
        tx2.commit();
        FAIL() << "commit on a lost connection succeeded";
    } catch (const pgque::in_doubt_error& e) {
        FAIL() << "commit that was never sent reported in doubt: " << e.what();
    } catch (const pgque::connection_error&) {
    }
    EXPECT_FALSE(tx2.is_open());

    // neither event exists (here the in-doubt one did not commit either)
    tick(q);
    EXPECT_TRUE(admin().receive(q, "r").empty());
}

TEST_F(ClientTest, QueueConsumerAndStatusInfo) {
    auto q = make_queue("info");
    ASSERT_TRUE(admin().subscribe(q, "c1"));
    ASSERT_TRUE(admin().subscribe(q, "c2"));
    auto qi = admin().queue_info(q);
    EXPECT_EQ(qi.queue_name, q);
    EXPECT_EQ(qi.ntables, 3);
    EXPECT_EQ(qi.ticker_max_lag, std::chrono::microseconds(0));
    EXPECT_EQ(qi.ticker_idle_period, std::chrono::minutes(1));
    EXPECT_EQ(qi.rotation_period, std::chrono::hours(2));
    EXPECT_FALSE(qi.ticker_paused);
    ASSERT_TRUE(qi.last_tick_id.has_value());
    ASSERT_TRUE(qi.ticker_lag.has_value());

    bool listed = false;
    for (const auto& row : admin().queue_info()) listed = listed || row.queue_name == q;
    EXPECT_TRUE(listed);

    auto consumers = admin().consumer_info(q);
    ASSERT_EQ(consumers.size(), 2u);
    EXPECT_EQ(consumers[0].consumer_name, "c1");
    EXPECT_EQ(consumers[1].consumer_name, "c2");
    EXPECT_EQ(consumers[0].pending_events, 0);
    EXPECT_EQ(consumers[0].pending_age, std::nullopt);  // nothing waits

    static_cast<void>(admin().send_batch(q, "t", {"a", "b", "c"}));
    tick(q);
    // the tick that brought the events, made an hour old: pending_age is
    // measured from it
    static_cast<void>(admin().connection().exec(
        "update pgque.tick t set tick_time = tick_time - interval '1 hour' from pgque.queue q"
        " where t.tick_queue = q.queue_id and q.queue_name = $1 and t.tick_event_seq > 0",
        {q}));
    tick(q);  // a fresh tick on top (no new events): the queue is not stale
    auto c1 = admin().consumer_info(q, "c1");
    EXPECT_EQ(c1.queue_name, q);
    EXPECT_EQ(c1.pending_events, 3);
    ASSERT_TRUE(c1.pending_age.has_value());
    EXPECT_GE(*c1.pending_age, std::chrono::hours(1));
    EXPECT_LT(*c1.pending_age, std::chrono::hours(1) + std::chrono::minutes(1));
    EXPECT_FALSE(c1.current_batch.has_value());
    auto batch = admin().receive(q, "c1");
    EXPECT_EQ(admin().consumer_info(q, "c1").current_batch, batch.id);
    EXPECT_TRUE(admin().ack(batch.id));
    EXPECT_EQ(admin().consumer_info(q, "c1").pending_events, 0);
    EXPECT_EQ(admin().consumer_info(q, "c1").pending_age, std::nullopt);
    EXPECT_EQ(admin().consumer_info(q, "c2").pending_events, 3);
    EXPECT_TRUE(admin().consumer_info(q, "c2").pending_age.has_value());

    bool has_queue_row = false, has_pgque_row = false;
    for (const auto& row : admin().status()) {
        has_queue_row = has_queue_row || (row.component == "queue " + q && row.status == "ok");
        has_pgque_row = has_pgque_row || (row.component == "pgque" && row.status == "ok");
    }
    EXPECT_TRUE(has_queue_row);
    EXPECT_TRUE(has_pgque_row);
    EXPECT_EQ(admin().version(), PGQUE_CLIENT_VERSION);

    EXPECT_TRUE(admin().unsubscribe(q, "c2"));
    EXPECT_FALSE(admin().unsubscribe(q, "c2"));
    EXPECT_EQ(admin().consumer_info(q).size(), 1u);
}

TEST_F(PrivateDbClientTest, NackRetryDeadLetterAndReplay) {
    auto q = make_queue("dlq");
    admin().set_queue_config(q, "max_retries", "1");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    std::int64_t id = admin().send(q, "job", "payload");
    tick(q);

    // first delivery: nack -> retry
    auto b1 = admin().receive(q, "r");
    ASSERT_EQ(b1.size(), 1u);
    admin().nack(b1.id, b1.messages[0], 0ms, "first failure");
    EXPECT_TRUE(admin().ack(b1.id));
    // due at once; no worker in this database moves it first
    EXPECT_EQ(admin().maint_retry_events(), 1);
    tick(q);

    // retry: same id, retry_count 1; nack again -> dead letter (max_retries 1)
    auto b2 = admin().receive(q, "r");
    ASSERT_EQ(b2.size(), 1u);
    EXPECT_EQ(b2.messages[0].msg_id, id);
    EXPECT_EQ(b2.messages[0].retry_count, 1);
    EXPECT_EQ(b2.messages[0].payload, "payload");
    admin().nack(b2.id, b2.messages[0], 0ms, "gave up");
    EXPECT_TRUE(admin().ack(b2.id));
    EXPECT_EQ(admin().maint_retry_events(), 0);

    auto dead = admin().dlq_inspect(q);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].ev_id, id);
    EXPECT_EQ(dead[0].consumer_name, "r");
    EXPECT_EQ(dead[0].reason, "gave up");
    EXPECT_EQ(dead[0].ev_retry, 1);
    EXPECT_EQ(dead[0].ev_type, "job");
    EXPECT_EQ(dead[0].ev_data, "payload");
    EXPECT_TRUE(admin().dlq_inspect(q, 0).empty());

    // replay: back to the consumer with its original id and a fresh count
    EXPECT_EQ(admin().dlq_replay(dead[0].dl_id), id);
    EXPECT_TRUE(admin().dlq_inspect(q).empty());
    EXPECT_THROW(static_cast<void>(admin().dlq_replay(dead[0].dl_id)), pgque::not_found);
    tick(q);
    auto b3 = admin().receive(q, "r");
    ASSERT_EQ(b3.size(), 1u);
    EXPECT_EQ(b3.messages[0].msg_id, id);
    EXPECT_FALSE(b3.messages[0].retry_count.has_value());

    // dead-letter it again right away, then replay_all and purge
    admin().set_queue_config(q, "max_retries", "0");
    admin().nack(b3.id, b3.messages[0], 0ms, std::nullopt);
    EXPECT_TRUE(admin().ack(b3.id));
    auto again = admin().dlq_inspect(q);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].reason, "max retries exceeded");  // the server's default reason
    auto all = admin().dlq_replay_all(q);
    EXPECT_EQ(all.replayed, 1);
    EXPECT_EQ(all.failed, 0);
    EXPECT_FALSE(all.first_error.has_value());
    tick(q);
    auto b4 = admin().receive(q, "r");
    ASSERT_EQ(b4.size(), 1u);
    admin().nack(b4.id, b4.messages[0], 0ms, "third time");
    EXPECT_TRUE(admin().ack(b4.id));
    EXPECT_EQ(admin().dlq_purge(q, std::chrono::hours(1)), 0);  // too young
    EXPECT_EQ(admin().dlq_purge(q, std::chrono::microseconds(0)), 1);
    EXPECT_TRUE(admin().dlq_inspect(q).empty());
}

TEST_F(PrivateDbClientTest, ManualTickerAndMaintenance) {
    auto q = make_queue("ticks");
    // A transaction running at a tick -- in any database of the cluster,
    // e.g. a test running in parallel -- makes the queue due again after
    // ticker_max_lag (it may have sent events); with 1 hour, "nothing new
    // since" below is independent of what else runs.
    admin().set_queue_config(q, "ticker_max_lag", "1 hour");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    static_cast<void>(admin().send(q, "x"));
    auto before = admin().queue_info(q).last_tick_id;
    ASSERT_TRUE(before.has_value());
    // the only queue of the database with a new event: exactly one ticks
    EXPECT_EQ(admin().ticker(), 1);
    EXPECT_EQ(admin().queue_info(q).last_tick_id, *before + 1);
    EXPECT_EQ(admin().ticker(), 0);  // nothing new since
    EXPECT_EQ(admin().ticker(q), std::nullopt);
    EXPECT_EQ(admin().queue_info(q).last_tick_id, *before + 1);

    // rotation_period 2h: nothing to rotate; at 0 a rotation takes two
    // maint() calls (step 1, then step 2 in a later transaction), and then
    // none until "r" reads past the switch
    EXPECT_EQ(admin().maint(), 0);
    EXPECT_EQ(admin().queue_info(q).cur_table, 0);
    admin().set_queue_config(q, "rotation_period", "0");
    EXPECT_EQ(admin().maint(), 1);
    EXPECT_EQ(admin().queue_info(q).cur_table, 1);
    EXPECT_EQ(admin().maint(), 1);
    EXPECT_EQ(admin().maint(), 0);
    EXPECT_EQ(admin().queue_info(q).cur_table, 1);
}

// ------------------------------------------------------- time: delays, retry policy, pausing

namespace {

// The server's clock_timestamp().
std::chrono::system_clock::time_point server_clock(pgque::client& c) {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(
        c.connection().exec("select (extract(epoch from clock_timestamp()) * 1000000)::int8").get_int64(0, 0)));
}

// Calls maint_retry_events() until `expected` events have moved (false if
// they did not within the timeout). The worker is stopped in a
// private_db_test database: nothing else moves them.
bool move_due(pgque::client& c, int expected) {
    int moved = 0;
    bool done = pgque::test::wait_until([&] {
        moved += c.maint_retry_events();
        return moved >= expected;
    });
    EXPECT_EQ(moved, expected);
    return done;
}

const pgque::message* find_message(const pgque::batch& b, std::int64_t id) {
    for (const auto& m : b.messages) {
        if (m.msg_id == id) return &m;
    }
    return nullptr;
}

// The retry_queue row of queue q: ev_retry_after - now(), in microseconds.
std::int64_t retry_due_in(pgque::client& c, const std::string& q) {
    auto r = c.connection().exec(
        "select (extract(epoch from r.ev_retry_after - now()) * 1000000)::int8 from pgque.retry_queue r"
        " join pgque.queue q on q.queue_id = r.ev_queue where q.queue_name = $1",
        {q});
    EXPECT_EQ(r.rows(), 1);
    return r.rows() == 1 ? r.get_int64(0, 0) : -1;
}

}  // namespace

TEST_F(PrivateDbClientTest, SendAtDeliversUnderTheReturnedIdWhenDue) {
    auto q = make_queue("at");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    const auto far = std::chrono::system_clock::now() + 1h;
    const auto soon = server_clock(admin()) + 300ms;
    std::int64_t far_id = admin().send_at(q, "later", "far", far);
    std::int64_t plain = admin().send_at(q, "no type", soon);
    std::int64_t typed = admin().send_at(q, "t", "typed", soon);
    std::int64_t json = admin().send_json_at(q, "j", R"({"b": 1,   "a": 2})", soon);
    auto batch = admin().send_batch_at(q, "b", {"x", "y"}, soon);
    auto batch_default = admin().send_batch_at(q, std::vector<std::string>{"d"}, soon);
    auto batch_json = admin().send_batch_json_at(q, "bj", {"[1,   2]"}, soon);
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[1], batch[0] + 1);
    ASSERT_EQ(batch_default.size(), 1u);
    ASSERT_EQ(batch_json.size(), 1u);
    EXPECT_TRUE(admin().send_batch_at(q, "b", {}, soon).empty());
    EXPECT_THROW(static_cast<void>(admin().send_json_at(q, "j", "{not json", soon)), pgque::data_error);
    EXPECT_THROW(static_cast<void>(admin().send_at(unique_name("missing"), "x", soon)), pgque::queue_not_found);

    // waiting outside the queue, due at exactly the time given (microseconds)
    auto waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.queue_name, q);
    EXPECT_EQ(waiting.delayed, 8);
    ASSERT_TRUE(waiting.next_delivery.has_value());
    EXPECT_EQ(*waiting.next_delivery, std::chrono::floor<std::chrono::microseconds>(soon));
    EXPECT_EQ(waiting.retries, 0);
    EXPECT_FALSE(waiting.next_retry.has_value());
    tick(q);
    EXPECT_TRUE(admin().receive(q, "r").empty());

    // due: moved into the queue (the far one stays), then the next tick brings them
    ASSERT_TRUE(move_due(admin(), 7));
    EXPECT_EQ(admin().maint_retry_events(), 0);
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 7u);
    EXPECT_EQ(find_message(got, far_id), nullptr);
    const pgque::message* m = find_message(got, plain);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->type, "default");
    EXPECT_EQ(m->payload, "no type");
    ASSERT_NE(m = find_message(got, typed), nullptr);
    EXPECT_EQ(m->type, "t");
    EXPECT_EQ(m->payload, "typed");
    ASSERT_NE(m = find_message(got, json), nullptr);
    EXPECT_EQ(m->payload, R"({"a": 2, "b": 1})");  // jsonb's canonical text
    ASSERT_NE(m = find_message(got, batch[1]), nullptr);
    EXPECT_EQ(m->type, "b");
    EXPECT_EQ(m->payload, "y");
    ASSERT_NE(m = find_message(got, batch_default[0]), nullptr);
    EXPECT_EQ(m->type, "default");
    ASSERT_NE(m = find_message(got, batch_json[0]), nullptr);
    EXPECT_EQ(m->type, "bj");
    EXPECT_EQ(m->payload, "[1, 2]");
    EXPECT_TRUE(admin().ack(got.id));

    waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.delayed, 1);
    EXPECT_EQ(waiting.next_delivery, std::chrono::floor<std::chrono::microseconds>(far));
}

TEST_F(PrivateDbClientTest, SendInCountsFromTheServersClock) {
    auto q = make_queue("in");
    ASSERT_TRUE(admin().subscribe(q, "r"));

    // a long delay: due that long after the call, by the server's clock
    auto before = server_clock(admin());
    std::int64_t later = admin().send_in(q, "t", "in two hours", 2h);
    auto after = server_clock(admin());
    auto waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.delayed, 1);
    ASSERT_TRUE(waiting.next_delivery.has_value());
    EXPECT_GE(*waiting.next_delivery, before + 2h);
    EXPECT_LE(*waiting.next_delivery, after + 2h);

    // short ones: every form, delivered under the ids returned
    std::int64_t plain = admin().send_in(q, "plain", 200ms);
    std::int64_t json = admin().send_json_in(q, "j", R"({"k":1})", 200ms);
    auto batch = admin().send_batch_in(q, "b", {"x", "y"}, 200ms);
    auto batch_default = admin().send_batch_in(q, std::vector<std::string>{"d"}, 200ms);
    auto batch_json = admin().send_batch_json_in(q, "bj", {"true"}, 200ms);
    EXPECT_EQ(admin().delayed_info(q).delayed, 7);
    ASSERT_TRUE(move_due(admin(), 6));
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(find_message(got, later), nullptr);
    for (auto id : {plain, json, batch[0], batch[1], batch_default[0], batch_json[0]}) {
        EXPECT_NE(find_message(got, id), nullptr) << id;
    }
    EXPECT_EQ(find_message(got, json)->payload, R"({"k": 1})");
    EXPECT_EQ(find_message(got, batch_default[0])->type, "default");
    EXPECT_TRUE(admin().ack(got.id));
    EXPECT_EQ(admin().delayed_info(q).delayed, 1);
}

TEST_F(PrivateDbClientTest, NoDelayOrAPastTimeSendsNow) {
    auto q = make_queue("now");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    std::int64_t zero = admin().send_in(q, "t", "zero", 0us);
    std::int64_t negative = admin().send_in(q, "negative", -5s);
    std::int64_t past = admin().send_at(q, "t", "past", std::chrono::system_clock::now() - 1h);
    auto ids = admin().send_batch_at(q, "t", {"p1", "p2"}, std::chrono::system_clock::time_point{});  // 1970
    EXPECT_EQ(admin().delayed_info(q).delayed, 0);
    // in the queue at once: no maint_retry_events() needed
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got.messages[0].msg_id, zero);
    EXPECT_EQ(got.messages[1].msg_id, negative);
    EXPECT_EQ(got.messages[2].msg_id, past);
    EXPECT_EQ(got.messages[3].msg_id, ids[0]);
    EXPECT_EQ(got.messages[4].payload, "p2");
    EXPECT_TRUE(admin().ack(got.id));
}

TEST_F(PrivateDbClientTest, NackWithoutRetryAfterFollowsTheQueuesRetryPolicy) {
    auto q = make_queue("policy");
    admin().set_queue_config(q, "retry_delay", "2 seconds");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    std::int64_t id = admin().send(q, "t", "p");
    tick(q);
    auto b = admin().receive(q, "r");
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b.messages[0].msg_id, id);
    EXPECT_THROW(admin().nack(b.id, b.messages[0], -1ms), pgque::data_error);
    {
        // nack and the check in one transaction: now() is the same for both,
        // so the retry is due exactly retry_delay later
        pgque::transaction tx(admin().connection());
        admin().nack(b.id, b.messages[0]);
        EXPECT_EQ(retry_due_in(admin(), q), 2'000'000);
        tx.rollback();
    }
    {
        pgque::transaction tx(admin().connection());
        admin().nack(b.id, b.messages[0].msg_id, std::nullopt, "by id");
        EXPECT_EQ(retry_due_in(admin(), q), 2'000'000);
        tx.rollback();
    }
    {
        // an explicit retry_after wins over the policy
        pgque::transaction tx(admin().connection());
        admin().nack(b.id, b.messages[0], 250ms);
        EXPECT_EQ(retry_due_in(admin(), q), 250'000);
        tx.rollback();
    }
    // the default policy is 60 s
    admin().set_queue_config(q, "retry_delay", std::nullopt);
    {
        pgque::transaction tx(admin().connection());
        admin().nack(b.id, b.messages[0]);
        EXPECT_EQ(retry_due_in(admin(), q), 60'000'000);
        tx.commit();
    }
    EXPECT_TRUE(admin().ack(b.id));
    auto waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.delayed, 0);
    EXPECT_EQ(waiting.retries, 1);
    ASSERT_TRUE(waiting.next_retry.has_value());
    EXPECT_GT(*waiting.next_retry, server_clock(admin()) + 50s);
    EXPECT_EQ(admin().maint_retry_events(), 0);  // not due for a minute
}

TEST_F(ClientTest, PauseAndResumeQueuesAndConsumers) {
    auto q = make_queue("pause");
    ASSERT_TRUE(admin().subscribe(q, "a"));
    ASSERT_TRUE(admin().subscribe(q, "b"));
    std::int64_t first = admin().send(q, "t", "first");
    tick(q);

    EXPECT_TRUE(admin().pause_queue(q));
    EXPECT_FALSE(admin().pause_queue(q));  // already paused
    EXPECT_TRUE(admin().queue_config(q).paused);
    EXPECT_TRUE(admin().consumer_info(q, "a").paused);  // the queue's pause counts for its consumers
    EXPECT_TRUE(admin().receive(q, "a").empty());
    EXPECT_TRUE(admin().receive(q, "b").empty());
    static_cast<void>(admin().send(q, "t", "sent while paused"));  // producers go on
    EXPECT_TRUE(admin().resume_queue(q));
    EXPECT_FALSE(admin().resume_queue(q));
    EXPECT_FALSE(admin().queue_config(q).paused);
    EXPECT_FALSE(admin().consumer_info(q, "a").paused);
    tick(q);
    auto got = admin().receive(q, "a");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got.messages[0].msg_id, first);
    EXPECT_TRUE(admin().ack(got.id));

    // one consumer: the other one goes on
    EXPECT_TRUE(admin().pause_consumer(q, "b"));
    EXPECT_FALSE(admin().pause_consumer(q, "b"));
    EXPECT_TRUE(admin().consumer_info(q, "b").paused);
    EXPECT_FALSE(admin().consumer_info(q, "a").paused);
    EXPECT_FALSE(admin().queue_config(q).paused);
    std::int64_t third = admin().send(q, "t", "third");
    tick(q);
    EXPECT_TRUE(admin().receive(q, "b").empty());
    got = admin().receive(q, "a");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.messages[0].msg_id, third);
    EXPECT_TRUE(admin().ack(got.id));
    EXPECT_EQ(admin().consumer_info(q, "b").pending_events, 3);  // its position stayed
    EXPECT_TRUE(admin().resume_consumer(q, "b"));
    EXPECT_FALSE(admin().resume_consumer(q, "b"));
    EXPECT_FALSE(admin().consumer_info(q, "b").paused);
    got = admin().receive(q, "b");
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got.messages[0].msg_id, first);
    EXPECT_TRUE(admin().ack(got.id));

    const std::string missing = unique_name("missing");
    EXPECT_THROW(static_cast<void>(admin().pause_queue(missing)), pgque::queue_not_found);
    EXPECT_THROW(static_cast<void>(admin().resume_queue(missing)), pgque::queue_not_found);
    EXPECT_THROW(static_cast<void>(admin().pause_consumer(q, "nobody")), pgque::consumer_not_found);
    EXPECT_THROW(static_cast<void>(admin().resume_consumer(missing, "a")), pgque::queue_not_found);
}

TEST_F(ClientTest, QueueConfigReadsEverySetting) {
    auto q = make_queue("config");
    auto c = admin().queue_config(q);
    EXPECT_EQ(c.queue_name, q);
    EXPECT_EQ(c.ticker_max_count, 500);
    EXPECT_EQ(c.ticker_max_lag, std::chrono::microseconds(0));  // make_queue
    EXPECT_EQ(c.ticker_idle_period, std::chrono::minutes(1));
    EXPECT_FALSE(c.ticker_paused);
    EXPECT_EQ(c.rotation_period, std::chrono::hours(2));
    EXPECT_FALSE(c.external_ticker);
    EXPECT_EQ(c.max_retries, 5);
    EXPECT_FALSE(c.restricted);
    EXPECT_EQ(c.delivery_delay, std::nullopt);
    EXPECT_EQ(c.retry_delay, std::chrono::seconds(60));
    EXPECT_EQ(c.retry_backoff, "fixed");
    EXPECT_EQ(c.retry_max_delay, std::chrono::hours(1));
    EXPECT_EQ(c.retry_jitter, 0.0);
    EXPECT_EQ(c.message_ttl, std::nullopt);
    EXPECT_EQ(c.expired_action, "dead_letter");
    EXPECT_FALSE(c.paused);

    admin().set_queue_config(q, "delivery_delay", "1.5 seconds");
    admin().set_queue_config(q, "retry_delay", "2 seconds");
    admin().set_queue_config(q, "retry_backoff", "exponential");
    admin().set_queue_config(q, "retry_max_delay", "10 minutes");
    admin().set_queue_config(q, "retry_jitter", "0.2");
    admin().set_queue_config(q, "message_ttl", "1 day 2 hours");
    admin().set_queue_config(q, "expired_action", "drop");
    admin().set_queue_config(q, "max_retries", "3");
    admin().set_queue_config(q, "ticker_max_count", "7");
    EXPECT_THROW(admin().set_queue_config(q, "retry_backoff", "linear"), pgque::data_error);
    EXPECT_THROW(admin().set_queue_config(q, "retry_jitter", "2"), pgque::data_error);

    // the interval text depends on IntervalStyle; the values must not
    for (const char* style : {"postgres", "iso_8601", "sql_standard", "postgres_verbose"}) {
        static_cast<void>(admin().connection().exec("select set_config('intervalstyle', $1, false)", {style}));
        c = admin().queue_config(q);
        EXPECT_EQ(c.delivery_delay, std::chrono::milliseconds(1500)) << style;
        EXPECT_EQ(c.retry_delay, std::chrono::seconds(2)) << style;
        EXPECT_EQ(c.retry_backoff, "exponential");
        EXPECT_EQ(c.retry_max_delay, std::chrono::minutes(10)) << style;
        EXPECT_DOUBLE_EQ(c.retry_jitter, 0.2);
        EXPECT_EQ(c.message_ttl, std::chrono::hours(26)) << style;
        EXPECT_EQ(c.expired_action, "drop");
        EXPECT_EQ(c.max_retries, 3);
        EXPECT_EQ(c.ticker_max_count, 7);
        EXPECT_EQ(c.ticker_idle_period, std::chrono::minutes(1)) << style;
    }
    static_cast<void>(admin().connection().exec("reset intervalstyle"));

    // in the list of all queues, the same
    bool listed = false;
    for (const auto& row : admin().queue_config()) {
        if (row.queue_name != q) continue;
        listed = true;
        EXPECT_EQ(row.retry_delay, std::chrono::seconds(2));
        EXPECT_EQ(row.message_ttl, std::chrono::hours(26));
    }
    EXPECT_TRUE(listed);

    // NULL restores the default
    admin().set_queue_config(q, "delivery_delay", std::nullopt);
    admin().set_queue_config(q, "message_ttl", std::nullopt);
    admin().set_queue_config(q, "retry_delay", std::nullopt);
    c = admin().queue_config(q);
    EXPECT_EQ(c.delivery_delay, std::nullopt);
    EXPECT_EQ(c.message_ttl, std::nullopt);
    EXPECT_EQ(c.retry_delay, std::chrono::seconds(60));

    const std::string missing = unique_name("missing");
    EXPECT_THROW(static_cast<void>(admin().queue_config(missing)), pgque::queue_not_found);
    EXPECT_THROW(static_cast<void>(admin().delayed_info(missing)), pgque::queue_not_found);
    bool waiting_listed = false;
    for (const auto& row : admin().delayed_info()) waiting_listed = waiting_listed || row.queue_name == q;
    EXPECT_TRUE(waiting_listed);
}

TEST_F(ClientTest, DedupKeyReturnsTheFirstSendsIdAndSendsNothing) {
    auto q = make_queue("dedup");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    pgque::send_options keyed;
    keyed.dedup_key = "order-17";
    std::int64_t first = admin().send(q, "order", "{\"n\": 17}", keyed);
    EXPECT_EQ(admin().send(q, "order", "sent again", keyed), first);
    EXPECT_EQ(admin().send_json(q, "order", "{\"again\": true}", keyed), first);
    keyed.dedup_key = "order-18";
    std::int64_t other = admin().send_json(q, "order", "{\"n\": 18}", keyed);
    EXPECT_NE(other, first);
    // without a key, or priority 0 given explicitly: a plain send
    std::int64_t plain = admin().send(q, "order", "plain", pgque::send_options{});
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got.messages[0].msg_id, first);
    EXPECT_EQ(got.messages[0].payload, "{\"n\": 17}");
    EXPECT_EQ(got.messages[1].msg_id, other);
    EXPECT_EQ(got.messages[2].msg_id, plain);
    EXPECT_TRUE(admin().ack(got.id));

    // a batch takes no key; a priority out of range is the server's 22023
    pgque::send_options batch_keyed;
    batch_keyed.dedup_key = "k";
    EXPECT_THROW(static_cast<void>(admin().send_batch(q, "t", {"a"}, batch_keyed)), pgque::usage_error);
    pgque::send_options bad;
    bad.priority = 10;
    try {
        static_cast<void>(admin().send(q, "t", "x", bad));
        FAIL() << "priority 10 was accepted";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }
}

TEST_F(ClientTest, LabelsAndAFilterSelectWhatAConsumerIsHanded) {
    auto q = make_queue("labels");
    ASSERT_TRUE(admin().subscribe(q, "all"));
    ASSERT_TRUE(admin().subscribe(q, "eu"));
    admin().set_filter(q, "eu", std::nullopt, std::vector<std::string>{"eu"});
    pgque::send_options eu;
    eu.label = "eu";
    eu.attributes = "{\"tenant\": \"acme\"}";
    pgque::send_options us;
    us.label = "us";
    std::int64_t first = admin().send(q, "order", "o1", eu);
    static_cast<void>(admin().send_json(q, "order", "{\"n\": 2}", us));
    static_cast<void>(admin().send(q, "order", "o3"));
    tick(q);
    auto all = admin().receive(q, "all");
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all.messages[0].extra1, "eu");
    EXPECT_EQ(all.messages[0].extra2, "{\"tenant\": \"acme\"}");
    EXPECT_EQ(all.messages[1].extra1, "us");
    EXPECT_EQ(all.messages[2].extra1, std::nullopt);
    EXPECT_TRUE(admin().ack(all.id));
    auto got = admin().receive(q, "eu");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.messages[0].msg_id, first);
    EXPECT_TRUE(admin().ack(got.id));

    // the filter removed: the next events all come
    admin().set_filter(q, "eu", std::nullopt, std::nullopt);
    static_cast<void>(admin().send(q, "order", "o4", us));
    tick(q);
    got = admin().receive(q, "eu");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.messages[0].payload, "o4");

    // a batch takes no label; bad attributes and empty lists are the server's 22023
    EXPECT_THROW(static_cast<void>(admin().send_batch(q, "t", {"a"}, eu)), pgque::usage_error);
    pgque::send_options bad;
    bad.attributes = "[1]";
    try {
        static_cast<void>(admin().send(q, "t", "x", bad));
        FAIL() << "attributes [1] were accepted";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }
    try {
        admin().set_filter(q, "eu", std::vector<std::string>{}, std::nullopt);
        FAIL() << "an empty filter was accepted";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }
}

TEST_F(PrivateDbClientTest, DeliveryDelayHoldsPlainSends) {
    auto q = make_queue("dd");
    admin().set_queue_config(q, "delivery_delay", "300 milliseconds");
    ASSERT_TRUE(admin().subscribe(q, "r"));
    std::int64_t id = admin().send(q, "t", "delayed by the queue");
    auto waiting = admin().delayed_info(q);
    EXPECT_EQ(waiting.delayed, 1);
    tick(q);
    EXPECT_TRUE(admin().receive(q, "r").empty());
    ASSERT_TRUE(move_due(admin(), 1));
    tick(q);
    auto got = admin().receive(q, "r");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got.messages[0].msg_id, id);
    EXPECT_TRUE(admin().ack(got.id));
}

TEST_F(PrivateDbClientTest, MessageStateSaysWhereAnEventIsForEachConsumer) {
    auto q = make_queue("state");
    ASSERT_TRUE(admin().subscribe(q, "a"));
    ASSERT_TRUE(admin().subscribe(q, "b"));
    std::int64_t e1 = admin().send(q, "t", "e1");
    std::int64_t e2 = admin().send(q, "t", "e2");
    std::int64_t e3 = admin().send(q, "t", "e3");
    auto state_of = [&](std::int64_t id, const std::string& consumer) {
        for (const auto& s : admin().message_state(q, id)) {
            if (s.consumer == consumer) return s;
        }
        ADD_FAILURE() << "no row for " << consumer;
        return pgque::message_state{};
    };

    // committed, not ticked: pending for both, one row each, by name
    auto rows = admin().message_state(q, e1);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].consumer, "a");
    EXPECT_EQ(rows[1].consumer, "b");
    for (const auto& s : rows) {
        EXPECT_EQ(s.state, "pending");
        EXPECT_FALSE(s.since.has_value());
        EXPECT_EQ(s.attempt, 1);
        EXPECT_FALSE(s.detail.empty());
    }

    // a holds them in its batch; b waits since the tick
    tick(q);
    auto batch = admin().receive(q, "a");
    ASSERT_EQ(batch.size(), 3u);
    auto held = state_of(e1, "a");
    EXPECT_EQ(held.state, "in_batch");
    EXPECT_EQ(held.batch_id, batch.id);
    EXPECT_TRUE(held.since.has_value());
    EXPECT_FALSE(held.member.has_value());
    auto waiting = state_of(e1, "b");
    EXPECT_EQ(waiting.state, "pending");
    EXPECT_TRUE(waiting.since.has_value());

    // a nacks e2 for an hour, gives up on e3, acks the rest
    auto before = std::chrono::system_clock::now();
    admin().nack(batch.id, e2, std::chrono::hours(1), "later");
    admin().set_queue_config(q, "max_retries", "0");
    admin().nack(batch.id, e3, std::chrono::seconds(0), "broken");
    EXPECT_TRUE(admin().ack(batch.id));
    EXPECT_EQ(state_of(e1, "a").state, "done");
    auto retry = state_of(e2, "a");
    EXPECT_EQ(retry.state, "retry");
    EXPECT_EQ(retry.attempt, 2);
    ASSERT_TRUE(retry.due_at.has_value());
    EXPECT_GT(*retry.due_at, before + std::chrono::minutes(50));
    auto dead = state_of(e3, "a");
    EXPECT_EQ(dead.state, "dead");
    EXPECT_EQ(dead.reason, "broken");
    auto letters = admin().dlq_inspect(q);
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(dead.dead_letter_id, letters[0].dl_id);
    EXPECT_EQ(state_of(e3, "b").state, "pending");

    // delayed for everyone; an id never handed out is unknown
    std::int64_t later = admin().send_in(q, "t", "later", std::chrono::hours(1));
    for (const auto& s : admin().message_state(q, later)) {
        EXPECT_EQ(s.state, "delayed");
        EXPECT_TRUE(s.due_at.has_value());
    }
    EXPECT_EQ(state_of(later + 1000, "b").state, "unknown");

    EXPECT_THROW(static_cast<void>(admin().message_state(unique_name("missing"), e1)), pgque::queue_not_found);
    EXPECT_THROW(static_cast<void>(admin().message_state(q, 0)), pgque::data_error);
}

TEST_F(ClientTest, SchedulesCreateReplacePauseAndRemove) {
    auto q = make_queue("sched");
    const std::string name = unique_name("sched");
    EXPECT_TRUE(admin().schedule(name, q, "*/5 * * * *"));
    auto s = admin().schedule_info(name);
    EXPECT_EQ(s.schedule_name, name);
    EXPECT_EQ(s.queue_name, q);
    EXPECT_EQ(s.spec, "*/5 * * * *");
    EXPECT_EQ(s.type, "schedule");
    EXPECT_FALSE(s.payload);
    ASSERT_TRUE(s.next_run);
    EXPECT_GT(*s.next_run, std::chrono::system_clock::now());
    EXPECT_LE(*s.next_run, std::chrono::system_clock::now() + 5min);
    EXPECT_FALSE(s.last_run);
    EXPECT_FALSE(s.last_msg_id);
    EXPECT_EQ(s.runs, 0);
    EXPECT_EQ(s.missed, 0);
    EXPECT_FALSE(s.paused);
    EXPECT_FALSE(s.last_error);

    // replaced: type, payload, spec
    EXPECT_FALSE(admin().schedule(name, q, "TZ=Europe/Berlin 0 9 * * mon-fri", "report", "daily"));
    s = admin().schedule_info(name);
    EXPECT_EQ(s.spec, "TZ=Europe/Berlin 0 9 * * mon-fri");
    EXPECT_EQ(s.type, "report");
    EXPECT_EQ(s.payload, "daily");
    EXPECT_FALSE(admin().schedule_json(name, q, "every 2 hours", "report", R"({"a": [1, 2]})"));
    EXPECT_EQ(admin().schedule_info(name).payload, R"({"a": [1, 2]})");
    EXPECT_THROW(static_cast<void>(admin().schedule_json(name, q, "every 2 hours", "report", "{nope")),
                 pgque::data_error);

    EXPECT_TRUE(admin().pause_schedule(name));
    EXPECT_FALSE(admin().pause_schedule(name));
    s = admin().schedule_info(name);
    EXPECT_TRUE(s.paused);
    EXPECT_FALSE(s.next_run);
    EXPECT_TRUE(admin().resume_schedule(name));
    EXPECT_FALSE(admin().resume_schedule(name));
    EXPECT_TRUE(admin().schedule_info(name).next_run);

    bool listed = false;
    for (const auto& row : admin().schedule_info()) listed = listed || row.schedule_name == name;
    EXPECT_TRUE(listed);

    try {
        static_cast<void>(admin().schedule(name, q, "61 * * * *"));
        ADD_FAILURE() << "a bad spec was taken";
    } catch (const pgque::data_error& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }
    EXPECT_THROW(static_cast<void>(admin().schedule(name, unique_name("missing"), "@daily")),
                 pgque::queue_not_found);
    try {
        static_cast<void>(admin().pause_schedule(unique_name("missing")));
        ADD_FAILURE() << "an unknown schedule was paused";
    } catch (const pgque::not_found& e) {
        EXPECT_EQ(e.object_kind(), "schedule");
    }
    EXPECT_THROW(static_cast<void>(admin().schedule_info(unique_name("missing"))), pgque::not_found);

    EXPECT_TRUE(admin().unschedule(name));
    EXPECT_FALSE(admin().unschedule(name));
}

// With the worker running, an "every 1 seconds" schedule delivers events
// that say which schedule and slot they stand for.
TEST_F(ClientTest, ScheduleSendsThroughTheWorker) {
    bool worker = false;
    for (const auto& row : admin().status()) worker = worker || (row.component == "worker" && row.status == "running");
    if (!worker) GTEST_SKIP() << "no pgque worker runs for this database";
    auto q = make_queue("schedw");
    ASSERT_TRUE(admin().subscribe(q, "c"));
    const std::string name = unique_name("schedw");
    ASSERT_TRUE(admin().schedule(name, q, "every 1 seconds", "beat", "payload"));
    std::vector<pgque::message> got;
    for (int i = 0; i < 100 && got.size() < 2; ++i) {
        auto b = admin().receive(q, "c");
        for (auto& m : b.messages) got.push_back(m);
        if (!b.empty()) {
            ASSERT_TRUE(admin().ack(b.id));
        }
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(admin().pause_schedule(name));
    ASSERT_GE(got.size(), 2u);
    EXPECT_EQ(got[0].type, "beat");
    EXPECT_EQ(got[0].payload, "payload");
    EXPECT_EQ(got[0].extra1, name);
    ASSERT_TRUE(got[0].extra2);
    EXPECT_EQ(got[0].extra2->size(), std::string("2026-01-01T00:00:00Z").size());
    EXPECT_NE(got[0].extra2, got[1].extra2);
    EXPECT_EQ(got[1].extra3, "0");
    EXPECT_GE(admin().schedule_info(name).runs, 2);
}
