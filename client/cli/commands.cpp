#include "commands.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <httplib.h>

#include "server.hpp"
#include <pgque/pgque.hpp>

#include "args.hpp"
#include "errors.hpp"
#include "json_check.hpp"
#include "output.hpp"

namespace pgque::cli {

terminal detect_terminal() {
    terminal t;
    t.stdout_tty = ::isatty(STDOUT_FILENO) == 1;
    t.stderr_tty = ::isatty(STDERR_FILENO) == 1;
    const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: set and not empty
    const char* term = std::getenv("TERM");
    t.no_color = (no_color != nullptr && *no_color != '\0') || (term != nullptr && std::string(term) == "dumb");
    return t;
}

namespace {

std::string opt_str(const std::optional<std::string>& v) { return v ? *v : std::string(); }

template <typename T>
std::string opt_num(const std::optional<T>& v) {
    return v ? std::to_string(*v) : std::string();
}

std::string opt_duration(const std::optional<std::chrono::microseconds>& v) {
    return v ? human_duration(*v) : std::string();
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::chrono::system_clock::time_point from_micros(std::int64_t us) {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(us));
}

// Ages and waits are shown by the server's clock, like every other duration the CLI shows.
std::chrono::system_clock::time_point server_now(pgque::client& client) {
    return from_micros(
        client.connection().exec("select (extract(epoch from now()) * 1000000)::int8").get_int64(0, 0));
}

std::string yes_no(bool v) { return v ? "yes" : "no"; }

bool use_color(color_when when, bool tty, bool no_color) {
    return when == color_when::always || (when == color_when::auto_detect && tty && !no_color);
}

struct command_context {
    command_context(const arguments& a, std::istream& i, std::ostream& o, std::ostream& e)
        : args(a), in(i), out(o), err(e) {}

    const arguments& args;
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    bool out_color = false;  // colour stdout
    bool out_tty = false;    // stdout is a terminal: --watch redraws in place
    // The CLI's connection. Kept after an error, so that run() can ask the
    // session what the error means (current_user, the installed extension).
    std::optional<pgque::client> client;

    pgque::client& connect() {
        if (client) return *client;
        client.emplace(args.dsn.value_or(""));
        std::ostream& e = err;
        client->connection().set_notice_handler([&e](const notice& n) {
            if (n.severity == "WARNING") e << "pgque: warning: " << n.message << '\n';
        });
        return *client;
    }

    [[nodiscard]] std::string conninfo() const { return args.dsn.value_or(""); }
};

// ------------------------------------------------------ signals and watch

// Set by SIGINT/SIGTERM while a tail or a --watch runs.
std::atomic<bool> g_interrupted{false};
std::atomic<pgque::consumer*> g_tail_consumer{nullptr};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_stop_signal(int) {
    g_interrupted.store(true);
    if (pgque::consumer* consumer = g_tail_consumer.load()) consumer->stop();
}

// Installs the stop handlers for the lifetime of one tail or watch: SIGINT
// and SIGTERM stop cleanly (exit 0); SIGPIPE is ignored, so a closed stdout
// is seen as a failed stream and stops the command too.
class signal_scope {
public:
    explicit signal_scope(pgque::consumer* consumer = nullptr) {
        g_interrupted.store(false);
        g_tail_consumer.store(consumer);
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &m_old_int);
        sigaction(SIGTERM, &sa, &m_old_term);
        struct sigaction ign {};
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, &m_old_pipe);
    }
    signal_scope(const signal_scope&) = delete;
    signal_scope& operator=(const signal_scope&) = delete;
    ~signal_scope() {
        sigaction(SIGINT, &m_old_int, nullptr);
        sigaction(SIGTERM, &m_old_term, nullptr);
        sigaction(SIGPIPE, &m_old_pipe, nullptr);
        g_tail_consumer.store(nullptr);
    }

private:
    struct sigaction m_old_int {};
    struct sigaction m_old_term {};
    struct sigaction m_old_pipe {};
};

// false when interrupted before the time was up
bool sleep_unless_interrupted(std::chrono::milliseconds total) {
    auto end = std::chrono::steady_clock::now() + total;
    while (!g_interrupted.load()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left <= std::chrono::milliseconds(0)) return true;
        auto slice = std::min(left, std::chrono::milliseconds(50));
        timespec ts{0, static_cast<long>(slice.count()) * 1'000'000L};
        ::nanosleep(&ts, nullptr);  // a signal ends it early
    }
    return false;
}

using draw_function = std::function<void(pgque::client&, std::ostream&)>;

// Draws once, or with --watch every interval until SIGINT/SIGTERM, a closed
// stdout or --watch-count frames. On a terminal each frame replaces the
// last; elsewhere frames follow each other (JSON: one document per line).
int show(command_context& c, const draw_function& draw) {
    pgque::client& client = c.connect();
    if (!c.args.watch) {
        draw(client, c.out);
        return exit_ok;
    }
    signal_scope signals;
    const bool human = !c.args.json;
    for (std::uint64_t frame = 1;; ++frame) {
        std::ostringstream body;  // drawn first: a failing query leaves the last frame on screen
        draw(client, body);
        if (human) {
            if (c.out_tty) c.out << "\x1b[H\x1b[2J";
            else if (frame > 1) c.out << '\n';
            c.out << paint(command_name(c.args) + " - every " +
                               human_duration(std::chrono::duration_cast<std::chrono::microseconds>(*c.args.watch)) +
                               " - " + iso_time(std::chrono::system_clock::now()),
                           color::bold, c.out_color)
                  << "\n\n";
        }
        c.out << body.str();
        c.out.flush();
        if (!c.out) return exit_ok;  // stdout went away
        if (c.args.watch_count != 0 && frame >= c.args.watch_count) return exit_ok;
        if (!sleep_unless_interrupted(*c.args.watch)) return exit_ok;
    }
}

