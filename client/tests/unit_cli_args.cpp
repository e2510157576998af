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
    for (const char* cmd : {"status", "queues", "consumers", "create", "drop", "subscribe", "unsubscribe", "send",
                            "tail"}) {
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
