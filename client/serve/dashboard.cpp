// The web dashboard (dashboard/index.html, built into the binary) at /, and
// what it reads: GET /v1/overview -- queues, consumers and the worker's
// status in one transaction.
#include "api.hpp"
#include "dashboard.hpp"

namespace pgque::serve {

void add_dashboard_routes(httplib::Server& server, api& a) {
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(dashboard_html, "text/html; charset=utf-8");
    });
    server.Get("/v1/overview", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [](pgque::connection& conn, int) {
            auto r = conn.exec(
                "select json_build_object("
                " 'queues', (select coalesce(json_agg(i order by i.queue_name), '[]') from pgque.get_queue_info() i),"
                " 'consumers', (select coalesce(json_agg(c order by c.queue_name, c.consumer_name), '[]')"
                "                 from pgque.get_consumer_info() c),"
                " 'status', (select coalesce(json_agg(s), '[]') from pgque.status() s))");
            return reply(200, json::parse(r.get(0, 0)));
        });
    });
}

}  // namespace pgque::serve
