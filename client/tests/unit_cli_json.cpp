// send --json's payload check, without a database: what PostgreSQL's jsonb
// input accepts passes, everything else is refused with a position.
#include <gtest/gtest.h>

#include "json_check.hpp"

using pgque::cli::json_error;
using pgque::cli::to_string;

TEST(CliJson, AcceptsWhatJsonbAccepts) {
    for (const char* ok : {"{}", "[]", "0", "-0", "1e5", "1E+2", "-1.25e-3", "\"\"", "true", "false", "null",
                           " {\"a\": [1, 2.5, \"x\", null, true, {\"b\": {}}]} ", "\t\r\n[ ]\n", "\"\\u00e9\\/\\n\"",
                           "\"\\ud83d\\ude00\"", "\"ünïcødé €\"", "{\"\": 0}", "[[[[[]]]]]"}) {
        EXPECT_EQ(json_error(ok), std::nullopt) << ok;
    }
}

TEST(CliJson, RefusesWhatJsonbRefuses) {
    // each of these fails PostgreSQL's ::jsonb cast too
    for (const char* bad : {"", " ", "01", "1.", ".5", "-", "+1", "1e", "NaN", "[1,]", "{\"a\":1,}", "{a:1}",
                            "{\"a\" 1}", "[1 2]", "1 2", "\"a\tb\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"",
                            "\"\\x\"", "\"\\u12\"", "'a'", "[", "{\"a\":", "\"open", "tru", "nul", "True"}) {
        EXPECT_NE(json_error(bad), std::nullopt) << "[" << bad << "]";
    }
}

TEST(CliJson, SaysWhatAndWhere) {
    auto e = json_error("{\"a\": 1,}");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(to_string(*e), "unexpected character '}' in an object: expected a \"key\" at line 1, column 9");
    EXPECT_EQ(to_string(*e, true), "unexpected character '}' in an object: expected a \"key\" at column 9");
    auto multi = json_error("{\n  \"ü\": [1,\n  2,,]\n}");
    ASSERT_TRUE(multi.has_value());
    EXPECT_EQ(multi->line, 3u);
    EXPECT_EQ(multi->column, 5u);
    EXPECT_EQ(multi->what, "unexpected character ',': expected a JSON value");
    auto trailing = json_error("[1] x");
    ASSERT_TRUE(trailing.has_value());
    EXPECT_EQ(trailing->what, "unexpected character 'x' after the JSON value");
    EXPECT_EQ(json_error("")->what, "empty payload: expected a JSON value");
    EXPECT_EQ(json_error("\"\\u0000\"")->what, "\\u0000 is not allowed in jsonb");
    EXPECT_EQ(json_error("not json")->what, "unexpected character 'o' (expected null)");
    EXPECT_EQ(json_error("\"a\x01\"")->what, "unescaped byte 0x01 in a string");
}

TEST(CliJson, DeepNestingIsRefusedNotACrash) {
    std::string deep(100000, '[');
    auto e = json_error(deep);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->what, "JSON nested deeper than 1000 levels");
}
