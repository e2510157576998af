#include "support.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <libpq-fe.h>
#include <algorithm>
#include <fstream>
#include <mutex>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace pgque::test {

std::optional<std::string> test_dsn() {
    const char* v = std::getenv("PGQUE_TEST_DSN");
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

std::string unique_name(const std::string& base) {
    static std::atomic<int> counter{0};
    return base + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

ticker_thread::ticker_thread(std::string dsn, std::vector<std::string> queues, bool move_retries) {
    m_thread = std::thread([this, dsn = std::move(dsn), queues = std::move(queues), move_retries] {
        std::optional<pgque::client> client;
        for (unsigned round = 1; !m_stop.load(); ++round) {
            try {
                if (!client) client.emplace(dsn);
                if (move_retries) static_cast<void>(client->maint_retry_events());
                if (round % 10 == 0) {
                    for (const auto& q : queues) {
                        static_cast<void>(client->connection().exec("select pgque.force_next_tick($1)", {q}));
                    }
                }
                static_cast<void>(client->ticker());
            } catch (const connection_error&) {
                client.reset();
            } catch (const error&) {
                // e.g. a queue dropped under our feet: tick again next round
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
}

ticker_thread::~ticker_thread() {
    m_stop.store(true);
    if (m_thread.joinable()) m_thread.join();
}

std::string dsn_with(const std::string& dsn, const std::vector<std::pair<std::string, std::string>>& changes) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
    if (options == nullptr) {
        std::string why = error != nullptr ? error : "out of memory";
        PQfreemem(error);
        throw std::runtime_error("cannot parse the DSN: " + why);
    }
    std::vector<std::pair<std::string, std::string>> values;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val != nullptr) values.emplace_back(o->keyword, o->val);
    }
    PQconninfoFree(options);
    for (const auto& [key, value] : changes) {
        auto it = std::find_if(values.begin(), values.end(), [&](const auto& kv) { return kv.first == key; });
        if (it != values.end()) it->second = value;
        else values.emplace_back(key, value);
    }
    std::string out;
    for (const auto& [key, value] : values) {
        if (!out.empty()) out += ' ';
        out += key + "='";
        for (char c : value) {
            if (c == '\\' || c == '\'') out += '\\';
            out += c;
        }
        out += '\'';
    }
    return out;
}

scratch_database::scratch_database(const std::string& dsn, const std::string& base)
    : m_admin_dsn(dsn), m_name(unique_name(base)), m_dsn(dsn_with(dsn, {{"dbname", m_name}})) {
    pgque::client admin(m_admin_dsn);
    static_cast<void>(admin.connection().exec("create database " + admin.connection().quote_identifier(m_name)));
}

scratch_database::~scratch_database() {
    try {
        pgque::client admin(m_admin_dsn);
        static_cast<void>(admin.connection().exec("drop database if exists " +
                                                  admin.connection().quote_identifier(m_name) + " with (force)"));
    } catch (const std::exception&) {
        // left behind; the cluster is a test cluster
    }
}

scratch_role::scratch_role(const std::string& dsn, const std::string& base)
    : m_admin_dsn(dsn), m_name(unique_name(base)), m_dsn(dsn_with(dsn, {{"user", m_name}})) {
    pgque::client admin(m_admin_dsn);
    static_cast<void>(admin.connection().exec("create role " + admin.connection().quote_identifier(m_name) + " login"));
}

scratch_role::~scratch_role() {
    try {
        pgque::client admin(m_admin_dsn);
        static_cast<void>(
            admin.connection().exec("drop role if exists " + admin.connection().quote_identifier(m_name)));
    } catch (const std::exception&) {
        // still connected somewhere: left behind
    }
}

void db_test::SetUp() {
    auto dsn = test_dsn();
    if (!dsn) GTEST_SKIP() << "PGQUE_TEST_DSN is not set";
    m_dsn = *dsn;
    m_admin.emplace(m_dsn);
    try {
        static_cast<void>(m_admin->connection().exec("create extension if not exists pgque"));
    } catch (const sql_error& e) {
        // a concurrent test process created it first
        if (e.sqlstate() != "23505" && e.sqlstate() != "42710") throw;
    }
}

void db_test::TearDown() {
    if (!m_admin) return;
    for (const auto& q : m_queues) {
        try {
            m_admin->drop_queue(q, true);
        } catch (const std::exception&) {
            // already dropped by the test
        }
    }
}

void private_db_test::SetUp() {
    db_test::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    m_database.emplace(m_dsn, "pgque_it_db");
    m_dsn = m_database->dsn();
    m_admin.emplace(m_dsn);
    static_cast<void>(m_admin->connection().exec("create extension pgque"));
    // preloaded, the launcher starts a worker for the new extension; stop()
    // waits until it is gone and keeps it stopped
    static_cast<void>(m_admin->connection().exec("select pgque.stop()"));
}

void private_db_test::TearDown() {
    db_test::TearDown();
    m_admin.reset();
    m_database.reset();
}

std::string db_test::make_queue(const std::string& base) {
    std::string name = unique_name(base);
    EXPECT_TRUE(admin().create_queue(name));
    admin().set_queue_config(name, "ticker_max_lag", "0");
    m_queues.push_back(name);
    return name;
}

void db_test::tick(const std::string& queue) {
    // A concurrent ticker (thread or background worker) may have ticked
    // already; then ticker(queue) returns NULL, which is fine: force it.
    auto id = admin().ticker(queue);
    if (!id) {
        static_cast<void>(admin().connection().exec("select pgque.force_next_tick($1)", {queue}));
        static_cast<void>(admin().ticker(queue));
    }
}

namespace {

std::string temp_path(const char* what) {
    static std::atomic<int> n{0};
    return "/tmp/pgque_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n) + "_" + what;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

int spawn(const std::string& program, const std::vector<std::string>& args, const std::string& in_path,
          const std::string& out_path, const std::string& err_path) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int in = ::open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY);
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(program.c_str()));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

process_result run_process(const std::string& program, const std::vector<std::string>& args,
                          const std::string& stdin_text) {
    std::string in_path = temp_path("in");
    std::string out_path = temp_path("out");
    std::string err_path = temp_path("err");
    {
        std::ofstream f(in_path, std::ios::binary);
        f << stdin_text;
    }
    process_result r;
    int pid = spawn(program, args, in_path, out_path, err_path);
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid) r.exit_code = decode_status(status);
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    ::unlink(in_path.c_str());
    ::unlink(out_path.c_str());
    ::unlink(err_path.c_str());
    return r;
}

process_result run_process_tty(const std::string& program, const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::optional<std::string>>>& env) {
    process_result r;
    int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
        if (master >= 0) ::close(master);
        return r;
    }
    std::string slave_name = ::ptsname(master);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        int slave = ::open(slave_name.c_str(), O_RDWR);  // becomes the controlling terminal
        int in = ::open("/dev/null", O_RDONLY);
        if (slave < 0 || in < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        ::close(master);
        ::setenv("TERM", "xterm", 1);
        for (const auto& [name, value] : env) {
            if (value) ::setenv(name.c_str(), value->c_str(), 1);
            else ::unsetenv(name.c_str());
        }
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(program.c_str()));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    // read until the child's side closes (EIO on Linux once it exited)
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n > 0) r.out.append(buf, static_cast<std::size_t>(n));
        else if (n < 0 && errno == EINTR) continue;
        else break;
    }
    ::close(master);
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid) r.exit_code = decode_status(status);
    return r;
}

background_process::background_process(const std::string& program, const std::vector<std::string>& args)
    : m_out_path(temp_path("bg_out")), m_err_path(temp_path("bg_err")) {
    m_pid = spawn(program, args, "", m_out_path, m_err_path);
}

background_process::~background_process() {
    if (m_pid > 0 && !m_status) {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
    }
    ::unlink(m_out_path.c_str());
    ::unlink(m_err_path.c_str());
}

std::string background_process::out() const { return read_file(m_out_path); }

std::string background_process::err() const { return read_file(m_err_path); }

void background_process::signal(int sig) const {
    if (m_pid > 0 && !m_status) ::kill(m_pid, sig);
}

std::optional<int> background_process::wait(std::chrono::milliseconds timeout) {
    if (m_status) return m_status;
    auto end = std::chrono::steady_clock::now() + timeout;
    do {
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_status = decode_status(status);
            return m_status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < end);
    return std::nullopt;
}

}  // namespace pgque::test
