// pgque::consumer against a live server (PGQUE_TEST_DSN). Each test ticks on its
// own (a ticker_thread or explicit ticks), so a background worker is not
// needed, and does not disturb them either.
#include <future>
#include <mutex>
#include <set>

#include "support.hpp"

using namespace std::chrono_literals;
using pgque::test::ticker_thread;
using pgque::test::wait_until;

namespace {

class ConsumerTest : public pgque::test::db_test {};
// In a database of its own with the worker stopped: retries stay in
// pgque.retry_queue until the test moves them.
class PrivateDbConsumerTest : public pgque::test::private_db_test {};

// Runs a consumer on a thread; stops and joins it on destruction.
class running_consumer {
public:
    explicit running_consumer(pgque::consumer& c) : m_consumer(c) {
        m_future = std::async(std::launch::async, [&c] { return c.run(); });
    }
    running_consumer(const running_consumer&) = delete;
    running_consumer& operator=(const running_consumer&) = delete;
    ~running_consumer() {
        if (m_future.valid()) {
            m_consumer.stop();
            m_future.wait();
        }
    }
    // run()'s result (rethrows its exception), waiting at most timeout
    std::optional<pgque::run_result> result(std::chrono::milliseconds timeout = 30s) {
        if (m_future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
        return m_future.get();
    }
    std::optional<pgque::run_result> stop_and_wait() {
        m_consumer.stop();
        return result();
    }

private:
    pgque::consumer& m_consumer;
    std::future<pgque::run_result> m_future;
};

// Thread-safe record of what handlers saw.
struct seen_messages {
    std::mutex mutex;
    std::vector<pgque::message> messages;
    void add(const pgque::message& m) {
        std::lock_guard<std::mutex> lock(mutex);
        messages.push_back(m);
    }
    std::size_t size() {
        std::lock_guard<std::mutex> lock(mutex);
        return messages.size();
    }
    std::vector<pgque::message> copy() {
        std::lock_guard<std::mutex> lock(mutex);
        return messages;
    }
    std::size_t count_id(std::int64_t id) {
        std::lock_guard<std::mutex> lock(mutex);
        return static_cast<std::size_t>(
            std::count_if(messages.begin(), messages.end(), [id](const auto& m) { return m.msg_id == id; }));
    }
};

// Thread-safe record of what a consumer logged.
struct log_lines {
    std::mutex mutex;
    std::vector<std::pair<pgque::log_level, std::string>> lines;
    pgque::log_function function() {
        return [this](pgque::log_level level, const std::string& text) {
            std::lock_guard<std::mutex> lock(mutex);
            lines.emplace_back(level, text);
        };
    }
    // the lines containing `part`
    std::vector<std::pair<pgque::log_level, std::string>> with(const std::string& part) {
        std::lock_guard<std::mutex> lock(mutex);
        std::vector<std::pair<pgque::log_level, std::string>> out;
        for (const auto& l : lines) {
            if (l.second.find(part) != std::string::npos) out.push_back(l);
        }
        return out;
    }
};

pgque::consumer_options fast_options() {
    pgque::consumer_options o;
    o.retry_after = 0ms;
    o.reconnect_min_delay = 20ms;
    o.reconnect_max_delay = 200ms;
    return o;
}

}  // namespace

TEST_F(ConsumerTest, RoundTripDispatchesByType) {
    auto q = make_queue("c_rt");
    ASSERT_TRUE(admin().subscribe(q, "worker"));
    ticker_thread ticker(dsn(), {q});
    seen_messages created, other;
    auto opts = fast_options();
    opts.max_messages = 5;
    pgque::consumer consumer(dsn(), q, "worker", opts);
    consumer.on("order.created", [&](const pgque::message& m) { created.add(m); });
    consumer.on("*", [&](const pgque::message& m) { other.add(m); });

    auto a = admin().send_batch(q, "order.created", {"o1", "o2", "o3"});
    auto b = admin().send(q, "order.shipped", "s1");
    auto c = admin().send(q, "x");
    auto result = consumer.run_for(30s);
    EXPECT_EQ(result, pgque::run_result::max_messages);

    auto got = created.copy();
    ASSERT_EQ(got.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got[i].msg_id, a[i]);
    EXPECT_EQ(got[1].payload, "o2");
    auto rest = other.copy();
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[0].msg_id, b);
    EXPECT_EQ(rest[1].msg_id, c);
    EXPECT_EQ(rest[1].type, "default");
    auto s = consumer.stats();
    EXPECT_EQ(s.handled, 5u);
    EXPECT_EQ(s.failed, 0u);
    // how the five were split into batches depends on the ticker's timing;
    // every batch they came in was acked, and counted once
    std::set<std::int64_t> batch_ids;
    for (const auto& m : got) batch_ids.insert(m.batch_id);
    for (const auto& m : rest) batch_ids.insert(m.batch_id);
    EXPECT_EQ(s.batches, batch_ids.size());
    EXPECT_EQ(consumer.backend_pid(), 0);  // disconnected after run()
    // everything acked
    EXPECT_EQ(admin().consumer_info(q, "worker").pending_events, 0);
}