// ------------------------------------------------------------ consumers

std::string consumer_json(const consumer_info& r) {
    json_object o;
    o.add("queue_name", r.queue_name).add("consumer_name", r.consumer_name);
    if (r.lag) o.add("lag", to_seconds(*r.lag));
    else o.add_null("lag");
    if (r.last_seen) o.add("last_seen", to_seconds(*r.last_seen));
    else o.add_null("last_seen");
    o.add("last_tick", r.last_tick)
        .add("current_batch", r.current_batch)
        .add("next_tick", r.next_tick)
        .add("pending_events", r.pending_events);
    if (r.pending_age) o.add("pending_age", to_seconds(*r.pending_age));
    else o.add_null("pending_age");
    o.add("paused", r.paused);
    return o.str();
}

// "-" when nothing waits, so that an empty cell never reads as "unknown"
std::string pending_age_cell(const consumer_info& r) { return r.pending_age ? human_duration(*r.pending_age) : "-"; }

void draw_consumers(const command_context& c, pgque::client& client, std::ostream& out) {
    std::vector<consumer_info> rows;
    const auto& p = c.args.positional;
    if (p.empty()) rows = client.consumer_info();
    else if (p.size() == 1) rows = client.consumer_info(p[0]);
    else rows.push_back(client.consumer_info(p[0], p[1]));

    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& r : rows) items.push_back(consumer_json(r));
        out << json_array(items) << '\n';
        return;
    }
    text_table t({"queue", "consumer", "lag", "pending", "oldest pending", "last seen", "last tick", "open batch",
                  "paused"});
    for (const auto& r : rows) {
        t.add_row({r.queue_name, r.consumer_name, opt_duration(r.lag), opt_num(r.pending_events), pending_age_cell(r),
                   opt_duration(r.last_seen), opt_num(r.last_tick), opt_num(r.current_batch), yes_no(r.paused)},
                  {color::none, color::none, color::none, color::none, color::none, color::none, color::none,
                   color::none, r.paused ? color::yellow : color::none});
    }
    t.print(out, c.out_color);
}

int cmd_consumers(command_context& c) {
    return show(c, [&c](pgque::client& client, std::ostream& out) { draw_consumers(c, client, out); });
}

// ----------------------------------------------------------------- status

void draw_status(const command_context& c, pgque::client& client, std::ostream& out) {
    auto rows = client.status();
    auto consumers = client.consumer_info();
    if (c.args.json) {
        // the component rows as pgque.status() gives them; each queue row
        // also lists its consumers
        std::vector<std::string> items;
        for (const auto& r : rows) {
            json_object o;
            o.add("component", r.component).add("status", r.status).add("detail", r.detail);
            if (r.component.rfind("queue ", 0) == 0) {
                std::vector<std::string> subs;
                for (const auto& ci : consumers) {
                    if ("queue " + ci.queue_name == r.component) subs.push_back(consumer_json(ci));
                }
                o.add_raw("consumers", json_array(subs));
            }
            items.push_back(o.str());
        }
        out << json_array(items) << '\n';
        return;
    }
    text_table t({"component", "status", "detail"});
    for (const auto& r : rows) {
        t.add_row({r.component, r.status, humanize_intervals(r.detail)},
                  {color::none, status_color(r.status), color::none});
    }
    t.print(out, c.out_color);
    if (consumers.empty()) return;
    out << '\n';
    text_table ct({"queue", "consumer", "lag", "pending", "oldest pending", "last seen"});
    for (const auto& r : consumers) {
        ct.add_row({r.queue_name, r.consumer_name, opt_duration(r.lag), opt_num(r.pending_events),
                    pending_age_cell(r), opt_duration(r.last_seen)});
    }
    ct.print(out, c.out_color);
}

// ---------------------------------------------------------------- metrics

// pgque metrics [--listen HOST:PORT]: print pgque.metrics(), or serve it at
// /metrics (one query per scrape; 503 while the database cannot answer,
// reconnecting at the next scrape).
int cmd_metrics(command_context& c) {
    if (!c.args.listen) {
        c.out << c.connect().metrics();
        return c.out ? 0 : 1;
    }
    const std::string& listen = *c.args.listen;
    const std::string host = listen.substr(0, listen.rfind(':'));
    const int port = std::stoi(listen.substr(listen.rfind(':') + 1));

    std::mutex mutex;   // one connection, one scrape at a time
    std::optional<pgque::client> client;
    httplib::Server server;
    server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(mutex);
        try {
            if (!client) client.emplace(c.args.dsn.value_or(""));
            res.set_content(client->metrics(), "text/plain; version=0.0.4; charset=utf-8");
        } catch (const std::exception& e) {
            client.reset();   // connect again next time
            res.status = 503;
            res.set_content(std::string("pgque metrics: ") + e.what() + "\n", "text/plain; charset=utf-8");
        }
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("pgque metrics: see /metrics\n", "text/plain; charset=utf-8");
    });
    if (!server.bind_to_port(host, port)) {
        c.err << "pgque: error: cannot listen on " << listen << "\n";
        return 4;
    }
    signal_scope stop;
    std::thread watcher([&server] {
        while (!g_interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        server.stop();
    });
    c.err << "pgque: serving metrics at http://" << listen << "/metrics\n";
    server.listen_after_bind();
    g_interrupted.store(true);
    watcher.join();
    return 0;
}

// pgque serve: the HTTP API (client/serve/, docs/http.md)
int cmd_serve(command_context& c) {
    pgque::serve::options opts;
    if (c.args.listen) {
        const std::string& listen = *c.args.listen;
        opts.host = listen.substr(0, listen.rfind(':'));
        opts.port = std::stoi(listen.substr(listen.rfind(':') + 1));
    }
    opts.dsn = c.args.dsn.value_or("");
    opts.pool_size = c.args.pool;
    opts.tokens_file = c.args.tokens;
    signal_scope stop;
    return pgque::serve::run(opts, g_interrupted, c.err);
}

