// Text-format conversions of the client (array literals, integers, arrays).
#include <gtest/gtest.h>

#include <pgque/error.hpp>

#include "text.hpp"

using namespace pgque::detail;

TEST(Text, ArrayLiteralQuotesEverything) {
    EXPECT_EQ(array_literal({}), "{}");
    EXPECT_EQ(array_literal({""}), "{\"\"}");
    EXPECT_EQ(array_literal({"a", "b"}), "{\"a\",\"b\"}");
    // NULL as a word, commas, braces, quotes and backslashes stay data
    EXPECT_EQ(array_literal({"NULL", "x,y", "{z}", "q\"uote", "back\\slash"}),
              "{\"NULL\",\"x,y\",\"{z}\",\"q\\\"uote\",\"back\\\\slash\"}");
    EXPECT_EQ(array_literal({"line\nbreak", " spaced "}), "{\"line\nbreak\",\" spaced \"}");
}

TEST(Text, ParseInt64Array) {
    EXPECT_EQ(parse_int64_array("{}"), std::vector<std::int64_t>{});
    EXPECT_EQ(parse_int64_array("{7}"), std::vector<std::int64_t>{7});
    EXPECT_EQ(parse_int64_array("{1,2,9223372036854775807}"),
              (std::vector<std::int64_t>{1, 2, 9223372036854775807LL}));
    EXPECT_THROW(static_cast<void>(parse_int64_array("1,2")), pgque::error);
    EXPECT_THROW(static_cast<void>(parse_int64_array("{1,}")), pgque::error);
    EXPECT_THROW(static_cast<void>(parse_int64_array("{a}")), pgque::error);
    EXPECT_THROW(static_cast<void>(parse_int64_array("{NULL}")), pgque::error);
}

TEST(Text, Scalars) {
    EXPECT_EQ(parse_int64("-42"), -42);
    EXPECT_THROW(static_cast<void>(parse_int64("")), pgque::error);
    EXPECT_THROW(static_cast<void>(parse_int64("12x")), pgque::error);
    EXPECT_THROW(static_cast<void>(parse_int64("99999999999999999999")), pgque::error);
    EXPECT_TRUE(parse_bool("t"));
    EXPECT_FALSE(parse_bool("f"));
    EXPECT_THROW(static_cast<void>(parse_bool("true")), pgque::error);
    EXPECT_DOUBLE_EQ(parse_double("510.63829787234044"), 510.63829787234044);
    EXPECT_THROW(static_cast<void>(parse_double("abc")), pgque::error);
}

TEST(Text, Times) {
    auto t = from_epoch_micros(1'700'000'000'123'456);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count(),
              1'700'000'000'123'456);
    EXPECT_EQ(micros_param(std::chrono::seconds(3)), "3000000");
    // back: exact at microseconds, truncated below them, also before 1970
    EXPECT_EQ(to_epoch_micros(t), 1'700'000'000'123'456);
    EXPECT_EQ(to_epoch_micros(t + std::chrono::nanoseconds(999)), 1'700'000'000'123'456);
    EXPECT_EQ(to_epoch_micros(std::chrono::system_clock::time_point{}), 0);
    EXPECT_EQ(to_epoch_micros(std::chrono::system_clock::time_point{} - std::chrono::nanoseconds(1)), -1);
}