TEST_F(ConsumerTest, FanOutToTwoConsumers) {
    auto q = make_queue("c_fan");
    ASSERT_TRUE(admin().subscribe(q, "left"));
    ASSERT_TRUE(admin().subscribe(q, "right"));
    ticker_thread ticker(dsn(), {q});
    seen_messages left, right;
    pgque::consumer cl(dsn(), q, "left", fast_options());
    pgque::consumer cr(dsn(), q, "right", fast_options());
    cl.on("*", [&](const pgque::message& m) { left.add(m); });
    cr.on("*", [&](const pgque::message& m) { right.add(m); });
    running_consumer rl(cl), rr(cr);

    std::vector<std::string> payloads;
    for (int i = 0; i < 20; ++i) payloads.push_back("m" + std::to_string(i));
    auto ids = admin().send_batch(q, "t", payloads);
    ASSERT_TRUE(wait_until([&] { return left.size() >= 20 && right.size() >= 20; }));
    EXPECT_EQ(rl.stop_and_wait(), pgque::run_result::stopped);
    EXPECT_EQ(rr.stop_and_wait(), pgque::run_result::stopped);
    for (auto id : ids) {
        EXPECT_EQ(left.count_id(id), 1u) << id;
        EXPECT_EQ(right.count_id(id), 1u) << id;
    }
}

TEST_F(ConsumerTest, ThrowingHandlerNacksOnlyThatMessage) {
    auto q = make_queue("c_throw");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    ticker_thread ticker(dsn(), {q}, /*move_retries=*/true);
    seen_messages attempts;
    log_lines log;
    auto opts = fast_options();
    opts.logger = log.function();
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [&](const pgque::message& m) {
        attempts.add(m);
        // fails on the first delivery only
        if (m.payload == "bad" && !m.retry_count) throw std::runtime_error("bad payload");
    });
    running_consumer run(consumer);
    auto ids = admin().send_batch(q, "t", {"good1", "bad", "good2"});
    ASSERT_TRUE(wait_until([&] { return attempts.count_id(ids[1]) >= 2; }));
    ASSERT_TRUE(wait_until([&] { return consumer.stats().handled >= 3; }));
    EXPECT_EQ(run.stop_and_wait(), pgque::run_result::stopped);

    // the good ones once (their batch was acked), the bad one twice
    EXPECT_EQ(attempts.count_id(ids[0]), 1u);
    EXPECT_EQ(attempts.count_id(ids[2]), 1u);
    EXPECT_EQ(attempts.count_id(ids[1]), 2u);
    auto all = attempts.copy();
    auto retry = std::find_if(all.begin(), all.end(), [&](const auto& m) { return m.msg_id == ids[1] && m.retry_count; });
    ASSERT_NE(retry, all.end());
    EXPECT_EQ(retry->retry_count, 1);
    EXPECT_EQ(consumer.stats().failed, 1u);
    EXPECT_EQ(consumer.stats().handled, 3u);
    EXPECT_TRUE(admin().dlq_inspect(q).empty());
    // retried (max_retries is 5), not dead-lettered: nothing may say so
    EXPECT_EQ(consumer.stats().dead_lettered, 0u);
    EXPECT_TRUE(log.with("dead-lettered").empty());
    EXPECT_EQ(log.with("failed: bad payload; nacking it").size(), 1u);
}

