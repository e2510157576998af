// client: typed wrappers of the pgque.* SQL functions.
//
// Every parameter carries an explicit cast ($1::text, $3::text[]) so the
// server never has to choose between overloads (send_batch exists for
// text[] and jsonb[]). Intervals and timestamps travel as int8
// microseconds, so no DateStyle/IntervalStyle setting can change them.
#include <pgque/client.hpp>
#include <pgque/error.hpp>

#include <algorithm>

#include "text.hpp"

namespace pgque {

namespace {

using detail::from_epoch_micros;

std::string str(std::string_view s) { return std::string(s); }
std::string num(std::int64_t v) { return std::to_string(v); }

// interval/timestamptz column -> microseconds (int8)
#define PGQUE_MICROS(expr) "(extract(epoch from " expr ") * 1000000)::int8"
// int8 microseconds parameter -> timestamptz: since the epoch (a pure time
// interval, so the session's TimeZone does not enter), or from the server's
// clock_timestamp()
#define PGQUE_AT(param) "timestamptz 'epoch' + " param "::int8 * interval '1 microsecond'"
#define PGQUE_IN(param) "clock_timestamp() + " param "::int8 * interval '1 microsecond'"

struct statement {
    const char* name;
    const char* sql;
};

// Hot paths: named prepared statements. The "1" is the statement-set
// version: change it when any SQL text here changes.
constexpr statement k_send{"pgque_1_send", "select pgque.send($1::text, $2::text)"};
constexpr statement k_send_typed{"pgque_1_send_typed", "select pgque.send($1::text, $2::text, $3::text)"};
constexpr statement k_send_json{"pgque_1_send_json", "select pgque.send($1::text, $2::text, $3::jsonb)"};
// (a statement whose text changed gets a new name instead: the _labeled ones)
constexpr statement k_send_opts{
    "pgque_1_send_opts_labeled",
    "select pgque.send($1::text, $2::text, $3::text, $4::int, $5::text, $6::text, $7::jsonb)"};
constexpr statement k_send_json_opts{
    "pgque_1_send_json_opts_labeled",
    "select pgque.send($1::text, $2::text, $3::jsonb, $4::int, $5::text, $6::text, $7::jsonb)"};
constexpr statement k_send_batch_opts{"pgque_1_send_batch_opts",
                                       "select pgque.send_batch($1::text, $2::text, $3::text[], $4::int)"};
constexpr statement k_send_batch{"pgque_1_send_batch", "select pgque.send_batch($1::text, $2::text[])"};
constexpr statement k_send_batch_typed{"pgque_1_send_batch_typed",
                                       "select pgque.send_batch($1::text, $2::text, $3::text[])"};
constexpr statement k_send_batch_json{"pgque_1_send_batch_json",
                                      "select pgque.send_batch($1::text, $2::text, $3::jsonb[])"};
constexpr statement k_send_batch_json_prio{"pgque_1_send_batch_json_prio",
                                           "select pgque.send_batch($1::text, $2::text, $3::jsonb[], $4::int)"};
constexpr statement k_send_at{"pgque_1_send_at", "select pgque.send_at($1::text, $2::text, " PGQUE_AT("$3") ")"};
constexpr statement k_send_at_typed{"pgque_1_send_at_typed",
                                    "select pgque.send_at($1::text, $2::text, $3::text, " PGQUE_AT("$4") ")"};
constexpr statement k_send_json_at{"pgque_1_send_json_at",
                                   "select pgque.send_at($1::text, $2::text, $3::jsonb, " PGQUE_AT("$4") ")"};
constexpr statement k_send_batch_at{
    "pgque_1_send_batch_at",
    "select pgque.send_batch_at($1::text, $2::text[], " PGQUE_AT("$3") ")"};
constexpr statement k_send_batch_at_typed{
    "pgque_1_send_batch_at_typed",
    "select pgque.send_batch_at($1::text, $2::text, $3::text[], " PGQUE_AT("$4") ")"};
constexpr statement k_send_batch_json_at{
    "pgque_1_send_batch_json_at",
    "select pgque.send_batch_at($1::text, $2::text, $3::jsonb[], " PGQUE_AT("$4") ")"};
constexpr statement k_send_in{"pgque_1_send_in", "select pgque.send_at($1::text, $2::text, " PGQUE_IN("$3") ")"};
constexpr statement k_send_in_typed{"pgque_1_send_in_typed",
                                    "select pgque.send_at($1::text, $2::text, $3::text, " PGQUE_IN("$4") ")"};
constexpr statement k_send_json_in{"pgque_1_send_json_in",
                                   "select pgque.send_at($1::text, $2::text, $3::jsonb, " PGQUE_IN("$4") ")"};
constexpr statement k_send_batch_in{
    "pgque_1_send_batch_in",
    "select pgque.send_batch_at($1::text, $2::text[], " PGQUE_IN("$3") ")"};
constexpr statement k_send_batch_in_typed{
    "pgque_1_send_batch_in_typed",
    "select pgque.send_batch_at($1::text, $2::text, $3::text[], " PGQUE_IN("$4") ")"};
constexpr statement k_send_batch_json_in{
    "pgque_1_send_batch_json_in",
    "select pgque.send_batch_at($1::text, $2::text, $3::jsonb[], " PGQUE_IN("$4") ")"};
constexpr statement k_receive{
    "pgque_1_receive",
    "select msg_id, batch_id, type, payload, retry_count, " PGQUE_MICROS("created_at") ","
    " extra1, extra2, extra3, extra4"
    " from pgque.receive($1::text, $2::text, $3::int4)"};
constexpr statement k_receive_coop{
    "pgque_1_receive_coop",
    "select msg_id, batch_id, type, payload, retry_count, " PGQUE_MICROS("created_at") ","
    " extra1, extra2, extra3, extra4"
    " from pgque.receive_coop($1::text, $2::text, $3::text, $4::int4,"
    "                         $5::int8 * interval '1 millisecond')"};
constexpr statement k_ack{"pgque_1_ack", "select pgque.ack($1::int8)"};
// nack trusts only msg.msg_id (the server re-reads the event from the
// batch). A NULL $3 is a NULL retry_after: the queue's retry policy.
constexpr statement k_nack{
    "pgque_1_nack",
    "select pgque.nack($1::int8,"
    " row($2::int8, $1::int8, null, null, null, null, null, null, null, null)::pgque.message,"
    " $3::int8 * interval '1 millisecond', $4::text)"};

result run(pgque::connection& conn, const statement& st, const params& values) {
    return conn.exec_prepared(st.name, st.sql, values);
}

std::int64_t single_int64(const result& r) {
    if (r.rows() != 1 || r.columns() < 1) throw failure("pgque: expected one row from the server");
    return r.get_int64(0, 0);
}

std::optional<std::chrono::microseconds> micros(const result& r, int row, int col) {
    auto v = r.get_optional_int64(row, col);
    if (!v) return std::nullopt;
    return std::chrono::microseconds(*v);
}

std::optional<std::int32_t> int32_opt(const result& r, int row, int col) {
    auto v = r.get_optional_int64(row, col);
    if (!v) return std::nullopt;
    return static_cast<std::int32_t>(*v);
}

constexpr const char* k_queue_info_columns =
    "select queue_name, queue_ntables, queue_cur_table, " PGQUE_MICROS("queue_rotation_period") ", "
    PGQUE_MICROS("queue_switch_time") ", queue_external_ticker, queue_ticker_paused,"
    " queue_ticker_max_count, " PGQUE_MICROS("queue_ticker_max_lag") ", "
    PGQUE_MICROS("queue_ticker_idle_period") ", " PGQUE_MICROS("ticker_lag") ","
    " ev_per_sec, ev_new, last_tick_id";

std::vector<queue_info> queue_info_rows(const result& r) {
    std::vector<queue_info> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        queue_info q;
        q.queue_name = std::string(r.get(i, 0));
        q.ntables = static_cast<int>(r.get_int64(i, 1));
        q.cur_table = static_cast<int>(r.get_int64(i, 2));
        q.rotation_period = std::chrono::microseconds(r.get_int64(i, 3));
        q.switch_time = from_epoch_micros(r.get_int64(i, 4));
        q.external_ticker = r.get_bool(i, 5);
        q.ticker_paused = r.get_bool(i, 6);
        q.ticker_max_count = r.get_int64(i, 7);
        q.ticker_max_lag = std::chrono::microseconds(r.get_int64(i, 8));
        q.ticker_idle_period = std::chrono::microseconds(r.get_int64(i, 9));
        q.ticker_lag = micros(r, i, 10);
        if (!r.is_null(i, 11)) q.ev_per_sec = detail::parse_double(r.get(i, 11));
        q.ev_new = r.is_null(i, 12) ? 0 : r.get_int64(i, 12);
        q.last_tick_id = r.get_optional_int64(i, 13);
        out.push_back(std::move(q));
    }
    return out;
}

constexpr const char* k_consumer_info_columns =
    "select queue_name, consumer_name, " PGQUE_MICROS("lag") ", " PGQUE_MICROS("last_seen") ","
    " last_tick, current_batch, next_tick, pending_events, " PGQUE_MICROS("pending_age") ", paused";

std::vector<consumer_info> consumer_info_rows(const result& r) {
    std::vector<consumer_info> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        consumer_info c;
        c.queue_name = std::string(r.get(i, 0));
        c.consumer_name = std::string(r.get(i, 1));
        c.lag = micros(r, i, 2);
        c.last_seen = micros(r, i, 3);
        c.last_tick = r.get_optional_int64(i, 4);
        c.current_batch = r.get_optional_int64(i, 5);
        c.next_tick = r.get_optional_int64(i, 6);
        c.pending_events = r.get_optional_int64(i, 7);
        c.pending_age = micros(r, i, 8);
        c.paused = !r.is_null(i, 9) && r.get_bool(i, 9);
        out.push_back(std::move(c));
    }
    return out;
}

