// Consuming over HTTP: leased messages (extension/47_lease.sql).
//
//   GET  /v1/queues/{q}/messages?consumer=C&limit=N&wait=10s&lease=30s&label=L&type=T
//   POST /v1/queues/{q}/messages/{id}/ack     {"consumer", "lease"}
//   POST /v1/queues/{q}/messages/{id}/nack    {"consumer", "lease", "delay", "reason"}
//   POST /v1/queues/{q}/messages/{id}/extend  {"consumer", "lease", "extend"}
//   POST /v1/queues/{q}/messages/ack          {"consumer", "messages": [{"id", "lease"}]}
//
// A GET receives as member "http" of cooperative consumer C, leases what it
// hands out and acknowledges the batch in the same transaction: a message
// is settled only by its own ack, and
// one not acked by its deadline (the queue's ack_deadline, or `lease`) is
// delivered again. One member for every request (and every server): the
// receives of one consumer take its lock in turn whatever the member, and
// what a receive leaves of a window (more than `limit`) stays in the
// member's open batch, which the next request, on any connection, goes on
// with. (A member per pooled connection stranded such a rest until a
// request happened to run on that connection again.) With `wait`, a GET that finds nothing waits for the
// queue's next tick (notifier.hpp) without holding a connection.
#include "api.hpp"

