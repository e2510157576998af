// pgque/client.hpp -- the pgque SQL API as C++ calls.
//
// A client is one connection (its own, or a caller's PGconn wrapped without
// taking ownership) plus typed wrappers of the pgque.* functions. Values are
// always bound as parameters. The hot calls (send*, receive, ack, nack) run
// as named prepared statements "pgque_*", created on first use -- or as
// unnamed ones through a pooler (connection::statement_mode, PGQUE_PREPARED).
//
// Threading: like its connection, a client is used by one thread at a time.
#ifndef PGQUE_CLIENT_HPP
#define PGQUE_CLIENT_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pgque/connection.hpp>
#include <pgque/export.hpp>
#include <pgque/info.hpp>
#include <pgque/message.hpp>

namespace pgque {

// Options of a send beyond queue, type and payload.
struct send_options {
    // 0 (default) to 9; higher priorities are received first. Out of range
    // throws invalid_parameter (22023) from the server.
    int priority = 0;
    // Idempotent send: a second send of this key to the queue within its
    // dedup_window returns the first send's id and sends nothing (also when
    // the first is still in progress: the call waits for it). Only for
    // single sends; send_batch with a key is a usage_error.
    std::optional<std::string> dedup_key;
    // A label (ev_extra1, message::extra1), what a consumer's filter
    // selects on (client::set_filter); empty throws invalid_parameter.
    std::optional<std::string> label;
    // A JSON object's text (ev_extra2, message::extra2); anything else
    // throws invalid_parameter (22023). Single sends only, as dedup_key.
    std::optional<std::string> attributes;
};

// Inside the class, pgque::connection, pgque::queue_info,
// pgque::queue_config, pgque::delayed_info, pgque::schedule_info,
// pgque::consumer_info and pgque::message_state are spelled qualified: the
// member functions of the same names hide the types
// there.
class PGQUE_EXPORT client {
public:
    // Connects (libpq conninfo or URI; "" uses the libpq environment).
    // Throws connection_error.
    explicit client(const std::string& conninfo);
    // Wraps the caller's connection: calls run on it, inside whatever
    // transaction the caller has open, and it is not closed by ~client.
    // A null conn is a usage_error.
    explicit client(PGconn* conn);
    explicit client(pgque::connection conn) noexcept;

    client(client&&) noexcept = default;
    client& operator=(client&&) noexcept = default;
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() noexcept = default;

    // --- produce (role pgque_writer) -------------------------------------
    // Type "default". Returns the event id.
    [[nodiscard]] std::int64_t send(std::string_view queue, std::string_view payload);
    [[nodiscard]] std::int64_t send(std::string_view queue, std::string_view type,
                                    std::string_view payload);
    // The payload is cast to jsonb on the server: invalid JSON throws
    // data_error (22P02), and the canonical JSON text is stored.
    [[nodiscard]] std::int64_t send_json(std::string_view queue, std::string_view type,
                                         std::string_view json);
    // With a priority and/or a dedup key (send_options above).
    [[nodiscard]] std::int64_t send(std::string_view queue, std::string_view type, std::string_view payload,
                                    const send_options& options);
    [[nodiscard]] std::int64_t send_json(std::string_view queue, std::string_view type, std::string_view json,
                                         const send_options& options);
    // One event per payload, in one round trip; ids in input order.
    [[nodiscard]] std::vector<std::int64_t> send_batch(std::string_view queue,
                                                       const std::vector<std::string>& payloads);
    [[nodiscard]] std::vector<std::int64_t> send_batch(std::string_view queue, std::string_view type,
                                                       const std::vector<std::string>& payloads);
    [[nodiscard]] std::vector<std::int64_t> send_batch_json(std::string_view queue,
                                                            std::string_view type,
                                                            const std::vector<std::string>& payloads);
    // With a priority only: send(queue, type, payload, send_options{priority}).
    // Out of range throws sql_error 22023; a queue with a delivery_delay
    // refuses priorities above 0 (0A000).
    [[nodiscard]] std::int64_t send(std::string_view queue, std::string_view type,
                                    std::string_view payload, int priority);
    [[nodiscard]] std::int64_t send_json(std::string_view queue, std::string_view type,
                                         std::string_view json, int priority);
    [[nodiscard]] std::vector<std::int64_t> send_batch(std::string_view queue, std::string_view type,
                                                       const std::vector<std::string>& payloads,
                                                       int priority);
    [[nodiscard]] std::vector<std::int64_t> send_batch_json(std::string_view queue,
                                                            std::string_view type,
                                                            const std::vector<std::string>& payloads,
                                                            int priority);
    // With a priority (options.dedup_key must be unset).
    [[nodiscard]] std::vector<std::int64_t> send_batch(std::string_view queue, std::string_view type,
                                                       const std::vector<std::string>& payloads,
                                                       const send_options& options);

