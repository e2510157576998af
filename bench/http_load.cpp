// bench/http_load.cpp: pgque serve under load, beside the SQL path it wraps
// (bench/http.sh runs it and writes bench/results/http.md).
//
//   http_load --dsn DSN --url http://127.0.0.1:PORT --token T --mode MODE
//             [--threads N] [--seconds S] [--batch B] [--expect N]
//
// modes (each on its own queue, created by the caller):
//   publish_http   N threads, each a keep-alive connection, POST B messages
//                  per request to /v1/queues/q_pub_http/messages
//   publish_sql    N threads, each a libpq connection, send_batch of B
//                  (B = 1: send) into q_pub_sql
//   consume_http   N threads: GET ?limit=B and one POST .../messages/ack per
//                  batch, on q_con_http (filled beforehand) until all `expect`
//                  messages are acked (an empty receive before that is retried;
//                  300 s at most)
//   consume_sql    N threads: receive_leased(.., 'http', B) and ack_message for
//                  each in one transaction, on q_con_sql -- the SQL the HTTP
//                  consumer runs, as the same member
//   latency        one producer sends 100 messages/s for S seconds (its send
//                  time in the body), one consumer long-polls (wait=10s) and
//                  acks each batch: receive time - send time, p50/p99/max
// Prints one line: "MODE messages N seconds S per_s R" (+ p50/p99/max).
#include <httplib.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

std::string dsn, url, token, mode;
int threads = 4, seconds = 10, batch = 1;
long long expect = 200000;   // consume_*: messages to drain

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "http_load: %s\n", what.c_str());
    std::exit(1);
}

double now_s() {
    return std::chrono::duration<double>(clock_type::now().time_since_epoch()).count();
}

httplib::Client client() {
    httplib::Client c(url);
    c.set_keep_alive(true);
    c.set_tcp_nodelay(true);  // as HTTP client libraries do; see client/serve/server.cpp
    c.set_read_timeout(60, 0);
    c.set_default_headers({{"Authorization", "Bearer " + token}});
    return c;
}

PGconn* pg() {
    PGconn* c = PQconnectdb(dsn.c_str());
    if (PQstatus(c) != CONNECTION_OK) die(PQerrorMessage(c));
    return c;
}

PGresult* run(PGconn* c, const char* sql, const std::vector<std::string>& args) {
    std::vector<const char*> p;
    for (const auto& a : args) p.push_back(a.c_str());
    PGresult* r = PQexecParams(c, sql, static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) die(PQerrorMessage(c));
    return r;
}

std::string messages_body(int n, int seq) {
    json msgs = json::array();
    for (int i = 0; i < n; i++) msgs.push_back({{"body", "event " + std::to_string(seq) + "." + std::to_string(i)}});
    return json{{"messages", msgs}}.dump();
}

std::string array_literal(int n, int seq) {
    std::string out = "{";
    for (int i = 0; i < n; i++) out += (i ? ",\"event " : "\"event ") + std::to_string(seq) + "." + std::to_string(i) + "\"";
    return out + "}";
}

// threads doing one unit of work after another for `seconds`; returns messages done
long long timed(const std::function<int(int thread, int seq)>& unit) {
    std::atomic<long long> done{0};
    const auto end = clock_type::now() + std::chrono::seconds(seconds);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
        ts.emplace_back([&, t] {
            for (int seq = 0; clock_type::now() < end; seq++) done += unit(t, seq);
        });
    }
    for (auto& th : ts) th.join();
    return done;
}

void report(long long n, double secs) {
    std::printf("%s messages %lld seconds %.3f per_s %.1f\n", mode.c_str(), n, secs, n / secs);
}

void publish_http() {
    std::vector<httplib::Client> cs;
    for (int t = 0; t < threads; t++) cs.push_back(client());
    const double t0 = now_s();
    long long n = timed([&](int t, int seq) {
        auto r = cs[t].Post("/v1/queues/q_pub_http/messages", messages_body(batch, seq), "application/json");
        if (!r || r->status != 201) die("publish: " + (r ? r->body : httplib::to_string(r.error())));
        return batch;
    });
    report(n, now_s() - t0);
}

void publish_sql() {
    std::vector<PGconn*> cs;
    for (int t = 0; t < threads; t++) cs.push_back(pg());
    const double t0 = now_s();
    long long n = timed([&](int t, int seq) {
        PQclear(batch == 1 ? run(cs[t], "select pgque.send('q_pub_sql', 'default', $1::text)", {"event " + std::to_string(seq)})
                           : run(cs[t], "select pgque.send_batch('q_pub_sql', 'default', $1::text[])",
                                 {array_literal(batch, seq)}));
        return batch;
    });
    report(n, now_s() - t0);
}

