// The CLI's command-line parsing and its usage errors, without a database.
#include <sstream>

#include <gtest/gtest.h>

#include "args.hpp"
#include "commands.hpp"

using pgque::cli::arguments;
using pgque::cli::parse_args;
using pgque::cli::usage;

TEST(CliArgs, GlobalOptionsAnywhere) {
    arguments a = parse_args({"--dsn", "host=x", "queues", "--json"});
    EXPECT_EQ(a.command, "queues");
    EXPECT_EQ(a.dsn, "host=x");
    EXPECT_TRUE(a.json);
    arguments b = parse_args({"status", "--dsn=postgres://u@h/db"});
    EXPECT_EQ(b.dsn, "postgres://u@h/db");
    EXPECT_FALSE(b.json);
    EXPECT_FALSE(parse_args({"status"}).dsn.has_value());
}

TEST(CliArgs, SendForms) {
    arguments a = parse_args({"send", "orders", "{\"id\":1}", "--type", "order.created"});
    EXPECT_EQ(a.positional, (std::vector<std::string>{"orders", "{\"id\":1}"}));
    EXPECT_EQ(a.type, "order.created");
    arguments b = parse_args({"send", "orders", "--lines"});
    EXPECT_TRUE(b.lines);
    EXPECT_EQ(b.positional.size(), 1u);
    // a payload starting with '-' after "--"
    arguments c = parse_args({"send", "orders", "--", "-5"});
    EXPECT_EQ(c.positional[1], "-5");
    // "-" alone means stdin
    arguments d = parse_args({"send", "orders", "-"});
    EXPECT_EQ(d.positional[1], "-");
    EXPECT_THROW(static_cast<void>(parse_args({"send", "orders", "x", "--lines"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "a", "b"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "--type"})), usage);
}

TEST(CliArgs, SendLater) {
    arguments a = parse_args({"send", "q", "x", "--at", "2026-12-24T18:00:00Z"});
    EXPECT_EQ(a.at, "2026-12-24T18:00:00Z");
    EXPECT_FALSE(a.delay.has_value());
    arguments b = parse_args({"send", "q", "--lines", "--delay=5 minutes"});
    EXPECT_EQ(b.delay, "5 minutes");
    EXPECT_TRUE(b.lines);
    // the value is the server's to read: a negative interval is a value, not an option
    EXPECT_EQ(parse_args({"send", "q", "x", "--delay", "-5s"}).delay, "-5s");
    EXPECT_FALSE(parse_args({"send", "q", "x"}).at.has_value());
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--at", "now", "--delay", "1s"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--at", ""})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--delay="})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--delay"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--at", "now"})), usage);
}

TEST(CliArgs, SendPriorityAndKey) {
    arguments a = parse_args({"send", "q", "x", "--priority", "9", "--key", "order-1"});
    EXPECT_EQ(a.priority, 9);
    EXPECT_EQ(a.key, "order-1");
    EXPECT_EQ(parse_args({"send", "q", "x"}).priority, 0);
    EXPECT_FALSE(parse_args({"send", "q", "x"}).key.has_value());
    EXPECT_EQ(parse_args({"send", "q", "--lines", "--priority=3"}).priority, 3);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "10"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "-1"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "high"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "--lines", "--key", "k"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--key", "k", "--delay", "1s"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "1", "--at", "now"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--key", "k"})), usage);
}

TEST(CliArgs, SendPriority) {
    EXPECT_EQ(parse_args({"send", "q", "x"}).priority, 0);
    EXPECT_EQ(parse_args({"send", "q", "x", "--priority", "9"}).priority, 9);
    arguments a = parse_args({"send", "q", "--lines", "--priority=3", "--type", "t"});
    EXPECT_EQ(a.priority, 3);
    EXPECT_TRUE(a.lines);
    EXPECT_EQ(a.type, "t");
    EXPECT_EQ(parse_args({"send", "q", "x", "--priority", "0"}).priority, 0);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "10"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "-1"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "high"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--priority", "5", "--delay", "1s"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--priority", "5"})), usage);
}

