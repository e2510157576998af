#include "args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

namespace pgque::cli {

namespace {

struct command_spec {
    const char* name;
    std::size_t min_args;
    std::size_t max_args;  // SIZE_MAX: any number
    std::vector<std::string> flags;  // allowed command flags
};

const std::vector<command_spec>& commands() {
    static const std::vector<command_spec> specs = {
        {"status", 0, 0, {"--watch", "--watch-count"}},
        {"queues", 0, 1, {"--watch", "--watch-count"}},
        {"consumers", 0, 2, {"--watch", "--watch-count"}},
        {"create", 1, 1, {}},
        {"drop", 1, 1, {"--force"}},
        {"subscribe", 2, 2, {"--subconsumer"}},
        {"unsubscribe", 2, 2, {"--subconsumer", "--retry-open-batch"}},
        {"pause", 1, 2, {"--schedule"}},
        {"resume", 1, 2, {"--schedule"}},
        {"send", 1, 2, {"--type", "--lines", "--at", "--delay", "--priority", "--key"}},
        {"schedules", 0, 1, {"--watch", "--watch-count"}},
        {"schedule", 3, 4, {"--type"}},
        {"unschedule", 1, 1, {}},
        {"metrics", 0, 0, {"--listen"}},
        {"serve", 0, 0, {"--listen", "--tokens", "--pool"}},
        {"tail", 2, 2, {"--count", "--timeout", "--batch-size", "--subscribe", "--subconsumer", "--dead-interval"}},
        {"show", 2, 2, {}},
        {"dlq list", 1, 1, {"--limit"}},
        {"dlq replay", 0, SIZE_MAX, {"--all"}},
        {"dlq purge", 1, 1, {"--older-than"}},
    };
    return specs;
}

const command_spec* find_spec(const std::string& name) {
    for (const auto& s : commands()) {
        if (name == s.name) return &s;
    }
    return nullptr;
}

bool takes_value(const std::string& flag) {
    static const std::vector<std::string> valued = {"--dsn",        "--color", "--type",  "--count",
                                                    "--timeout",    "--limit", "--watch", "--watch-count",
                                                    "--batch-size", "--older-than", "--subconsumer",
                                                    "--dead-interval", "--at", "--delay", "--priority", "--key", "--listen",
                                                    "--tokens", "--pool"};
    return std::find(valued.begin(), valued.end(), flag) != valued.end();
}

std::uint64_t parse_count(const std::string& flag, const std::string& v, std::uint64_t min, std::uint64_t max) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n < min || n > max) {
        throw usage(flag + " needs a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                    ", got \"" + v + "\"");
    }
    return n;
}

}  // namespace

std::chrono::microseconds parse_duration(const std::string& text) {
    std::size_t split = 0;
    while (split < text.size() && (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.')) {
        ++split;
    }
    std::string number = text.substr(0, split);
    std::string unit = text.substr(split);
    static const std::map<std::string, double> units = {
        {"", 1e6}, {"us", 1.0}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"min", 60e6},
        {"h", 3600e6}, {"d", 86400e6}};
    auto u = units.find(unit);
    char* end = nullptr;
    double value = number.empty() ? -1 : std::strtod(number.c_str(), &end);
    if (u == units.end() || number.empty() || end != number.c_str() + number.size() || !(value >= 0) ||
        value * u->second > 9.2e18) {
        throw usage("invalid duration \"" + text + "\" (examples: 250ms, 10s, 5m, 12h, 30d)");
    }
    return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(value * u->second)));
}

