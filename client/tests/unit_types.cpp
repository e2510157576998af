// Compile-time contracts of the public types, and behaviour that needs no
// server (option validation, connecting to nowhere).
#include <unistd.h>
#include <type_traits>

#include <gtest/gtest.h>

#include <pgque/pgque.hpp>

static_assert(!std::is_copy_constructible_v<pgque::connection>);
static_assert(std::is_nothrow_move_constructible_v<pgque::connection>);
static_assert(std::is_nothrow_move_assignable_v<pgque::connection>);
static_assert(!std::is_copy_constructible_v<pgque::client>);
static_assert(std::is_nothrow_move_constructible_v<pgque::client>);
static_assert(!std::is_copy_constructible_v<pgque::result>);
static_assert(std::is_nothrow_destructible_v<pgque::consumer>);
static_assert(std::is_nothrow_destructible_v<pgque::client>);
static_assert(!std::is_copy_constructible_v<pgque::transaction>);
static_assert(std::is_nothrow_destructible_v<pgque::transaction>);
static_assert(std::is_base_of_v<pgque::error, pgque::connection_error>);
static_assert(!std::is_base_of_v<pgque::sql_error, pgque::connection_error>);
static_assert(std::is_base_of_v<pgque::not_found, pgque::queue_not_found>);
// run-time failures are std::runtime_errors, through pgque::failure
static_assert(std::is_base_of_v<std::runtime_error, pgque::failure>);
static_assert(std::is_base_of_v<pgque::failure, pgque::connection_error>);
static_assert(std::is_base_of_v<pgque::failure, pgque::in_doubt_error>);
static_assert(std::is_base_of_v<pgque::failure, pgque::sql_error>);
// misuse is a std::logic_error, like libpqxx's usage_error, and not a failure
static_assert(std::is_base_of_v<std::logic_error, pgque::usage_error>);
static_assert(!std::is_base_of_v<std::runtime_error, pgque::usage_error>);
static_assert(!std::is_base_of_v<pgque::failure, pgque::usage_error>);
// pgque::error is the mixin of both branches, itself not a std::exception
static_assert(std::is_base_of_v<pgque::error, pgque::usage_error>);
static_assert(std::is_base_of_v<pgque::error, pgque::failure>);
static_assert(std::is_base_of_v<pgque::error, pgque::in_doubt_error>);
static_assert(std::is_base_of_v<pgque::error, pgque::permission_denied>);
static_assert(!std::is_base_of_v<std::exception, pgque::error>);
// an in-doubt commit must not be retried by code that retries connection errors
static_assert(!std::is_base_of_v<pgque::connection_error, pgque::in_doubt_error>);
static_assert(!std::is_base_of_v<pgque::sql_error, pgque::in_doubt_error>);
// class 22 is a server data exception, not C++'s std::invalid_argument
static_assert(std::is_base_of_v<pgque::sql_error, pgque::data_error>);
static_assert(!std::is_base_of_v<std::invalid_argument, pgque::data_error>);
static_assert(!std::is_base_of_v<std::logic_error, pgque::data_error>);

namespace {
// nowhere to connect to: a socket directory that does not exist
const std::string k_nowhere = "host=/nonexistent/pgque port=1 connect_timeout=2";
}  // namespace

TEST(Types, VersionMatchesHeader) {
    EXPECT_STREQ(pgque::client_version(), PGQUE_CLIENT_VERSION);
    EXPECT_NE(std::string(PGQUE_CLIENT_VERSION).find('.'), std::string::npos);
}

TEST(Types, ConnectFailureIsConnectionError) {
    EXPECT_THROW(pgque::client client(k_nowhere), pgque::connection_error);
}

TEST(Types, WrapNullIsUsageError) {
    EXPECT_THROW(pgque::client client(static_cast<PGconn*>(nullptr)), pgque::usage_error);
}

TEST(Types, RunResultToString) {
    EXPECT_STREQ(pgque::to_string(pgque::run_result::stopped), "stopped");
    EXPECT_STREQ(pgque::to_string(pgque::run_result::max_messages), "max_messages");
    EXPECT_STREQ(pgque::to_string(pgque::run_result::timed_out), "timed_out");
    EXPECT_STREQ(pgque::to_string(static_cast<pgque::run_result>(42)), "?");
}