TEST_F(ConsumerTest, RetriesEndInTheDeadLetterTableWithTheReason) {
    auto q = make_queue("c_dead");
    admin().set_queue_config(q, "max_retries", "2");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    ticker_thread ticker(dsn(), {q}, /*move_retries=*/true);
    seen_messages attempts;
    log_lines log;
    auto opts = fast_options();
    opts.logger = log.function();
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("job", [&](const pgque::message& m) {
        attempts.add(m);
        throw std::runtime_error("boom " + m.payload_or_empty());
    });
    running_consumer run(consumer);
    auto id = admin().send(q, "job", "p1");
    ASSERT_TRUE(wait_until([&] { return !admin().dlq_inspect(q).empty(); }));
    EXPECT_EQ(run.stop_and_wait(), pgque::run_result::stopped);

    auto dead = admin().dlq_inspect(q);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].ev_id, id);
    EXPECT_EQ(dead[0].reason, "boom p1");
    EXPECT_EQ(dead[0].ev_retry, 2);
    EXPECT_EQ(dead[0].consumer_name, "w");
    // first delivery + 2 retries, with increasing retry counts
    auto all = attempts.copy();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_FALSE(all[0].retry_count.has_value());
    EXPECT_EQ(all[1].retry_count, 1);
    EXPECT_EQ(all[2].retry_count, 2);
    // three nacks, the last one dead-lettered: one line says so, at warning
    EXPECT_EQ(log.with("failed: boom p1; nacking it").size(), 3u);
    auto dead_lines = log.with("dead-lettered");
    ASSERT_EQ(dead_lines.size(), 1u);
    EXPECT_EQ(dead_lines[0].first, pgque::log_level::warning);
    EXPECT_NE(dead_lines[0].second.find("message " + std::to_string(id)), std::string::npos) << dead_lines[0].second;
    EXPECT_NE(dead_lines[0].second.find("after 2 retries (max_retries 2)"), std::string::npos) << dead_lines[0].second;
    EXPECT_NE(dead_lines[0].second.find("boom p1"), std::string::npos) << dead_lines[0].second;
    EXPECT_EQ(consumer.stats().dead_lettered, 1u);
    EXPECT_EQ(consumer.stats().failed, 3u);
}

TEST_F(ConsumerTest, UnknownTypesAreNackedByDefault) {
    auto q = make_queue("c_unk");
    admin().set_queue_config(q, "max_retries", "0");  // the first nack dead-letters
    ASSERT_TRUE(admin().subscribe(q, "w"));
    ticker_thread ticker(dsn(), {q}, true);
    seen_messages known;
    log_lines log;
    auto opts = fast_options();
    opts.logger = log.function();
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("known", [&](const pgque::message& m) { known.add(m); });
    running_consumer run(consumer);
    auto mystery = admin().send(q, "mystery", "?");
    auto k = admin().send(q, "known", "!");
    ASSERT_TRUE(wait_until([&] { return known.size() == 1 && !admin().dlq_inspect(q).empty(); }));
    EXPECT_EQ(run.stop_and_wait(), pgque::run_result::stopped);
    EXPECT_EQ(known.count_id(k), 1u);
    auto dead = admin().dlq_inspect(q);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].ev_id, mystery);
    EXPECT_EQ(dead[0].reason, "no handler for message type \"mystery\"");
    EXPECT_EQ(consumer.stats().unknown, 1u);
    EXPECT_EQ(consumer.stats().dead_lettered, 1u);
    auto dead_lines = log.with("dead-lettered");
    ASSERT_EQ(dead_lines.size(), 1u);
    EXPECT_NE(dead_lines[0].second.find("message " + std::to_string(mystery)), std::string::npos)
        << dead_lines[0].second;
}

