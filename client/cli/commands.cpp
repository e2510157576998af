#include "commands.hpp"

#include <atomic>
#include <csignal>
#include <iterator>
#include <sstream>

#include <pgque/pgque.hpp>

#include "args.hpp"
#include "output.hpp"

namespace pgque::cli {

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

struct command_context {
    const arguments& args;
    std::istream& in;
    std::ostream& out;
    std::ostream& err;

    [[nodiscard]] std::string conninfo() const { return args.dsn.value_or(""); }

    [[nodiscard]] pgque::client connect() const {
        pgque::client client(conninfo());
        std::ostream& e = err;
        client.connection().set_notice_handler([&e](const notice& n) {
            if (n.severity == "WARNING") e << "pgque: warning: " << n.message << '\n';
        });
        return client;
    }

    void print_json(const std::string& json) const { out << json << '\n'; }
};

// ----------------------------------------------------------------- status

int cmd_status(const command_context& c) {
    pgque::client client = c.connect();
    auto rows = client.status();
    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& r : rows) {
            items.push_back(json_object().add("component", r.component).add("status", r.status)
                                .add("detail", r.detail).str());
        }
        c.print_json(json_array(items));
        return exit_ok;
    }
    text_table t({"component", "status", "detail"});
    for (const auto& r : rows) t.add_row({r.component, r.status, r.detail});
    t.print(c.out);
    return exit_ok;
}

// ----------------------------------------------------------------- queues

int cmd_queues(const command_context& c) {
    pgque::client client = c.connect();
    std::vector<queue_info> queues;
    if (c.args.positional.empty()) queues = client.queue_info();
    else queues.push_back(client.queue_info(c.args.positional[0]));

    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& q : queues) {
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
            items.push_back(o.str());
        }
        c.print_json(json_array(items));
        return exit_ok;
    }
    text_table t({"queue", "last tick", "tick age", "ev/s", "new", "max lag", "idle period", "paused"});
    for (const auto& q : queues) {
        std::string rate;
        if (q.ev_per_sec) {
            std::ostringstream s;
            s.precision(1);
            s << std::fixed << *q.ev_per_sec;
            rate = s.str();
        }
        t.add_row({q.queue_name, opt_num(q.last_tick_id), opt_duration(q.ticker_lag), rate,
                   std::to_string(q.ev_new), human_duration(q.ticker_max_lag),
                   human_duration(q.ticker_idle_period),
                   q.ticker_paused ? "yes" : (q.external_ticker ? "external" : "no")});
    }
    t.print(c.out);
    return exit_ok;
}

// -------------------------------------------------------------- consumers

int cmd_consumers(const command_context& c) {
    pgque::client client = c.connect();
    std::vector<consumer_info> rows;
    const auto& p = c.args.positional;
    if (p.empty()) rows = client.consumer_info();
    else if (p.size() == 1) rows = client.consumer_info(p[0]);
    else rows.push_back(client.consumer_info(p[0], p[1]));

    if (c.args.json) {
        std::vector<std::string> items;
        for (const auto& r : rows) {
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
            items.push_back(o.str());
        }
        c.print_json(json_array(items));
        return exit_ok;
    }
    text_table t({"queue", "consumer", "lag", "last seen", "pending", "last tick", "open batch"});
    for (const auto& r : rows) {
        t.add_row({r.queue_name, r.consumer_name, opt_duration(r.lag), opt_duration(r.last_seen),
                   opt_num(r.pending_events), opt_num(r.last_tick), opt_num(r.current_batch)});
    }
    t.print(c.out);
    return exit_ok;
}

// ------------------------------------------------ create, drop, subscribe

int cmd_create(const command_context& c) {
    pgque::client client = c.connect();
    const std::string& queue = c.args.positional[0];
    bool created = client.create_queue(queue);
    if (c.args.json) {
        c.print_json(json_object().add("queue", queue).add("created", created).str());
    } else {
        c.out << (created ? "created queue " : "queue already exists: ") << quoted(queue) << '\n';
    }
    return exit_ok;
}

