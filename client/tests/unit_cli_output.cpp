// The CLI's JSON and table output, without a database.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include "output.hpp"

using namespace pgque::cli;

TEST(CliOutput, JsonQuoteEscapes) {
    EXPECT_EQ(json_quote(""), "\"\"");
    EXPECT_EQ(json_quote("plain"), "\"plain\"");
    EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_quote("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
    EXPECT_EQ(json_quote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
    EXPECT_EQ(json_quote(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
    EXPECT_EQ(json_quote("ünïcødé €"), "\"ünïcødé €\"");  // UTF-8 passes through
    EXPECT_EQ(json_quote("</script>"), "\"</script>\"");
}

TEST(CliOutput, JsonObjectTypes) {
    std::optional<std::string> none;
    std::optional<std::int64_t> some = 7;
    std::string o = json_object()
                        .add("s", "x")
                        .add("i", std::int64_t{-3})
                        .add("d", 0.25)
                        .add("nan", std::nan(""))
                        .add("t", true)
                        .add("n", none)
                        .add("o", some)
                        .add_raw("a", json_array({"1", "2"}))
                        .str();
    EXPECT_EQ(o, "{\"s\":\"x\",\"i\":-3,\"d\":0.25,\"nan\":null,\"t\":true,\"n\":null,\"o\":7,\"a\":[1,2]}");
    EXPECT_EQ(json_object().str(), "{}");
    EXPECT_EQ(json_array({}), "[]");
    EXPECT_EQ(json_object().add("k\"ey", "v").str(), "{\"k\\\"ey\":\"v\"}");
}

TEST(CliOutput, TableAligns) {
    text_table t({"name", "n"});
    t.add_row({"a", "1"});
    t.add_row({"long name", "22"});
    t.add_row({"ü", "3"});
    std::ostringstream s;
    t.print(s);
    EXPECT_EQ(s.str(),
              "name       n\n"
              "---------  --\n"
              "a          1\n"
              "long name  22\n"
              "ü          3\n");
}

TEST(CliOutput, TableCellsStayOnOneLine) {
    text_table t({"payload"});
    t.add_row({"two\nlines\tand tab"});
    std::ostringstream s;
    t.print(s);
    const std::string text = s.str();
    EXPECT_NE(text.find("two\\nlines\\tand tab"), std::string::npos);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST(CliOutput, Shorten) {
    EXPECT_EQ(shorten("short", 10), "short");
    EXPECT_EQ(shorten("0123456789abc", 10), "0123456...");
    EXPECT_EQ(display_width(shorten("üüüüüüüüüüüü", 8)), 8u);
}

TEST(CliOutput, Times) {
    using namespace std::chrono;
    system_clock::time_point t{microseconds(1'700'000'000'123'456)};
    EXPECT_EQ(iso_time(t), "2023-11-14T22:13:20.123456Z");
    EXPECT_EQ(iso_time(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(human_duration(microseconds(0)), "0s");
    EXPECT_EQ(human_duration(microseconds(999)), "0ms");
    EXPECT_EQ(human_duration(milliseconds(4)), "4ms");
    EXPECT_EQ(human_duration(milliseconds(999)), "999ms");
    EXPECT_EQ(human_duration(milliseconds(1000)), "1.0s");
    EXPECT_EQ(human_duration(milliseconds(3240)), "3.2s");
    EXPECT_EQ(human_duration(milliseconds(12300)), "12.3s");
    EXPECT_EQ(human_duration(milliseconds(59940)), "59.9s");
    EXPECT_EQ(human_duration(milliseconds(59960)), "1m00s");  // rounds up into minutes, never "60.0s"
    EXPECT_EQ(human_duration(seconds(125)), "2m05s");
    EXPECT_EQ(human_duration(seconds(245)), "4m05s");
    EXPECT_EQ(human_duration(minutes(62)), "1h02m");
    EXPECT_EQ(human_duration(minutes(123) + seconds(59)), "2h03m");
    EXPECT_EQ(human_duration(hours(76)), "3d04h");
    EXPECT_EQ(human_duration(hours(122)), "5d02h");
    EXPECT_EQ(human_duration(-milliseconds(1500)), "-1.5s");
    EXPECT_DOUBLE_EQ(to_seconds(milliseconds(1500)), 1.5);
}

TEST(CliOutput, ServerIntervalsInTheOneFormat) {
    EXPECT_EQ(humanize_intervals("last tick 00:00:06 ago, 1 subscriber(s)"), "last tick 6.0s ago, 1 subscriber(s)");
    EXPECT_EQ(humanize_intervals("pid 5; last tick 00:01:47.617 ago; 85 ticks"),
              "pid 5; last tick 1m48s ago; 85 ticks");  // seconds rounded
    EXPECT_EQ(humanize_intervals("last tick 00:00:00.004 ago"), "last tick 4ms ago");
    EXPECT_EQ(humanize_intervals("waiting 1 day 02:00:00 (consumer \"c\")"), "waiting 1d02h (consumer \"c\")");
    EXPECT_EQ(humanize_intervals("waiting 3 days 00:00:00"), "waiting 3d00h");
    EXPECT_EQ(humanize_intervals("last error 12:00:00 ago: boom; next 00:00:01"),
              "last error 12h00m ago: boom; next 1.0s");
    EXPECT_EQ(humanize_intervals("skew -00:00:01.5"), "skew -1.5s");
    // not intervals: timestamps, versions, other numbers
    EXPECT_EQ(humanize_intervals("held back until 2026-11-22 04:21:26+00"), "held back until 2026-11-22 04:21:26+00");
    EXPECT_EQ(humanize_intervals("at 2026-11-22T04:21:26Z"), "at 2026-11-22T04:21:26Z");
    EXPECT_EQ(humanize_intervals("15.20 (Debian 15.20-0+deb12u1)"), "15.20 (Debian 15.20-0+deb12u1)");
    EXPECT_EQ(humanize_intervals("a1:00:00 x"), "a1:00:00 x");
    EXPECT_EQ(humanize_intervals(""), "");
}

TEST(CliOutput, Rates) {
    EXPECT_EQ(format_rate(0), "0.00");
    EXPECT_EQ(format_rate(1.0 / 3600), "0.00");
    EXPECT_EQ(format_rate(0.25), "0.25");
    EXPECT_EQ(format_rate(56.74), "56.7");
    EXPECT_EQ(format_rate(1234.4), "1234");
}

TEST(CliOutput, ColourDoesNotDisturbAlignment) {
    EXPECT_EQ(paint("ok", color::green), "\x1b[32mok\x1b[0m");
    EXPECT_EQ(paint("ok", color::green, false), "ok");
    EXPECT_EQ(paint("ok", color::none), "ok");
    EXPECT_EQ(paint("", color::red), "");
    EXPECT_EQ(status_color("ok"), color::green);
    EXPECT_EQ(status_color("running"), color::green);
    EXPECT_EQ(status_color("paused"), color::yellow);
    EXPECT_EQ(status_color("manual"), color::yellow);
    EXPECT_EQ(status_color("stale"), color::red);
    EXPECT_EQ(status_color("rotation blocked"), color::red);
    EXPECT_EQ(status_color("no ticks"), color::red);

    text_table t({"name", "status", "x"});
    t.add_row({"a", "ok", "1"}, {color::none, color::green});
    t.add_row({"long name", "stale", "2"}, {color::none, color::red});
    std::ostringstream plain, coloured;
    t.print(plain);
    t.print(coloured, true);
    EXPECT_EQ(plain.str(),
              "name       status  x\n"
              "---------  ------  -\n"
              "a          ok      1\n"
              "long name  stale   2\n");
    EXPECT_EQ(coloured.str(),
              "name       status  x\n"
              "---------  ------  -\n"
              "a          \x1b[32mok\x1b[0m      1\n"
              "long name  \x1b[31mstale\x1b[0m   2\n");
}