TEST(CliArgs, MetricsListen) {
    EXPECT_FALSE(parse_args({"metrics"}).listen.has_value());
    EXPECT_EQ(parse_args({"metrics", "--listen", "127.0.0.1:9187"}).listen, "127.0.0.1:9187");
    EXPECT_EQ(parse_args({"metrics", "--listen=[::1]:9187"}).listen, "[::1]:9187");
    EXPECT_THROW(static_cast<void>(parse_args({"metrics", "--listen", "9187"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"metrics", "--listen", "localhost:"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"metrics", "--listen", "localhost:70000"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"metrics", "extra"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--listen", "127.0.0.1:1"})), usage);
}

TEST(CliArgs, PauseAndResume) {
    for (const char* cmd : {"pause", "resume"}) {
        arguments q = parse_args({cmd, "orders"});
        EXPECT_EQ(q.command, cmd);
        EXPECT_EQ(q.positional, (std::vector<std::string>{"orders"}));
        arguments c = parse_args({cmd, "orders", "billing"});
        EXPECT_EQ(c.positional, (std::vector<std::string>{"orders", "billing"}));
        EXPECT_THROW(static_cast<void>(parse_args({cmd})), usage) << cmd;
        EXPECT_THROW(static_cast<void>(parse_args({cmd, "q", "c", "x"})), usage) << cmd;
        EXPECT_THROW(static_cast<void>(parse_args({cmd, "q", "--force"})), usage) << cmd;
    }
}

TEST(CliArgs, Schedules) {
    arguments s = parse_args({"schedule", "nightly", "orders", "TZ=Europe/Berlin 0 3 * * *"});
    EXPECT_EQ(s.command, "schedule");
    EXPECT_EQ(s.positional, (std::vector<std::string>{"nightly", "orders", "TZ=Europe/Berlin 0 3 * * *"}));
    EXPECT_FALSE(s.type);
    EXPECT_FALSE(s.json_payload);
    arguments p = parse_args({"schedule", "--type", "report", "nightly", "orders", "@daily", "{\"a\":1}", "--json"});
    EXPECT_EQ(p.type, "report");
    EXPECT_EQ(p.positional.size(), 4u);
    EXPECT_EQ(p.positional[3], "{\"a\":1}");
    EXPECT_TRUE(p.json_payload);
    EXPECT_TRUE(p.json);
    // --json before the command: JSON output, a text payload
    arguments j = parse_args({"--json", "schedule", "n", "q", "every 5 seconds", "x"});
    EXPECT_FALSE(j.json_payload);
    EXPECT_THROW(static_cast<void>(parse_args({"schedule", "n", "q"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"schedule", "n", "q", "@daily", "p", "extra"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"schedule", "n", "q", "@daily", "--type"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"schedule", "n", "q", "@daily", "--type="})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"schedule", "n", "q", "@daily", "--at", "now"})), usage);

    EXPECT_EQ(parse_args({"unschedule", "nightly"}).positional, (std::vector<std::string>{"nightly"}));
    EXPECT_THROW(static_cast<void>(parse_args({"unschedule"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"unschedule", "a", "b"})), usage);

    EXPECT_TRUE(parse_args({"schedules"}).positional.empty());
    EXPECT_EQ(parse_args({"schedules", "nightly"}).positional, (std::vector<std::string>{"nightly"}));
    EXPECT_EQ(parse_args({"schedules", "--watch", "2"}).watch, std::chrono::milliseconds(2000));
    EXPECT_THROW(static_cast<void>(parse_args({"schedules", "a", "b"})), usage);

    for (const char* cmd : {"pause", "resume"}) {
        arguments ps = parse_args({cmd, "--schedule", "nightly"});
        EXPECT_TRUE(ps.schedule) << cmd;
        EXPECT_EQ(ps.positional, (std::vector<std::string>{"nightly"}));
        EXPECT_FALSE(parse_args({cmd, "orders"}).schedule);
        EXPECT_THROW(static_cast<void>(parse_args({cmd, "--schedule", "q", "c"})), usage) << cmd;
        EXPECT_THROW(static_cast<void>(parse_args({cmd, "--schedule"})), usage) << cmd;
    }
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "p", "--schedule"})), usage);
}