TEST_F(ConsumerTest, UnknownTypesCanBeSkipped) {
    auto q = make_queue("c_skip");
    admin().set_queue_config(q, "max_retries", "0");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    ticker_thread ticker(dsn(), {q}, true);
    seen_messages known;
    auto opts = fast_options();
    opts.unknown_types = pgque::unknown_type_policy::ack;
    opts.max_messages = 3;
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("known", [&](const pgque::message& m) { known.add(m); });
    static_cast<void>(admin().send(q, "mystery", "?"));
    static_cast<void>(admin().send(q, "known", "1"));
    static_cast<void>(admin().send(q, "other", "?"));
    EXPECT_EQ(consumer.run_for(30s), pgque::run_result::max_messages);
    EXPECT_EQ(known.size(), 1u);
    EXPECT_EQ(consumer.stats().unknown, 2u);
    EXPECT_EQ(consumer.stats().failed, 0u);
    // skipped = acked: no retry, no dead letter, nothing pending
    EXPECT_TRUE(admin().dlq_inspect(q).empty());
    auto retries = admin().connection().exec(
        "select count(*) from pgque.retry_queue r join pgque.queue q on q.queue_id = r.ev_queue"
        " where q.queue_name = $1", {q});
    EXPECT_EQ(retries.get_int64(0, 0), 0);
    EXPECT_EQ(admin().consumer_info(q, "w").pending_events, 0);
}

TEST_F(ConsumerTest, ListenWakesTheConsumerLongBeforeThePollInterval) {
    // quotes and spaces: the LISTEN channel must be quoted correctly
    auto q = make_queue("it \"quoted\" 'q'");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    std::promise<std::chrono::steady_clock::time_point> handled;
    auto opts = fast_options();
    opts.poll_interval = 30s;
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [&](const pgque::message&) { handled.set_value(std::chrono::steady_clock::now()); });
    running_consumer run(consumer);
    // let it connect, receive nothing, and go to sleep on the socket
    ASSERT_TRUE(wait_until([&] { return consumer.backend_pid() != 0; }));
    std::this_thread::sleep_for(300ms);

    static_cast<void>(admin().send(q, "wake up"));
    auto sent = std::chrono::steady_clock::now();
    tick(q);  // commits a tick: NOTIFY "pgque_<queue>"
    auto f = handled.get_future();
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "not woken within 10 s";
    auto latency = f.get() - sent;
    EXPECT_LT(latency, 2s) << "latency " << std::chrono::duration_cast<std::chrono::milliseconds>(latency).count()
                           << " ms with a 30 s poll interval";
}

TEST_F(ConsumerTest, DrainsABacklogWithoutWaiting) {
    auto q = make_queue("c_backlog");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    std::vector<std::string> payloads(250, "x");
    static_cast<void>(admin().send_batch(q, "t", payloads));
    tick(q);  // one tick, then silence: no NOTIFY will come
    auto opts = fast_options();
    opts.poll_interval = 30s;
    opts.batch_size = 100;
    opts.max_messages = 250;
    pgque::consumer consumer(dsn(), q, "w", opts);
    std::atomic<int> n{0};
    consumer.on("*", [&](const pgque::message&) { ++n; });
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(consumer.run_for(60s), pgque::run_result::max_messages);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_EQ(n.load(), 250);
    EXPECT_EQ(consumer.stats().batches, 3u);  // one tick, 100 per receive: 100, 100, 50
}