// get_queue_config() gives every value as text; the intervals among them
// (their text depends on IntervalStyle) also come as microseconds.
constexpr const char* k_queue_config_columns =
    "select queue_name, param, value,"
    " case when param in ('ticker_max_lag', 'ticker_idle_period', 'rotation_period', 'delivery_delay',"
    "                     'retry_delay', 'retry_max_delay', 'message_ttl')"
    "      then " PGQUE_MICROS("value::interval") " end";

// bool::text is "true"/"false"
bool config_bool(std::string_view text) { return text == "true" || text == "t"; }

void apply_setting(queue_config& c, std::string_view param, const std::optional<std::string>& value,
                   std::optional<std::int64_t> us) {
    std::optional<std::chrono::microseconds> d;
    if (us) d = std::chrono::microseconds(*us);
    if (param == "delivery_delay") c.delivery_delay = d;
    else if (param == "message_ttl") c.message_ttl = d;
    else if (!value) return;  // NULL where the type has no "none": keep the default
    else if (param == "ticker_max_count") c.ticker_max_count = detail::parse_int64(*value);
    else if (param == "ticker_max_lag") c.ticker_max_lag = d.value_or(c.ticker_max_lag);
    else if (param == "ticker_idle_period") c.ticker_idle_period = d.value_or(c.ticker_idle_period);
    else if (param == "ticker_paused") c.ticker_paused = config_bool(*value);
    else if (param == "rotation_period") c.rotation_period = d.value_or(c.rotation_period);
    else if (param == "external_ticker") c.external_ticker = config_bool(*value);
    else if (param == "max_retries") c.max_retries = static_cast<std::int32_t>(detail::parse_int64(*value));
    else if (param == "restricted") c.restricted = config_bool(*value);
    else if (param == "retry_delay") c.retry_delay = d.value_or(c.retry_delay);
    else if (param == "retry_backoff") c.retry_backoff = *value;
    else if (param == "retry_max_delay") c.retry_max_delay = d.value_or(c.retry_max_delay);
    else if (param == "retry_jitter") c.retry_jitter = detail::parse_double(*value);
    else if (param == "expired_action") c.expired_action = *value;
    else if (param == "paused") c.paused = config_bool(*value);
    // a setting of a newer extension: not in this struct
}