int cmd_status(command_context& c) {
    return show(c, [&c](pgque::client& client, std::ostream& out) { draw_status(c, client, out); });
}

// ----------------------------------------------------------------- queues

// "fixed 60s", "exponential 2s..1h jitter 20%"
std::string retry_policy_cell(const queue_config& c) {
    std::string out = c.retry_backoff == "exponential"
                          ? "exponential " + human_duration(c.retry_delay) + ".." +
                                human_duration(std::max(c.retry_max_delay, c.retry_delay))
                          : c.retry_backoff + " " + human_duration(c.retry_delay);
    if (c.retry_jitter > 0) {
        char pct[32];
        std::snprintf(pct, sizeof pct, "%.3g", c.retry_jitter * 100);
        out += std::string(" jitter ") + pct + "%";
    }
    return out;
}

// "-" (none) or the delivery_delay
std::string delay_cell(const queue_config& c) {
    return c.delivery_delay ? human_duration(*c.delivery_delay) : std::string("-");
}

// "-" (never expires), "1d (dead letter)", "1d (drop)"
std::string ttl_cell(const queue_config& c) {
    if (!c.message_ttl) return "-";
    return human_duration(*c.message_ttl) + " (" + (c.expired_action == "drop" ? "drop" : "dead letter") + ")";
}

// how long until `at` by the server's clock; "due" once it has come, "-" for none
std::string due_cell(const std::optional<std::chrono::system_clock::time_point>& at,
                     std::chrono::system_clock::time_point now) {
    if (!at) return "-";
    if (*at <= now) return "due";
    return human_duration(std::chrono::duration_cast<std::chrono::microseconds>(*at - now));
}

std::optional<std::string> opt_iso(const std::optional<std::chrono::system_clock::time_point>& t) {
    if (!t) return std::nullopt;
    return iso_time(*t);
}

template <typename T>
const T* find_queue(const std::vector<T>& rows, const std::string& name) {
    for (const auto& r : rows) {
        if (r.queue_name == name) return &r;
    }
    return nullptr;
}

void draw_queues(const command_context& c, pgque::client& client, std::ostream& out) {
    std::vector<queue_info> queues;
    std::vector<queue_config> configs;
    std::vector<delayed_info> waiting;
    if (c.args.positional.empty()) {
        queues = client.queue_info();
        configs = client.queue_config();
        waiting = client.delayed_info();
    } else {
        const std::string& q = c.args.positional[0];
        queues.push_back(client.queue_info(q));
        configs.push_back(client.queue_config(q));
        waiting.push_back(client.delayed_info(q));
    }
    // a queue created or dropped between the calls has no settings here:
    // its cells stay empty (JSON: null)

    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& q : queues) {
            const queue_config* qc = find_queue(configs, q.queue_name);
            const delayed_info* dw = find_queue(waiting, q.queue_name);
            json_object o;
            o.add("queue_name", q.queue_name)
                .add("ntables", q.ntables)
                .add("cur_table", q.cur_table)
                .add("rotation_period", to_seconds(q.rotation_period))
                .add("switch_time", iso_time(q.switch_time))
                .add("external_ticker", q.external_ticker)
                .add("ticker_paused", q.ticker_paused)
                .add("ticker_max_count", q.ticker_max_count)
                .add("ticker_max_lag", to_seconds(q.ticker_max_lag))
                .add("ticker_idle_period", to_seconds(q.ticker_idle_period));
            if (q.ticker_lag) o.add("ticker_lag", to_seconds(*q.ticker_lag));
            else o.add_null("ticker_lag");
            o.add("ev_per_sec", q.ev_per_sec).add("ev_new", q.ev_new).add("last_tick_id", q.last_tick_id);
            if (qc != nullptr) {
                o.add("paused", qc->paused);
                if (qc->delivery_delay) o.add("delivery_delay", to_seconds(*qc->delivery_delay));
                else o.add_null("delivery_delay");
                o.add("retry_delay", to_seconds(qc->retry_delay))
                    .add("retry_backoff", qc->retry_backoff)
                    .add("retry_max_delay", to_seconds(qc->retry_max_delay))
                    .add("retry_jitter", qc->retry_jitter)
                    .add("max_retries", static_cast<std::int64_t>(qc->max_retries));
                if (qc->message_ttl) o.add("message_ttl", to_seconds(*qc->message_ttl));
                else o.add_null("message_ttl");
                o.add("expired_action", qc->expired_action);
            } else {
                for (const char* k : {"paused", "delivery_delay", "retry_delay", "retry_backoff", "retry_max_delay",
                                      "retry_jitter", "max_retries", "message_ttl", "expired_action"}) {
                    o.add_null(k);
                }
            }
            if (dw != nullptr) {
                o.add("delayed", dw->delayed)
                    .add("next_delivery", opt_iso(dw->next_delivery))
                    .add("retries", dw->retries)
                    .add("next_retry", opt_iso(dw->next_retry));
            } else {
                for (const char* k : {"delayed", "next_delivery", "retries", "next_retry"}) o.add_null(k);
            }
            items.push_back(o.str());
        }
        out << json_array(items) << '\n';
        return;
    }
    text_table t({"queue", "last tick", "tick age", "ev/s", "new", "max lag", "idle period", "ticker"});
    for (const auto& q : queues) {
        std::string ticker = q.ticker_paused ? "paused" : (q.external_ticker ? "external" : "running");
        t.add_row({q.queue_name, opt_num(q.last_tick_id), opt_duration(q.ticker_lag),
                   q.ev_per_sec ? format_rate(*q.ev_per_sec) : std::string(), std::to_string(q.ev_new),
                   human_duration(q.ticker_max_lag), human_duration(q.ticker_idle_period), ticker},
                  {color::none, color::none, color::none, color::none, color::none, color::none, color::none,
                   q.ticker_paused ? color::yellow : color::none});
    }
    t.print(out, c.out_color);
    if (queues.empty()) return;

    out << '\n';
    const auto now = server_now(client);
    text_table d({"queue", "paused", "delayed", "next delivery", "retries", "next retry", "delivery delay", "retry",
                  "ttl"});
    for (const auto& q : queues) {
        std::vector<std::string> cells{q.queue_name};
        bool paused = false;
        if (const delayed_info* w = find_queue(waiting, q.queue_name)) {
            cells.insert(cells.end(), {std::to_string(w->delayed), due_cell(w->next_delivery, now),
                                       std::to_string(w->retries), due_cell(w->next_retry, now)});
        } else {
            cells.resize(5);
        }
        if (const queue_config* cfg = find_queue(configs, q.queue_name)) {
            paused = cfg->paused;
            cells.insert(cells.begin() + 1, yes_no(cfg->paused));
            cells.insert(cells.end(), {delay_cell(*cfg), retry_policy_cell(*cfg), ttl_cell(*cfg)});
        } else {
            cells.insert(cells.begin() + 1, std::string());
            cells.resize(9);
        }
        d.add_row(std::move(cells), {color::none, paused ? color::yellow : color::none});
    }
    d.print(out, c.out_color);
}