TEST_F(ConsumerTest, StopInTheMiddleOfABatchLosesNothing) {
    auto q = make_queue("c_stop");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    auto ids = admin().send_batch(q, "t", {"1", "2", "3"});
    tick(q);

    seen_messages first_run;
    std::promise<void> in_second;
    std::promise<void> release;
    auto release_future = release.get_future().share();
    pgque::consumer consumer(dsn(), q, "w", fast_options());
    consumer.on("*", [&](const pgque::message& m) {
        first_run.add(m);
        if (m.payload == "2") {
            in_second.set_value();
            release_future.wait();
        }
    });
    running_consumer run(consumer);
    ASSERT_EQ(in_second.get_future().wait_for(20s), std::future_status::ready);
    consumer.stop();  // while message 2 is being handled
    release.set_value();
    EXPECT_EQ(run.result(), pgque::run_result::stopped);
    ASSERT_EQ(first_run.size(), 2u);  // 3 was never handed to a handler
    EXPECT_EQ(consumer.stats().batches, 0u);

    // the batch was not acked: a new run gets all three again
    seen_messages second_run;
    auto opts = fast_options();
    opts.max_messages = 3;
    pgque::consumer again(dsn(), q, "w", opts);
    again.on("*", [&](const pgque::message& m) { second_run.add(m); });
    EXPECT_EQ(again.run_for(20s), pgque::run_result::max_messages);
    auto got = second_run.copy();
    ASSERT_EQ(got.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got[i].msg_id, ids[i]);
    EXPECT_EQ(admin().consumer_info(q, "w").pending_events, 0);
}

TEST_F(ConsumerTest, ReconnectsAfterTheServerKillsTheConnection) {
    auto q = make_queue("c_reconnect");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    ticker_thread ticker(dsn(), {q});
    seen_messages seen;
    std::mutex log_mutex;
    std::vector<std::string> warnings;
    auto opts = fast_options();
    opts.logger = [&](pgque::log_level level, const std::string& msg) {
        std::lock_guard<std::mutex> lock(log_mutex);
        if (level == pgque::log_level::warning) warnings.push_back(msg);
    };
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [&](const pgque::message& m) { seen.add(m); });
    running_consumer run(consumer);

    auto first = admin().send(q, "before");
    ASSERT_TRUE(wait_until([&] { return seen.count_id(first) == 1; }));
    int old_pid = consumer.backend_pid();
    ASSERT_NE(old_pid, 0);
    auto killed = admin().connection().exec("select pg_terminate_backend($1::int4)", {std::to_string(old_pid)});
    ASSERT_EQ(killed.get(0, 0), "t");

    auto second = admin().send(q, "after");
    bool ok = wait_until([&] { return seen.count_id(second) >= 1; }, 30s);
    if (!ok) {
        auto ci = admin().consumer_info(q, "w");
        ADD_FAILURE() << "not handled after the kill: pending_events " << ci.pending_events.value_or(-1)
                      << ", ev_new " << admin().queue_info(q).ev_new;
        return;
    }
    EXPECT_EQ(consumer.stats().reconnects, 1u);  // one connection was killed
    EXPECT_NE(consumer.backend_pid(), old_pid);
    EXPECT_EQ(run.stop_and_wait(), pgque::run_result::stopped);
    std::lock_guard<std::mutex> lock(log_mutex);
    EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(),
                            [](const std::string& w) { return w.find("connection lost") != std::string::npos; }));
}