// Each of `threads` threads calls take() (messages acked, 0 for an empty
// receive) until `expect` messages are acked in all; 300 s at most.
void drain(const std::function<std::function<long long()>()>& make_taker) {
    std::atomic<long long> n{0};
    const double t0 = now_s();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) {
        ts.emplace_back([&] {
            auto take = make_taker();
            while (n < expect) {
                if (now_s() - t0 > 300) die("drain: " + std::to_string(n.load()) + " of " + std::to_string(expect) + " in 300 s");
                long long got = take();
                if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
                n += got;
            }
        });
    }
    for (auto& th : ts) th.join();
    report(n, now_s() - t0);
}

void consume_http() {
    drain([] {
        return [c = std::make_shared<httplib::Client>(client())]() -> long long {
            auto r = c->Get("/v1/queues/q_con_http/messages?consumer=bench&limit=" + std::to_string(batch));
            if (!r || r->status != 200) die("receive: " + (r ? r->body : httplib::to_string(r.error())));
            json got = json::parse(r->body)["messages"];
            if (got.empty()) return 0;
            json acks = json::array();
            for (const auto& m : got) acks.push_back({{"id", m["id"]}, {"lease", m["lease"]}});
            auto a = c->Post("/v1/queues/q_con_http/messages/ack", json{{"consumer", "bench"}, {"messages", acks}}.dump(),
                             "application/json");
            if (!a || a->status != 200) die("ack: " + (a ? a->body : httplib::to_string(a.error())));
            return static_cast<long long>(json::parse(a->body)["acked"].size());
        };
    });
}

void consume_sql() {
    drain([] {
        return [c = std::shared_ptr<PGconn>(pg(), PQfinish)]() -> long long {
            PGresult* r = run(c.get(),
                              "with m as (select * from pgque.receive_leased('q_con_sql', 'bench', 'http', $1::int))"
                              " select count(pgque.ack_message('q_con_sql', 'bench', m.msg_id, m.batch_id)) from m",
                              {std::to_string(batch)});
            long long got = std::atoll(PQgetvalue(r, 0, 0));
            PQclear(r);
            return got;
        };
    });
}

void latency() {
    std::atomic<bool> producing{true};
    std::vector<double> lat;
    std::mutex m;
    std::thread consumer([&] {
        auto c = client();
        for (;;) {
            auto r = c.Get("/v1/queues/q_lat/messages?consumer=bench&limit=100&wait=2s");
            if (!r || r->status != 200) die("receive: " + (r ? r->body : httplib::to_string(r.error())));
            const double got_at = now_s();
            json msgs = json::parse(r->body)["messages"];
            if (msgs.empty()) {
                if (!producing) break;
                continue;
            }
            json acks = json::array();
            {
                std::lock_guard<std::mutex> lock(m);
                for (const auto& x : msgs) {
                    lat.push_back((got_at - std::stod(x["body"].get<std::string>())) * 1000.0);
                    acks.push_back({{"id", x["id"]}, {"lease", x["lease"]}});
                }
            }
            (void) c.Post("/v1/queues/q_lat/messages/ack", json{{"consumer", "bench"}, {"messages", acks}}.dump(),
                          "application/json");
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));   // the consumer waits first
    auto p = client();
    const auto start = clock_type::now();
    long long sent = 0;
    for (; clock_type::now() < start + std::chrono::seconds(seconds); sent++) {
        std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * sent));
        char body[64];
        std::snprintf(body, sizeof body, "{\"body\": \"%.6f\"}", now_s());
        auto r = p.Post("/v1/queues/q_lat/messages", body, "application/json");
        if (!r || r->status != 201) die("publish: " + (r ? r->body : httplib::to_string(r.error())));
    }
    producing = false;
    consumer.join();
    std::sort(lat.begin(), lat.end());
    if (lat.empty()) die("no message came back");
    auto pct = [&](double q) { return lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))]; };
    std::printf("latency sent %lld received %zu p50_ms %.3f p99_ms %.3f max_ms %.3f\n", sent, lat.size(), pct(0.5),
                pct(0.99), lat.back());
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--dsn") dsn = v;
        else if (k == "--url") url = v;
        else if (k == "--token") token = v;
        else if (k == "--mode") mode = v;
        else if (k == "--threads") threads = std::stoi(v);
        else if (k == "--seconds") seconds = std::stoi(v);
        else if (k == "--batch") batch = std::stoi(v);
        else if (k == "--expect") expect = std::stoll(v);
        else die("unknown option " + k);
    }
    if (mode == "publish_http") publish_http();
    else if (mode == "publish_sql") publish_sql();
    else if (mode == "consume_http") consume_http();
    else if (mode == "consume_sql") consume_sql();
    else if (mode == "latency") latency();
    else die("--mode publish_http|publish_sql|consume_http|consume_sql|latency");
    return 0;
}