int cmd_queues(command_context& c) {
    return show(c, [&c](pgque::client& client, std::ostream& out) { draw_queues(c, client, out); });
}

// ------------------------------------------------ create, drop, subscribe

int cmd_create(command_context& c) {
    pgque::client& client = c.connect();
    const std::string& queue = c.args.positional[0];
    bool created = client.create_queue(queue);
    if (c.args.json) {
        c.out << json_object().add("queue", queue).add("created", created).str() << '\n';
    } else {
        c.out << (created ? "created queue " : "queue already exists: ") << quoted(queue) << '\n';
    }
    return exit_ok;
}

int cmd_drop(command_context& c) {
    pgque::client& client = c.connect();
    const std::string& queue = c.args.positional[0];
    client.drop_queue(queue, c.args.force);
    if (c.args.json) c.out << json_object().add("queue", queue).add("dropped", true).str() << '\n';
    else c.out << "dropped queue " << quoted(queue) << '\n';
    return exit_ok;
}

int cmd_subscribe(command_context& c, bool subscribe) {
    pgque::client& client = c.connect();
    const std::string& queue = c.args.positional[0];
    const std::string& consumer = c.args.positional[1];
    if (c.args.retry_open_batch && !c.args.subconsumer) throw usage("--retry-open-batch needs --subconsumer");
    if (c.args.subconsumer) {
        const std::string& member = *c.args.subconsumer;
        bool done = subscribe ? client.subscribe_subconsumer(queue, consumer, member)
                              : client.unsubscribe_subconsumer(queue, consumer, member, c.args.retry_open_batch);
        if (c.args.json) {
            c.out << json_object()
                         .add("queue", queue)
                         .add("consumer", consumer)
                         .add("subconsumer", member)
                         .add(subscribe ? "registered" : "unregistered", done)
                         .str()
                  << '\n';
        } else {
            c.out << (subscribe ? (done ? "registered subconsumer " : "already registered: subconsumer ")
                                : (done ? "unregistered subconsumer " : "was not registered: subconsumer "))
                  << quoted(member) << " of " << quoted(consumer) << " on " << quoted(queue) << '\n';
        }
        return exit_ok;
    }
    bool changed = subscribe ? client.subscribe(queue, consumer) : client.unsubscribe(queue, consumer);
    if (c.args.json) {
        c.out << json_object()
                     .add("queue", queue)
                     .add("consumer", consumer)
                     .add(subscribe ? "subscribed" : "unsubscribed", changed)
                     .str()
              << '\n';
    } else if (subscribe) {
        c.out << (changed ? "subscribed " : "already subscribed: ") << quoted(consumer) << " to "
              << quoted(queue) << '\n';
    } else {
        c.out << (changed ? "unsubscribed " : "was not subscribed: ") << quoted(consumer) << " from "
              << quoted(queue) << '\n';
    }
    return exit_ok;
}

// ---------------------------------------------------------- pause, resume

int cmd_pause(command_context& c, bool pause) {
    pgque::client& client = c.connect();
    const std::string& queue = c.args.positional[0];
    const char* done = pause ? "paused" : "resumed";
    const char* already = pause ? "already paused: " : "was not paused: ";
    if (c.args.schedule) {
        const std::string& name = c.args.positional[0];
        bool changed = pause ? client.pause_schedule(name) : client.resume_schedule(name);
        if (c.args.json) c.out << json_object().add("schedule", name).add(done, changed).str() << '\n';
        else if (changed) c.out << done << " schedule " << quoted(name) << '\n';
        else c.out << "schedule " << already << quoted(name) << '\n';
        return exit_ok;
    }
    if (c.args.positional.size() == 1) {
        bool changed = pause ? client.pause_queue(queue) : client.resume_queue(queue);
        if (c.args.json) c.out << json_object().add("queue", queue).add(done, changed).str() << '\n';
        else if (changed) c.out << done << " queue " << quoted(queue) << '\n';
        else c.out << "queue " << already << quoted(queue) << '\n';
        return exit_ok;
    }
    const std::string& consumer = c.args.positional[1];
    bool changed = pause ? client.pause_consumer(queue, consumer) : client.resume_consumer(queue, consumer);
    if (c.args.json) {
        c.out << json_object().add("queue", queue).add("consumer", consumer).add(done, changed).str() << '\n';
    } else {
        if (changed) c.out << done << " consumer ";
        else c.out << "consumer " << already;
        c.out << quoted(consumer) << " on queue " << quoted(queue) << '\n';
    }
    if (!pause && client.queue_config(queue).paused) {
        // resumed, and still handed nothing: say why
        c.err << "pgque: warning: queue " << quoted(queue) << " is paused: " << quoted(consumer)
              << " gets nothing until: pgque resume " << shell_quote(queue) << '\n';
    }
    return exit_ok;
}