int cmd_drop(const command_context& c) {
    pgque::client client = c.connect();
    const std::string& queue = c.args.positional[0];
    client.drop_queue(queue, c.args.force);
    if (c.args.json) c.print_json(json_object().add("queue", queue).add("dropped", true).str());
    else c.out << "dropped queue " << quoted(queue) << '\n';
    return exit_ok;
}

int cmd_subscribe(const command_context& c, bool subscribe) {
    pgque::client client = c.connect();
    const std::string& queue = c.args.positional[0];
    const std::string& consumer = c.args.positional[1];
    bool changed = subscribe ? client.subscribe(queue, consumer) : client.unsubscribe(queue, consumer);
    if (c.args.json) {
        c.print_json(json_object()
                         .add("queue", queue)
                         .add("consumer", consumer)
                         .add(subscribe ? "subscribed" : "unsubscribed", changed)
                         .str());
    } else if (subscribe) {
        c.out << (changed ? "subscribed " : "already subscribed: ") << quoted(consumer) << " to "
              << quoted(queue) << '\n';
    } else {
        c.out << (changed ? "unsubscribed " : "was not subscribed: ") << quoted(consumer) << " from "
              << quoted(queue) << '\n';
    }
    return exit_ok;
}

// ------------------------------------------------------------------- send

int cmd_send(const command_context& c) {
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

    pgque::client client = c.connect();
    std::vector<std::int64_t> ids;
    if (c.args.lines) {
        ids = c.args.type ? client.send_batch(queue, *c.args.type, payloads) : client.send_batch(queue, payloads);
    } else {
        ids.push_back(c.args.type ? client.send(queue, *c.args.type, payloads[0]) : client.send(queue, payloads[0]));
    }

    if (c.args.json) {
        json_object o;
        o.add("queue", queue);
        if (c.args.lines) {
            std::vector<std::string> raw;
            for (auto id : ids) raw.push_back(std::to_string(id));
            o.add_raw("ids", json_array(raw));
        } else {
            o.add("id", ids[0]);
        }
        c.print_json(o.str());
    } else {
        for (auto id : ids) c.out << id << '\n';
    }
    return exit_ok;
}

// ------------------------------------------------------------------- tail

std::atomic<pgque::consumer*> g_tail_consumer{nullptr};

extern "C" void on_stop_signal(int) {
    if (pgque::consumer* consumer = g_tail_consumer.load()) consumer->stop();
}

// Installs the stop handlers for the lifetime of one tail command.
class signal_scope {
public:
    explicit signal_scope(pgque::consumer& consumer) {
        g_tail_consumer.store(&consumer);
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &m_old_int);
        sigaction(SIGTERM, &sa, &m_old_term);
        struct sigaction ign {};
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, &m_old_pipe);  // a closed stdout stops the tail instead
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

int cmd_tail(const command_context& c) {
    const std::string& queue = c.args.positional[0];
    const std::string& name = c.args.positional[1];
    consumer_options options;
    options.batch_size = c.args.batch_size;
    options.max_messages = c.args.count;
    options.unknown_types = unknown_type_policy::nack;  // unreachable: "*" takes everything
    std::ostream& err = c.err;
    options.logger = [&err](log_level level, const std::string& message) {
        if (level == log_level::warning || level == log_level::error) {
            err << "pgque: " << to_string(level) << ": " << message << '\n';
        }
    };
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

    signal_scope signals(consumer);
    run_result result = c.args.timeout ? consumer.run_for(*c.args.timeout) : consumer.run();
    if (result == run_result::timed_out && c.args.count != 0) {
        c.err << "pgque: timeout: " << consumer.stats().handled << " of " << c.args.count
              << " messages arrived\n";
        return exit_timeout;
    }
    return exit_ok;
}

// -------------------------------------------------------------------- dlq

int cmd_dlq_list(const command_context& c) {
    pgque::client client = c.connect();
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
        c.print_json(json_array(items));
        return exit_ok;
    }
    text_table t({"id", "consumer", "time", "event", "retries", "type", "reason", "payload"});
    for (const auto& d : rows) {
        t.add_row({std::to_string(d.dl_id), d.consumer_name, iso_time(d.dl_time), std::to_string(d.ev_id),
                   opt_num(d.ev_retry), opt_str(d.ev_type), shorten(one_line(opt_str(d.reason)), 40),
                   shorten(one_line(opt_str(d.ev_data)), 50)});
    }
    t.print(c.out);
    return exit_ok;
}

