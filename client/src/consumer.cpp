// consumer: the receive / dispatch / nack / ack loop with LISTEN wake-ups.
//
// Waiting: the loop LISTENs on "pgque_<queue>" before its first receive,
// so a tick committed after a receive saw nothing always leaves a
// notification behind (already buffered by libpq, or still on the socket).
// Before sleeping it drains libpq's buffer; then it poll()s the socket and
// the self-pipe that stop() writes to, at most poll_interval.
//
// Cooperative mode: the member's receive_coop commits on its own (autocommit)
// before the handlers run, so that other members can take the next window
// while this one works; with transactional, the handlers' writes and the
// ack then commit together as usual. A heartbeat thread with its own
// connection calls touch_subconsumer() while run() runs.
//
// Without LISTEN (wakeup_mode::poll, or automatic through a pooler: there
// LISTEN registers on whichever server connection the pooler picked, and
// notifications go nowhere useful) it sleeps polling_interval on the
// self-pipe between receives that found nothing.
//
// Stop: stop() sets an atomic flag and writes one byte to the self-pipe;
// both are async-signal-safe. The loop checks the flag between messages,
// so a stop in the middle of a batch leaves it unacked (redelivered).
#include <pgque/consumer.hpp>
#include <pgque/error.hpp>
#include <pgque/transaction.hpp>

#include "host.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace pgque {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Retrying the batch later is the right answer to these; anything else
// (queue dropped, permission revoked, ...) ends run().
bool is_transient(const sql_error& e) {
    const std::string& s = e.sqlstate();
    return s.rfind("40", 0) == 0      // serialization_failure, deadlock_detected
           || s == "55P03"            // lock_not_available
           || s == "57014"            // query_canceled (statement_timeout)
           || s == "53300";           // too_many_connections
}

// 25006 read_only_sql_transaction: the session cannot write -- a standby
// (also "cannot execute LISTEN during recovery"), or a primary fenced with
// default_transaction_read_only during a switchover. A new connection may
// reach the primary (a multi-host conninfo, a moved address), so run()
// reconnects as after a lost connection.
bool is_read_only(const sql_error& e) { return e.sqlstate() == "25006"; }

log_level level_of(const std::string& severity) {
    if (severity == "WARNING") return log_level::warning;
    if (severity == "DEBUG") return log_level::debug;
    return log_level::info;
}

int poll_timeout_ms(milliseconds wait, const std::optional<steady::time_point>& deadline) {
    if (deadline) {
        auto left = std::chrono::duration_cast<milliseconds>(*deadline - steady::now()) + milliseconds(1);
        wait = std::min(wait, std::max(left, milliseconds(0)));
    }
    return static_cast<int>(std::min<milliseconds::rep>(wait.count(), 24 * 3600 * 1000));
}

}  // namespace

const char* to_string(log_level level) noexcept {
    switch (level) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
    }
    return "?";
}

const char* to_string(run_result result) noexcept {
    switch (result) {
        case run_result::stopped: return "stopped";
        case run_result::max_messages: return "max_messages";
        case run_result::timed_out: return "timed_out";
    }
    return "?";
}

consumer::consumer(std::string conninfo, std::string queue_name, std::string consumer_name,
                   consumer_options options)
    : m_conninfo(std::move(conninfo)),
      m_queue(std::move(queue_name)),
      m_consumer(std::move(consumer_name)),
      m_options(std::move(options)) {
    if (m_options.cooperative) {
        m_subconsumer = m_options.cooperative->subconsumer;
        if (m_subconsumer.empty()) m_subconsumer = detail::host_pid_name();
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        throw failure("pgque: cannot create the consumer's wake-up pipe");
    }
    m_wake_read = fds[0];
    m_wake_write = fds[1];
}

consumer::~consumer() noexcept {
    disconnect();
    if (m_wake_read >= 0) ::close(m_wake_read);
    if (m_wake_write >= 0) ::close(m_wake_write);
}

consumer& consumer::on(const std::string& type, handler fn) {
    if (!fn) throw usage_error("pgque: empty handler for type \"" + type + "\"");
    return on(type, context_handler([fn = std::move(fn)](const message& m, message_context&) { fn(m); }));
}

consumer& consumer::on(const std::string& type, context_handler fn) {
    if (!fn) throw usage_error("pgque: empty handler for type \"" + type + "\"");
    if (m_running.load()) throw usage_error("pgque: cannot add handlers while the consumer runs");
    m_handlers[type] = std::move(fn);
    return *this;
}