// ------------------------------------------------------------------- send

// send --json: every payload must be JSON before anything is sent
void check_json_payloads(const std::vector<std::string>& payloads, bool lines) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        if (auto problem = json_error(payloads[i])) {
            error_report r;
            r.message = lines ? "invalid JSON on line " + std::to_string(i + 1) + " of stdin: " +
                                    to_string(*problem, true)
                              : "invalid JSON payload: " + to_string(*problem);
            r.hint = "nothing was sent; without --json the payload is sent as text";
            r.sqlstate = "22P02";  // what the server's jsonb cast would say
            throw command_failed(std::move(r));
        }
    }
}

// send --at / --delay: the delivery time as the server reads it (its
// timestamptz and interval input, its TimeZone and clock); nullopt without
// either. A value the server rejects is reported against the option.
std::optional<std::chrono::system_clock::time_point> delivery_time(command_context& c, pgque::client& client) {
    const arguments& a = c.args;
    if (!a.at && !a.delay) return std::nullopt;
    const bool at = a.at.has_value();
    const std::string& text = at ? *a.at : *a.delay;
    std::optional<std::int64_t> micros;
    try {
        result r = client.connection().exec(
            at ? "select case when isfinite(t) then (extract(epoch from t) * 1000000)::int8 end"
                 " from (select $1::timestamptz) v(t)"
               : "select (extract(epoch from clock_timestamp() + $1::interval) * 1000000)::int8",
            {text});
        micros = r.get_optional_int64(0, 0);
    } catch (const data_error& e) {
        error_report r;
        r.message = std::string("invalid ") + (at ? "--at time" : "--delay duration") + " " + quoted(text) + ": " +
                    e.what();
        r.hint = at ? "give a PostgreSQL timestamp, such as 2026-12-24T18:00:00Z, '2026-12-24 18:00:00+01' or "
                      "'tomorrow 09:00'"
                    : "give a PostgreSQL interval, such as 30s, 250ms, 5min or '1 day 2 hours'";
        r.sqlstate = e.sqlstate();
        r.server_message = e.what();
        throw command_failed(std::move(r));
    }
    if (!micros) {
        error_report r;
        r.message = "invalid --at time " + quoted(text) + ": it must be a finite time";
        throw command_failed(std::move(r));
    }
    return from_micros(*micros);
}

int cmd_send(command_context& c) {
    const std::string& queue = c.args.positional[0];
    std::vector<std::string> payloads;
    if (c.args.lines) {
        std::string line;
        while (std::getline(c.in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            payloads.push_back(line);
        }
    } else if (c.args.positional.size() == 2 && c.args.positional[1] != "-") {
        payloads.push_back(c.args.positional[1]);
    } else {
        std::string all((std::istreambuf_iterator<char>(c.in)), std::istreambuf_iterator<char>());
        if (!all.empty() && all.back() == '\n') all.pop_back();
        if (!all.empty() && all.back() == '\r') all.pop_back();
        payloads.push_back(std::move(all));
    }
    if (c.args.json_payload) check_json_payloads(payloads, c.args.lines);

    pgque::client& client = c.connect();
    const std::optional<std::chrono::system_clock::time_point> when = delivery_time(c, client);
    std::vector<std::int64_t> ids;
    if (c.args.json_payload) {
        // the server casts to jsonb as well (22P02 for anything we let through)
        const std::string type = c.args.type.value_or("default");
        if (c.args.lines) {
            ids = when ? client.send_batch_json_at(queue, type, payloads, *when)
                       : c.args.priority != 0 ? client.send_batch_json(queue, type, payloads, c.args.priority)
                                              : client.send_batch_json(queue, type, payloads);
        } else if (c.args.key || c.args.priority != 0) {
            ids.push_back(client.send_json(queue, type, payloads[0], {c.args.priority, c.args.key, std::nullopt, std::nullopt}));
        } else {
            ids.push_back(when ? client.send_json_at(queue, type, payloads[0], *when)
                               : client.send_json(queue, type, payloads[0], c.args.priority));
        }
    } else if (when) {
        // send_at without a type is type "default", as send
        const std::string type = c.args.type.value_or("default");
        if (c.args.lines) ids = client.send_batch_at(queue, type, payloads, *when);
        else ids.push_back(client.send_at(queue, type, payloads[0], *when));
    } else if (c.args.key || c.args.priority != 0) {
        const pgque::send_options options{c.args.priority, c.args.key, std::nullopt, std::nullopt};
        const std::string type = c.args.type.value_or("default");
        if (c.args.lines) ids = client.send_batch(queue, type, payloads, options);
        else ids.push_back(client.send(queue, type, payloads[0], options));
    } else if (c.args.lines) {
        ids = c.args.type ? client.send_batch(queue, *c.args.type, payloads) : client.send_batch(queue, payloads);
    } else {
        ids.push_back(c.args.type ? client.send(queue, *c.args.type, payloads[0]) : client.send(queue, payloads[0]));
    }

    if (c.args.json) {
        json_object o;
        o.add("queue", queue);
        if (when) o.add("deliver_at", iso_time(*when));
        if (c.args.lines) {
            std::vector<std::string> raw;
            for (auto id : ids) raw.push_back(std::to_string(id));
            o.add_raw("ids", json_array(raw));
        } else {
            o.add("id", ids[0]);
        }
        c.out << o.str() << '\n';
    } else {
        for (auto id : ids) c.out << id << '\n';
    }
    return exit_ok;
}

// -------------------------------------------------------------- schedules

std::string schedule_json(const schedule_info& s) {
    return json_object()
        .add("schedule", s.schedule_name)
        .add("queue", s.queue_name)
        .add("spec", s.spec)
        .add("type", s.type)
        .add("payload", s.payload)
        .add("next_run", opt_iso(s.next_run))
        .add("last_run", opt_iso(s.last_run))
        .add("last_msg_id", s.last_msg_id)
        .add("runs", s.runs)
        .add("missed", s.missed)
        .add("paused", s.paused)
        .add("last_error", s.last_error)
        .str();
}

void draw_schedules(const command_context& c, pgque::client& client, std::ostream& out) {
    std::vector<schedule_info> rows;
    if (c.args.positional.empty()) rows = client.schedule_info();
    else rows.push_back(client.schedule_info(c.args.positional[0]));
    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& r : rows) items.push_back(schedule_json(r));
        out << json_array(items) << '\n';
        return;
    }
    text_table t({"schedule", "queue", "spec", "type", "next run", "last run", "runs", "missed", "error"});
    for (const auto& r : rows) {
        t.add_row({r.schedule_name, r.queue_name, r.spec, r.type, r.paused ? "paused" : opt_str(opt_iso(r.next_run)),
                   opt_str(opt_iso(r.last_run)), std::to_string(r.runs), std::to_string(r.missed),
                   opt_str(r.last_error)},
                  {color::none, color::none, color::none, color::none, r.paused ? color::yellow : color::none,
                   color::none, color::none, r.missed > 0 ? color::yellow : color::none,
                   r.last_error ? color::red : color::none});
    }
    t.print(out, c.out_color);
}