TEST(Types, LogLevelToString) {
    EXPECT_STREQ(pgque::to_string(pgque::log_level::debug), "debug");
    EXPECT_STREQ(pgque::to_string(pgque::log_level::info), "info");
    EXPECT_STREQ(pgque::to_string(pgque::log_level::warning), "warning");
    EXPECT_STREQ(pgque::to_string(pgque::log_level::error), "error");
}

TEST(Types, ConsumerStatsStartAtZero) {
    pgque::consumer c(k_nowhere, "q", "c");
    auto s = c.stats();
    EXPECT_EQ(s.handled, 0u);
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.unknown, 0u);
    EXPECT_EQ(s.dead_lettered, 0u);
    EXPECT_EQ(s.batches, 0u);
    EXPECT_EQ(s.reconnects, 0u);
    EXPECT_EQ(c.queue_name(), "q");
    EXPECT_EQ(c.consumer_name(), "c");
}

TEST(Types, MessagePayloadOrEmpty) {
    pgque::message m;
    EXPECT_EQ(m.payload_or_empty(), "");
    m.payload = "x";
    EXPECT_EQ(m.payload_or_empty(), "x");
}

TEST(ConsumerOptions, Defaults) {
    pgque::consumer_options o;
    EXPECT_EQ(o.batch_size, 100);
    EXPECT_EQ(o.poll_interval, std::chrono::seconds(30));
    EXPECT_FALSE(o.retry_after.has_value());  // the queue's retry policy
    EXPECT_EQ(o.unknown_types, pgque::unknown_type_policy::nack);
    EXPECT_FALSE(o.transactional);
    EXPECT_TRUE(o.subscribe);
    EXPECT_EQ(o.max_messages, 0u);
    EXPECT_FALSE(o.cooperative.has_value());
}

TEST(ConsumerOptions, InvalidOptionsAreRejectedBeforeConnecting) {
    auto rejects = [](pgque::consumer_options o) {
        pgque::consumer c(k_nowhere, "q", "c", std::move(o));
        EXPECT_THROW(static_cast<void>(c.run()), pgque::usage_error);
    };
    pgque::consumer_options o;
    o.batch_size = 0;
    rejects(o);
    o = {};
    o.poll_interval = std::chrono::milliseconds(0);
    rejects(o);
    o = {};
    o.retry_after = std::chrono::milliseconds(-1);
    rejects(o);
    o = {};
    o.reconnect_min_delay = std::chrono::seconds(5);
    o.reconnect_max_delay = std::chrono::seconds(1);
    rejects(o);
    o = {};
    o.cooperative = pgque::cooperative_options{"worker.1", {}, {}};  // "." is reserved
    rejects(o);
    o = {};
    o.cooperative = pgque::cooperative_options{"worker1", std::chrono::milliseconds(-1), {}};
    rejects(o);
}

TEST(ConsumerOptions, CooperativeMemberNameDefaultsToHostAndPid) {
    pgque::consumer_options o;
    o.cooperative = pgque::cooperative_options{};
    pgque::consumer c(k_nowhere, "q", "c", o);
    EXPECT_NE(c.subconsumer_name().find("-" + std::to_string(::getpid())), std::string::npos)
        << c.subconsumer_name();
    pgque::consumer plain(k_nowhere, "q", "c");
    EXPECT_EQ(plain.subconsumer_name(), "");
}

TEST(ConsumerOptions, FirstConnectFailureThrows) {
    pgque::consumer c(k_nowhere, "q", "c");
    EXPECT_THROW(static_cast<void>(c.run()), pgque::connection_error);
    EXPECT_EQ(c.backend_pid(), 0);
}

TEST(ConsumerOptions, StopBeforeRunReturnsAtOnceAndIsConsumed) {
    pgque::consumer c(k_nowhere, "q", "c");
    c.stop();
    EXPECT_TRUE(c.stop_requested());
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(c.run(), pgque::run_result::stopped);  // never connects
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    EXPECT_FALSE(c.stop_requested());
    // the request was consumed: the next run really tries to connect
    EXPECT_THROW(static_cast<void>(c.run()), pgque::connection_error);
}

TEST(ConsumerOptions, EmptyHandlerIsRejected) {
    pgque::consumer c(k_nowhere, "q", "c");
    EXPECT_THROW(c.on("x", pgque::handler{}), pgque::usage_error);
    // accepted handlers return the consumer, for chaining
    EXPECT_EQ(&c.on("x", [](const pgque::message&) {}), &c);
    EXPECT_EQ(&c.on("*", [](const pgque::message&, pgque::message_context&) {}), &c);
}
