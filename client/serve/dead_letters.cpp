// Dead letters: list (reader), replay one or all (writer), purge (admin).
//
//   GET    /v1/queues/{q}/dead-letters?limit=N
//   POST   /v1/dead-letters/{id}/replay
//   POST   /v1/queues/{q}/dead-letters/replay
//   DELETE /v1/queues/{q}/dead-letters?older_than=30d
#include "api.hpp"

namespace pgque::serve {

void add_dead_letter_routes(httplib::Server& server, api& a) {
    server.Get(R"(/v1/queues/([^/]+)/dead-letters)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            long long limit = 100;
            if (req.has_param("limit")) {
                try {
                    limit = std::stoll(req.get_param_value("limit"));
                } catch (const std::exception&) {
                    limit = 0;
                }
                if (limit < 1 || limit > 10000) throw api_error(422, "limit must be from 1 to 10000", "22023");
            }
            auto r = conn.exec(
                "select coalesce(json_agg(json_build_object("
                "  'id', d.dl_id, 'consumer', c.co_name, 'reason', d.dl_reason, 'dead_at', d.dl_time,"
                "  'message_id', d.ev_id, 'type', d.ev_type, 'body', d.ev_data, 'retry_count', d.ev_retry,"
                "  'created_at', d.ev_time) order by d.dl_time desc, d.dl_id desc), '[]')"
                " from pgque.dlq_inspect($1, $2::int) d left join pgque.consumer c on c.co_id = d.dl_consumer_id",
                {std::string(req.matches[1]), std::to_string(limit)});
            return reply(200, {{"dead_letters", json::parse(r.get(0, 0))}});
        });
    });

    server.Post(R"(/v1/dead-letters/(\d+)/replay)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            auto r = conn.exec("select pgque.dlq_replay($1)", {std::string(req.matches[1])});
            return reply(200, {{"message_id", r.get_int64(0, 0)}});
        });
    });

    server.Post(R"(/v1/queues/([^/]+)/dead-letters/replay)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            auto r = conn.exec("select replayed, failed, first_error from pgque.dlq_replay_all($1)",
                               {std::string(req.matches[1])});
            return reply(200, {{"replayed", r.get_int64(0, 0)},
                               {"failed", r.get_int64(0, 1)},
                               {"first_error", r.is_null(0, 2) ? json() : json(std::string(r.get(0, 2)))}});
        });
    });

    server.Delete(R"(/v1/queues/([^/]+)/dead-letters)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            std::optional<std::string> older;
            if (req.has_param("older_than"))
                older = std::to_string(duration_ms("older_than", req.get_param_value("older_than"))) + " milliseconds";
            auto r = conn.exec("select pgque.dlq_purge($1, coalesce($2::interval, interval '30 days'))",
                               {std::string(req.matches[1]), older});
            return reply(200, {{"purged", r.get_int64(0, 0)}});
        });
    });
}

}  // namespace pgque::serve