int cmd_schedules(command_context& c) {
    return show(c, [&c](pgque::client& client, std::ostream& out) { draw_schedules(c, client, out); });
}

int cmd_schedule(command_context& c) {
    const auto& p = c.args.positional;
    const std::string& name = p[0];
    std::optional<std::string> payload;
    if (p.size() == 4) payload = p[3];
    if (c.args.json_payload) {
        if (!payload) throw usage("schedule --json needs a PAYLOAD");
        check_json_payloads({*payload}, false);
    }
    pgque::client& client = c.connect();
    std::string type = c.args.type.value_or("schedule");
    bool created = c.args.json_payload ? client.schedule_json(name, p[1], p[2], type, *payload)
                                       : client.schedule(name, p[1], p[2], type, payload);
    auto s = client.schedule_info(name);
    if (c.args.json) {
        c.out << json_object()
                     .add("schedule", name)
                     .add("created", created)
                     .add("next_run", opt_iso(s.next_run))
                     .str()
              << '\n';
    } else {
        c.out << (created ? "created schedule " : "replaced schedule ") << quoted(name) << " on queue "
              << quoted(p[1]) << ", next run " << (s.paused ? std::string("paused") : opt_str(opt_iso(s.next_run)))
              << '\n';
    }
    return exit_ok;
}

int cmd_unschedule(command_context& c) {
    pgque::client& client = c.connect();
    const std::string& name = c.args.positional[0];
    bool removed = client.unschedule(name);
    if (c.args.json) c.out << json_object().add("schedule", name).add("removed", removed).str() << '\n';
    else c.out << (removed ? "removed schedule " : "no such schedule: ") << quoted(name) << '\n';
    return exit_ok;
}

// ------------------------------------------------------------------- tail

std::string message_json(const message& m) {
    return json_object()
        .add("msg_id", m.msg_id)
        .add("batch_id", m.batch_id)
        .add("type", m.type)
        .add("payload", m.payload)
        .add("retry_count", m.retry_count)
        .add("created_at", iso_time(m.created_at))
        .add("extra1", m.extra1)
        .add("extra2", m.extra2)
        .add("extra3", m.extra3)
        .add("extra4", m.extra4)
        .str();
}

// The consumer's log as tail prints it: warnings at once; an error line is
// held until the next line or the end of run(), because the consumer logs
// the error that ends run() just before it throws it, and run() reports
// that exception itself: printed here too, it would appear twice.
class tail_log {
public:
    explicit tail_log(std::ostream& err) : m_err(err) {}
    void operator()(log_level level, const std::string& message) {
        flush();
        if (level == log_level::warning) m_err << "pgque: warning: " << message << '\n';
        else if (level == log_level::error) m_held = message;
    }
    // run() returned: what is held did not end it
    void flush() {
        if (m_held) m_err << "pgque: error: " << *m_held << '\n';
        m_held.reset();
    }

private:
    std::ostream& m_err;
    std::optional<std::string> m_held;
};