namespace pgque::serve {

namespace {

constexpr long long max_wait_ms = 300000;
constexpr const char* member = "http";

std::optional<std::string> interval_of_ms(const std::optional<long long>& ms) {
    if (!ms) return std::nullopt;
    return std::to_string(*ms) + " milliseconds";
}

// The values of a repeated query parameter (?label=a&label=b); none: nullopt.
std::optional<std::string> list_param(const httplib::Request& req, const char* name) {
    const std::size_t n = req.get_param_value_count(name);
    if (n == 0) return std::nullopt;
    std::vector<std::string> items;
    for (std::size_t i = 0; i < n; i++) {
        items.push_back(req.get_param_value(name, i));
        if (items.back().empty()) throw api_error(422, std::string(name) + " must not be empty", "22023");
    }
    return array_literal(items);
}

// A request with types or labels: consumer C takes exactly those (set on the
// request that creates it), or 409 -- a filter belongs to the consumer, and
// requests that asked for different ones would pass each other's messages over.
void check_filter(pgque::connection& conn, const std::string& queue, const std::string& consumer,
                  const std::optional<std::string>& types, const std::optional<std::string>& labels) {
    // same: the filter asked for; unset: C has none (maybe just made)
    auto current = [&] {
        return conn.exec(
            "select s.sub_types is not distinct from (select array_agg(distinct t order by t) from unnest($3::text[]) t)"
            "   and s.sub_labels is not distinct from (select array_agg(distinct l order by l) from unnest($4::text[]) l),"
            "       s.sub_types is null and s.sub_labels is null,"
            "       coalesce(s.sub_types::text, 'any'), coalesce(s.sub_labels::text, 'any')"
            "  from pgque.subscriber s join pgque.queue q on q.queue_id = s.sub_queue"
            "  join pgque.consumer c on c.co_id = s.sub_consumer"
            " where q.queue_name = $1 and c.co_name = $2",
            {queue, consumer, types, labels});
    };
    auto r = current();
    if (r.rows() == 0) {
        // make C; a request making it at the same time commits first (the
        // subscription's key makes us wait), and then we see its filter
        conn.exec("select pgque.register_subconsumer($1, $2, $3)", {queue, consumer, member});
        r = current();
        if (r.rows() == 1 && r.get_bool(0, 1)) {
            conn.exec("select pgque.set_filter($1, $2, $3::text[], $4::text[])", {queue, consumer, types, labels});
            return;
        }
    }
    if (r.rows() != 1 || !r.get_bool(0, 0))
        throw api_error(409,
                        "consumer \"" + consumer + "\" of queue \"" + queue + "\" takes types " +
                            std::string(r.rows() == 1 ? r.get(0, 2) : "?") + " and labels " +
                            std::string(r.rows() == 1 ? r.get(0, 3) : "?") + ", not what this request asks for",
                        "42710", "use another consumer name for another filter");
}

// label and attributes (ev_extra1, ev_extra2) of each message as send()
// stores them; attributes that are not a JSON object (an event a PgQ
// producer wrote) come back as null
void add_labels(json& messages) {
    for (auto& m : messages) {
        json attributes = nullptr;
        if (m["extra2"].is_string()) {
            json parsed = json::parse(m["extra2"].get<std::string>(), nullptr, false);
            if (parsed.is_object()) attributes = std::move(parsed);
        }
        m.erase("extra2");
        m["attributes"] = std::move(attributes);
    }
}

// one receive_leased call; the messages as JSON
json receive(pgque::connection& conn, const std::string& queue, const std::string& consumer, int limit,
             const std::optional<std::string>& lease) {
    auto r = conn.exec(
        "select coalesce(json_agg(json_build_object("
        "  'id', m.msg_id, 'lease', m.batch_id, 'type', m.type, 'body', m.payload,"
        "  'label', m.extra1, 'extra2', m.extra2,"
        "  'retry_count', coalesce(m.retry_count, 0), 'created_at', m.created_at,"
        "  'lease_expires_at', now() + coalesce($5::interval,"
        "      (select c.value::interval from pgque.get_queue_config($1) c where c.param = 'ack_deadline')))"
        "  order by m.n), '[]')"
        " from pgque.receive_leased($1, $2, $3, $4::int, $5::interval) with ordinality"
        "      m(msg_id, batch_id, type, payload, retry_count, created_at, extra1, extra2, extra3, extra4, n)",
        {queue, consumer, member, std::to_string(limit), lease});
    json messages = json::parse(r.get(0, 0));
    add_labels(messages);
    return messages;
}

api_error lease_gone(const std::string& id) {
    return api_error(409, "the lease of message " + id + " is gone: it was acked or nacked, or delivered again",
                     {}, "receive the message again");
}

}  // namespace

void add_consume_routes(httplib::Server& server, api& a) {
    server.Get(R"(/v1/queues/([^/]+)/messages)", [&a](const httplib::Request& req, httplib::Response& res) {
        try {
            auto role = a.role(req);
            const std::string queue = req.matches[1];
            const std::string consumer = req.get_param_value("consumer");
            if (consumer.empty()) throw api_error(422, "the consumer is missing: ?consumer=NAME", "22023");
            long long limit = 10;
            if (req.has_param("limit")) {
                try {
                    limit = std::stoll(req.get_param_value("limit"));
                } catch (const std::exception&) {
                    limit = 0;
                }
                if (limit < 1 || limit > 1000) throw api_error(422, "limit must be from 1 to 1000", "22023");
            }
            const long long wait = req.has_param("wait") ? duration_ms("wait", req.get_param_value("wait")) : 0;
            if (wait > max_wait_ms) throw api_error(422, "wait must be at most 300s", "22023");
            const auto lease = interval_of_ms(req.has_param("lease") ? std::optional<long long>(duration_ms(
                                                                           "lease", req.get_param_value("lease")))
                                                                     : std::nullopt);
            const auto types = list_param(req, "type");
            const auto labels = list_param(req, "label");
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait);
            const std::string channel = "pgque_" + queue;
            for (;;) {
                const std::uint64_t seen = wait > 0 ? a.ticks().watch(channel) : 0;
                reply r = a.transaction(role, [&](pgque::connection& conn, int) {
                    if (types || labels) check_filter(conn, queue, consumer, types, labels);
                    return reply(200, {{"messages", receive(conn, queue, consumer, static_cast<int>(limit), lease)}});
                });
                if (!r.body["messages"].empty() || std::chrono::steady_clock::now() >= until) {
                    send_reply(res, r);
                    return;
                }
                // nothing yet: wait for a tick (or the end of the wait, or a shutdown)
                if (!a.ticks().wait(channel, seen, until) && std::chrono::steady_clock::now() < until) {
                    send_reply(res, r);   // shutting down: what we have, which is nothing
                    return;
                }
            }
        } catch (...) {
            send_current_error(res);
        }
    });