// One queue_config per queue, in the order the queues first appear.
std::vector<queue_config> queue_config_rows(const result& r) {
    std::vector<queue_config> out;
    for (int i = 0; i < r.rows(); ++i) {
        std::string_view name = r.get(i, 0);
        auto it = std::find_if(out.rbegin(), out.rend(), [&](const queue_config& c) { return c.queue_name == name; });
        queue_config* c = nullptr;
        if (it != out.rend()) {
            c = &*it;
        } else {
            out.emplace_back();
            c = &out.back();
            c->queue_name = std::string(name);
        }
        apply_setting(*c, r.get(i, 1), r.get_optional(i, 2), r.get_optional_int64(i, 3));
    }
    return out;
}

constexpr const char* k_delayed_info_columns =
    "select queue_name, delayed, " PGQUE_MICROS("next_delivery") ", retries, " PGQUE_MICROS("next_retry");

std::optional<std::chrono::system_clock::time_point> time_opt(const result& r, int row, int col) {
    auto v = r.get_optional_int64(row, col);
    if (!v) return std::nullopt;
    return from_epoch_micros(*v);
}

std::vector<delayed_info> delayed_info_rows(const result& r) {
    std::vector<delayed_info> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        delayed_info d;
        d.queue_name = std::string(r.get(i, 0));
        d.delayed = r.get_int64(i, 1);
        d.next_delivery = time_opt(r, i, 2);
        d.retries = r.get_int64(i, 3);
        d.next_retry = time_opt(r, i, 4);
        out.push_back(std::move(d));
    }
    return out;
}

constexpr const char* k_message_state =
    "select consumer, state, member, batch_id, " PGQUE_MICROS("since") ", " PGQUE_MICROS("due_at") ","
    " attempt, reason, dead_letter_id, detail from pgque.message_state($1::text, $2::int8)";