int cmd_dlq_replay(const command_context& c) {
    pgque::client client = c.connect();
    if (c.args.all) {
        const std::string& queue = c.args.positional[0];
        replay_result r = client.dlq_replay_all(queue);
        if (c.args.json) {
            c.print_json(json_object()
                             .add("queue", queue)
                             .add("replayed", r.replayed)
                             .add("failed", r.failed)
                             .add("first_error", r.first_error)
                             .str());
        } else {
            c.out << "replayed " << r.replayed << ", failed " << r.failed << '\n';
        }
        if (r.failed > 0) {
            c.err << "pgque: error: " << opt_str(r.first_error) << '\n';
            return exit_server;
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
    if (c.args.json) c.print_json(json_array(items));
    return exit_ok;
}

int cmd_dlq_purge(const command_context& c) {
    pgque::client client = c.connect();
    const std::string& queue = c.args.positional[0];
    int n = client.dlq_purge(queue, c.args.older_than);
    if (c.args.json) c.print_json(json_object().add("queue", queue).add("purged", n).str());
    else c.out << "purged " << n << " dead letter" << (n == 1 ? "" : "s") << '\n';
    return exit_ok;
}

int dispatch(const command_context& c) {
    const std::string& cmd = c.args.command;
    if (cmd == "status") return cmd_status(c);
    if (cmd == "queues") return cmd_queues(c);
    if (cmd == "consumers") return cmd_consumers(c);
    if (cmd == "create") return cmd_create(c);
    if (cmd == "drop") return cmd_drop(c);
    if (cmd == "subscribe") return cmd_subscribe(c, true);
    if (cmd == "unsubscribe") return cmd_subscribe(c, false);
    if (cmd == "send") return cmd_send(c);
    if (cmd == "tail") return cmd_tail(c);
    if (cmd == "dlq") {
        if (c.args.subcommand == "list") return cmd_dlq_list(c);
        if (c.args.subcommand == "replay") return cmd_dlq_replay(c);
        if (c.args.subcommand == "purge") return cmd_dlq_purge(c);
    }
    throw usage("unknown command \"" + cmd + "\"");
}

void report(const command_context& c, const char* kind, const std::string& message, const sql_error* e,
            const std::string& sqlstate = {}) {
    if (c.args.json) {
        json_object o;
        o.add("kind", kind).add("message", message);
        if (e != nullptr) {
            o.add("sqlstate", e->sqlstate());
            if (!e->detail().empty()) o.add("detail", e->detail());
            if (!e->hint().empty()) o.add("hint", e->hint());
            if (!e->table_name().empty()) o.add("object", e->table_name());
        } else if (!sqlstate.empty()) {
            o.add("sqlstate", sqlstate);
        }
        c.err << json_object().add_raw("error", o.str()).str() << '\n';
        return;
    }
    c.err << "pgque: " << kind << ": " << message << '\n';
    if (e != nullptr) {
        if (!e->detail().empty()) c.err << "DETAIL: " << e->detail() << '\n';
        if (!e->hint().empty()) c.err << "HINT: " << e->hint() << '\n';
    }
}

}  // namespace

int run(const std::vector<std::string>& argv, std::istream& in, std::ostream& out, std::ostream& err) {
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

    command_context c{args, in, out, err};
    try {
        return dispatch(c);
    } catch (const usage& e) {
        err << "pgque: " << e.what() << "\nTry 'pgque --help'.\n";
        return exit_usage;
    } catch (const connection_error& e) {
        report(c, "connection error", e.what(), nullptr, e.sqlstate());
        return exit_connection;
    } catch (const not_found& e) {
        report(c, "not found", e.what(), &e);
        return exit_not_found;
    } catch (const sql_error& e) {
        report(c, "error", e.what(), &e);
        return exit_server;
    } catch (const std::exception& e) {
        report(c, "error", e.what(), nullptr);
        return exit_server;
    }
}

}  // namespace pgque::cli