    server.Post(R"(/v1/queues/([^/]+)/messages/(\d+)/ack)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            json in = body_json(req);
            const std::string id = req.matches[2];
            auto r = conn.exec("select pgque.ack_message($1, $2, $3, $4)",
                               {std::string(req.matches[1]), string_field(in, "consumer"), id,
                                std::to_string(integer_field(in, "lease"))});
            if (!r.get_bool(0, 0)) throw lease_gone(id);
            return reply(204, nullptr);
        });
    });

    server.Post(R"(/v1/queues/([^/]+)/messages/(\d+)/nack)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            json in = body_json(req);
            const std::string id = req.matches[2];
            std::optional<std::string> delay;
            if (in.contains("delay") && !in["delay"].is_null())
                delay = interval_of_ms(duration_ms("delay", in["delay"].is_string() ? in["delay"].get<std::string>()
                                                                                     : in["delay"].dump()));
            std::optional<std::string> reason;
            if (in.contains("reason") && !in["reason"].is_null()) reason = string_field(in, "reason");
            auto r = conn.exec("select pgque.nack_message($1, $2, $3, $4, $5::interval, $6)",
                               {std::string(req.matches[1]), string_field(in, "consumer"), id,
                                std::to_string(integer_field(in, "lease")), delay, reason});
            if (r.is_null(0, 0)) throw lease_gone(id);
            return reply(200, {{"outcome", std::string(r.get(0, 0))}});
        });
    });

    server.Post(R"(/v1/queues/([^/]+)/messages/(\d+)/extend)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            json in = body_json(req);
            const std::string id = req.matches[2];
            if (!in.contains("extend")) throw api_error(422, "the body needs \"extend\" (a duration)", "22023");
            const auto extend = interval_of_ms(duration_ms(
                "extend", in["extend"].is_string() ? in["extend"].get<std::string>() : in["extend"].dump()));
            auto r = conn.exec("select to_json(pgque.extend_lease($1, $2, $3, $4, $5::interval))",
                               {std::string(req.matches[1]), string_field(in, "consumer"), id,
                                std::to_string(integer_field(in, "lease")), extend});
            if (r.is_null(0, 0)) throw lease_gone(id);
            return reply(200, {{"lease_expires_at", json::parse(r.get(0, 0))}});
        });
    });

    // many acks in one transaction; which were still leased and which not
    server.Post(R"(/v1/queues/([^/]+)/messages/ack)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            json in = body_json(req);
            const std::string consumer = string_field(in, "consumer");
            if (!in.contains("messages") || !in["messages"].is_array())
                throw api_error(422, "the body needs \"messages\": [{\"id\", \"lease\"}, ...]", "22023");
            for (const auto& m : in["messages"]) {
                (void) integer_field(m, "id");
                (void) integer_field(m, "lease");
            }
            auto r = conn.exec(
                "select json_build_object("
                " 'acked', coalesce(json_agg(x.id order by x.n) filter (where x.ok), '[]'),"
                " 'gone', coalesce(json_agg(x.id order by x.n) filter (where not x.ok), '[]'))"
                " from (select m.id, m.n, pgque.ack_message($1, $2, m.id, m.lease) as ok"
                "         from rows from (json_to_recordset($3::json) as (id bigint, lease bigint))"
                "              with ordinality m(id, lease, n)) x",
                {std::string(req.matches[1]), consumer, in["messages"].dump()});
            return reply(200, json::parse(r.get(0, 0)));
        });
    });
}

}  // namespace pgque::serve