arguments parse_args(const std::vector<std::string>& argv) {
    arguments a;
    std::vector<std::pair<std::string, std::string>> flags;  // command flags, checked once the command is known
    std::vector<std::string> words;
    bool options_done = false;
    bool json_after_command = false;  // send --json: see arguments::json_payload

    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-' || arg == "-") {
            words.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name = arg;
        std::optional<std::string> value;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        if (name == "-h" || name == "--help") {
            a.help = true;
            continue;
        }
        if (name == "--version") {
            a.version = true;
            continue;
        }
        if (name == "--json") {
            a.json = true;
            if (!words.empty()) json_after_command = true;
            continue;
        }
        if (takes_value(name)) {
            if (!value) {
                if (i + 1 >= argv.size()) throw usage(name + " needs a value");
                value = argv[++i];
            }
        } else if (value) {
            throw usage(name + " takes no value");
        } else if (name.rfind("--", 0) != 0) {
            throw usage("unknown option \"" + name + "\"");
        }
        if (name == "--dsn") {
            a.dsn = *value;
            continue;
        }
        if (name == "--color") {
            if (*value == "auto") a.color = color_when::auto_detect;
            else if (*value == "always") a.color = color_when::always;
            else if (*value == "never") a.color = color_when::never;
            else throw usage("--color needs auto, always or never, got \"" + *value + "\"");
            continue;
        }
        flags.emplace_back(name, value.value_or(""));
    }

    // "help [command [sub]]" is --help for that command
    if (!words.empty() && words[0] == "help") {
        a.help = true;
        words.erase(words.begin());
    }
    if (words.empty()) {
        if (a.help || a.version) return a;
        throw usage("no command given");
    }
    a.command = words[0];
    words.erase(words.begin());
    std::string spec_name = a.command;
    if (a.command == "dlq") {
        if (words.empty()) {
            if (a.help) return a;
            throw usage("dlq needs a subcommand: list, replay or purge");
        }
        a.subcommand = words[0];
        words.erase(words.begin());
        spec_name += " " + a.subcommand;
    }
    const command_spec* spec = find_spec(spec_name);
    if (spec == nullptr) {
        if (a.command == "dlq") throw usage("unknown dlq subcommand \"" + a.subcommand + "\"");
        throw usage("unknown command \"" + a.command + "\"");
    }
    if (a.help) return a;

    for (const auto& [name, value] : flags) {
        if (std::find(spec->flags.begin(), spec->flags.end(), name) == spec->flags.end()) {
            throw usage("option " + name + " does not apply to \"" + spec_name + "\"");
        }
        if (name == "--force") a.force = true;
        else if (name == "--type") a.type = value;
        else if (name == "--lines") a.lines = true;
        else if (name == "--at" || name == "--delay") {
            if (value.empty()) {
                throw usage(name + (name == "--at" ? " needs a time, such as 2026-12-24T18:00:00Z"
                                                   : " needs a duration, such as 30s or '5 minutes'"));
            }
            (name == "--at" ? a.at : a.delay) = value;
        }
        else if (name == "--priority") a.priority = static_cast<int>(parse_count(name, value, 0, 9));
        else if (name == "--key") a.key = value;
        else if (name == "--listen") {
            auto colon = value.rfind(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
                throw usage("--listen needs HOST:PORT, such as 127.0.0.1:9187");
            }
            parse_count(name, value.substr(colon + 1), 1, 65535);
            a.listen = value;
        }
        else if (name == "--tokens") a.tokens = value;
        else if (name == "--pool") a.pool = static_cast<int>(parse_count(name, value, 1, 1000));
        else if (name == "--all") a.all = true;
        else if (name == "--schedule") a.schedule = true;
        else if (name == "--subscribe") a.subscribe = true;
        else if (name == "--retry-open-batch") a.retry_open_batch = true;
        else if (name == "--watch-count") a.watch_count = parse_count(name, value, 1, UINT64_MAX);
        else if (name == "--watch") {
            a.watch = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(value));
            if (*a.watch < std::chrono::milliseconds(100)) throw usage("--watch needs an interval of at least 100ms");
        }
        else if (name == "--count") a.count = parse_count(name, value, 1, UINT64_MAX);
        else if (name == "--subconsumer") {
            if (value.empty() || value.find('.') != std::string::npos) {
                throw usage("--subconsumer needs a name without \".\", got \"" + value + "\"");
            }
            a.subconsumer = value;
        } else if (name == "--dead-interval") {
            a.dead_interval = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(value));
        }
        else if (name == "--batch-size") a.batch_size = static_cast<int>(parse_count(name, value, 1, 1000000));
        else if (name == "--limit") a.limit = static_cast<int>(parse_count(name, value, 0, 2147483647));
        else if (name == "--older-than") a.older_than = parse_duration(value);
        else if (name == "--timeout") {
            a.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(value));
            if (*a.timeout <= std::chrono::milliseconds(0)) throw usage("--timeout must be positive");
        }
    }

    if (a.watch_count != 0 && !a.watch) throw usage("--watch-count needs --watch");
    a.json_payload = (spec_name == "send" || spec_name == "schedule") && json_after_command;

    a.positional = std::move(words);
    std::size_t n = a.positional.size();
    if (n < spec->min_args || n > spec->max_args) {
        throw usage("wrong number of arguments for \"" + spec_name + "\" (see pgque " + spec_name + " --help)");
    }
    if (spec_name == "dlq replay") {
        if (a.all && n != 1) throw usage("dlq replay --all takes one QUEUE");
        if (!a.all && n == 0) throw usage("dlq replay needs dead letter ids, or --all QUEUE");
        if (!a.all) {
            for (const auto& id : a.positional) parse_count("dead letter id", id, 1, INT64_MAX);
        }
    }
    if (spec_name == "show") parse_count("message id", a.positional[1], 1, INT64_MAX);
    if (a.at && a.delay) throw usage("send takes --at or --delay, not both");
    if ((a.at || a.delay) && (a.key || a.priority != 0)) {
        throw usage("send --at/--delay takes no --key or --priority (a queue's delivery_delay does)");
    }
    if (a.lines && a.key) throw usage("send --key sends one event: it does not go with --lines");
    if (a.schedule && n != 1) throw usage(spec_name + " --schedule takes one NAME");
    if (spec_name == "schedule" && a.type && a.type->empty()) throw usage("--type needs a type name");
    if (spec_name == "send" && a.lines && n == 2 && a.positional[1] != "-") {
        throw usage("send --lines reads the payloads from stdin: give no PAYLOAD");
    }
    return a;
}