std::vector<message_state> message_state_rows(const result& r) {
    std::vector<message_state> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        message_state m;
        m.consumer = r.get_optional(i, 0);
        m.state = std::string(r.get(i, 1));
        m.member = r.get_optional(i, 2);
        m.batch_id = r.get_optional_int64(i, 3);
        m.since = time_opt(r, i, 4);
        m.due_at = time_opt(r, i, 5);
        if (auto a = r.get_optional_int64(i, 6)) m.attempt = static_cast<std::int32_t>(*a);
        m.reason = r.get_optional(i, 7);
        m.dead_letter_id = r.get_optional_int64(i, 8);
        m.detail = r.get_optional(i, 9).value_or("");
        out.push_back(std::move(m));
    }
    return out;
}

constexpr const char* k_schedule_info_columns =
    "select schedule_name, queue_name, spec, type, payload, " PGQUE_MICROS("next_run") ", " PGQUE_MICROS(
        "last_run") ", last_msg_id, runs, missed, paused, last_error";

std::vector<schedule_info> schedule_info_rows(const result& r) {
    std::vector<schedule_info> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        schedule_info s;
        s.schedule_name = std::string(r.get(i, 0));
        s.queue_name = std::string(r.get(i, 1));
        s.spec = std::string(r.get(i, 2));
        s.type = std::string(r.get(i, 3));
        if (!r.is_null(i, 4)) s.payload = std::string(r.get(i, 4));
        s.next_run = time_opt(r, i, 5);
        s.last_run = time_opt(r, i, 6);
        s.last_msg_id = r.get_optional_int64(i, 7);
        s.runs = r.get_int64(i, 8);
        s.missed = r.get_int64(i, 9);
        s.paused = r.get_bool(i, 10);
        if (!r.is_null(i, 11)) s.last_error = std::string(r.get(i, 11));
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

client::client(const std::string& conninfo) : m_conn(conninfo) {}

client::client(PGconn* conn) : m_conn(pgque::connection::wrap(conn)) {}

client::client(pgque::connection conn) noexcept : m_conn(std::move(conn)) {}

// ------------------------------------------------------------- produce

std::int64_t client::send(std::string_view queue, std::string_view payload) {
    return single_int64(run(m_conn, k_send, {str(queue), str(payload)}));
}

std::int64_t client::send(std::string_view queue, std::string_view type, std::string_view payload) {
    return single_int64(run(m_conn, k_send_typed, {str(queue), str(type), str(payload)}));
}

std::int64_t client::send_json(std::string_view queue, std::string_view type, std::string_view json) {
    return single_int64(run(m_conn, k_send_json, {str(queue), str(type), str(json)}));
}

std::int64_t client::send(std::string_view queue, std::string_view type, std::string_view payload,
                          const send_options& options) {
    return single_int64(run(m_conn, k_send_opts,
                            {str(queue), str(type), str(payload), num(options.priority), options.dedup_key,
                             options.label, options.attributes}));
}

std::int64_t client::send_json(std::string_view queue, std::string_view type, std::string_view json,
                               const send_options& options) {
    return single_int64(run(m_conn, k_send_json_opts,
                            {str(queue), str(type), str(json), num(options.priority), options.dedup_key,
                             options.label, options.attributes}));
}

namespace {

std::vector<std::int64_t> id_array(const result& r) {
    if (r.rows() != 1 || r.is_null(0, 0)) throw failure("pgque: expected an id array from the server");
    return detail::parse_int64_array(r.get(0, 0));
}

}  // namespace

std::vector<std::int64_t> client::send_batch(std::string_view queue, const std::vector<std::string>& payloads) {
    return id_array(run(m_conn, k_send_batch, {str(queue), detail::array_literal(payloads)}));
}

std::vector<std::int64_t> client::send_batch(std::string_view queue, std::string_view type,
                                             const std::vector<std::string>& payloads) {
    return id_array(run(m_conn, k_send_batch_typed, {str(queue), str(type), detail::array_literal(payloads)}));
}

std::vector<std::int64_t> client::send_batch_json(std::string_view queue, std::string_view type,
                                                  const std::vector<std::string>& payloads) {
    return id_array(run(m_conn, k_send_batch_json, {str(queue), str(type), detail::array_literal(payloads)}));
}

std::vector<std::int64_t> client::send_batch(std::string_view queue, std::string_view type,
                                             const std::vector<std::string>& payloads, const send_options& options) {
    if (options.dedup_key)
        throw usage_error("pgque: send_batch takes no dedup_key; send keyed events one by one");
    if (options.label || options.attributes)
        throw usage_error("pgque: send_batch takes no label or attributes; send such events one by one");
    return id_array(
        run(m_conn, k_send_batch_opts, {str(queue), str(type), detail::array_literal(payloads), num(options.priority)}));
}

std::int64_t client::send(std::string_view queue, std::string_view type, std::string_view payload,
                          int priority) {
    return send(queue, type, payload, send_options{priority, std::nullopt, std::nullopt, std::nullopt});
}

std::int64_t client::send_json(std::string_view queue, std::string_view type, std::string_view json,
                               int priority) {
    return send_json(queue, type, json, send_options{priority, std::nullopt, std::nullopt, std::nullopt});
}

std::vector<std::int64_t> client::send_batch(std::string_view queue, std::string_view type,
                                             const std::vector<std::string>& payloads, int priority) {
    return send_batch(queue, type, payloads, send_options{priority, std::nullopt, std::nullopt, std::nullopt});
}

std::vector<std::int64_t> client::send_batch_json(std::string_view queue, std::string_view type,
                                                  const std::vector<std::string>& payloads, int priority) {
    return id_array(run(m_conn, k_send_batch_json_prio,
                        {str(queue), str(type), detail::array_literal(payloads), num(priority)}));
}

// ------------------------------------------------- delayed delivery

namespace {

std::string at_param(std::chrono::system_clock::time_point t) { return num(detail::to_epoch_micros(t)); }

}  // namespace

std::int64_t client::send_at(std::string_view queue, std::string_view payload,
                             std::chrono::system_clock::time_point deliver_at) {
    return single_int64(run(m_conn, k_send_at, {str(queue), str(payload), at_param(deliver_at)}));
}

std::int64_t client::send_at(std::string_view queue, std::string_view type, std::string_view payload,
                             std::chrono::system_clock::time_point deliver_at) {
    return single_int64(run(m_conn, k_send_at_typed, {str(queue), str(type), str(payload), at_param(deliver_at)}));
}

std::int64_t client::send_json_at(std::string_view queue, std::string_view type, std::string_view json,
                                  std::chrono::system_clock::time_point deliver_at) {
    return single_int64(run(m_conn, k_send_json_at, {str(queue), str(type), str(json), at_param(deliver_at)}));
}

std::vector<std::int64_t> client::send_batch_at(std::string_view queue, const std::vector<std::string>& payloads,
                                                std::chrono::system_clock::time_point deliver_at) {
    return id_array(
        run(m_conn, k_send_batch_at, {str(queue), detail::array_literal(payloads), at_param(deliver_at)}));
}

std::vector<std::int64_t> client::send_batch_at(std::string_view queue, std::string_view type,
                                                const std::vector<std::string>& payloads,
                                                std::chrono::system_clock::time_point deliver_at) {
    return id_array(run(m_conn, k_send_batch_at_typed,
                        {str(queue), str(type), detail::array_literal(payloads), at_param(deliver_at)}));
}

std::vector<std::int64_t> client::send_batch_json_at(std::string_view queue, std::string_view type,
                                                     const std::vector<std::string>& payloads,
                                                     std::chrono::system_clock::time_point deliver_at) {
    return id_array(run(m_conn, k_send_batch_json_at,
                        {str(queue), str(type), detail::array_literal(payloads), at_param(deliver_at)}));
}

std::int64_t client::send_in(std::string_view queue, std::string_view payload, std::chrono::microseconds delay) {
    return single_int64(run(m_conn, k_send_in, {str(queue), str(payload), detail::micros_param(delay)}));
}

std::int64_t client::send_in(std::string_view queue, std::string_view type, std::string_view payload,
                             std::chrono::microseconds delay) {
    return single_int64(
        run(m_conn, k_send_in_typed, {str(queue), str(type), str(payload), detail::micros_param(delay)}));
}

std::int64_t client::send_json_in(std::string_view queue, std::string_view type, std::string_view json,
                                  std::chrono::microseconds delay) {
    return single_int64(
        run(m_conn, k_send_json_in, {str(queue), str(type), str(json), detail::micros_param(delay)}));
}

std::vector<std::int64_t> client::send_batch_in(std::string_view queue, const std::vector<std::string>& payloads,
                                                std::chrono::microseconds delay) {
    return id_array(
        run(m_conn, k_send_batch_in, {str(queue), detail::array_literal(payloads), detail::micros_param(delay)}));
}

std::vector<std::int64_t> client::send_batch_in(std::string_view queue, std::string_view type,
                                                const std::vector<std::string>& payloads,
                                                std::chrono::microseconds delay) {
    return id_array(run(m_conn, k_send_batch_in_typed,
                        {str(queue), str(type), detail::array_literal(payloads), detail::micros_param(delay)}));
}

std::vector<std::int64_t> client::send_batch_json_in(std::string_view queue, std::string_view type,
                                                     const std::vector<std::string>& payloads,
                                                     std::chrono::microseconds delay) {
    return id_array(run(m_conn, k_send_batch_json_in,
                        {str(queue), str(type), detail::array_literal(payloads), detail::micros_param(delay)}));
}

// ------------------------------------------------------------- consume

bool client::subscribe(std::string_view queue, std::string_view consumer) {
    return single_int64(m_conn.exec("select pgque.subscribe($1::text, $2::text)", {str(queue), str(consumer)})) == 1;
}

void client::set_filter(std::string_view queue, std::string_view consumer,
                        const std::optional<std::vector<std::string>>& types,
                        const std::optional<std::vector<std::string>>& labels) {
    auto literal = [](const std::optional<std::vector<std::string>>& items) -> std::optional<std::string> {
        if (!items) return std::nullopt;
        return detail::array_literal(*items);
    };
    static_cast<void>(m_conn.exec("select pgque.set_filter($1::text, $2::text, $3::text[], $4::text[])",
                                  {str(queue), str(consumer), literal(types), literal(labels)}));
}

bool client::unsubscribe(std::string_view queue, std::string_view consumer) {
    return single_int64(m_conn.exec("select pgque.unsubscribe($1::text, $2::text)", {str(queue), str(consumer)})) == 1;
}

namespace {

batch batch_of(const result& r) {
    batch out;
    out.messages.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        message m;
        m.msg_id = r.get_int64(i, 0);
        m.batch_id = r.get_int64(i, 1);
        m.type = std::string(r.get(i, 2));
        m.payload = r.get_optional(i, 3);
        m.retry_count = int32_opt(r, i, 4);
        m.created_at = from_epoch_micros(r.get_int64(i, 5));
        m.extra1 = r.get_optional(i, 6);
        m.extra2 = r.get_optional(i, 7);
        m.extra3 = r.get_optional(i, 8);
        m.extra4 = r.get_optional(i, 9);
        out.messages.push_back(std::move(m));
    }
    if (!out.messages.empty()) out.id = out.messages.front().batch_id;
    return out;
}

}  // namespace

