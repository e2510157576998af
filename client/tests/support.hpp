// Shared helpers of the integration tests: the DSN, unique names, a ticker
// thread, and running the built binaries.
#ifndef PGQUE_TESTS_SUPPORT_HPP
#define PGQUE_TESTS_SUPPORT_HPP

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <pgque/pgque.hpp>

namespace pgque::test {

// PGQUE_TEST_DSN, or nullopt when unset/empty.
[[nodiscard]] std::optional<std::string> test_dsn();

// "<base>_<pid>_<n>": unique across test processes running in parallel.
[[nodiscard]] std::string unique_name(const std::string& base);

// Polls pred every 5 ms until it holds or timeout passes.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Ticks (select pgque.ticker()) every ~5 ms on its own connection, and with
// move_retries also runs maint_retry_events(), until destroyed. Makes tests
// independent of the background worker.
//
// Every ~50 ms it also forces a tick of `queues`: ticker() decides "new
// events" by the event sequence, so an event whose id was drawn before a
// tick but that committed after it does not make the queue due again (it
// waits for ticker_idle_period). The forced tick bounds that wait.
class ticker_thread {
public:
    ticker_thread(std::string dsn, std::vector<std::string> queues, bool move_retries = false);
    ticker_thread(const ticker_thread&) = delete;
    ticker_thread& operator=(const ticker_thread&) = delete;
    ~ticker_thread();

private:
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// dsn with some connection parameters replaced or added ({"dbname", "x"},
// {"user", "y"}); works for key=value strings and URIs alike.
[[nodiscard]] std::string dsn_with(const std::string& dsn,
                                   const std::vector<std::pair<std::string, std::string>>& changes);

// A database of its own (named unique_name(base)), without pgque, dropped
// (with force) when this goes.
class scratch_database {
public:
    scratch_database(const std::string& dsn, const std::string& base);
    scratch_database(const scratch_database&) = delete;
    scratch_database& operator=(const scratch_database&) = delete;
    ~scratch_database();
    [[nodiscard]] const std::string& name() const { return m_name; }
    // the given dsn, connecting to this database
    [[nodiscard]] const std::string& dsn() const { return m_dsn; }

private:
    std::string m_admin_dsn;
    std::string m_name;
    std::string m_dsn;
};

// A LOGIN role (named unique_name(base)) that is a member of no pgque
// role, dropped when this goes.
class scratch_role {
public:
    scratch_role(const std::string& dsn, const std::string& base);
    scratch_role(const scratch_role&) = delete;
    scratch_role& operator=(const scratch_role&) = delete;
    ~scratch_role();
    [[nodiscard]] const std::string& name() const { return m_name; }
    // the given dsn, logging in as this role
    [[nodiscard]] const std::string& dsn() const { return m_dsn; }

private:
    std::string m_admin_dsn;
    std::string m_name;
    std::string m_dsn;
};

// Base fixture: skips without PGQUE_TEST_DSN; makes sure the extension
// exists; creates queues that are dropped (force) at the end of the test.
class db_test : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    // Creates a queue named unique_name(base) that ticks on every new event
    // (ticker_max_lag 0), and returns its name.
    std::string make_queue(const std::string& base);
    // admin().ticker(queue) and check that it ticked.
    void tick(const std::string& queue);
    [[nodiscard]] pgque::client& admin() { return *m_admin; }
    [[nodiscard]] const std::string& dsn() const { return m_dsn; }

    std::string m_dsn;
    std::optional<pgque::client> m_admin;
    std::vector<std::string> m_queues;
};

// A db_test in a database of its own, with pgque installed and its worker
// stopped (manual mode): what the database-wide functions return --
// ticker(), maint(), maint_retry_events() -- depends on this test alone,
// not on the background worker or on tests running in parallel.
class private_db_test : public db_test {
protected:
    void SetUp() override;
    void TearDown() override;

    std::optional<scratch_database> m_database;
};

struct process_result {
    int exit_code = -1;  // 128+N when killed by signal N
    std::string out;
    std::string err;
};

// Runs a program with args, stdin_text as its stdin; waits for it.
process_result run_process(const std::string& program, const std::vector<std::string>& args,
                          const std::string& stdin_text = {});

// Runs a program with stdout and stderr on a pseudo-terminal (stdin
// /dev/null), TERM=xterm, and env applied on top of the environment
// (nullopt unsets a variable). out is everything written to the terminal
// (newlines arrive as \r\n); err stays empty.
process_result run_process_tty(const std::string& program, const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::optional<std::string>>>& env = {});

// A program running in the background, its stdout/stderr in files.
class background_process {
public:
    background_process(const std::string& program, const std::vector<std::string>& args);
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;
    ~background_process();

    [[nodiscard]] std::string out() const;
    [[nodiscard]] std::string err() const;
    void signal(int sig) const;
    // exit code (128+N for signal N), or nullopt if still running after timeout
    std::optional<int> wait(std::chrono::milliseconds timeout);

private:
    int m_pid = -1;
    std::optional<int> m_status;
    std::string m_out_path;
    std::string m_err_path;
};

}  // namespace pgque::test

#define PGQUE_REQUIRE_DSN(var)                                               \
    auto var##_opt = ::pgque::test::test_dsn();                              \
    if (!var##_opt) GTEST_SKIP() << "PGQUE_TEST_DSN is not set";             \
    const std::string var = *var##_opt

#endif
