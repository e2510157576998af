// Cooperative consumers from C++: the client calls, consumers in several
// processes sharing one consumer's work, and worker_pool (PGQUE_TEST_DSN).
#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

using namespace std::chrono_literals;
using pgque::test::ticker_thread;
using pgque::test::wait_until;

namespace {

class CoopTest : public pgque::test::db_test {
protected:
    // a table (msg_id, member) dropped at the end of the test
    std::string make_table(const std::string& base) {
        m_table = admin().connection().quote_identifier(pgque::test::unique_name(base));
        static_cast<void>(admin().connection().exec("create table " + m_table + " (msg_id int8, member text)"));
        return m_table;
    }
    void TearDown() override {
        if (!m_table.empty() && m_admin) {
            try {
                static_cast<void>(admin().connection().exec("drop table if exists " + m_table));
            } catch (...) {
            }
        }
        db_test::TearDown();
    }
    std::int64_t scalar(const std::string& sql, const pgque::params& values = {}) {
        return admin().connection().exec(sql, values).get_int64(0, 0);
    }
    std::string m_table;
};

pgque::consumer* g_child_consumer = nullptr;
extern "C" void stop_child(int) {
    if (g_child_consumer) g_child_consumer->stop();
}

// A process that consumes q as member `member` of "workers", transactionally
// recording every message it handles in table, until SIGTERM.
// With hang_at > 0 its handler hangs on its hang_at-th message (to be killed
// in the middle of a batch).
pid_t spawn_member(const std::string& dsn, const std::string& q, const std::string& table,
                   const std::string& member, std::chrono::milliseconds dead_interval, int hang_at = 0) {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    int code = 0;
    try {
        pgque::consumer_options o;
        o.transactional = true;
        o.batch_size = 20;
        o.poll_interval = 200ms;
        o.cooperative = pgque::cooperative_options{member, dead_interval, 0ms};
        pgque::consumer c(dsn, q, "workers", o);
        int handled = 0;
        c.on("*", [&](const pgque::message& m, pgque::message_context& ctx) {
            static_cast<void>(ctx.connection().exec("insert into " + table + " values ($1::int8, $2)",
                                                    {std::to_string(m.msg_id), member}));
            if (++handled == hang_at) std::this_thread::sleep_for(1h);
            std::this_thread::sleep_for(1ms);  // I/O-bound work
        });
        g_child_consumer = &c;
        std::signal(SIGTERM, stop_child);
        static_cast<void>(c.run());
    } catch (...) {
        code = 1;
    }
    ::_exit(code);
}

// Kills (SIGKILL) and reaps whatever is left in pids.
struct reap {
    std::vector<pid_t>& pids;
    ~reap() {
        for (pid_t p : pids) {
            if (p <= 0) continue;
            ::kill(p, SIGKILL);
            ::waitpid(p, nullptr, 0);
        }
    }
};

}  // namespace

TEST_F(CoopTest, ClientCallsSplitTheStreamBetweenMembers) {
    auto q = make_queue("coop_client");
    EXPECT_TRUE(admin().subscribe_subconsumer(q, "workers", "a"));
    EXPECT_TRUE(admin().subscribe_subconsumer(q, "workers", "b"));
    EXPECT_FALSE(admin().subscribe_subconsumer(q, "workers", "a"));
    static_cast<void>(admin().send_batch(q, {"1", "2"}));
    tick(q);
    static_cast<void>(admin().send_batch(q, {"3", "4"}));
    tick(q);

    auto a = admin().receive_coop(q, "workers", "a", 2);
    auto b = admin().receive_coop(q, "workers", "b", 2);
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(*a.messages[0].payload, "1");
    EXPECT_EQ(*b.messages[0].payload, "3");
    EXPECT_NE(a.id, b.id);
    EXPECT_TRUE(admin().touch_subconsumer(q, "workers", "a"));
    EXPECT_FALSE(admin().touch_subconsumer(q, "workers", "nobody"));

    // get_consumer_info lists the members with the batch each holds
    std::map<std::string, std::optional<std::int64_t>> held;
    for (const auto& ci : admin().consumer_info(q)) held[ci.consumer_name] = ci.current_batch;
    EXPECT_EQ(held.at("workers.a"), a.id);
    EXPECT_EQ(held.at("workers.b"), b.id);

    // a holder cannot simply leave; with retry_open_batch its messages go to retry
    try {
        static_cast<void>(admin().unsubscribe_subconsumer(q, "workers", "a"));
        ADD_FAILURE() << "unsubscribing a member that holds a batch must fail";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "55000");
    }
    EXPECT_TRUE(admin().unsubscribe_subconsumer(q, "workers", "a", true));
    EXPECT_EQ(scalar("select count(*) from pgque.retry_queue r join pgque.queue q on q.queue_id = r.ev_queue"
                     " where q.queue_name = $1",
                     {q}),
              2);
    EXPECT_TRUE(admin().ack(b.id));
}