batch client::receive(std::string_view queue, std::string_view consumer, int max_messages) {
    return batch_of(run(m_conn, k_receive, {str(queue), str(consumer), num(max_messages)}));
}

batch client::receive_coop(std::string_view queue, std::string_view consumer, std::string_view subconsumer,
                           int max_messages, std::optional<std::chrono::milliseconds> dead_interval) {
    std::optional<std::string> dead;
    if (dead_interval) dead = num(dead_interval->count());
    return batch_of(run(m_conn, k_receive_coop,
                        {str(queue), str(consumer), str(subconsumer), num(max_messages), dead}));
}

bool client::subscribe_subconsumer(std::string_view queue, std::string_view consumer,
                                   std::string_view subconsumer, bool convert_normal) {
    return single_int64(m_conn.exec("select pgque.subscribe_subconsumer($1::text, $2::text, $3::text, $4::bool)",
                                    {str(queue), str(consumer), str(subconsumer),
                                     std::string(convert_normal ? "true" : "false")})) == 1;
}

bool client::unsubscribe_subconsumer(std::string_view queue, std::string_view consumer,
                                     std::string_view subconsumer, bool retry_open_batch) {
    return single_int64(m_conn.exec("select pgque.unsubscribe_subconsumer($1::text, $2::text, $3::text, $4::int4)",
                                    {str(queue), str(consumer), str(subconsumer),
                                     std::string(retry_open_batch ? "1" : "0")})) == 1;
}

