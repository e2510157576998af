// Compile-time contracts of the public types, and behaviour that needs no
// server (option validation, connecting to nowhere).
#include <type_traits>

#include <gtest/gtest.h>

#include <pgque/pgque.hpp>

static_assert(!std::is_copy_constructible_v<pgque::Connection>);
static_assert(std::is_nothrow_move_constructible_v<pgque::Connection>);
static_assert(std::is_nothrow_move_assignable_v<pgque::Connection>);
static_assert(!std::is_copy_constructible_v<pgque::Client>);
static_assert(std::is_nothrow_move_constructible_v<pgque::Client>);
static_assert(!std::is_copy_constructible_v<pgque::Result>);
static_assert(std::is_nothrow_destructible_v<pgque::Consumer>);
static_assert(std::is_nothrow_destructible_v<pgque::Client>);
static_assert(std::is_base_of_v<pgque::error, pgque::connection_error>);
static_assert(!std::is_base_of_v<pgque::sql_error, pgque::connection_error>);
static_assert(std::is_base_of_v<pgque::not_found, pgque::queue_not_found>);
static_assert(std::is_base_of_v<std::runtime_error, pgque::error>);

namespace {
// nowhere to connect to: a socket directory that does not exist
const std::string k_nowhere = "host=/nonexistent/pgque port=1 connect_timeout=2";
}  // namespace

TEST(Types, VersionMatchesHeader) {
    EXPECT_STREQ(pgque::client_version(), PGQUE_CLIENT_VERSION);
    EXPECT_NE(std::string(PGQUE_CLIENT_VERSION).find('.'), std::string::npos);
}

TEST(Types, ConnectFailureIsConnectionError) {
    EXPECT_THROW(pgque::Client client(k_nowhere), pgque::connection_error);
}

TEST(Types, WrapNullIsUsageError) {
    EXPECT_THROW(pgque::Client client(static_cast<PGconn*>(nullptr)), pgque::usage_error);
}

TEST(Types, MessagePayloadOrEmpty) {
    pgque::Message m;
    EXPECT_EQ(m.payload_or_empty(), "");
    m.payload = "x";
    EXPECT_EQ(m.payload_or_empty(), "x");
}

TEST(ConsumerOptions, Defaults) {
    pgque::ConsumerOptions o;
    EXPECT_EQ(o.batch_size, 100);
    EXPECT_EQ(o.poll_interval, std::chrono::seconds(30));
    EXPECT_EQ(o.retry_after, std::chrono::seconds(60));
    EXPECT_EQ(o.unknown_types, pgque::unknown_type_policy::nack);
    EXPECT_FALSE(o.transactional);
    EXPECT_TRUE(o.subscribe);
    EXPECT_EQ(o.max_messages, 0u);
    EXPECT_FALSE(o.cooperative.has_value());
}

TEST(ConsumerOptions, InvalidOptionsAreRejectedBeforeConnecting) {
    auto rejects = [](pgque::ConsumerOptions o) {
        pgque::Consumer c(k_nowhere, "q", "c", std::move(o));
        EXPECT_THROW(static_cast<void>(c.run()), pgque::usage_error);
    };
    pgque::ConsumerOptions o;
    o.batch_size = 0;
    rejects(o);
    o = {};
    o.poll_interval = std::chrono::milliseconds(0);
    rejects(o);
    o = {};
    o.reconnect_min_delay = std::chrono::seconds(5);
    o.reconnect_max_delay = std::chrono::seconds(1);
    rejects(o);
    o = {};
    o.cooperative = pgque::CooperativeOptions{"worker1", {}, {}};
    rejects(o);
}

TEST(ConsumerOptions, FirstConnectFailureThrows) {
    pgque::Consumer c(k_nowhere, "q", "c");
    EXPECT_THROW(static_cast<void>(c.run()), pgque::connection_error);
    EXPECT_EQ(c.backend_pid(), 0);
}

TEST(ConsumerOptions, StopBeforeRunReturnsAtOnceAndIsConsumed) {
    pgque::Consumer c(k_nowhere, "q", "c");
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
    pgque::Consumer c(k_nowhere, "q", "c");
    EXPECT_THROW(c.on("x", pgque::handler{}), pgque::usage_error);
    EXPECT_NO_THROW(c.on("x", [](const pgque::Message&) {}));
    EXPECT_NO_THROW(c.on("*", [](const pgque::Message&, pgque::MessageContext&) {}));
}