    // --- delayed delivery (role pgque_writer) ------------------------------
    // The calls above, for events that consumers see only from deliver_at
    // on (pgque.send_at, send_batch_at): they wait outside the queue and
    // enter it at that time (the worker's maint_retry_events()), then come
    // with the next tick. The ids returned are the ids consumers will see.
    // A deliver_at that is not in the future sends now, like send() but
    // without the queue's delivery_delay. Microsecond precision (truncated).
    [[nodiscard]] std::int64_t send_at(std::string_view queue, std::string_view payload,
                                       std::chrono::system_clock::time_point deliver_at);
    [[nodiscard]] std::int64_t send_at(std::string_view queue, std::string_view type, std::string_view payload,
                                       std::chrono::system_clock::time_point deliver_at);
    [[nodiscard]] std::int64_t send_json_at(std::string_view queue, std::string_view type, std::string_view json,
                                            std::chrono::system_clock::time_point deliver_at);
    [[nodiscard]] std::vector<std::int64_t> send_batch_at(std::string_view queue,
                                                          const std::vector<std::string>& payloads,
                                                          std::chrono::system_clock::time_point deliver_at);
    [[nodiscard]] std::vector<std::int64_t> send_batch_at(std::string_view queue, std::string_view type,
                                                          const std::vector<std::string>& payloads,
                                                          std::chrono::system_clock::time_point deliver_at);
    [[nodiscard]] std::vector<std::int64_t> send_batch_json_at(std::string_view queue, std::string_view type,
                                                               const std::vector<std::string>& payloads,
                                                               std::chrono::system_clock::time_point deliver_at);
    // The same, due `delay` after the call runs, by the server's clock
    // (clock_timestamp()), so the client's clock does not matter. A delay
    // of 0 or less sends now.
    [[nodiscard]] std::int64_t send_in(std::string_view queue, std::string_view payload,
                                       std::chrono::microseconds delay);
    [[nodiscard]] std::int64_t send_in(std::string_view queue, std::string_view type, std::string_view payload,
                                       std::chrono::microseconds delay);
    [[nodiscard]] std::int64_t send_json_in(std::string_view queue, std::string_view type, std::string_view json,
                                            std::chrono::microseconds delay);
    [[nodiscard]] std::vector<std::int64_t> send_batch_in(std::string_view queue,
                                                          const std::vector<std::string>& payloads,
                                                          std::chrono::microseconds delay);
    [[nodiscard]] std::vector<std::int64_t> send_batch_in(std::string_view queue, std::string_view type,
                                                          const std::vector<std::string>& payloads,
                                                          std::chrono::microseconds delay);
    [[nodiscard]] std::vector<std::int64_t> send_batch_json_in(std::string_view queue, std::string_view type,
                                                               const std::vector<std::string>& payloads,
                                                               std::chrono::microseconds delay);

