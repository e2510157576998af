// /v1/queues: list, create (with settings), info, drop.
#include "api.hpp"

namespace pgque::serve {

namespace {

// a JSON setting value as set_queue_config() takes it: text, or null
std::optional<std::string> setting_text(const std::string& key, const json& v) {
    if (v.is_null()) return std::nullopt;
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number() || v.is_boolean()) return v.dump();
    throw api_error(422, "setting \"" + key + "\" must be a string, a number, a boolean or null", "22023");
}

// one queue: its row of get_queue_info(), its settings, its consumers
json queue_json(pgque::connection& conn, const std::string& queue) {
    auto r = conn.exec(
        "select json_build_object("
        " 'queue', (select row_to_json(i) from pgque.get_queue_info($1) i),"
        " 'config', (select json_object_agg(c.param, c.value) from pgque.get_queue_config($1) c),"
        " 'consumers', (select coalesce(json_agg(c), '[]') from pgque.get_consumer_info($1) c))",
        {queue});
    return json::parse(r.get(0, 0));
}

}  // namespace

void add_queue_routes(httplib::Server& server, api& a) {
    server.Get("/v1/queues", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [](pgque::connection& conn, int) {
            auto r = conn.exec("select coalesce(json_agg(i order by i.queue_name), '[]') from pgque.get_queue_info() i");
            return reply{200, {{"queues", json::parse(r.get(0, 0))}}};
        });
    });

    // {"name": "orders", "config": {"max_retries": 3, "delivery_delay": "5 seconds", ...}}
    server.Post("/v1/queues", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            json in = body_json(req);
            if (!in.is_object() || !in.contains("name") || !in["name"].is_string())
                throw api_error(422, "a queue needs a \"name\" (a string)", "22023");
            const std::string name = in["name"];
            if (in.contains("config") && !in["config"].is_object())
                throw api_error(422, "\"config\" must be an object of queue settings", "22023");
            if (conn.exec("select pgque.create_queue($1)", {name}).get_int64(0, 0) == 0)
                throw api_error(409, "queue already exists: " + name, "42710");
            const json config = in.value("config", json::object());
            for (const auto& [key, value] : config.items())
                (void) conn.exec("select pgque.set_queue_config($1, $2, $3)", {name, key, setting_text(key, value)});
            return reply{201, queue_json(conn, name)};
        });
    });

    server.Get(R"(/v1/queues/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) { return reply{200, queue_json(conn, req.matches[1])}; });
    });

    // ?force=true drops a queue that still has consumers
    server.Delete(R"(/v1/queues/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            const bool force = req.get_param_value("force") == "true";
            (void) conn.exec("select pgque.drop_queue($1, $2)", {std::string(req.matches[1]), force ? "true" : "false"});
            return reply{204, nullptr};
        });
    });
}

}  // namespace pgque::serve