int cmd_tail(command_context& c) {
    const std::string& queue = c.args.positional[0];
    const std::string& name = c.args.positional[1];

    // A subscription is permanent (events and table rotation wait for it),
    // so tail only creates one when asked to.
    pgque::client& client = c.connect();
    if (c.args.dead_interval && !c.args.subconsumer) {
        throw usage("--dead-interval needs --subconsumer");
    }
    if (c.args.subconsumer) {
        // registering makes the consumer cooperative (and subscribes it if new)
        if (client.subscribe_subconsumer(queue, name, *c.args.subconsumer)) {
            c.err << "pgque: registered subconsumer " << quoted(*c.args.subconsumer) << " of "
                  << quoted(name) << " on queue " << quoted(queue) << "; it stays until: pgque "
                  << "unsubscribe " << shell_quote(queue) << ' ' << shell_quote(name) << " --subconsumer "
                  << shell_quote(*c.args.subconsumer) << '\n';
        }
    } else if (c.args.subscribe) {
        if (client.subscribe(queue, name)) {
            c.err << "pgque: subscribed " << quoted(name) << " to queue " << quoted(queue)
                  << "; it stays subscribed until: pgque unsubscribe " << shell_quote(queue) << ' '
                  << shell_quote(name) << '\n';
        }
    } else {
        static_cast<void>(client.consumer_info(queue, name));  // consumer_not_found: explain() says what to do
    }

    consumer_options options;
    options.batch_size = c.args.batch_size;
    options.max_messages = c.args.count;
    options.subscribe = false;  // done above, once; a later unsubscribe ends the tail
    options.unknown_types = unknown_type_policy::nack;  // unreachable: "*" takes everything
    auto log = std::make_shared<tail_log>(c.err);
    options.logger = [log](log_level level, const std::string& message) { (*log)(level, message); };
    if (c.args.subconsumer) {
        options.cooperative = cooperative_options{*c.args.subconsumer,
                                                  c.args.dead_interval.value_or(std::chrono::milliseconds(0)),
                                                  std::chrono::milliseconds(0)};
    }
    pgque::consumer consumer(c.conninfo(), queue, name, options);
    consumer.on("*", [&](const message& m) {
        if (c.args.json) {
            c.out << message_json(m) << '\n';
        } else {
            c.out << m.msg_id << ' ' << one_line(m.type) << ' ' << one_line(m.payload_or_empty());
            if (m.retry_count) c.out << "  [retry " << *m.retry_count << ']';
            c.out << '\n';
        }
        c.out.flush();
        // stdout gone: stop before this batch is acked, so nothing is lost
        if (!c.out) consumer.stop();
    });

    signal_scope signals(&consumer);
    run_result result = c.args.timeout ? consumer.run_for(*c.args.timeout) : consumer.run();
    log->flush();
    if (result == run_result::timed_out && c.args.count != 0) {
        c.err << "pgque: timeout: " << consumer.stats().handled << " of " << c.args.count
              << " messages arrived\n";
        return exit_timeout;
    }
    return exit_ok;
}

// ------------------------------------------------------------------- show

color state_color(const std::string& state) {
    if (state == "done") return color::green;
    if (state == "dead" || state == "unknown" || state == "gone") return color::red;
    return color::yellow;
}

std::string ago_cell(const std::optional<std::chrono::system_clock::time_point>& t,
                     std::chrono::system_clock::time_point now) {
    if (!t) return "-";
    return human_duration(std::chrono::duration_cast<std::chrono::microseconds>(now - *t)) + " ago";
}

int cmd_show(command_context& c) {
    pgque::client& client = c.connect();
    const std::string& queue = c.args.positional[0];
    auto rows = client.message_state(queue, std::stoll(c.args.positional[1]));
    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& m : rows) {
            items.push_back(json_object()
                                .add("consumer", m.consumer)
                                .add("state", m.state)
                                .add("member", m.member)
                                .add("batch_id", m.batch_id)
                                .add("since", opt_iso(m.since))
                                .add("due_at", opt_iso(m.due_at))
                                .add("attempt", m.attempt)
                                .add("reason", m.reason)
                                .add("dead_letter_id", m.dead_letter_id)
                                .add("detail", m.detail)
                                .str());
        }
        c.out << json_array(items) << '\n';
        return exit_ok;
    }
    auto now = server_now(client);
    text_table t({"consumer", "state", "member", "batch", "attempt", "since", "due", "reason", "detail"});
    for (const auto& m : rows) {
        auto dash = [](std::string s) { return s.empty() ? std::string("-") : s; };
        t.add_row({dash(opt_str(m.consumer)), m.state, dash(opt_str(m.member)), dash(opt_num(m.batch_id)),
                   dash(opt_num(m.attempt)), ago_cell(m.since, now), due_cell(m.due_at, now),
                   dash(shorten(one_line(opt_str(m.reason)), 40)), one_line(m.detail)},
                  {color::none, state_color(m.state)});
    }
    t.print(c.out, c.out_color);
    return exit_ok;
}

// -------------------------------------------------------------------- dlq

int cmd_dlq_list(command_context& c) {
    pgque::client& client = c.connect();
    auto rows = client.dlq_inspect(c.args.positional[0], c.args.limit);
    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& d : rows) {
            items.push_back(json_object()
                                .add("dl_id", d.dl_id)
                                .add("consumer", d.consumer_name)
                                .add("dl_time", iso_time(d.dl_time))
                                .add("reason", d.reason)
                                .add("ev_id", d.ev_id)
                                .add("ev_time", iso_time(d.ev_time))
                                .add("ev_retry", d.ev_retry)
                                .add("ev_type", d.ev_type)
                                .add("ev_data", d.ev_data)
                                .add("ev_extra1", d.ev_extra1)
                                .add("ev_extra2", d.ev_extra2)
                                .add("ev_extra3", d.ev_extra3)
                                .add("ev_extra4", d.ev_extra4)
                                .str());
        }
        c.out << json_array(items) << '\n';
        return exit_ok;
    }
    auto now = server_now(client);
    text_table t({"id", "consumer", "age", "event", "retries", "type", "reason", "payload"});
    for (const auto& d : rows) {
        t.add_row({std::to_string(d.dl_id), d.consumer_name,
                   human_duration(std::chrono::duration_cast<std::chrono::microseconds>(now - d.dl_time)),
                   std::to_string(d.ev_id), opt_num(d.ev_retry), opt_str(d.ev_type),
                   shorten(one_line(opt_str(d.reason)), 40), shorten(one_line(opt_str(d.ev_data)), 50)});
    }
    t.print(c.out, c.out_color);
    return exit_ok;
}

int cmd_dlq_replay(command_context& c) {
    pgque::client& client = c.connect();
    if (c.args.all) {
        const std::string& queue = c.args.positional[0];
        replay_result r = client.dlq_replay_all(queue);
        if (c.args.json) {
            c.out << json_object()
                         .add("queue", queue)
                         .add("replayed", r.replayed)
                         .add("failed", r.failed)
                         .add("first_error", r.first_error)
                         .str()
                  << '\n';
        } else {
            c.out << "replayed " << r.replayed << ", failed " << r.failed << '\n';
        }
        if (r.failed > 0) {
            error_report e;
            e.message = std::to_string(r.failed) + " dead letter(s) could not be replayed; the first: " +
                        opt_str(r.first_error);
            throw command_failed(std::move(e));
        }
        return exit_ok;
    }
    std::vector<std::string> items;
    for (const auto& id_text : c.args.positional) {
        std::int64_t id = std::stoll(id_text);
        std::int64_t ev = client.dlq_replay(id);
        if (c.args.json) items.push_back(json_object().add("dl_id", id).add("ev_id", ev).str());
        else c.out << "replayed dead letter " << id << " as event " << ev << '\n';
    }
    if (c.args.json) c.out << json_array(items) << '\n';
    return exit_ok;
}