// Four processes, each a cooperative consumer acking transactionally with
// its writes, share 10,000 messages: each is processed exactly once.
TEST_F(CoopTest, FourProcessesProcessEachMessageExactlyOnce) {
    constexpr int k_members = 4;
    constexpr int k_messages = 10000;
    auto q = make_queue("coop_procs");
    const std::string table = make_table("pgque_it_coop_done");

    std::vector<pid_t> children;
    reap reaper{children};
    for (int i = 0; i < k_members; ++i) {
        children.push_back(spawn_member(dsn(), q, table, "p" + std::to_string(i), 10s));
        ASSERT_GT(children.back(), 0);
    }

    // every member registered before anything is sent: all can take work
    ASSERT_TRUE(wait_until([&] {
        return scalar("select count(*) from pgque.subconsumer sc join pgque.subscriber s on s.sub_id = sc.sc_sub"
                      " join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name = $1",
                      {q}) == k_members;
    }, 30s));

    ticker_thread ticks(dsn(), {q});
    for (int sent = 0; sent < k_messages; sent += 50) {
        std::vector<std::string> payloads;
        for (int j = 0; j < 50; ++j) payloads.push_back("m" + std::to_string(sent + j));
        static_cast<void>(admin().send_batch(q, payloads));
    }
    ASSERT_TRUE(wait_until([&] { return scalar("select count(*) from " + table) >= k_messages; }, 120s))
        << scalar("select count(*) from " + table) << " processed";
    std::this_thread::sleep_for(500ms);  // anything processed twice would show now

    for (pid_t p : children) ::kill(p, SIGTERM);
    for (pid_t& p : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(p, &status, 0), p);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "member exited with " << status;
        p = 0;
    }
    children.clear();

    EXPECT_EQ(scalar("select count(*) from " + table), k_messages);
    EXPECT_EQ(scalar("select count(distinct msg_id) from " + table), k_messages);
    auto per_member = admin().connection().exec("select member, count(*) from " + table + " group by 1 order by 1");
    EXPECT_EQ(per_member.rows(), k_members) << "every member got work";
    for (int r = 0; r < per_member.rows(); ++r) {
        std::cout << "[          ] " << per_member.get(r, 0) << ": " << per_member.get_int64(r, 1) << " messages\n";
    }
    EXPECT_EQ(admin().consumer_info(q, "workers").pending_events, 0);
}

TEST_F(CoopTest, WorkerPoolRunsHandlersConcurrentlyOnSeveralQueues) {
    auto q1 = make_queue("pool_a");
    auto q2 = make_queue("pool_b");
    std::mutex mutex;
    std::multiset<std::string> seen;
    std::atomic<int> in_flight{0};
    std::atomic<int> most{0};
    auto handle = [&](const std::string& tag) {
        return [&, tag](const pgque::message& m) {
            int now = ++in_flight;
            int prev = most.load();
            while (now > prev && !most.compare_exchange_weak(prev, now)) {
            }
            std::this_thread::sleep_for(20ms);
            --in_flight;
            std::lock_guard<std::mutex> lock(mutex);
            seen.insert(tag + *m.payload);
        };
    };
    pgque::worker_pool_options o;
    o.workers = 4;
    o.consumer.batch_size = 2;
    o.consumer.poll_interval = 100ms;
    pgque::worker_pool pool(dsn(), o);
    pool.on(q1, "jobs", "*", handle("a:"));
    pool.on(q2, "jobs", "*", handle("b:"));
    auto running = std::async(std::launch::async, [&] { pool.run(); });

    ASSERT_TRUE(wait_until([&] {
        return scalar("select count(*) from pgque.subconsumer sc join pgque.subscriber s on s.sub_id = sc.sc_sub"
                      " join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name in ($1, $2)",
                      {q1, q2}) == 8;
    }, 30s));
    ticker_thread ticks(dsn(), {q1, q2});
    for (int i = 0; i < 40; ++i) {
        static_cast<void>(admin().send(q1, std::to_string(i)));
        static_cast<void>(admin().send(q2, std::to_string(i)));
    }
    EXPECT_TRUE(wait_until([&] {
        std::lock_guard<std::mutex> lock(mutex);
        return seen.size() >= 80;
    }, 60s));
    pool.stop();
    ASSERT_EQ(running.wait_for(30s), std::future_status::ready);
    running.get();

    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(seen.size(), 80u);
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(seen.count("a:" + std::to_string(i)), 1u) << i;
        EXPECT_EQ(seen.count("b:" + std::to_string(i)), 1u) << i;
    }
    EXPECT_GE(most.load(), 2) << "handlers ran concurrently";
    EXPECT_EQ(pool.stats().handled, 80u);
}