// stop() must stay async-signal-safe: no locks behind the flag
static_assert(std::atomic<bool>::is_always_lock_free, "stop() needs a lock-free atomic<bool>");

void consumer::stop() noexcept {
    int saved = errno;  // may run in a signal handler
    m_stop.store(true);
    char byte = 1;
    ssize_t n = ::write(m_wake_write, &byte, 1);  // EAGAIN: a wake-up is pending anyway
    static_cast<void>(n);
    errno = saved;
}

consumer_stats consumer::stats() const noexcept {
    consumer_stats s;
    s.handled = m_handled.load();
    s.failed = m_failed.load();
    s.unknown = m_unknown.load();
    s.dead_lettered = m_dead_lettered.load();
    s.batches = m_batches.load();
    s.reconnects = m_reconnects.load();
    return s;
}

void consumer::log(log_level level, const std::string& text) const {
    if (!m_options.logger) return;
    try {
        m_options.logger(level, text);
    } catch (...) {
        // a failing logger must not take the consumer down
    }
}

void consumer::drain_wakeup_pipe() noexcept {
    char buf[64];
    while (::read(m_wake_read, buf, sizeof buf) > 0) {
    }
}

void consumer::run_checks() const {
    if (m_options.cooperative) {
        if (m_options.cooperative->dead_interval < milliseconds(0) || m_options.cooperative->heartbeat < milliseconds(0)) {
            throw usage_error("pgque: dead_interval and heartbeat must not be negative");
        }
        if (m_subconsumer.find('.') != std::string::npos) {
            throw usage_error("pgque: subconsumer name must not contain \".\"");
        }
    }
    if (m_options.batch_size < 1) throw usage_error("pgque: batch_size must be at least 1");
    if (m_options.poll_interval <= milliseconds(0)) throw usage_error("pgque: poll_interval must be positive");
    if (m_options.polling_interval <= milliseconds(0)) {
        throw usage_error("pgque: polling_interval must be positive");
    }
    if (m_options.retry_after && *m_options.retry_after < milliseconds(0)) {
        throw usage_error("pgque: retry_after must not be negative");
    }
    if (m_options.reconnect_min_delay <= milliseconds(0) ||
        m_options.reconnect_max_delay < m_options.reconnect_min_delay) {
        throw usage_error("pgque: need 0 < reconnect_min_delay <= reconnect_max_delay");
    }
    if (m_queue.empty()) throw usage_error("pgque: queue name must not be empty");
    if (m_consumer.empty()) throw usage_error("pgque: consumer name must not be empty");
}

void consumer::connect() {
    pgque::client c(m_conninfo);
    c.connection().set_notice_handler([this](const notice& n) {
        log(level_of(n.severity), "server " + n.severity + ": " + n.message);
    });
    c.connection().set_log_handler([this](const std::string& line) {
        if (m_said_statements) return;  // once per consumer, not per reconnect
        m_said_statements = true;
        log(log_level::info, line);
    });
    if (m_options.cooperative) {
        // registering is also what makes the consumer cooperative (or fails
        // for a consumer that reads normally): always, not only with subscribe
        if (c.subscribe_subconsumer(m_queue, m_consumer, m_subconsumer)) {
            log(log_level::info, "registered subconsumer \"" + m_subconsumer + "\" of consumer \"" + m_consumer +
                                     "\" on queue \"" + m_queue + "\"");
        }
    } else if (m_options.subscribe) {
        if (c.subscribe(m_queue, m_consumer)) {
            log(log_level::info, "subscribed consumer \"" + m_consumer + "\" to queue \"" + m_queue + "\"");
        }
    }
    m_client.emplace(std::move(c));
    m_listening = false;
    if (decide_listening()) {
        m_client->connection().listen("pgque_" + m_queue);
        m_listening = true;
    }
    m_backend_pid.store(m_client->connection().backend_pid());
}

bool consumer::decide_listening() {
    pgque::connection& conn = m_client->connection();
    switch (m_options.wakeup) {
        case wakeup_mode::listen: return true;
        case wakeup_mode::poll:
            if (!m_said_polling) {
                m_said_polling = true;
                log(log_level::info, "wakeup = poll: polling every " +
                                         std::to_string(m_options.polling_interval.count()) + " ms");
            }
            return false;
        case wakeup_mode::automatic: break;
    }
    // decides the statement mode too (automatic): probe before the first receive
    static_cast<void>(conn.uses_named_statements());
    if (!conn.through_pooler()) return true;
    if (!m_said_polling) {
        m_said_polling = true;
        log(log_level::info, "LISTEN is not available through a transaction pooler; polling every " +
                                 std::to_string(m_options.polling_interval.count()) +
                                 " ms (consumer_options::wakeup = listen keeps LISTEN, e.g. with session pooling)");
    }
    return false;
}