bool client::touch_subconsumer(std::string_view queue, std::string_view consumer, std::string_view subconsumer) {
    return single_int64(m_conn.exec("select pgque.touch_subconsumer($1::text, $2::text, $3::text)",
                                    {str(queue), str(consumer), str(subconsumer)})) == 1;
}

bool client::ack(std::int64_t batch_id) {
    return single_int64(run(m_conn, k_ack, {num(batch_id)})) == 1;
}

void client::nack(std::int64_t batch_id, const message& msg, std::optional<std::chrono::milliseconds> retry_after,
                  std::optional<std::string_view> reason) {
    nack(batch_id, msg.msg_id, retry_after, reason);
}

void client::nack(std::int64_t batch_id, std::int64_t msg_id, std::optional<std::chrono::milliseconds> retry_after,
                  std::optional<std::string_view> reason) {
    std::optional<std::string> after;
    if (retry_after) after = num(retry_after->count());
    std::optional<std::string> why;
    if (reason) why = str(*reason);
    static_cast<void>(run(m_conn, k_nack, {num(batch_id), num(msg_id), after, why}));
}

// ------------------------------------------------------------- pausing

bool client::pause_queue(std::string_view queue) {
    return single_int64(m_conn.exec("select pgque.pause_queue($1::text)", {str(queue)})) == 1;
}

bool client::resume_queue(std::string_view queue) {
    return single_int64(m_conn.exec("select pgque.resume_queue($1::text)", {str(queue)})) == 1;
}

