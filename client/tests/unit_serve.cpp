// pgque serve's pieces that need no database: the tokens file, and how an
// error becomes an HTTP status and a JSON body.
#include <gtest/gtest.h>

#include <pgque/error.hpp>

#include "http_error.hpp"
#include "tokens.hpp"

namespace {

using pgque::serve::tokens;

TEST(ServeTokens, MapsEachTokenToItsRole) {
    auto t = tokens::parse("# comment\n\nadmin-token-0123456789 pgque_admin\n"
                           "  reader-token-0123456789\tapp_reader  \n",
                           "tokens");
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t.role_of("Bearer admin-token-0123456789"), "pgque_admin");
    EXPECT_EQ(t.role_of("Bearer reader-token-0123456789"), "app_reader");
}

TEST(ServeTokens, RefusesWhatIsNotExactlyAKnownBearerToken) {
    auto t = tokens::parse("admin-token-0123456789 pgque_admin\n", "tokens");
    EXPECT_EQ(t.role_of("Bearer admin-token-012345678"), std::nullopt);     // a prefix
    EXPECT_EQ(t.role_of("Bearer admin-token-01234567890"), std::nullopt);   // longer
    EXPECT_EQ(t.role_of("Bearer admin-token-0123456788"), std::nullopt);    // last character
    EXPECT_EQ(t.role_of("Bearer "), std::nullopt);
    EXPECT_EQ(t.role_of("Basic admin-token-0123456789"), std::nullopt);
    EXPECT_EQ(t.role_of("admin-token-0123456789"), std::nullopt);
}

TEST(ServeTokens, NamesTheLineOfABadEntry) {
    try {
        (void) tokens::parse("good-token-0123456789 r\nonly-a-token-0123456789\n", "/etc/tokens");
        FAIL() << "parsed";
    } catch (const pgque::usage_error& e) {
        EXPECT_STREQ(e.what(), "/etc/tokens:2: expected \"TOKEN ROLE\"");
    }
    EXPECT_THROW((void) tokens::parse("short r\n", "f"), pgque::usage_error);
    EXPECT_THROW((void) tokens::parse("good-token-0123456789 r extra\n", "f"), pgque::usage_error);
    EXPECT_THROW((void) tokens::load("/nonexistent/tokens"), pgque::usage_error);
}

TEST(ServeErrors, StatusFollowsTheSqlstate) {
    using pgque::serve::http_status;
    EXPECT_EQ(http_status("42704"), 404);
    EXPECT_EQ(http_status("42710"), 409);
    EXPECT_EQ(http_status("55006"), 409);
    EXPECT_EQ(http_status("42501"), 403);
    EXPECT_EQ(http_status("22023"), 422);
    EXPECT_EQ(http_status("22007"), 422);
    EXPECT_EQ(http_status("0A000"), 501);
    EXPECT_EQ(http_status("08006"), 503);
    EXPECT_EQ(http_status("57P01"), 503);
    EXPECT_EQ(http_status("53300"), 503);
    EXPECT_EQ(http_status("XX000"), 500);
}

TEST(ServeErrors, BodyCarriesMessageSqlstateDetailAndHint) {
    pgque::sql_error_info i;
    i.sqlstate = "42704";
    i.message = "queue not found: nope";
    i.hint = "Create it with pgque.create_queue().";
    pgque::serve::error_reply r{0, nullptr};
    try {
        throw pgque::sql_error(i);
    } catch (...) {
        r = pgque::serve::current_error();
    }
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body["error"], "queue not found: nope");
    EXPECT_EQ(r.body["sqlstate"], "42704");
    EXPECT_TRUE(r.body["detail"].is_null());
    EXPECT_EQ(r.body["hint"], "Create it with pgque.create_queue().");

    try {
        throw pgque::serve::api_error(401, "no bearer token", "28000");
    } catch (...) {
        r = pgque::serve::current_error();
    }
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body["sqlstate"], "28000");
    try {
        throw pgque::connection_error("could not connect");
    } catch (...) {
        r = pgque::serve::current_error();
    }
    EXPECT_EQ(r.status, 503);
}

}  // namespace