std::string help_text(const std::string& command, const std::string& subcommand) {
    static const char* common =
        "\nGlobal options:\n"
        "  --dsn DSN    libpq connection string or URI (default: the libpq environment,\n"
        "               PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSERVICE, ...)\n"
        "  --json       machine-readable output (JSON; tail and --watch write one document\n"
        "               per line)\n"
        "  --color WHEN colour the output: auto (on a terminal, unless NO_COLOR is set),\n"
        "               always or never\n"
        "  -h, --help   this help\n"
        "\nExit codes: 0 ok, 1 usage, 2 not found, 3 connection, 4 other error,\n"
        "            5 tail --timeout passed before --count messages arrived\n";
    static const char* watch_help =
        "  --watch N    redraw every N seconds (250ms, 2, 1m, ...) until interrupted\n";
    std::string name = subcommand.empty() ? command : command + " " + subcommand;
    std::string body;
    if (name.empty()) {
        body =
            "pgque - inspect and operate pgque queues\n\n"
            "Usage: pgque [--dsn DSN] [--json] [--color WHEN] COMMAND [ARGS]\n\n"
            "Commands:\n"
            "  status [--watch N]             health of pgque, the ticker, every queue and consumer\n"
            "  queues [QUEUE] [--watch N]     queues with ticker state, rates, delayed events and\n"
            "                                 retry policy\n"
            "  consumers [QUEUE [CONSUMER]] [--watch N]\n"
            "                                 subscriptions with lag and pending events\n"
            "  create QUEUE                   create a queue\n"
            "  drop QUEUE [--force]           drop a queue (--force: unsubscribe its consumers)\n"
            "  subscribe QUEUE CONSUMER       subscribe a consumer (starts at the newest tick)\n"
            "  unsubscribe QUEUE CONSUMER     remove a subscription\n"
            "  pause QUEUE [CONSUMER]         hand nothing to the queue's consumers (or to one)\n"
            "  pause --schedule NAME          send nothing for a schedule\n"
            "  resume QUEUE [CONSUMER] | --schedule NAME\n"
            "                                 undo pause\n"
            "  send QUEUE [PAYLOAD] [--type T] [--lines] [--json] [--at TIME | --delay DUR]\n"
            "       [--priority N] [--key K]\n"
            "                                 send an event (payload from stdin if omitted)\n"
            "  tail QUEUE CONSUMER [--count N] [--timeout DUR] [--subscribe] [--subconsumer NAME]\n"
            "                                 follow a queue as subscribed CONSUMER, print each message\n"
            "  metrics [--listen HOST:PORT]   Prometheus metrics: print them, or serve /metrics\n"
            "  serve [--listen HOST:PORT] [--tokens FILE] [--pool N]\n"
            "                                 the HTTP API (/v1, /metrics, /healthz)\n"
            "  show QUEUE MSG_ID              where a message is, for each consumer: pending,\n"
            "                                 in a batch, done, retry, dead, delayed, unknown, gone\n"
            "  schedules [NAME] [--watch N]   periodic messages with their next and last run\n"
            "  schedule NAME QUEUE SPEC [PAYLOAD] [--type T] [--json]\n"
            "                                 create or replace a periodic message\n"
            "  unschedule NAME                remove a periodic message\n"
            "  dlq list QUEUE [--limit N]     dead letters, newest first\n"
            "  dlq replay ID... | --all QUEUE put dead letters back into their queue\n"
            "  dlq purge QUEUE [--older-than DUR]\n"
            "                                 delete dead letters (default: older than 30d)\n"
            "\n'pgque COMMAND --help' describes one command.\n";
    } else if (name == "status") {
        body = "Usage: pgque status [--watch N]\n\n"
               "One row per component: pgque (version), postgresql, the ticker, and each queue\n"
               "(ok, paused, stale, no ticks) with its last tick, subscribers, retries and dead letters;\n"
               "then every consumer with its lag, pending events and the age of the oldest one.\n" +
               std::string(watch_help);
    } else if (name == "queues") {
        body = "Usage: pgque queues [QUEUE] [--watch N]\n\n"
               "Every queue (or one) in two tables. Ticks, from pgque.get_queue_info(): age of the\n"
               "last tick, events per second (since the 20th-newest tick, up to now: an idle queue\n"
               "shows ~0), events not yet ticked, last tick id, ticker settings. Delivery, from\n"
               "pgque.get_queue_config() and pgque.get_delayed_info(): whether the queue is paused,\n"
               "events sent for later and retries waiting (with when the next is due), and the\n"
               "queue's delivery_delay, retry policy and message_ttl.\n"
               "JSON intervals are seconds (numbers), times are ISO 8601 UTC.\n" +
               std::string(watch_help);
    } else if (name == "consumers") {
        body = "Usage: pgque consumers [QUEUE [CONSUMER]] [--watch N]\n\n"
               "Subscriptions from pgque.get_consumer_info(): lag (age of the consumer's position),\n"
               "pending events and how long the oldest of them has waited, time since last seen,\n"
               "and the open batch if any.\n" +
               std::string(watch_help);
    } else if (name == "create") {
        body = "Usage: pgque create QUEUE\n\n"
               "Creates the queue (pgque.create_queue). Creating an existing queue is not an error.\n";
    } else if (name == "drop") {
        body = "Usage: pgque drop QUEUE [--force]\n\n"
               "Drops the queue with its events, retries and dead letters. Without --force this\n"
               "fails (exit 4) while consumers are subscribed; --force unsubscribes them first.\n";
    } else if (name == "subscribe") {
        body = "Usage: pgque subscribe QUEUE CONSUMER [--subconsumer NAME]\n\n"
               "Subscribes CONSUMER to QUEUE; it sees every event committed from now on.\n"
               "Subscribing again is not an error.\n"
               "  --subconsumer NAME register member NAME of cooperative consumer CONSUMER (its\n"
               "                     members share its messages; see pgque tail --subconsumer)\n";
    } else if (name == "unsubscribe") {
        body = "Usage: pgque unsubscribe QUEUE CONSUMER [--subconsumer NAME [--retry-open-batch]]\n\n"
               "Removes the subscription, its pending retries and its dead letters.\n"
               "  --subconsumer NAME removes member NAME of cooperative consumer CONSUMER instead\n"
               "  --retry-open-batch if the member holds a batch, schedule its unacknowledged\n"
               "                     messages for retry (without it, that is an error, exit 4)\n";
    } else if (name == "schedules") {
        body = "Usage: pgque schedules [NAME] [--watch N]\n\n"
               "Every schedule (or one) from pgque.get_schedule_info(): its queue, spec, event type,\n"
               "when it sends next (\"paused\" while paused), the slot its last event stood for, how\n"
               "many events it sent and how many slots those caught up for, and the last error.\n";
        body += watch_help;
    } else if (name == "schedule") {
        body = "Usage: pgque schedule NAME QUEUE SPEC [PAYLOAD] [--type TYPE] [--json]\n\n"
               "Creates schedule NAME, or replaces it: one event of TYPE (default \"schedule\") with\n"
               "PAYLOAD (default none) goes into QUEUE per slot of SPEC, sent by the worker. SPEC is\n"
               "five cron fields in UTC (\"*/15 * * * *\", \"0 9 * * mon-fri\"), @hourly, @daily,\n"
               "@weekly, @monthly, @yearly, or \"every N seconds|minutes|hours|days\"; a prefix\n"
               "\"TZ=Europe/Berlin \" makes the cron fields local times. Quote it as one argument.\n"
               "  --type TYPE   the events' type\n"
               "  --json        PAYLOAD is JSON: checked here, stored as jsonb\n"
               "Needs the role pgque_admin.\n";
    } else if (name == "unschedule") {
        body = "Usage: pgque unschedule NAME\n\n"
               "Removes schedule NAME; removing one that does not exist is not an error.\n"
               "Needs the role pgque_admin.\n";
    } else if (name == "pause" || name == "resume") {
        body = "Usage: pgque " + name + " QUEUE [CONSUMER]\n"
               "       pgque " + name + " --schedule NAME\n\n"
               "pause QUEUE: its consumers are handed nothing until pgque resume QUEUE; producers\n"
               "keep sending, the ticker keeps ticking, batches already handed out can still be\n"
               "acknowledged. pause QUEUE CONSUMER does the same for one consumer only; its\n"
               "position stays where it is, so events (and table rotation) wait for it.\n"
               "pause --schedule NAME: the schedule sends nothing; resumed, it goes on with its\n"
               "first slot after now (what came meanwhile is not caught up).\n"
               "Pausing what is paused, or resuming what runs, is not an error.\n"
               "Queues and schedules need the role pgque_admin, consumers pgque_reader.\n";
    } else if (name == "send") {
        body = "Usage: pgque send QUEUE [PAYLOAD | -] [--type TYPE] [--lines] [--json]\n"
               "                  [--at TIME | --delay DURATION] [--priority N] [--key KEY]\n\n"
               "Sends one event and prints its id. Without PAYLOAD (or with -) the payload is read\n"
               "from stdin, one trailing newline removed. With --lines every line of stdin is one\n"
               "event (sent in one call) and every id is printed.\n"
               "  --type TYPE   event type (default: \"default\")\n"
               "  --lines       one event per line of stdin\n"
               "  --priority N  0 (default) .. 9: consumers receive higher priorities first\n"
               "  --at TIME     deliver at TIME, a PostgreSQL timestamp: 2026-12-24T18:00:00Z,\n"
               "                '2026-12-24 18:00:00+01', 'tomorrow 09:00' (without a zone: the\n"
               "                session's TimeZone, PGTZ or the server's)\n"
               "  --delay DURATION  deliver DURATION from now (the server's clock), a PostgreSQL\n"
               "                interval: 30s, 250ms, 5min, '5 minutes', '1 day 2 hours'\n"
               "                A time not in the future sends now. The id printed is the id\n"
               "                consumers will see.\n"
               "  --priority N  0 (default) to 9: higher priorities are received first\n"
               "  --key KEY     idempotent send: if KEY was sent to QUEUE within its dedup_window,\n"
               "                nothing is sent and the first send's id is printed\n"
               "  --json        (after send) the payload is JSON: it is checked before anything is\n"
               "                sent (invalid JSON: exit 4, nothing sent) and stored as jsonb's\n"
               "                canonical text; the output is JSON too. Before the command, --json\n"
               "                only selects JSON output.\n";
    } else if (name == "tail") {
        body = "Usage: pgque tail QUEUE CONSUMER [--count N] [--timeout DURATION] [--batch-size N]\n"
               "                  [--subscribe] [--subconsumer NAME [--dead-interval DURATION]]\n\n"
               "Follows QUEUE as CONSUMER and prints every message:\n"
               "  MSG_ID TYPE PAYLOAD   (human)   or one JSON object per line (--json)\n"
               "Printed messages are acknowledged: this advances CONSUMER's position.\n"
               "Ctrl-C (SIGINT) or SIGTERM stops cleanly (exit 0); a batch interrupted in the middle\n"
               "is not acknowledged and comes again next time.\n"
               "  --count N          exit after N messages\n"
               "  --timeout DURATION exit after this long (exit 5 if --count was not reached)\n"
               "  --batch-size N     messages per receive (default 100)\n"
               "  --subscribe        subscribe CONSUMER first if it is not (a subscription is\n"
               "                     permanent: it keeps events, and table rotation, waiting for it\n"
               "                     until pgque unsubscribe). Without it, a CONSUMER that is not\n"
               "                     subscribed is an error (exit 2).\n"
               "  --subconsumer NAME read as member NAME of cooperative consumer CONSUMER: several\n"
               "                     tails with one CONSUMER and different NAMEs share its messages,\n"
               "                     each message to one of them (registers NAME; makes CONSUMER\n"
               "                     cooperative if it is new)\n"
               "  --dead-interval DURATION  with --subconsumer: take over the batch of a member\n"
               "                     silent for longer than this\n";
    } else if (name == "metrics") {
        body = "Usage: pgque metrics [--listen HOST:PORT]\n\n"
               "Prints pgque.metrics(): the state of every queue, consumer, schedule and the worker\n"
               "in the Prometheus text exposition format (docs/operations.md#metrics).\n"
               "  --listen HOST:PORT  serve it over HTTP instead, at /metrics, one query per\n"
               "                      scrape (HTTP 503 with the error while the database cannot\n"
               "                      answer), until SIGINT or SIGTERM; for example\n"
               "                      pgque metrics --listen 127.0.0.1:9187\n";
    } else if (name == "serve") {
        body = "Usage: pgque serve [--listen HOST:PORT] [--tokens FILE] [--pool N]\n\n"
               "Serves the HTTP API until SIGINT or SIGTERM (docs/http.md): queues and messages\n"
               "under /v1 (OpenAPI document at /v1/openapi.json), pgque.metrics() at /metrics,\n"
               "/healthz. On a stop, requests in flight finish and nothing else is accepted.\n"
               "  --listen HOST:PORT  where to listen (default 127.0.0.1:8080)\n"
               "  --tokens FILE       bearer tokens, one \"TOKEN ROLE\" per line: a request runs\n"
               "                      as its token's database role (SET LOCAL ROLE), so pgque's\n"
               "                      grants decide; no token or an unknown one is HTTP 401.\n"
               "                      Without --tokens every request runs as the --dsn role.\n"
               "  --pool N            database connections (default 8)\n";
    } else if (name == "show") {
        body = "Usage: pgque show QUEUE MSG_ID\n\n"
               "Where message MSG_ID of QUEUE is, from pgque.message_state(): one line per consumer\n"
               "with its state -- pending (not handed out yet), in_batch (received, not acknowledged;\n"
               "for a cooperative consumer, by which member), done (the consumer read past it),\n"
               "retry (nacked; when it comes back), dead (dead-lettered; the reason and the dead\n"
               "letter id for pgque dlq replay), delayed (sent for later; when it enters the queue),\n"
               "unknown (never sent, or rolled back) or gone (its table was rotated away) -- the\n"
               "delivery attempt, and a sentence that says why.\n"
               "It reads the queue's event tables whole: for people, not for every message.\n"
               "JSON times are ISO 8601 UTC.\n";
    } else if (name == "dlq" ) {
        body = "Usage: pgque dlq list QUEUE [--limit N]\n"
               "       pgque dlq replay ID... | pgque dlq replay --all QUEUE\n"
               "       pgque dlq purge QUEUE [--older-than DURATION]\n\n"
               "Dead letters: events a consumer gave up on after max_retries.\n";
    } else if (name == "dlq list") {
        body = "Usage: pgque dlq list QUEUE [--limit N]\n\n"
               "Dead letters of QUEUE, newest first (default limit 100).\n";
    } else if (name == "dlq replay") {
        body = "Usage: pgque dlq replay ID...\n"
               "       pgque dlq replay --all QUEUE\n\n"
               "Puts dead letters back into their queue for the consumer that gave up on them,\n"
               "with a fresh retry count. --all replays every dead letter of QUEUE and exits 4\n"
               "if any failed.\n";
    } else if (name == "dlq purge") {
        body = "Usage: pgque dlq purge QUEUE [--older-than DURATION]\n\n"
               "Deletes dead letters of QUEUE older than DURATION (default 30d; 0 = all).\n"
               "Durations: 250ms, 10s, 5m, 12h, 30d, or a number of seconds.\n";
    } else {
        body = "pgque: no help for \"" + name + "\"\n";
    }
    return body + common;
}

}  // namespace pgque::cli