TEST(CliArgs, TailOptions) {
    arguments a = parse_args({"tail", "q", "c", "--count", "5", "--timeout", "1.5", "--batch-size=10"});
    EXPECT_EQ(a.count, 5u);
    ASSERT_TRUE(a.timeout.has_value());
    EXPECT_EQ(a.timeout->count(), 1500);
    EXPECT_EQ(a.batch_size, 10);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--count", "0"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--count", "-1"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--timeout", "0"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q"})), usage);
}

TEST(CliArgs, SendJsonAfterTheCommandMeansAJsonPayload) {
    // after "send": the payload is JSON (and the output too)
    arguments after = parse_args({"send", "q", "{}", "--json"});
    EXPECT_TRUE(after.json_payload);
    EXPECT_TRUE(after.json);
    EXPECT_TRUE(parse_args({"send", "--json", "q", "{}"}).json_payload);
    EXPECT_TRUE(parse_args({"--dsn", "x", "send", "q", "--lines", "--json"}).json_payload);
    // before the command: only the output format, as for every command
    arguments before = parse_args({"--json", "send", "q", "text"});
    EXPECT_FALSE(before.json_payload);
    EXPECT_TRUE(before.json);
    EXPECT_FALSE(parse_args({"queues", "--json"}).json_payload);
}

TEST(CliArgs, TailSubscribesOnlyWhenAsked) {
    EXPECT_FALSE(parse_args({"tail", "q", "c"}).subscribe);
    EXPECT_TRUE(parse_args({"tail", "q", "c", "--subscribe"}).subscribe);
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--subscribe"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--subscribe=yes"})), usage);
}

TEST(CliArgs, Watch) {
    using namespace std::chrono;
    for (const char* cmd : {"status", "queues", "consumers"}) {
        arguments a = parse_args({cmd, "--watch", "2"});
        ASSERT_TRUE(a.watch.has_value()) << cmd;
        EXPECT_EQ(*a.watch, seconds(2));
        EXPECT_EQ(a.watch_count, 0u);
    }
    EXPECT_EQ(*parse_args({"queues", "q", "--watch=250ms"}).watch, milliseconds(250));
    EXPECT_EQ(parse_args({"consumers", "--watch", "1", "--watch-count", "3"}).watch_count, 3u);
    EXPECT_FALSE(parse_args({"status"}).watch.has_value());
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--watch", "0"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--watch", "50ms"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--watch"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--watch-count", "2"})), usage);  // needs --watch
    EXPECT_THROW(static_cast<void>(parse_args({"send", "q", "x", "--watch", "1"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"tail", "q", "c", "--watch", "1"})), usage);
}

TEST(CliArgs, Color) {
    EXPECT_EQ(parse_args({"status"}).color, pgque::cli::color_when::auto_detect);
    EXPECT_EQ(parse_args({"--color", "always", "status"}).color, pgque::cli::color_when::always);
    EXPECT_EQ(parse_args({"status", "--color=never"}).color, pgque::cli::color_when::never);
    EXPECT_EQ(parse_args({"status", "--color", "auto"}).color, pgque::cli::color_when::auto_detect);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--color", "yes"})), usage);
}