bool client::pause_consumer(std::string_view queue, std::string_view consumer) {
    return single_int64(
               m_conn.exec("select pgque.pause_consumer($1::text, $2::text)", {str(queue), str(consumer)})) == 1;
}

bool client::resume_consumer(std::string_view queue, std::string_view consumer) {
    return single_int64(
               m_conn.exec("select pgque.resume_consumer($1::text, $2::text)", {str(queue), str(consumer)})) == 1;
}

// ------------------------------------------------------------ schedules

bool client::schedule(std::string_view name, std::string_view queue, std::string_view spec, std::string_view type,
                      std::optional<std::string_view> payload) {
    std::optional<std::string> p;
    if (payload) p = str(*payload);
    return single_int64(m_conn.exec("select pgque.schedule($1::text, $2::text, $3::text, $4::text, $5::text)",
                                    {str(name), str(queue), str(spec), str(type), p})) == 1;
}

bool client::schedule_json(std::string_view name, std::string_view queue, std::string_view spec,
                           std::string_view type, std::string_view json) {
    return single_int64(m_conn.exec("select pgque.schedule($1::text, $2::text, $3::text, $4::text, $5::jsonb)",
                                    {str(name), str(queue), str(spec), str(type), str(json)})) == 1;
}

bool client::unschedule(std::string_view name) {
    return single_int64(m_conn.exec("select pgque.unschedule($1::text)", {str(name)})) == 1;
}

bool client::pause_schedule(std::string_view name) {
    return single_int64(m_conn.exec("select pgque.pause_schedule($1::text)", {str(name)})) == 1;
}

bool client::resume_schedule(std::string_view name) {
    return single_int64(m_conn.exec("select pgque.resume_schedule($1::text)", {str(name)})) == 1;
}

// -------------------------------------------------------------- admin

bool client::create_queue(std::string_view queue) {
    return single_int64(m_conn.exec("select pgque.create_queue($1::text)", {str(queue)})) == 1;
}

void client::drop_queue(std::string_view queue, bool force) {
    static_cast<void>(m_conn.exec("select pgque.drop_queue($1::text, $2::bool)",
                                  {str(queue), std::string(force ? "true" : "false")}));
}

void client::set_queue_config(std::string_view queue, std::string_view param,
                              std::optional<std::string_view> value) {
    std::optional<std::string> v;
    if (value) v = str(*value);
    static_cast<void>(m_conn.exec("select pgque.set_queue_config($1::text, $2::text, $3::text)",
                                  {str(queue), str(param), v}));
}

std::int64_t client::ticker() { return single_int64(m_conn.exec("select pgque.ticker()")); }

std::optional<std::int64_t> client::ticker(std::string_view queue) {
    result r = m_conn.exec("select pgque.ticker($1::text)", {str(queue)});
    return r.get_optional_int64(0, 0);
}

int client::maint_retry_events() {
    return static_cast<int>(single_int64(m_conn.exec("select pgque.maint_retry_events()")));
}

int client::maint() { return static_cast<int>(single_int64(m_conn.exec("select pgque.maint()"))); }

// ------------------------------------------------------------ observe

namespace {
// The one row an info function returns for one queue (or consumer).
template <class Row>
Row only_row(std::vector<Row> rows, const char* function) {
    if (rows.size() != 1) {
        throw failure(std::string("pgque: ") + function + " returned " + std::to_string(rows.size()) + " rows");
    }
    return std::move(rows.front());
}
}  // namespace

std::vector<queue_info> client::queue_info() {
    return queue_info_rows(m_conn.exec(std::string(k_queue_info_columns) + " from pgque.get_queue_info()"));
}

queue_info client::queue_info(std::string_view queue) {
    return only_row(queue_info_rows(m_conn.exec(
                        std::string(k_queue_info_columns) + " from pgque.get_queue_info($1::text)", {str(queue)})),
                    "get_queue_info");
}

std::vector<queue_config> client::queue_config() {
    return queue_config_rows(m_conn.exec(std::string(k_queue_config_columns) + " from pgque.get_queue_config()"));
}

queue_config client::queue_config(std::string_view queue) {
    return only_row(queue_config_rows(m_conn.exec(
                        std::string(k_queue_config_columns) + " from pgque.get_queue_config($1::text)", {str(queue)})),
                    "get_queue_config");
}

std::vector<delayed_info> client::delayed_info() {
    return delayed_info_rows(m_conn.exec(std::string(k_delayed_info_columns) + " from pgque.get_delayed_info()"));
}

delayed_info client::delayed_info(std::string_view queue) {
    return only_row(delayed_info_rows(m_conn.exec(
                        std::string(k_delayed_info_columns) + " from pgque.get_delayed_info($1::text)", {str(queue)})),
                    "get_delayed_info");
}