void consumer::disconnect() noexcept {
    m_client.reset();
    m_backend_pid.store(0);
}

run_result consumer::run() { return run_until(std::nullopt); }

run_result consumer::run_for(milliseconds limit) { return run_until(steady::now() + limit); }

run_result consumer::run_until(deadline_t deadline) {
    if (m_running.exchange(true)) throw usage_error("pgque: run() is already running");
    struct guard {
        consumer& self;
        ~guard() {
            self.disconnect();
            self.m_running.store(false);
        }
    } on_exit{*this};

    run_checks();
    m_processed_this_run = 0;

    // cooperative: a heartbeat from its own connection while run() runs
    std::mutex hb_mutex;
    std::condition_variable hb_cv;
    bool hb_done = false;
    std::thread heartbeat;
    if (m_options.cooperative) {
        milliseconds period = m_options.cooperative->heartbeat;
        if (period == milliseconds(0)) period = m_options.cooperative->dead_interval / 3;
        if (period > milliseconds(0)) {
            heartbeat = std::thread([this, period, &hb_mutex, &hb_cv, &hb_done] {
                std::optional<pgque::client> hb;
                std::unique_lock<std::mutex> lock(hb_mutex);
                while (!hb_cv.wait_for(lock, period, [&] { return hb_done; })) {
                    try {
                        if (!hb) hb.emplace(m_conninfo);
                        static_cast<void>(hb->touch_subconsumer(m_queue, m_consumer, m_subconsumer));
                    } catch (...) {
                        hb.reset();  // try again next period; receive_coop is a heartbeat too
                    }
                }
            });
        }
    }
    struct heartbeat_guard {
        std::thread& t;
        std::mutex& m;
        std::condition_variable& cv;
        bool& done;
        ~heartbeat_guard() {
            if (!t.joinable()) return;
            {
                std::lock_guard<std::mutex> lock(m);
                done = true;
            }
            cv.notify_all();
            t.join();
        }
    } hb_guard{heartbeat, hb_mutex, hb_cv, hb_done};

    bool connected_once = false;
    milliseconds delay = m_options.reconnect_min_delay;
    auto back_off = [&] {
        bool go_on = sleep_interruptibly(delay, deadline);
        delay = std::min(delay * 2, m_options.reconnect_max_delay);
        return go_on;
    };

    for (;;) {
        if (m_stop.exchange(false)) {
            drain_wakeup_pipe();
            log(log_level::info, "consumer stopped");
            return run_result::stopped;
        }
        if (deadline && steady::now() >= *deadline) return run_result::timed_out;
        try {
            if (!m_client) {
                connect();
                if (connected_once) {
                    m_reconnects.fetch_add(1);
                    log(log_level::info, "reconnected");
                }
                connected_once = true;
                delay = m_options.reconnect_min_delay;
            }
            switch (process_batch()) {
                case batch_outcome::empty:
                    wait_for_events(deadline);
                    break;
                case batch_outcome::acked:
                    if (m_options.max_messages != 0 && m_processed_this_run >= m_options.max_messages) {
                        return run_result::max_messages;
                    }
                    break;  // drain the backlog: receive again at once
                case batch_outcome::abandoned:
                    break;  // the stop flag is set: the loop returns
                case batch_outcome::retry_later:
                    back_off();
                    break;
            }
        } catch (const connection_error& e) {
            if (!connected_once) throw;
            disconnect();
            log(log_level::warning, std::string("connection lost (") + e.what() + "); reconnecting in " +
                                        std::to_string(delay.count()) + " ms");
            back_off();
        } catch (const in_doubt_error& e) {
            // transactional: the batch's COMMIT (with its ack) may or may not
            // have happened; either way the next receive is right (a batch
            // that did not commit comes again, with none of its writes)
            disconnect();
            log(log_level::warning, std::string(e.what()) + "; reconnecting in " +
                                        std::to_string(delay.count()) + " ms");
            back_off();
        } catch (const sql_error& e) {
            if (connected_once && is_read_only(e)) {
                // the server no longer takes writes (a standby, a fenced old
                // primary): another connection may reach the one that does
                disconnect();
                log(log_level::warning, std::string("the server is read-only (") + e.sqlstate() + ": " + e.what() +
                                            "); reconnecting in " + std::to_string(delay.count()) +
                                            " ms (target_session_attrs=read-write in the conninfo makes libpq"
                                            " skip read-only servers)");
                back_off();
                continue;
            }
            if (!is_transient(e)) {
                log(log_level::error, std::string("consumer failed: ") + e.what());
                throw;
            }
            log(log_level::warning, std::string("transient error, retrying: ") + e.what());
            back_off();
        }
    }
}