TEST_F(ConsumerTest, TransactionalModeCommitsWritesWithTheAck) {
    auto q = make_queue("c_tx");
    admin().set_queue_config(q, "max_retries", "0");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    const std::string table = pgque::test::unique_name("pgque_it_processed");
    const std::string qt = admin().connection().quote_identifier(table);
    static_cast<void>(admin().connection().exec("create table " + qt + " (msg_id int8 primary key, payload text)"));
    struct drop_table {
        pgque::client& c;
        std::string t;
        ~drop_table() {
            try {
                static_cast<void>(c.connection().exec("drop table if exists " + t));
            } catch (...) {
            }
        }
    } cleanup{admin(), qt};

    auto ids = admin().send_batch(q, "t", {"a", "fail", "c"});
    tick(q);
    log_lines log;
    auto opts = fast_options();
    opts.transactional = true;
    opts.max_messages = 3;
    opts.logger = log.function();
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [&](const pgque::message& m, pgque::message_context& ctx) {
        EXPECT_TRUE(ctx.transactional());
        EXPECT_TRUE(ctx.connection().in_transaction());
        static_cast<void>(ctx.connection().exec("insert into " + qt + " values ($1::int8, $2)",
                                                {std::to_string(m.msg_id), m.payload}));
        if (m.payload == "fail") throw std::runtime_error("after writing");
    });
    EXPECT_EQ(consumer.run_for(30s), pgque::run_result::max_messages);

    // the failing handler's row was rolled back with its savepoint; the rest committed
    auto rows = admin().connection().exec("select msg_id from " + qt + " order by msg_id");
    ASSERT_EQ(rows.rows(), 2);
    EXPECT_EQ(rows.get_int64(0, 0), ids[0]);
    EXPECT_EQ(rows.get_int64(1, 0), ids[2]);
    auto dead = admin().dlq_inspect(q);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].ev_id, ids[1]);
    EXPECT_EQ(dead[0].reason, "after writing");
    EXPECT_EQ(admin().consumer_info(q, "w").pending_events, 0);
    EXPECT_EQ(consumer.stats().dead_lettered, 1u);
    EXPECT_EQ(log.with("dead-lettered").size(), 1u);
}

TEST_F(ConsumerTest, TransactionalStopRollsBackTheWholeBatch) {
    auto q = make_queue("c_txstop");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    const std::string qt = admin().connection().quote_identifier(pgque::test::unique_name("pgque_it_txstop"));
    static_cast<void>(admin().connection().exec("create table " + qt + " (msg_id int8 primary key)"));
    struct drop_table {
        pgque::client& c;
        std::string t;
        ~drop_table() {
            try {
                static_cast<void>(c.connection().exec("drop table if exists " + t));
            } catch (...) {
            }
        }
    } cleanup{admin(), qt};
    auto ids = admin().send_batch(q, "t", {"1", "2", "3"});
    tick(q);

    auto writer = [&](const pgque::message& m, pgque::message_context& ctx) {
        static_cast<void>(ctx.connection().exec("insert into " + qt + " values ($1::int8)", {std::to_string(m.msg_id)}));
    };
    auto opts = fast_options();
    opts.transactional = true;
    pgque::consumer stopping(dsn(), q, "w", opts);
    stopping.on("*", [&](const pgque::message& m, pgque::message_context& ctx) {
        writer(m, ctx);
        if (m.payload == "2") stopping.stop();
    });
    EXPECT_EQ(stopping.run_for(20s), pgque::run_result::stopped);
    EXPECT_EQ(admin().connection().exec("select count(*) from " + qt).get_int64(0, 0), 0);

    opts.max_messages = 3;
    pgque::consumer again(dsn(), q, "w", opts);
    again.on("*", writer);
    EXPECT_EQ(again.run_for(20s), pgque::run_result::max_messages);
    auto rows = admin().connection().exec("select msg_id from " + qt + " order by msg_id");
    ASSERT_EQ(rows.rows(), 3);  // exactly once each
    for (int i = 0; i < 3; ++i) EXPECT_EQ(rows.get_int64(i, 0), ids[static_cast<std::size_t>(i)]);
}

TEST_F(ConsumerTest, RunForTimesOutOnAnIdleQueue) {
    auto q = make_queue("c_idle");
    pgque::consumer consumer(dsn(), q, "w", fast_options());
    consumer.on("*", [](const pgque::message&) {});
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(consumer.run_for(300ms), pgque::run_result::timed_out);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 5s);
    // subscribe=true subscribed it
    EXPECT_EQ(admin().consumer_info(q, "w").consumer_name, "w");
}

