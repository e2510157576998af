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
    EXPECT_EQ(human_duration(milliseconds(4)), "0.004s");
    EXPECT_EQ(human_duration(milliseconds(12300)), "12.3s");
    EXPECT_EQ(human_duration(seconds(125)), "2m05s");
    EXPECT_EQ(human_duration(minutes(62)), "1h02m");
    EXPECT_EQ(human_duration(hours(76)), "3d04h");
    EXPECT_DOUBLE_EQ(to_seconds(milliseconds(1500)), 1.5);
}