consumer::batch_outcome consumer::process_batch() {
    pgque::client& c = *m_client;
    int limit = m_options.batch_size;
    if (m_options.max_messages != 0) {
        auto left = m_options.max_messages - std::min(m_processed_this_run, m_options.max_messages);
        limit = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(limit), left));
        if (limit == 0) return batch_outcome::acked;
    }

    std::optional<transaction> tx;  // rolls back unless committed
    pgque::batch current;
    if (m_options.cooperative) {
        // committed on its own: the next window is free for the others
        std::optional<milliseconds> dead;
        if (m_options.cooperative->dead_interval > milliseconds(0)) dead = m_options.cooperative->dead_interval;
        current = c.receive_coop(m_queue, m_consumer, m_subconsumer, limit, dead);
        if (m_options.transactional && !current.empty()) tx.emplace(c.connection());
    } else {
        if (m_options.transactional) tx.emplace(c.connection());
        current = c.receive(m_queue, m_consumer, limit);
    }
    if (current.empty()) {
        if (tx) tx->commit();
        return batch_outcome::empty;
    }
    if (m_options.logger) {
        log(log_level::debug,
            "batch " + std::to_string(current.id) + ": " + std::to_string(current.size()) + " message(s)");
    }

    message_context ctx(c, current, m_options.transactional);
    for (const message& msg : current.messages) {
        if (m_stop.load()) {
            log(log_level::info, "stop requested: batch " + std::to_string(current.id) +
                                     " left unacknowledged, it will be delivered again");
            return batch_outcome::abandoned;
        }
        if (!dispatch(current, msg, ctx)) {
            log(log_level::error, "batch " + std::to_string(current.id) +
                                      " not acknowledged because a nack failed; it will be delivered again");
            return batch_outcome::retry_later;
        }
    }

    bool acked = c.ack(current.id);
    if (tx) tx->commit();
    if (!acked) {
        log(log_level::warning, "batch " + std::to_string(current.id) +
                                    " was no longer open at ack (another receive took it over); its"
                                    " messages will be delivered again");
        return batch_outcome::retry_later;
    }
    m_batches.fetch_add(1);
    m_processed_this_run += current.size();
    return batch_outcome::acked;
}

bool consumer::dispatch(const pgque::batch& current, const message& msg, message_context& ctx) {
    auto it = m_handlers.find(msg.type);
    if (it == m_handlers.end()) it = m_handlers.find("*");
    if (it == m_handlers.end()) {
        m_unknown.fetch_add(1);
        if (m_options.unknown_types == unknown_type_policy::ack) {
            log(log_level::debug, "skipping message " + std::to_string(msg.msg_id) + ": no handler for type \"" +
                                      msg.type + "\"");
            return true;
        }
        return nack_message(current, msg, "no handler for message type \"" + msg.type + "\"");
    }

    pgque::connection& conn = m_client->connection();
    const bool in_tx = m_options.transactional;
    if (in_tx) static_cast<void>(conn.exec("savepoint pgque_message"));

    std::string why;
    bool ok = false;
    try {
        it->second(msg, ctx);
        ok = true;
    } catch (const connection_error&) {
        throw;
    } catch (const std::exception& e) {
        why = e.what();
        if (why.empty()) why = "handler failed";
    } catch (...) {
        why = "handler threw a non-standard exception";
    }
    if (!conn.is_open()) throw connection_error("connection lost in a handler: " + conn.error_message());
    if (ok && in_tx && conn.transaction_failed()) {
        ok = false;
        why = "handler left the transaction failed (an SQL error was caught and ignored)";
    }
    if (!in_tx && conn.in_transaction()) {
        // the nack and ack below must not join (or be lost with) the handler's transaction
        static_cast<void>(conn.exec("rollback"));
        if (ok) {
            ok = false;
            why = "handler left a transaction open on the consumer's connection";
        }
    }
    if (ok) {
        if (in_tx) static_cast<void>(conn.exec("release savepoint pgque_message"));
        m_handled.fetch_add(1);
        return true;
    }

    m_failed.fetch_add(1);
    if (in_tx) static_cast<void>(conn.exec("rollback to savepoint pgque_message"));
    log(log_level::warning, "handler for message " + std::to_string(msg.msg_id) + " (type \"" + msg.type +
                                "\") failed: " + why + "; nacking it");
    return nack_message(current, msg, why);
}