TEST_F(ConsumerTest, StopFromAnotherThreadWakesTheWait) {
    auto q = make_queue("c_wake");
    auto opts = fast_options();
    opts.poll_interval = 60s;
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [](const pgque::message&) {});
    running_consumer run(consumer);
    ASSERT_TRUE(wait_until([&] { return consumer.backend_pid() != 0; }));
    std::this_thread::sleep_for(100ms);
    auto start = std::chrono::steady_clock::now();
    consumer.stop();
    EXPECT_EQ(run.result(5s), pgque::run_result::stopped);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(ConsumerTest, MissingQueueEndsRunWithQueueNotFound) {
    pgque::consumer consumer(dsn(), pgque::test::unique_name("no_such_queue"), "w", fast_options());
    consumer.on("*", [](const pgque::message&) {});
    EXPECT_THROW(static_cast<void>(consumer.run_for(5s)), pgque::queue_not_found);
}

TEST_F(ConsumerTest, HandlerLeavingATransactionOpenIsAFailure) {
    auto q = make_queue("c_open_tx");
    admin().set_queue_config(q, "max_retries", "0");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    auto ids = admin().send_batch(q, "t", {"leaves begin", "fine"});
    tick(q);
    auto opts = fast_options();
    opts.max_messages = 2;
    pgque::consumer consumer(dsn(), q, "w", opts);
    seen_messages fine;
    consumer.on("*", [&](const pgque::message& m, pgque::message_context& ctx) {
        if (m.payload == "leaves begin") static_cast<void>(ctx.connection().exec("begin"));
        else fine.add(m);
    });
    EXPECT_EQ(consumer.run_for(20s), pgque::run_result::max_messages);
    EXPECT_EQ(fine.count_id(ids[1]), 1u);
    auto dead = admin().dlq_inspect(q);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].ev_id, ids[0]);
    EXPECT_EQ(dead[0].reason, "handler left a transaction open on the consumer's connection");
    // the nack and the ack were committed, not swallowed by the open transaction
    EXPECT_EQ(admin().consumer_info(q, "w").pending_events, 0);
}

namespace {

// The one retry_queue row of queue q: ev_retry_after - now(), in seconds.
double retry_due_in_seconds(pgque::client& admin, const std::string& q) {
    auto r = admin.connection().exec(
        "select extract(epoch from r.ev_retry_after - now())::float8 from pgque.retry_queue r"
        " join pgque.queue q on q.queue_id = r.ev_queue where q.queue_name = $1",
        {q});
    EXPECT_EQ(r.rows(), 1);
    return r.rows() == 1 ? std::stod(std::string(r.get(0, 0))) : -1;
}

}  // namespace

TEST_F(PrivateDbConsumerTest, FailedMessagesFollowTheQueuesRetryPolicyUnlessOptionsSayOtherwise) {
    for (const std::optional<std::chrono::milliseconds> retry_after :
         {std::optional<std::chrono::milliseconds>{}, std::optional<std::chrono::milliseconds>{10s}}) {
        auto q = make_queue("c_policy");
        admin().set_queue_config(q, "retry_delay", "2 seconds");
        ASSERT_TRUE(admin().subscribe(q, "w"));
        std::int64_t id = admin().send(q, "t", "fails");
        tick(q);
        pgque::consumer_options opts;  // no retry_after of its own, unless given here
        opts.retry_after = retry_after;
        opts.max_messages = 1;
        log_lines log;
        opts.logger = log.function();
        pgque::consumer consumer(dsn(), q, "w", opts);
        consumer.on("*", [](const pgque::message&) { throw std::runtime_error("not now"); });
        auto start = std::chrono::steady_clock::now();
        ASSERT_EQ(consumer.run_for(30s), pgque::run_result::max_messages);
        double due_in = retry_due_in_seconds(admin(), q);
        // the nack ran between start and now: the retry is due its delay
        // after the nack, so at most that much from now, and at least that
        // much minus the time since start
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double delay = retry_after ? 10.0 : 2.0;  // not the 60 s of the default policy
        EXPECT_LE(due_in, delay) << (retry_after ? "retry_after 10s" : "queue policy");
        EXPECT_GT(due_in, delay - elapsed - 0.01) << (retry_after ? "retry_after 10s" : "queue policy");
        EXPECT_EQ(consumer.stats().failed, 1u);
        EXPECT_EQ(admin().delayed_info(q).retries, 1);
        auto nacked = log.with("message " + std::to_string(id) + " nacked, retry 1 due ");
        ASSERT_EQ(nacked.size(), 1u);
        EXPECT_NE(nacked[0].second.find(retry_after ? "due in 10000 ms" : "as the queue's retry policy says"),
                  std::string::npos)
            << nacked[0].second;
    }
}

