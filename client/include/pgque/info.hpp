// pgque/info.hpp -- rows of the observation functions: get_queue_info(),
// get_consumer_info(), status(), dlq_inspect(), dlq_replay_all().
//
// Intervals are microseconds; a NULL interval (e.g. no tick yet) is nullopt.
#ifndef PGQUE_INFO_HPP
#define PGQUE_INFO_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pgque {

// pgque.get_queue_info()
struct QueueInfo {
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
    std::optional<double> ev_per_sec;                     // over the last 20 ticks
    std::int64_t ev_new = 0;                              // events since the last tick
    std::optional<std::int64_t> last_tick_id;
};

// pgque.get_consumer_info()
struct ConsumerInfo {
    std::string queue_name;
    std::string consumer_name;
    std::optional<std::chrono::microseconds> lag;        // age of the cursor tick
    std::optional<std::chrono::microseconds> last_seen;  // since it last opened/closed a batch
    std::optional<std::int64_t> last_tick;
    std::optional<std::int64_t> current_batch;  // open batch, if any
    std::optional<std::int64_t> next_tick;
    std::optional<std::int64_t> pending_events;  // ticked after its cursor
};

// pgque.status(): one row per component (pgque, postgresql, ticker, each queue).
struct StatusRow {
    std::string component;
    std::string status;  // "ok", "manual", "paused", "stale", "no ticks", ...
    std::string detail;
};

// pgque.dlq_inspect(): one dead-lettered event, with the consumer's name.
struct DeadLetter {
    std::int64_t dl_id = 0;
    std::string consumer_name;
    std::chrono::system_clock::time_point dl_time;
    std::optional<std::string> reason;
    std::int64_t ev_id = 0;
    std::chrono::system_clock::time_point ev_time;
    std::optional<std::int32_t> ev_retry;
    std::optional<std::string> ev_type;
    std::optional<std::string> ev_data;
    std::optional<std::string> ev_extra1;
    std::optional<std::string> ev_extra2;
    std::optional<std::string> ev_extra3;
    std::optional<std::string> ev_extra4;
};

// pgque.dlq_replay_all()
struct ReplayResult {
    std::int64_t replayed = 0;
    std::int64_t failed = 0;
    std::optional<std::string> first_error;
};

}  // namespace pgque

#endif