std::optional<std::int32_t> consumer::max_retries() {
    result r = m_client->connection().exec_prepared(
        "pgque_1_consumer_max_retries", "select queue_max_retries from pgque.queue where queue_name = $1::text",
        {m_queue});
    if (r.rows() != 1) return std::nullopt;
    return static_cast<std::int32_t>(r.get_int64(0, 0));
}

bool consumer::nack_message(const pgque::batch& current, const message& msg, const std::string& reason) {
    try {
        // The server's nack returns 1 whether it scheduled a retry or
        // dead-lettered the message. It dead-letters when the event's retry
        // count (the message's retry_count) has reached the queue's
        // max_retries: read that first. In transactional mode both run in
        // the batch's transaction, so a failing lookup fails the nack (the
        // batch then comes again) instead of leaving a poisoned transaction.
        std::optional<std::int32_t> limit = max_retries();
        m_client->nack(current.id, msg, m_options.retry_after, reason);
        const std::int32_t retries = msg.retry_count.value_or(0);
        if (limit && retries >= *limit) {
            m_dead_lettered.fetch_add(1);
            log(log_level::warning, "message " + std::to_string(msg.msg_id) + " (type \"" + msg.type +
                                        "\") dead-lettered after " + std::to_string(retries) +
                                        " retries (max_retries " + std::to_string(*limit) + "): " + reason);
        } else {
            log(log_level::debug, "message " + std::to_string(msg.msg_id) + " nacked, retry " +
                                      std::to_string(retries + 1) +
                                      (m_options.retry_after
                                           ? " due in " + std::to_string(m_options.retry_after->count()) + " ms"
                                           : std::string(" due as the queue's retry policy says")));
        }
        return true;
    } catch (const connection_error&) {
        throw;
    } catch (const sql_error& e) {
        log(log_level::error, "nack of message " + std::to_string(msg.msg_id) + " failed: " + e.what());
        return false;
    }
}

void consumer::wait_for_events(deadline_t deadline) {
    pgque::connection& conn = m_client->connection();
    // automatic: named statements may have failed since connect (a pooler
    // the probe did not see); then stop relying on notifications
    if (m_listening && m_options.wakeup == wakeup_mode::automatic && conn.through_pooler()) {
        m_listening = decide_listening();
    }
    if (!m_listening) {
        static_cast<void>(sleep_interruptibly(m_options.polling_interval, deadline));
        drain_wakeup_pipe();
        return;
    }
    if (!conn.consume_input()) throw connection_error("connection lost: " + conn.error_message());
    if (!conn.take_notifications().empty()) {
        log(log_level::debug, "notified while busy");
        return;  // a tick came while we were busy
    }

    pollfd fds[2] = {{conn.socket(), POLLIN, 0}, {m_wake_read, POLLIN, 0}};
    int rc = ::poll(fds, 2, poll_timeout_ms(m_options.poll_interval, deadline));
    if (rc < 0) {
        if (errno == EINTR) return;
        throw failure("pgque: poll() failed");
    }
    if (fds[1].revents != 0) drain_wakeup_pipe();
    if (fds[0].revents != 0) {
        if (!conn.consume_input()) throw connection_error("connection lost: " + conn.error_message());
        auto n = conn.take_notifications();
        log(log_level::debug, n.empty() ? "woken without a notification" : "notified");
    } else if (rc == 0) {
        log(log_level::debug, "poll interval passed");
    }
}

bool consumer::sleep_interruptibly(milliseconds delay, deadline_t deadline) {
    pollfd fd{m_wake_read, POLLIN, 0};
    int rc = ::poll(&fd, 1, poll_timeout_ms(delay, deadline));
    static_cast<void>(rc);
    return !m_stop.load();
}

}  // namespace pgque
