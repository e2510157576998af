// pgque/consumer.hpp -- a long-running consumer: handlers by event type,
// LISTEN-driven wake-ups, retries through nack, reconnects.
//
// run() loops: receive a batch, call the handler of each message's type (or
// the "*" handler), nack the messages whose handler threw, ack the batch
// when every nack succeeded, and keep receiving while batches come back
// non-empty. When the queue is drained it waits for NOTIFY pgque_<queue>
// (sent on every tick), at most poll_interval, or for stop(); through a
// transaction pooler, where LISTEN does not work, it polls instead
// (consumer_options::wakeup).
//
// Delivery is at-least-once: a batch that is not acked (crash, stop() in
// the middle, failed nack) comes again, under a new batch id. With
// consumer_options::transactional the batch, the handlers' writes through
// message_context::connection() and the ack commit together: exactly-once.
//
// Threading: run() blocks the calling thread and uses the consumer's own
// connection. stop() may be called from any thread and from a signal handler.
#ifndef PGQUE_CONSUMER_HPP
#define PGQUE_CONSUMER_HPP

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <pgque/client.hpp>
#include <pgque/connection.hpp>
#include <pgque/export.hpp>
#include <pgque/message.hpp>

namespace pgque {

enum class log_level { debug, info, warning, error };
using log_function = std::function<void(log_level, const std::string&)>;

[[nodiscard]] PGQUE_EXPORT const char* to_string(log_level level) noexcept;

// What to do with a message whose type has no handler and no "*" handler.
enum class unknown_type_policy {
    nack,  // retry it later (and dead-letter it after max_retries): nothing is lost
    ack,   // skip it: it is acknowledged with its batch and never seen again
};

// Cooperative consumption: several consumers (processes, or threads with
// their own connections) with the same consumer name share its work, each
// as a member ("subconsumer") that gets whole batches of its own
// (pgque.receive_coop). A member that dies holding a batch loses it to the
// next member that asks after dead_interval; a heartbeat keeps a long
// handler's batch. Without cooperative options, two consumers with one
// name do not share work: each takes the batch over from the other.
struct PGQUE_EXPORT cooperative_options {
    // The member's name; empty = "<host>-<pid>" (unique per process; give
    // threads of one process distinct names, as worker_pool does).
    std::string subconsumer;
    // A member silent for longer loses its batch to this one (0 = never take over).
    std::chrono::milliseconds dead_interval{0};
    // touch_subconsumer() period while run() runs, from a separate
    // connection; 0 = dead_interval / 3 (none when dead_interval is 0).
    std::chrono::milliseconds heartbeat{0};
};

// How run() learns that a drained queue has new events.
enum class wakeup_mode {
    // LISTEN on a direct connection; poll through a pooler (the connection's
    // through_pooler(): the server's process id differs from the one the
    // connection got at connect, or named statements failed as they do
    // behind pgbouncer's transaction pooling). Logged once when it polls.
    automatic,
    listen,  // always LISTEN (a direct connection, or session pooling)
    poll,    // never LISTEN: receive every polling_interval
};

struct PGQUE_EXPORT consumer_options {
    int batch_size = 100;  // max_return of each receive()
    // Longest wait without a NOTIFY before receive() is tried anyway.
    std::chrono::milliseconds poll_interval = std::chrono::seconds(30);
    wakeup_mode wakeup = wakeup_mode::automatic;
    // Without LISTEN (wakeup poll, or automatic through a pooler): the wait
    // between receives that found the queue drained.
    std::chrono::milliseconds polling_interval = std::chrono::seconds(1);
    // retry_after of the nack of a failed (or unknown-type) message.
    // nullopt: the queue's retry policy (set_queue_config retry_delay,
    // retry_backoff, retry_max_delay, retry_jitter; by default 60 s fixed).
    std::optional<std::chrono::milliseconds> retry_after;
    unknown_type_policy unknown_types = unknown_type_policy::nack;
    // Receive, handle, nack and ack each batch in one transaction; handlers
    // write through message_context::connection() so their writes commit with
    // the ack. Each message runs in a savepoint: a throwing handler's writes
    // are rolled back and the message is nacked.
    bool transactional = false;
    // Subscribe the consumer (if it is not) every time run() connects.
    bool subscribe = true;
    // run() returns run_result::max_messages after this many messages were
    // processed and acked (0 = no limit). Receives never take more.
    std::uint64_t max_messages = 0;
    // Reconnect backoff after a lost connection: min, doubling up to max.
    std::chrono::milliseconds reconnect_min_delay = std::chrono::milliseconds(100);
    std::chrono::milliseconds reconnect_max_delay = std::chrono::seconds(30);
    // Log hook (server warnings, nacks, reconnects, ...). Called from run()'s
    // thread. A nack that moved a message to the dead letters is logged at
    // warning with "dead-lettered" in the line.
    log_function logger;
    // Share the consumer's work with its other members; see cooperative_options.
    std::optional<cooperative_options> cooperative;
};

// What a handler can reach besides the message.
class PGQUE_EXPORT message_context {
public:
    // The consumer's connection. With transactional=true it is inside the
    // batch's transaction (and a savepoint for this message): writes made
    // here commit with the ack. Do not commit or roll back yourself.
    [[nodiscard]] pgque::connection& connection() noexcept { return m_client.connection(); }
    [[nodiscard]] pgque::client& client() noexcept { return m_client; }
    [[nodiscard]] const pgque::batch& batch() const noexcept { return m_batch; }
    [[nodiscard]] bool transactional() const noexcept { return m_transactional; }

private:
    friend class consumer;
    message_context(pgque::client& c, const pgque::batch& b, bool transactional) noexcept
        : m_client(c), m_batch(b), m_transactional(transactional) {}
    pgque::client& m_client;
    const pgque::batch& m_batch;
    bool m_transactional;
};

using handler = std::function<void(const message&)>;
using context_handler = std::function<void(const message&, message_context&)>;

// Counters of a consumer since it was constructed (over all run() calls).
// Messages are counted per delivery: a message that comes again (retried
// after a nack, or its whole batch redelivered after a stop, a lost
// connection or a failed nack) is counted again.
struct PGQUE_EXPORT consumer_stats {
    // Messages whose handler returned normally (with transactional: and
    // whose savepoint was released). Counted before the batch is acked.
    std::uint64_t handled = 0;
    // Messages whose handler failed: it threw, left the batch's transaction
    // failed (transactional), or left a transaction open on the consumer's
    // connection (not transactional). Each is nacked (retry_after, or the
    // queue's retry policy).
    std::uint64_t failed = 0;
    // Messages of a type with neither its own handler nor a "*" handler;
    // nacked or skipped according to consumer_options::unknown_types.
    std::uint64_t unknown = 0;
    // Nacks (of failed or unknown messages) that moved the message to the
    // dead letters, because its retry_count had reached the queue's
    // max_retries. Each is also logged with "dead-lettered" in the line.
    // Counted when the nack returns (with transactional: before the batch
    // commits; a batch that then fails to commit comes again).
    std::uint64_t dead_lettered = 0;
    // Non-empty batches acknowledged (ack() returned true; with
    // transactional, also committed).
    std::uint64_t batches = 0;
    // Connections re-established after a lost one (the first connection of
    // each run() is not counted).
    std::uint64_t reconnects = 0;
};

enum class run_result {
    stopped,       // stop() was called
    max_messages,  // consumer_options::max_messages reached
    timed_out,     // run_for()'s time limit passed
};

// "stopped", "max_messages", "timed_out".
[[nodiscard]] PGQUE_EXPORT const char* to_string(run_result result) noexcept;

class PGQUE_EXPORT consumer {
public:
    consumer(std::string conninfo, std::string queue_name, std::string consumer_name,
             consumer_options options = {});
    consumer(const consumer&) = delete;
    consumer& operator=(const consumer&) = delete;
    consumer(consumer&&) = delete;
    consumer& operator=(consumer&&) = delete;
    ~consumer() noexcept;