// A member killed in the middle of its batch: the others take the batch over
// after dead_interval; with transactional acks nothing is processed twice
// and nothing is lost.
TEST_F(CoopTest, AKilledMemberLosesItsBatchNotItsMessages) {
    constexpr int k_messages = 3000;
    auto q = make_queue("coop_kill");
    const std::string table = make_table("pgque_it_coop_kill");
    std::vector<pid_t> children;
    reap reaper{children};
    for (int i = 0; i < 3; ++i) {
        // k0 hangs in its third batch (after committing two of 20)
        children.push_back(spawn_member(dsn(), q, table, "k" + std::to_string(i), 1s, i == 0 ? 50 : 0));
        ASSERT_GT(children.back(), 0);
    }
    ASSERT_TRUE(wait_until([&] {
        return scalar("select count(*) from pgque.subconsumer sc join pgque.subscriber s on s.sub_id = sc.sc_sub"
                      " join pgque.queue q on q.queue_id = s.sub_queue where q.queue_name = $1",
                      {q}) == 3;
    }, 30s));

    ticker_thread ticks(dsn(), {q});
    for (int sent = 0; sent < k_messages; sent += 20) {
        std::vector<std::string> payloads;
        for (int j = 0; j < 20; ++j) payloads.push_back("m" + std::to_string(sent + j));
        static_cast<void>(admin().send_batch(q, payloads));
    }
    // k0 holds a batch (its receive committed) and is killed while working on it
    ASSERT_TRUE(wait_until([&] {
        return scalar("select count(*) from " + table + " where member = 'k0'") >= 40 &&
               scalar("select count(*) from pgque.batch b join pgque.subscriber s on s.sub_id = b.batch_sub"
                      " join pgque.queue q on q.queue_id = s.sub_queue"
                      " where q.queue_name = $1 and b.batch_member = 'k0' and b.batch_state = 'o'",
                      {q}) == 1;
    }, 60s));
    ::kill(children[0], SIGKILL);
    ::waitpid(children[0], nullptr, 0);
    children[0] = 0;

    ASSERT_TRUE(wait_until([&] { return scalar("select count(*) from " + table) >= k_messages; }, 120s))
        << scalar("select count(*) from " + table) << " processed";
    std::this_thread::sleep_for(500ms);
    for (pid_t& p : children) {
        if (p <= 0) continue;
        ::kill(p, SIGTERM);
        int status = 0;
        ASSERT_EQ(::waitpid(p, &status, 0), p);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "member exited with " << status;
        p = 0;
    }
    EXPECT_EQ(scalar("select count(*) from " + table), k_messages);
    EXPECT_EQ(scalar("select count(distinct msg_id) from " + table), k_messages);
    // k0's batch went to another member under a new id
    EXPECT_EQ(scalar("select count(*) from pgque.batch b join pgque.subscriber s on s.sub_id = b.batch_sub"
                     " join pgque.queue q on q.queue_id = s.sub_queue"
                     " where q.queue_name = $1 and b.batch_member = 'k0' and b.batch_state = 'r'",
                     {q}),
              1);
}