    // --- consume (role pgque_reader) --------------------------------------
    [[nodiscard]] bool subscribe(std::string_view queue, std::string_view consumer);
    [[nodiscard]] bool unsubscribe(std::string_view queue, std::string_view consumer);
    // The consumer's filter: it is handed only events whose type is one of
    // types and whose label one of labels (nullopt: any; both nullopt
    // remove the filter); the rest are passed over. pgque.set_filter.
    void set_filter(std::string_view queue, std::string_view consumer,
                    const std::optional<std::vector<std::string>>& types,
                    const std::optional<std::vector<std::string>>& labels);
    // Opens (or re-opens) the consumer's batch and returns up to max_messages
    // of it. Empty result: nothing new (no ack needed).
    [[nodiscard]] batch receive(std::string_view queue, std::string_view consumer,
                                int max_messages = 100);
    // true: finished. false: the batch was not open (unknown, already acked,
    // or taken over by a later receive); the server also sends a WARNING.
    [[nodiscard]] bool ack(std::int64_t batch_id);
    // Schedules msg for redelivery to this consumer after retry_after, or
    // dead-letters it once it was retried max_retries times (or expires it,
    // past the queue's message_ttl). retry_after nullopt = the queue's retry
    // policy (retry_delay, retry_backoff, ...; by default 60 s); reason
    // nullopt = the server's default. Does not finish the batch: ack()
    // afterwards.
    void nack(std::int64_t batch_id, const message& msg,
              std::optional<std::chrono::milliseconds> retry_after = std::nullopt,
              std::optional<std::string_view> reason = std::nullopt);
    void nack(std::int64_t batch_id, std::int64_t msg_id,
              std::optional<std::chrono::milliseconds> retry_after = std::nullopt,
              std::optional<std::string_view> reason = std::nullopt);

    // --- pausing -----------------------------------------------------------
    // A paused queue hands no batch to any of its consumers, a paused
    // consumer none to itself; producers, ticks, and ack/nack of batches
    // already handed out go on. true: changed; false: it already was so.
    // Queues need pgque_admin, consumers pgque_reader.
    [[nodiscard]] bool pause_queue(std::string_view queue);
    [[nodiscard]] bool resume_queue(std::string_view queue);
    [[nodiscard]] bool pause_consumer(std::string_view queue, std::string_view consumer);
    [[nodiscard]] bool resume_consumer(std::string_view queue, std::string_view consumer);

    // --- schedules (role pgque_admin) -----------------------------------------
    // A schedule sends one event (type, payload) into queue per slot of spec:
    // five cron fields ("*/15 * * * *", "0 9 * * mon-fri", @daily, ...,
    // optionally prefixed "TZ=Europe/Berlin "), or "every N seconds|minutes|
    // hours|days". The worker sends them; after downtime, one catch-up event.
    // true: created; false: an existing schedule of that name was replaced.
    // Bad specs throw sql_error 22023, an unknown queue queue_not_found.
    [[nodiscard]] bool schedule(std::string_view name, std::string_view queue, std::string_view spec,
                                std::string_view type = "schedule",
                                std::optional<std::string_view> payload = std::nullopt);
    // The payload is cast to jsonb on the server (invalid JSON: data_error).
    [[nodiscard]] bool schedule_json(std::string_view name, std::string_view queue, std::string_view spec,
                                     std::string_view type, std::string_view json);
    // true: removed; false: there was none.
    [[nodiscard]] bool unschedule(std::string_view name);
    // true: changed; false: it already was so. A paused schedule sends
    // nothing; resumed, it goes on with the first slot after now.
    // An unknown name throws sql_error 42704.
    [[nodiscard]] bool pause_schedule(std::string_view name);
    [[nodiscard]] bool resume_schedule(std::string_view name);