std::vector<schedule_info> client::schedule_info() {
    return schedule_info_rows(m_conn.exec(std::string(k_schedule_info_columns) + " from pgque.get_schedule_info()"));
}

schedule_info client::schedule_info(std::string_view name) {
    return only_row(schedule_info_rows(m_conn.exec(std::string(k_schedule_info_columns) +
                                                       " from pgque.get_schedule_info($1::text)",
                                                   {str(name)})),
                    "get_schedule_info");
}

std::vector<consumer_info> client::consumer_info() {
    return consumer_info_rows(m_conn.exec(std::string(k_consumer_info_columns) + " from pgque.get_consumer_info()"));
}

std::vector<consumer_info> client::consumer_info(std::string_view queue) {
    return consumer_info_rows(m_conn.exec(
        std::string(k_consumer_info_columns) + " from pgque.get_consumer_info($1::text)", {str(queue)}));
}

consumer_info client::consumer_info(std::string_view queue, std::string_view consumer) {
    return only_row(consumer_info_rows(m_conn.exec(std::string(k_consumer_info_columns) +
                                                       " from pgque.get_consumer_info($1::text, $2::text)",
                                                   {str(queue), str(consumer)})),
                    "get_consumer_info");
}

std::vector<message_state> client::message_state(std::string_view queue, std::int64_t msg_id) {
    return message_state_rows(m_conn.exec(k_message_state, {str(queue), num(msg_id)}));
}

std::vector<status_row> client::status() {
    result r = m_conn.exec("select component, status, detail from pgque.status()");
    std::vector<status_row> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1)), std::string(r.get(i, 2))});
    }
    return out;
}

std::string client::version() {
    result r = m_conn.exec("select pgque.version()");
    if (r.rows() != 1) throw failure("pgque: expected one row from pgque.version()");
    return std::string(r.get(0, 0));
}

std::string client::metrics() {
    result r = m_conn.exec("select pgque.metrics()");
    if (r.rows() != 1) throw failure("pgque: expected one row from pgque.metrics()");
    return std::string(r.get(0, 0));
}

// -------------------------------------------------------- dead letters

std::vector<dead_letter> client::dlq_inspect(std::string_view queue, int limit) {
    result r = m_conn.exec(
        "select d.dl_id, c.co_name, " PGQUE_MICROS("d.dl_time") ", d.dl_reason, d.ev_id, "
        PGQUE_MICROS("d.ev_time") ", d.ev_retry, d.ev_type, d.ev_data,"
        " d.ev_extra1, d.ev_extra2, d.ev_extra3, d.ev_extra4"
        " from pgque.dlq_inspect($1::text, $2::int4) with ordinality d"
        " left join pgque.consumer c on c.co_id = d.dl_consumer_id"
        " order by d.ordinality",
        {str(queue), num(limit)});
    std::vector<dead_letter> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        dead_letter d;
        d.dl_id = r.get_int64(i, 0);
        d.consumer_name = std::string(r.get(i, 1));
        d.dl_time = from_epoch_micros(r.get_int64(i, 2));
        d.reason = r.get_optional(i, 3);
        d.ev_id = r.get_int64(i, 4);
        d.ev_time = from_epoch_micros(r.get_int64(i, 5));
        d.ev_retry = int32_opt(r, i, 6);
        d.ev_type = r.get_optional(i, 7);
        d.ev_data = r.get_optional(i, 8);
        d.ev_extra1 = r.get_optional(i, 9);
        d.ev_extra2 = r.get_optional(i, 10);
        d.ev_extra3 = r.get_optional(i, 11);
        d.ev_extra4 = r.get_optional(i, 12);
        out.push_back(std::move(d));
    }
    return out;
}

std::int64_t client::dlq_replay(std::int64_t dead_letter_id) {
    return single_int64(m_conn.exec("select pgque.dlq_replay($1::int8)", {num(dead_letter_id)}));
}

replay_result client::dlq_replay_all(std::string_view queue) {
    result r = m_conn.exec("select replayed, failed, first_error from pgque.dlq_replay_all($1::text)", {str(queue)});
    if (r.rows() != 1) throw failure("pgque: expected one row from pgque.dlq_replay_all()");
    replay_result out;
    out.replayed = r.get_int64(0, 0);
    out.failed = r.get_int64(0, 1);
    out.first_error = r.get_optional(0, 2);
    return out;
}

int client::dlq_purge(std::string_view queue, std::chrono::microseconds older_than) {
    return static_cast<int>(single_int64(
        m_conn.exec("select pgque.dlq_purge($1::text, $2::int8 * interval '1 microsecond')",
                    {str(queue), num(older_than.count())})));
}

}  // namespace pgque
