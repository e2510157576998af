// Mapping of server errors (SQLSTATE + the "table" diagnostic field) to
// exception classes, without a database.
#include <gtest/gtest.h>

#include <pgque/error.hpp>

namespace {

pgque::sql_error_info info(const std::string& sqlstate, const std::string& table = {},
                           const std::string& message = "msg") {
    pgque::sql_error_info i;
    i.sqlstate = sqlstate;
    i.table = table;
    i.schema = table.empty() ? "" : "pgque";
    i.message = message;
    i.detail = "the detail";
    i.hint = "the hint";
    return i;
}

template <typename Expected>
void expect_maps_to(const pgque::sql_error_info& i) {
    try {
        pgque::throw_sql_error(i);
        FAIL() << "throw_sql_error returned";
    } catch (const Expected&) {
        SUCCEED();
    } catch (const std::exception& e) {
        FAIL() << "sqlstate " << i.sqlstate << " table " << i.table << " threw the wrong type: "
               << typeid(e).name();
    }
}

}  // namespace

TEST(Errors, NotFoundByObjectKind) {
    expect_maps_to<pgque::queue_not_found>(info("42704", "queue"));
    expect_maps_to<pgque::consumer_not_found>(info("42704", "consumer"));
    expect_maps_to<pgque::batch_not_found>(info("42704", "batch"));
    expect_maps_to<pgque::not_found>(info("42704", "dead_letter"));
    expect_maps_to<pgque::not_found>(info("42704"));
}

TEST(Errors, NotFoundSubclassesAreDistinct) {
    // a consumer error must not be catchable as a queue error, and vice versa
    EXPECT_THROW(
        {
            try {
                pgque::throw_sql_error(info("42704", "consumer"));
            } catch (const pgque::queue_not_found&) {
                FAIL() << "consumer error caught as queue_not_found";
            }
        },
        pgque::consumer_not_found);
    try {
        pgque::throw_sql_error(info("42704", "event"));
    } catch (const pgque::queue_not_found&) {
        FAIL() << "event error caught as queue_not_found";
    } catch (const pgque::batch_not_found&) {
        FAIL() << "event error caught as batch_not_found";
    } catch (const pgque::not_found& e) {
        EXPECT_EQ(e.object_kind(), "event");
    }
}

TEST(Errors, BatchNotOpenNeedsBatchKind) {
    expect_maps_to<pgque::batch_not_open>(info("55000", "batch"));
    // other 55000s (paused ticker, queue not accepting events) are plain sql_errors
    try {
        pgque::throw_sql_error(info("55000"));
    } catch (const pgque::batch_not_open&) {
        FAIL() << "55000 without object kind mapped to batch_not_open";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "55000");
    }
}

TEST(Errors, DataErrorAndPermission) {
    expect_maps_to<pgque::data_error>(info("22023"));
    expect_maps_to<pgque::data_error>(info("22004"));
    expect_maps_to<pgque::data_error>(info("22P02"));
    expect_maps_to<pgque::permission_denied>(info("42501"));
}

TEST(Errors, ConnectionLossIsNotAnSqlError) {
    for (const char* state : {"08006", "08003", "57P01", "57P02", "57P03"}) {
        try {
            pgque::throw_sql_error(info(state));
            FAIL();
        } catch (const pgque::sql_error&) {
            FAIL() << state << " mapped to an sql_error";
        } catch (const pgque::connection_error& e) {
            EXPECT_EQ(e.sqlstate(), state);
        }
    }
}

TEST(Errors, OtherStatesAreSqlErrorsWithAllFields) {
    try {
        pgque::throw_sql_error(info("55006", "", "queue \"q\" has 1 consumer(s)"));
        FAIL();
    } catch (const pgque::not_found&) {
        FAIL() << "55006 mapped to not_found";
    } catch (const pgque::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "55006");
        EXPECT_STREQ(e.what(), "queue \"q\" has 1 consumer(s)");
        EXPECT_EQ(e.server_message(), "queue \"q\" has 1 consumer(s)");
        EXPECT_EQ(e.detail(), "the detail");
        EXPECT_EQ(e.hint(), "the hint");
    }
    // 57014 (statement timeout) is an ordinary error, not a lost connection
    expect_maps_to<pgque::sql_error>(info("57014"));
    try {
        pgque::throw_sql_error(info("57014"));
    } catch (const pgque::connection_error&) {
        FAIL();
    } catch (const pgque::sql_error&) {
    }
}

TEST(Errors, EverythingIsAPgqueError) {
    for (const char* state : {"42704", "55000", "22023", "42501", "08006", "XX000"}) {
        EXPECT_THROW(pgque::throw_sql_error(info(state, "batch")), pgque::error) << state;
    }
}

// One handler for whatever the library throws: pgque::error (or
// std::exception), whichever branch the exception is on.
template <typename Thrown>
void expect_caught_as_pgque_error(const Thrown& thrown) {
    try {
        throw thrown;
    } catch (const pgque::error& e) {
        EXPECT_STREQ(e.what(), thrown.what());
        EXPECT_STREQ(e.what(), "the text");
    } catch (...) {
        ADD_FAILURE() << typeid(Thrown).name() << " not caught as pgque::error";
    }
    try {
        throw thrown;
    } catch (const std::exception& e) {
        EXPECT_STREQ(e.what(), "the text");
    } catch (...) {
        ADD_FAILURE() << typeid(Thrown).name() << " not caught as std::exception";
    }
}

TEST(Errors, PgqueErrorCatchesBothBranches) {
    expect_caught_as_pgque_error(pgque::usage_error("the text"));
    expect_caught_as_pgque_error(pgque::failure("the text"));
    expect_caught_as_pgque_error(pgque::connection_error("the text", "08006"));
    expect_caught_as_pgque_error(pgque::in_doubt_error("the text"));
    expect_caught_as_pgque_error(pgque::sql_error(info("XX000", "", "the text")));
    expect_caught_as_pgque_error(pgque::queue_not_found(info("42704", "queue", "the text")));
    expect_caught_as_pgque_error(pgque::data_error(info("22023", "", "the text")));
}

TEST(Errors, UsageErrorIsALogicErrorNotAFailure) {
    try {
        throw pgque::usage_error("pgque: misuse");
    } catch (const pgque::failure&) {
        FAIL() << "usage_error caught as a run-time failure";
    } catch (const std::runtime_error&) {
        FAIL() << "usage_error caught as std::runtime_error";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "pgque: misuse");
    }
}

TEST(Errors, InDoubtIsNotAConnectionError) {
    try {
        throw pgque::in_doubt_error("commit lost");
    } catch (const pgque::connection_error&) {
        FAIL() << "in_doubt_error caught as connection_error";
    } catch (const pgque::sql_error&) {
        FAIL() << "in_doubt_error caught as sql_error";
    } catch (const pgque::failure& e) {
        EXPECT_STREQ(e.what(), "commit lost");
    }
}