TEST(CliArgs, FlagsOnlyWhereTheyApply) {
    EXPECT_TRUE(parse_args({"drop", "q", "--force"}).force);
    EXPECT_FALSE(parse_args({"drop", "q"}).force);
    EXPECT_THROW(static_cast<void>(parse_args({"create", "q", "--force"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--count", "1"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "--bogus"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"drop", "q", "--force=yes"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"status", "-x"})), usage);
}

TEST(CliArgs, Dlq) {
    arguments l = parse_args({"dlq", "list", "q", "--limit", "5"});
    EXPECT_EQ(l.command, "dlq");
    EXPECT_EQ(l.subcommand, "list");
    EXPECT_EQ(l.limit, 5);
    arguments r = parse_args({"dlq", "replay", "3", "4"});
    EXPECT_EQ(r.positional, (std::vector<std::string>{"3", "4"}));
    arguments all = parse_args({"dlq", "replay", "--all", "q"});
    EXPECT_TRUE(all.all);
    arguments p = parse_args({"dlq", "purge", "q", "--older-than", "7d"});
    EXPECT_EQ(p.older_than, std::chrono::hours(24 * 7));
    EXPECT_EQ(parse_args({"dlq", "purge", "q"}).older_than, std::chrono::hours(24 * 30));
    EXPECT_THROW(static_cast<void>(parse_args({"dlq"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"dlq", "frob", "q"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"dlq", "replay"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"dlq", "replay", "abc"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"dlq", "replay", "--all"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"dlq", "replay", "--all", "q", "r"})), usage);
}

TEST(CliArgs, Show) {
    arguments a = parse_args({"show", "q", "42"});
    EXPECT_EQ(a.command, "show");
    EXPECT_EQ(a.positional, (std::vector<std::string>{"q", "42"}));
    EXPECT_THROW(static_cast<void>(parse_args({"show", "q"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"show", "q", "0"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"show", "q", "x1"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({"show", "q", "1", "2"})), usage);
}

TEST(CliArgs, Help) {
    EXPECT_TRUE(parse_args({"--help"}).help);
    arguments a = parse_args({"tail", "--help"});
    EXPECT_TRUE(a.help);
    EXPECT_EQ(a.command, "tail");
    arguments b = parse_args({"help", "dlq", "purge"});
    EXPECT_TRUE(b.help);
    EXPECT_EQ(b.subcommand, "purge");
    // help skips argument validation of the command
    EXPECT_TRUE(parse_args({"send", "-h"}).help);
    EXPECT_THROW(static_cast<void>(parse_args({"frob", "--help"})), usage);
    EXPECT_THROW(static_cast<void>(parse_args({})), usage);
}

TEST(CliArgs, Durations) {
    using namespace std::chrono;
    using pgque::cli::parse_duration;
    EXPECT_EQ(parse_duration("0"), microseconds(0));
    EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
    EXPECT_EQ(parse_duration("10s"), seconds(10));
    EXPECT_EQ(parse_duration("1.5"), milliseconds(1500));
    EXPECT_EQ(parse_duration("5m"), minutes(5));
    EXPECT_EQ(parse_duration("12h"), hours(12));
    EXPECT_EQ(parse_duration("30d"), hours(720));
    for (const char* bad : {"", "s", "-1s", "5x", "1.2.3", "1e3", "99999999999999d"}) {
        EXPECT_THROW(static_cast<void>(parse_duration(bad)), usage) << bad;
    }
}

TEST(CliArgs, EveryCommandHasHelp) {
    for (const char* cmd : {"status", "queues", "consumers", "create", "drop", "subscribe", "unsubscribe", "pause",
                            "resume", "send", "tail", "show", "schedules", "schedule", "unschedule", "metrics"}) {
        std::string text = pgque::cli::help_text(cmd);
        EXPECT_NE(text.find(std::string("Usage: pgque ") + cmd), std::string::npos) << cmd;
        EXPECT_NE(text.find("Exit codes"), std::string::npos) << cmd;
    }
    for (const char* sub : {"list", "replay", "purge"}) {
        EXPECT_NE(pgque::cli::help_text("dlq", sub).find(std::string("Usage: pgque dlq ") + sub), std::string::npos);
    }
    EXPECT_NE(pgque::cli::help_text("").find("Commands:"), std::string::npos);
}

TEST(CliRun, UsageErrorsExitOneWithoutConnecting) {
    std::istringstream in;
    std::ostringstream out, err;
    EXPECT_EQ(pgque::cli::run({"frob"}, in, out, err), 1);
    EXPECT_NE(err.str().find("unknown command \"frob\""), std::string::npos);
    EXPECT_TRUE(out.str().empty());
    std::ostringstream out2, err2;
    EXPECT_EQ(pgque::cli::run({"tail", "--help"}, in, out2, err2), 0);
    EXPECT_NE(out2.str().find("Usage: pgque tail"), std::string::npos);
    std::ostringstream out3, err3;
    EXPECT_EQ(pgque::cli::run({"--dsn", "host=/nonexistent/pgque port=1", "status"}, in, out3, err3), 3);
    EXPECT_NE(err3.str().find("connection error"), std::string::npos);
    std::ostringstream out4, err4;
    EXPECT_EQ(pgque::cli::run({"--json", "--dsn", "host=/nonexistent/pgque port=1", "queues"}, in, out4, err4), 3);
    EXPECT_EQ(err4.str().rfind("{\"error\":{\"kind\":\"connection error\"", 0), 0u) << err4.str();
}

TEST(CliRun, ErrorsAreRedOnATerminalOnly) {
    const std::vector<std::string> failing = {"--dsn", "host=/nonexistent/pgque port=1", "status"};
    const std::string red = "\x1b[31mpgque: connection error:\x1b[0m ";
    auto run_with = [&](std::vector<std::string> argv, pgque::cli::terminal term) {
        std::istringstream in;
        std::ostringstream out, err;
        int code = pgque::cli::run(argv, in, out, err, term);
        EXPECT_EQ(code, 3);
        EXPECT_TRUE(out.str().empty());
        return err.str();
    };
    pgque::cli::terminal tty{true, true, false};
    pgque::cli::terminal tty_no_color{true, true, true};
    pgque::cli::terminal files{false, false, false};
    std::string on_tty = run_with(failing, tty);
    EXPECT_EQ(on_tty.rfind(red, 0), 0u) << on_tty;
    EXPECT_EQ(on_tty.find("pgque: ", red.size()), std::string::npos) << on_tty;  // once
    std::string no_color = run_with(failing, tty_no_color);
    EXPECT_EQ(no_color.rfind("pgque: connection error: ", 0), 0u) << no_color;
    std::string to_file = run_with(failing, files);
    EXPECT_EQ(to_file.rfind("pgque: connection error: ", 0), 0u) << to_file;
    // stdout a terminal, stderr a file: the error is not coloured
    std::string err_file = run_with(failing, pgque::cli::terminal{true, false, false});
    EXPECT_EQ(err_file.find('\x1b'), std::string::npos) << err_file;
    // --color always beats NO_COLOR and files; never beats a terminal
    auto always = failing;
    always.insert(always.begin(), {"--color", "always"});
    EXPECT_EQ(run_with(always, tty_no_color).rfind(red, 0), 0u);
    EXPECT_EQ(run_with(always, files).rfind(red, 0), 0u);
    auto never = failing;
    never.insert(never.begin(), "--color=never");
    EXPECT_EQ(run_with(never, tty).find('\x1b'), std::string::npos);
}

TEST(CliRun, InvalidJsonIsRefusedBeforeConnecting) {
    // the DSN leads nowhere: reaching the server would be exit 3
    std::istringstream in("{\"ok\": true}\n{\"broken\": tru}\n");
    std::ostringstream out, err;
    int code = pgque::cli::run({"--dsn", "host=/nonexistent/pgque port=1", "send", "q", "--lines", "--json"}, in,
                               out, err);
    EXPECT_EQ(code, 4);
    EXPECT_TRUE(out.str().empty());
    EXPECT_EQ(err.str(),
              "{\"error\":{\"kind\":\"error\",\"message\":\"invalid JSON on line 2 of stdin: unexpected character "
              "'}' (expected true) at column 15\",\"sqlstate\":\"22P02\",\"hint\":\"nothing was sent; without "
              "--json the payload is sent as text\"}}\n");
    std::istringstream none;
    std::ostringstream out2, err2;
    EXPECT_EQ(pgque::cli::run({"--dsn", "host=/nonexistent/pgque port=1", "send", "q", "[1,,2]", "--json"}, none,
                              out2, err2),
              4);
    EXPECT_NE(err2.str().find("invalid JSON payload: unexpected character ','"), std::string::npos) << err2.str();
}
