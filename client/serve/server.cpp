#include "server.hpp"

#include <chrono>
#include <thread>

#include "api.hpp"
#include "openapi.hpp"

namespace pgque::serve {

namespace {

void add_service_routes(httplib::Server& server, api& a) {
    // liveness and the database: no token needed, nothing about queues
    server.Get("/healthz", [&a](const httplib::Request&, httplib::Response& res) {
        try {
            auto conn = a.connections().borrow(std::chrono::milliseconds(2000));
            (void) conn->exec("select 1");
            send_json(res, 200, {{"status", "ok"}});
        } catch (...) {
            auto e = current_error();
            json body = e.body;
            body["status"] = "unavailable";
            send_json(res, 503, body);
        }
    });
    // pgque.metrics() as the token's role (Prometheus: authorization.credentials)
    server.Get("/metrics", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [](pgque::connection& conn, int) {
            auto r = conn.exec("select pgque.metrics()");
            return reply::plain(200, std::string(r.get(0, 0)), "text/plain; version=0.0.4; charset=utf-8");
        });
    });
    server.Get("/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(openapi_document, "application/json");
    });
}

}  // namespace

int run(const options& opts, const std::atomic<bool>& stop, std::ostream& log) {
    std::optional<tokens> auth;
    if (opts.tokens_file) auth = tokens::load(*opts.tokens_file);
    pool connections(opts.dsn, opts.pool_size);
    notifier ticks(opts.dsn);
    api a(connections, ticks, std::move(auth));

    httplib::Server server;
    // TCP_NODELAY: a reply written in parts (headers, body) must not wait for
    // the client's delayed ACK -- on keep-alive connections that cost each
    // request about 40 ms (bench/results/http.md)
    server.set_tcp_nodelay(true);
    // long polls wait without a connection: threads for them beyond the
    // pool's (--threads), and a few for /healthz
    server.new_task_queue = [&opts] {
        return new httplib::ThreadPool(static_cast<std::size_t>(opts.pool_size + opts.threads) + 4);
    };
    add_service_routes(server, a);
    add_queue_routes(server, a);
    add_publish_routes(server, a);
    add_consume_routes(server, a);
    add_dead_letter_routes(server, a);
    add_dashboard_routes(server, a);
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) send_json(res, res.status, {{"error", res.status == 404 ? "no such endpoint" : "error"},
                                                          {"sqlstate", nullptr}, {"detail", nullptr}, {"hint", nullptr}});
    });

    if (!server.bind_to_port(opts.host, opts.port)) {
        log << "pgque: error: cannot listen on " << opts.host << ":" << opts.port << "\n";
        return 4;
    }
    std::atomic<bool> ended{false};
    std::thread watcher([&server, &stop, &ended, &ticks] {
        while (!stop.load() && !ended.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ticks.stop();    // long polls answer now, with what they have
        server.stop();   // no new requests; the ones in flight finish
    });
    log << "pgque: serving http://" << opts.host << ":" << opts.port << "/ (" << opts.pool_size
        << " database connections" << (opts.tokens_file ? ", bearer tokens" : ", no authentication") << ")\n";
    server.listen_after_bind();
    ended.store(true);
    watcher.join();
    log << "pgque: stopped serving\n";
    return 0;
}

}  // namespace pgque::serve