    // --- cooperative consumers (role pgque_reader) --------------------------
    // Members ("subconsumers") of one consumer share its work: each batch
    // goes to one member. See docs/sql-reference.md.
    // true: the member (or the consumer) was created. A normal consumer is
    // converted only with convert_normal.
    [[nodiscard]] bool subscribe_subconsumer(std::string_view queue, std::string_view consumer,
                                             std::string_view subconsumer, bool convert_normal = false);
    // true: removed. A member holding a batch: retry_open_batch false throws
    // (55000), true schedules the batch's unacked messages for retry.
    [[nodiscard]] bool unsubscribe_subconsumer(std::string_view queue, std::string_view consumer,
                                               std::string_view subconsumer, bool retry_open_batch = false);
    // The member's batch: the one it holds, else (with dead_interval) the
    // batch of a member silent for longer, else the consumer's next window.
    // Registers the member and counts as its heartbeat.
    [[nodiscard]] batch receive_coop(std::string_view queue, std::string_view consumer,
                                     std::string_view subconsumer, int max_messages = 100,
                                     std::optional<std::chrono::milliseconds> dead_interval = std::nullopt);
    // Heartbeat; false if the member is not registered.
    [[nodiscard]] bool touch_subconsumer(std::string_view queue, std::string_view consumer,
                                         std::string_view subconsumer);

    // --- queues, ticks, maintenance (role pgque_admin) ---------------------
    [[nodiscard]] bool create_queue(std::string_view queue);
    // Throws sql_error 55006 while the queue has consumers, unless force.
    void drop_queue(std::string_view queue, bool force = false);
    // value nullopt restores the default. See docs/sql-reference.md.
    void set_queue_config(std::string_view queue, std::string_view param,
                          std::optional<std::string_view> value);
    // Ticks every due queue; returns how many ticked.
    [[nodiscard]] std::int64_t ticker();
    // Ticks one queue if due; the new tick id or nullopt.
    [[nodiscard]] std::optional<std::int64_t> ticker(std::string_view queue);
    [[nodiscard]] int maint_retry_events();
    [[nodiscard]] int maint();

    // --- observe (role pgque_reader) --------------------------------------
    [[nodiscard]] std::vector<pgque::queue_info> queue_info();
    [[nodiscard]] pgque::queue_info queue_info(std::string_view queue);
    [[nodiscard]] std::vector<pgque::queue_config> queue_config();
    [[nodiscard]] pgque::queue_config queue_config(std::string_view queue);
    [[nodiscard]] std::vector<pgque::delayed_info> delayed_info();
    [[nodiscard]] pgque::delayed_info delayed_info(std::string_view queue);
    [[nodiscard]] std::vector<pgque::schedule_info> schedule_info();
    [[nodiscard]] pgque::schedule_info schedule_info(std::string_view name);
    [[nodiscard]] std::vector<pgque::consumer_info> consumer_info();
    [[nodiscard]] std::vector<pgque::consumer_info> consumer_info(std::string_view queue);
    [[nodiscard]] pgque::consumer_info consumer_info(std::string_view queue, std::string_view consumer);
    // What became of event msg_id: one row per consumer of the queue (one
    // row without a consumer when it has none), by consumer name. Reads the
    // queue's event tables whole: an operator's call, not a per-message one.
    // Throws queue_not_found; sql_error 22023 for msg_id < 1.
    [[nodiscard]] std::vector<pgque::message_state> message_state(std::string_view queue, std::int64_t msg_id);
    [[nodiscard]] std::vector<status_row> status();
    [[nodiscard]] std::string version();
    // pgque.metrics(): every queue's, consumer's and the worker's state in
    // the Prometheus text exposition format (docs/operations.md#metrics).
    [[nodiscard]] std::string metrics();

    // --- dead letters ------------------------------------------------------
    [[nodiscard]] std::vector<dead_letter> dlq_inspect(std::string_view queue, int limit = 100);
    [[nodiscard]] std::int64_t dlq_replay(std::int64_t dead_letter_id);
    [[nodiscard]] replay_result dlq_replay_all(std::string_view queue);
    [[nodiscard]] int dlq_purge(std::string_view queue,
                                std::chrono::microseconds older_than = std::chrono::hours(24 * 30));

    [[nodiscard]] pgque::connection& connection() noexcept { return m_conn; }
    [[nodiscard]] PGconn* native_handle() const noexcept { return m_conn.native_handle(); }

private:
    pgque::connection m_conn;
};

}  // namespace pgque

#endif