int cmd_dlq_purge(command_context& c) {
    pgque::client& client = c.connect();
    const std::string& queue = c.args.positional[0];
    int n = client.dlq_purge(queue, c.args.older_than);
    if (c.args.json) c.out << json_object().add("queue", queue).add("purged", n).str() << '\n';
    else c.out << "purged " << n << " dead letter" << (n == 1 ? "" : "s") << '\n';
    return exit_ok;
}

int dispatch(command_context& c) {
    const std::string& cmd = c.args.command;
    if (cmd == "status") return cmd_status(c);
    if (cmd == "queues") return cmd_queues(c);
    if (cmd == "consumers") return cmd_consumers(c);
    if (cmd == "create") return cmd_create(c);
    if (cmd == "drop") return cmd_drop(c);
    if (cmd == "subscribe") return cmd_subscribe(c, true);
    if (cmd == "unsubscribe") return cmd_subscribe(c, false);
    if (cmd == "pause") return cmd_pause(c, true);
    if (cmd == "resume") return cmd_pause(c, false);
    if (cmd == "send") return cmd_send(c);
    if (cmd == "schedules") return cmd_schedules(c);
    if (cmd == "schedule") return cmd_schedule(c);
    if (cmd == "unschedule") return cmd_unschedule(c);
    if (cmd == "tail") return cmd_tail(c);
    if (cmd == "show") return cmd_show(c);
    if (cmd == "metrics") return cmd_metrics(c);
    if (cmd == "serve") return cmd_serve(c);
    if (cmd == "dlq") {
        if (c.args.subcommand == "list") return cmd_dlq_list(c);
        if (c.args.subcommand == "replay") return cmd_dlq_replay(c);
        if (c.args.subcommand == "purge") return cmd_dlq_purge(c);
    }
    throw usage("unknown command \"" + cmd + "\"");
}

// Asked on the CLI's own connection after an error; nullopt if that fails too.
std::optional<session_facts> read_session_facts(command_context& c) {
    if (!c.client || !c.client->connection().is_open()) return std::nullopt;
    try {
        result r = c.client->connection().exec(
            "select current_user, current_database(),"
            " (select extversion from pg_catalog.pg_extension where extname = 'pgque')");
        session_facts f;
        f.user = std::string(r.get(0, 0));
        f.database = std::string(r.get(0, 1));
        f.extension_version = r.get_optional(0, 2);
        return f;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void print_report(const command_context& c, const error_report& r, bool err_color) {
    if (c.args.json) {
        json_object o;
        o.add("kind", r.kind).add("message", r.message);
        if (!r.sqlstate.empty()) o.add("sqlstate", r.sqlstate);
        if (!r.detail.empty()) o.add("detail", r.detail);
        if (!r.hint.empty()) o.add("hint", r.hint);
        if (!r.object.empty()) o.add("object", r.object);
        if (!r.server_message.empty()) o.add("server_message", r.server_message);
        c.err << json_object().add_raw("error", o.str()).str() << '\n';
        return;
    }
    c.err << paint("pgque: " + r.kind + ":", color::red, err_color) << ' ' << r.message << '\n';
    if (!r.detail.empty()) c.err << "DETAIL: " << r.detail << '\n';
    if (!r.hint.empty()) c.err << "HINT: " << r.hint << '\n';
}

}  // namespace

int run(const std::vector<std::string>& argv, std::istream& in, std::ostream& out, std::ostream& err,
        const terminal& term) {
    arguments args;
    try {
        args = parse_args(argv);
    } catch (const usage& e) {
        err << "pgque: " << e.what() << "\nTry 'pgque --help'.\n";
        return exit_usage;
    }
    if (args.help) {
        out << help_text(args.command, args.subcommand);
        return exit_ok;
    }
    if (args.version) {
        out << "pgque " << client_version() << '\n';
        return exit_ok;
    }

    // read by every connection (pgque::connection); a typo is the user's
    const char* prepared = std::getenv("PGQUE_PREPARED");
    if (prepared != nullptr && *prepared != '\0' && !parse_statement_mode(prepared)) {
        err << "pgque: PGQUE_PREPARED must be auto, on or off, not " << quoted(prepared)
            << "\nTry 'pgque --help'.\n";
        return exit_usage;
    }

    command_context c(args, in, out, err);
    c.out_color = use_color(args.color, term.stdout_tty, term.no_color);
    c.out_tty = term.stdout_tty;
    const bool err_color = use_color(args.color, term.stderr_tty, term.no_color);
    // Every failure ends here and is printed once, by print_report.
    error_report report;
    try {
        return dispatch(c);
    } catch (const usage& e) {
        err << "pgque: " << e.what() << "\nTry 'pgque --help'.\n";
        return exit_usage;
    } catch (const command_failed& e) {
        report = e.report();
    } catch (const connection_error& e) {
        report.exit_code = exit_connection;
        report.kind = "connection error";
        report.message = e.what();
        report.sqlstate = e.sqlstate();
    } catch (const sql_error& e) {
        std::optional<session_facts> facts;
        if (needs_session_facts(e)) facts = read_session_facts(c);
        report = explain(e, args, facts);
    } catch (const std::exception& e) {
        report.message = e.what();
    }
    print_report(c, report, err_color);
    return report.exit_code;
}

}  // namespace pgque::cli