    // Registers the handler for an event type; "*" catches every type
    // without its own handler. Not while run() is running (usage_error).
    consumer& on(const std::string& type, handler fn);
    consumer& on(const std::string& type, context_handler fn);

    // Runs until stop(), max_messages, or (run_for) the time limit. Connects
    // first: if the very first connection attempt fails, throws
    // connection_error; later losses are retried with backoff. A server
    // error other than a lost connection (e.g. queue_not_found after the
    // queue was dropped) ends run() with that exception. Invalid options
    // and a run() while another runs throw usage_error.
    run_result run();
    run_result run_for(std::chrono::milliseconds limit);

    // Asks run() to return: the current handler finishes, the rest of the
    // batch is left unacked (it is redelivered). Async-signal-safe. A stop
    // requested while run() is not running makes the next run() return at once.
    void stop() noexcept;
    [[nodiscard]] bool stop_requested() const noexcept { return m_stop.load(); }

    [[nodiscard]] consumer_stats stats() const noexcept;
    // Server process id of the current connection, 0 when disconnected.
    [[nodiscard]] int backend_pid() const noexcept { return m_backend_pid.load(); }
    [[nodiscard]] const std::string& queue_name() const noexcept { return m_queue; }
    [[nodiscard]] const std::string& consumer_name() const noexcept { return m_consumer; }
    // The member name in cooperative mode ("" otherwise).
    [[nodiscard]] const std::string& subconsumer_name() const noexcept { return m_subconsumer; }

private:
    enum class batch_outcome { empty, acked, abandoned, retry_later };

