// The exception classes (their out-of-line destructors anchor vtables and
// type_info in libpgque, so that a catch in the application matches what
// the library throws), and SQLSTATE (+ the object kind in the error's table
// field) -> exception class.
#include <pgque/error.hpp>

namespace pgque {

namespace {

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

// SQLSTATEs after which the session is gone: connection exceptions (class
// 08) and the server shutting the backend down (57P01 admin_shutdown, e.g.
// pg_terminate_backend; 57P02 crash_shutdown; 57P03 cannot_connect_now).
bool is_connection_loss(const std::string& sqlstate) {
    return starts_with(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
           sqlstate == "57P03";
}

}  // namespace

error::~error() noexcept = default;

usage_error::usage_error(const std::string& message) : std::logic_error(message) {}
usage_error::~usage_error() noexcept = default;
const char* usage_error::what() const noexcept { return std::logic_error::what(); }

failure::failure(const std::string& message) : std::runtime_error(message) {}
failure::~failure() noexcept = default;
const char* failure::what() const noexcept { return std::runtime_error::what(); }

connection_error::connection_error(const std::string& message, std::string sqlstate)
    : failure(message), m_sqlstate(std::move(sqlstate)) {}
connection_error::~connection_error() noexcept = default;

in_doubt_error::in_doubt_error(const std::string& message) : failure(message) {}
in_doubt_error::~in_doubt_error() noexcept = default;

sql_error::sql_error(sql_error_info info) : failure(info.message), m_info(std::move(info)) {}
sql_error::~sql_error() noexcept = default;

not_found::~not_found() noexcept = default;
queue_not_found::~queue_not_found() noexcept = default;
consumer_not_found::~consumer_not_found() noexcept = default;
batch_not_found::~batch_not_found() noexcept = default;
batch_not_open::~batch_not_open() noexcept = default;
data_error::~data_error() noexcept = default;
permission_denied::~permission_denied() noexcept = default;

void throw_sql_error(sql_error_info info) {
    const std::string& state = info.sqlstate;
    const std::string& kind = info.table;
    if (is_connection_loss(state)) {
        throw connection_error(info.message, state);
    }
    if (state == "42704") {
        if (kind == "queue") throw queue_not_found(std::move(info));
        if (kind == "consumer") throw consumer_not_found(std::move(info));
        if (kind == "batch") throw batch_not_found(std::move(info));
        throw not_found(std::move(info));
    }
    if (state == "55000" && kind == "batch") {
        throw batch_not_open(std::move(info));
    }
    if (starts_with(state, "22")) {
        throw data_error(std::move(info));
    }
    if (state == "42501") {
        throw permission_denied(std::move(info));
    }
    throw sql_error(std::move(info));
}

}  // namespace pgque
