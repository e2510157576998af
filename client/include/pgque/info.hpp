// pgque/info.hpp -- rows of the observation functions: get_queue_info(),
// get_queue_config(), get_delayed_info(), get_schedule_info(),
// get_consumer_info(), message_state(), status(), dlq_inspect(), dlq_replay_all().
//
// Intervals are microseconds; a NULL interval (e.g. no tick yet) is nullopt.
#ifndef PGQUE_INFO_HPP
#define PGQUE_INFO_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <pgque/export.hpp>

namespace pgque {

// pgque.get_queue_info()
struct PGQUE_EXPORT queue_info {
    std::string queue_name;
    int ntables = 0;
    int cur_table = 0;
    std::chrono::microseconds rotation_period{0};
    std::chrono::system_clock::time_point switch_time;
    bool external_ticker = false;
    bool ticker_paused = false;
    std::int64_t ticker_max_count = 0;
    std::chrono::microseconds ticker_max_lag{0};
    std::chrono::microseconds ticker_idle_period{0};
    std::optional<std::chrono::microseconds> ticker_lag;  // age of the last tick
    // events per second from the 20th-newest tick up to now: a queue that
    // went idle falls off towards 0 instead of keeping its last burst rate
    std::optional<double> ev_per_sec;
    std::int64_t ev_new = 0;                              // events since the last tick
    std::optional<std::int64_t> last_tick_id;
};

// pgque.get_queue_config(): every setting set_queue_config() takes (named
// as there, without PgQ's queue_ prefix) and whether the queue is paused.
struct PGQUE_EXPORT queue_config {
    std::string queue_name;
    std::int64_t ticker_max_count = 0;
    std::chrono::microseconds ticker_max_lag{0};
    std::chrono::microseconds ticker_idle_period{0};
    bool ticker_paused = false;
    std::chrono::microseconds rotation_period{0};
    bool external_ticker = false;
    std::int32_t max_retries = 0;
    bool restricted = false;
    // How long every plain send (send, send_batch; not send_at) waits
    // before delivery; nullopt: none.
    std::optional<std::chrono::microseconds> delivery_delay;
    // The retry policy of a nack without retry_after: the n-th retry
    // (n = 0, 1, ...) waits retry_delay ("fixed"), or retry_delay * 2^n up to
    // max(retry_max_delay, retry_delay) ("exponential"); then up to
    // retry_jitter (0..1) of that is taken off at random.
    std::chrono::microseconds retry_delay{0};
    std::string retry_backoff;  // "fixed" or "exponential"
    std::chrono::microseconds retry_max_delay{0};
    double retry_jitter = 0;
    // A retry that would come later than this after the event was sent is
    // not scheduled: the event expires (expired_action). nullopt: never.
    std::optional<std::chrono::microseconds> message_ttl;
    std::string expired_action;  // "dead_letter" or "drop"
    // pause_queue(): consumers are handed nothing.
    bool paused = false;
};

// pgque.get_delayed_info(): what waits outside a queue.
struct PGQUE_EXPORT delayed_info {
    std::string queue_name;
    // Events sent for later (send_at, send_in, delivery_delay) that have not
    // entered the queue yet, and the earliest delivery time among them
    // (nullopt when none waits; in the past when one is due and not moved yet).
    std::int64_t delayed = 0;
    std::optional<std::chrono::system_clock::time_point> next_delivery;
    // Nacked events waiting for their retry, of all consumers, and the
    // earliest retry time.
    std::int64_t retries = 0;
    std::optional<std::chrono::system_clock::time_point> next_retry;
};

// pgque.get_schedule_info(): a periodic message (client::schedule) and
// what it has sent. Its events carry the schedule's name in extra1, the
// slot (ISO 8601, UTC) in extra2, the number of slots missed before it in
// extra3 and the first missed slot in extra4 (see docs/concepts.md).
struct PGQUE_EXPORT schedule_info {
    std::string schedule_name;
    std::string queue_name;
    std::string spec;  // "*/5 * * * *", "TZ=Europe/Berlin 0 9 * * mon-fri", "every 30 seconds", ...
    std::string type;  // of its events
    // The payload of its events; nullopt when it has none, or when the
    // queue is restricted and the caller may not consume from it.
    std::optional<std::string> payload;
    // The next slot to send; nullopt while paused.
    std::optional<std::chrono::system_clock::time_point> next_run;
    // The slot the last event stood for, and that event's id.
    std::optional<std::chrono::system_clock::time_point> last_run;
    std::optional<std::int64_t> last_msg_id;
    std::int64_t runs = 0;    // events sent
    std::int64_t missed = 0;  // slots that came while nothing could send them (caught up by one event)
    bool paused = false;
    // The last send that failed (e.g. the queue takes no events), until one succeeds.
    std::optional<std::string> last_error;
};

// pgque.get_consumer_info()
struct PGQUE_EXPORT consumer_info {
    std::string queue_name;
    std::string consumer_name;
    std::optional<std::chrono::microseconds> lag;        // age of the cursor tick
    std::optional<std::chrono::microseconds> last_seen;  // since it last opened/closed a batch
    std::optional<std::int64_t> last_tick;
    std::optional<std::int64_t> current_batch;  // open batch, if any
    std::optional<std::int64_t> next_tick;
    std::optional<std::int64_t> pending_events;  // ticked after its cursor
    // How long the oldest pending event has waited to be read (since the
    // first tick after the cursor that brought events); nullopt when none
    // is waiting.
    std::optional<std::chrono::microseconds> pending_age;
    // The consumer or its queue is paused: receive hands it nothing.
    bool paused = false;
};

// pgque.message_state(): what became of one event, for one consumer of its
// queue. docs/sql-reference.md says how each state is derived and what
// cannot be known.
struct PGQUE_EXPORT message_state {
    // The consumer; nullopt on the one row for a queue without consumers.
    std::optional<std::string> consumer;
    // "pending" (not handed out yet: not ticked, behind the cursor, after a
    // partial receive, or its send has not committed), "in_batch", "done",
    // "retry", "dead", "delayed", "unknown" (never sent, or rolled back) or
    // "gone" (its event table was rotated away, or it rolled back).
    std::string state;
    // The subconsumer whose batch holds it (cooperative consumers).
    std::optional<std::string> member;
    // in_batch: the batch that holds it; pending after a partial receive:
    // the batch whose window it is in.
    std::optional<std::int64_t> batch_id;
    // in_batch: when the batch was opened; pending: when the first tick
    // after the cursor took it in; dead: when it was dead-lettered;
    // delayed: when it was sent.
    std::optional<std::chrono::system_clock::time_point> since;
    // retry: when the retry enters the queue; delayed: when it does.
    std::optional<std::chrono::system_clock::time_point> due_at;
    // Which delivery this is or will be: 1 the first, 2 the first retry, ...
    // (dead: the delivery that was given up).
    std::optional<std::int32_t> attempt;
    // dead: the nack's reason (hidden on a restricted queue from roles that
    // may not use the subscription).
    std::optional<std::string> reason;
    // dead: the argument of dlq_replay().
    std::optional<std::int64_t> dead_letter_id;
    // One sentence for people.
    std::string detail;
};

// pgque.status(): one row per component (pgque, postgresql, ticker, each queue).
struct PGQUE_EXPORT status_row {
    std::string component;
    std::string status;  // "ok", "manual", "paused", "stale", "no ticks", ...
    std::string detail;
};

// pgque.dlq_inspect(): one row of pgque.dead_letter, an event that a
// consumer gave up on (nacked once its retries reached the queue's
// max_retries), with the consumer's name instead of its id. The ev_*
// fields are the event as it was when it was dead-lettered.
struct PGQUE_EXPORT dead_letter {
    // dl_id: the dead letter's own id, the argument of dlq_replay().
    std::int64_t dl_id = 0;
    // The consumer (subscription) that dead-lettered the event; replay
    // delivers it to this consumer only.
    std::string consumer_name;
    // dl_time: when the event was dead-lettered (the nack's transaction time).
    std::chrono::system_clock::time_point dl_time;
    // dl_reason: the nack's reason (a consumer's handler exception text), or
    // "max retries exceeded" when the nack gave none. The column is
    // nullable, so a row written by hand may have none: nullopt.
    std::optional<std::string> reason;
    // ev_id: the event id (msg_id); dlq_replay() re-inserts it under the same id.
    std::int64_t ev_id = 0;
    // ev_time: when the event was originally sent.
    std::chrono::system_clock::time_point ev_time;
    // ev_retry: how many times it had been retried before it was given up
    // (the message's retry_count); nullopt if it was dead-lettered on its
    // first delivery (max_retries 0).
    std::optional<std::int32_t> ev_retry;
    // ev_type: the event type (message::type); nullopt for a NULL type.
    std::optional<std::string> ev_type;
    // ev_data: the payload (message::payload); nullopt for a NULL payload.
    std::optional<std::string> ev_data;
    // ev_extra1..4: the event's extra columns (message::extra1..4).
    std::optional<std::string> ev_extra1;
    std::optional<std::string> ev_extra2;
    std::optional<std::string> ev_extra3;
    std::optional<std::string> ev_extra4;
};

// pgque.dlq_replay_all()
struct PGQUE_EXPORT replay_result {
    std::int64_t replayed = 0;  // dead letters put back into the queue
    std::int64_t failed = 0;    // dead letters that could not be replayed (they stay)
    std::optional<std::string> first_error;  // "dead letter <id>: <error>" of the first failure
};

}  // namespace pgque

#endif