    using deadline_t = std::optional<std::chrono::steady_clock::time_point>;
    run_result run_until(deadline_t deadline);
    void run_checks() const;
    void connect();
    void disconnect() noexcept;
    batch_outcome process_batch();
    // false when the message's nack failed (the batch must not be acked)
    bool dispatch(const pgque::batch& current, const message& msg, message_context& ctx);
    bool nack_message(const pgque::batch& current, const message& msg, const std::string& reason);
    // The queue's max_retries (pgque.queue.queue_max_retries), read anew for
    // every nack; nullopt if the queue is gone.
    [[nodiscard]] std::optional<std::int32_t> max_retries();
    void wait_for_events(deadline_t deadline);
    // false: poll instead of waiting for notifications (logged once)
    bool decide_listening();
    // false when stop() interrupted the sleep
    bool sleep_interruptibly(std::chrono::milliseconds delay, deadline_t deadline);
    void drain_wakeup_pipe() noexcept;
    void log(log_level level, const std::string& text) const;

    std::string m_conninfo;
    std::string m_queue;
    std::string m_consumer;
    std::string m_subconsumer;
    consumer_options m_options;
    std::map<std::string, context_handler> m_handlers;

    std::optional<pgque::client> m_client;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_running{false};
    std::atomic<int> m_backend_pid{0};
    int m_wake_read = -1;  // self-pipe: stop() writes, the wait loop polls
    int m_wake_write = -1;
    std::uint64_t m_processed_this_run = 0;
    bool m_listening = false;      // the current connection LISTENs
    bool m_said_polling = false;    // "polling every ..." logged
    bool m_said_statements = false; // the connection's switch to unnamed statements logged

    std::atomic<std::uint64_t> m_handled{0};
    std::atomic<std::uint64_t> m_failed{0};
    std::atomic<std::uint64_t> m_unknown{0};
    std::atomic<std::uint64_t> m_dead_lettered{0};
    std::atomic<std::uint64_t> m_batches{0};
    std::atomic<std::uint64_t> m_reconnects{0};
};

}  // namespace pgque

#endif