TEST_F(PrivateDbConsumerTest, RetryComesBackUnderItsIdOnceMoved) {
    auto q = make_queue("c_policy_back");
    admin().set_queue_config(q, "retry_delay", "0");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    std::int64_t id = admin().send(q, "t", "once");
    tick(q);
    seen_messages attempts;
    pgque::consumer_options opts;
    opts.max_messages = 1;
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [&](const pgque::message& m) {
        attempts.add(m);
        if (!m.retry_count) throw std::runtime_error("first time fails");
    });
    ASSERT_EQ(consumer.run_for(30s), pgque::run_result::max_messages);
    // retry_delay 0: due at once; nothing moves it but this test
    EXPECT_EQ(admin().maint_retry_events(), 1);
    tick(q);
    ASSERT_EQ(consumer.run_for(30s), pgque::run_result::max_messages);
    auto all = attempts.copy();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].msg_id, id);
    EXPECT_EQ(all[1].retry_count, 1);
    EXPECT_EQ(consumer.stats().handled, 1u);
}

// A server that no longer takes writes -- an old primary fenced with
// default_transaction_read_only during a switchover, or a standby reached
// without target_session_attrs=read-write -- fails the consumer's calls
// with 25006. The consumer treats that as it treats a lost connection: it
// says so, connects again with backoff (libpq may pick another host), and
// goes on once a connection takes writes.
TEST_F(PrivateDbConsumerTest, ReconnectsWhileTheServerIsReadOnly) {
    auto q = make_queue("c_read_only");
    ASSERT_TRUE(admin().subscribe(q, "w"));
    ticker_thread ticker(dsn(), {q});  // connected before the database turns read-only
    seen_messages seen;
    log_lines log;
    auto opts = fast_options();
    opts.logger = log.function();
    pgque::consumer consumer(dsn(), q, "w", opts);
    consumer.on("*", [&](const pgque::message& m) { seen.add(m); });
    running_consumer run(consumer);

    auto first = admin().send(q, "before");
    ASSERT_TRUE(wait_until([&] { return seen.count_id(first) == 1; }));
    const std::string db = admin().connection().quote_identifier(m_database->name());
    static_cast<void>(admin().connection().exec("alter database " + db + " set default_transaction_read_only = on"));
    // new sessions of the database are read-only; the consumer's next one is
    static_cast<void>(admin().connection().exec("select pg_terminate_backend($1::int4)",
                                                {std::to_string(consumer.backend_pid())}));
    ASSERT_TRUE(wait_until([&] { return log.with("read-only").size() >= 2; }, 30s))
        << "the consumer did not say twice that the server is read-only";
    EXPECT_FALSE(run.result(0ms).has_value()) << "run() ended on 25006";  // rethrows what it threw

    static_cast<void>(admin().connection().exec("alter database " + db + " reset default_transaction_read_only"));
    auto second = admin().send(q, "after");
    ASSERT_TRUE(wait_until([&] { return seen.count_id(second) == 1; }, 30s));
    EXPECT_GE(consumer.stats().reconnects, 1u);
    auto said = log.with("read-only");
    EXPECT_EQ(said[0].first, pgque::log_level::warning);
    EXPECT_NE(said[0].second.find("target_session_attrs=read-write"), std::string::npos) << said[0].second;
    EXPECT_EQ(run.stop_and_wait(), pgque::run_result::stopped);
}
