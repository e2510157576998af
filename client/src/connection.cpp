// Connection, Result, Transaction: RAII over libpq, and the translation of
// libpq failures into the pgque exception hierarchy.
#include <pgque/connection.hpp>
#include <pgque/error.hpp>
#include <pgque/result.hpp>
#include <pgque/transaction.hpp>

#include <libpq-fe.h>

#include "text.hpp"

namespace pgque {

namespace {

void finish_conn(PGconn* conn) { PQfinish(conn); }
void keep_conn(PGconn*) {}
void clear_result(PGresult* res) { PQclear(res); }

std::string field(const PGresult* res, int code) {
    const char* v = PQresultErrorField(res, code);
    return v != nullptr ? std::string(v) : std::string();
}

// libpq's messages end with a newline (and may say "ERROR:  ").
std::string trimmed(const char* text) {
    std::string s = text != nullptr ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Named statements are session state: a statement name is only ever used
// for one SQL text, so any pgque_* statement found in the session is ours.
constexpr const char* k_statement_prefix = "pgque_";

}  // namespace

// ---------------------------------------------------------------- Result

Result::Result() noexcept : m_res(nullptr, &clear_result) {}

Result::Result(PGresult* res) noexcept : m_res(res, &clear_result) {}

int Result::rows() const noexcept { return m_res ? PQntuples(m_res.get()) : 0; }

int Result::columns() const noexcept { return m_res ? PQnfields(m_res.get()) : 0; }

int Result::column(std::string_view name) const {
    for (int i = 0; i < columns(); ++i) {
        if (name == PQfname(m_res.get(), i)) return i;
    }
    throw error("pgque: result has no column \"" + std::string(name) + "\"");
}

std::string Result::column_name(int col) const {
    if (col < 0 || col >= columns()) throw error("pgque: column index out of range");
    return PQfname(m_res.get(), col);
}

void Result::check_cell(int row, int col) const {
    if (row < 0 || row >= rows() || col < 0 || col >= columns()) {
        throw error("pgque: result cell (" + std::to_string(row) + ", " + std::to_string(col) +
                    ") out of range");
    }
}

bool Result::is_null(int row, int col) const {
    check_cell(row, col);
    return PQgetisnull(m_res.get(), row, col) != 0;
}

std::string_view Result::get(int row, int col) const {
    check_cell(row, col);
    return std::string_view(PQgetvalue(m_res.get(), row, col),
                            static_cast<std::size_t>(PQgetlength(m_res.get(), row, col)));
}

std::optional<std::string> Result::get_optional(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::string(get(row, col));
}

std::int64_t Result::get_int64(int row, int col) const {
    if (is_null(row, col)) {
        throw error("pgque: unexpected NULL in column \"" + column_name(col) + "\"");
    }
    return detail::parse_int64(get(row, col));
}

std::optional<std::int64_t> Result::get_optional_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return detail::parse_int64(get(row, col));
}

bool Result::get_bool(int row, int col) const {
    if (is_null(row, col)) {
        throw error("pgque: unexpected NULL in column \"" + column_name(col) + "\"");
    }
    return detail::parse_bool(get(row, col));
}

std::int64_t Result::affected_rows() const {
    if (!m_res) return 0;
    const char* n = PQcmdTuples(m_res.get());
    return (n == nullptr || *n == '\0') ? 0 : detail::parse_int64(n);
}

// ------------------------------------------------------------ Connection

struct Connection::NoticeSink {
    std::function<void(const Notice&)> handler;

    static void receive(void* arg, const PGresult* res) noexcept {
        auto* sink = static_cast<NoticeSink*>(arg);
        if (sink == nullptr || !sink->handler) return;
        try {
            Notice n;
            n.severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
            if (n.severity.empty()) n.severity = field(res, PG_DIAG_SEVERITY);
            n.sqlstate = field(res, PG_DIAG_SQLSTATE);
            n.message = field(res, PG_DIAG_MESSAGE_PRIMARY);
            if (n.message.empty()) n.message = trimmed(PQresultErrorMessage(res));
            sink->handler(n);
        } catch (...) {
            // a notice must never unwind through libpq
        }
    }
};

Connection::Connection(const std::string& conninfo)
    : m_notice(std::make_unique<NoticeSink>()), m_conn(nullptr, &finish_conn), m_owned(true) {
    m_conn.reset(PQconnectdb(conninfo.c_str()));
    if (!m_conn) throw connection_error("pgque: out of memory while connecting");
    if (PQstatus(m_conn.get()) != CONNECTION_OK) {
        throw connection_error(trimmed(PQerrorMessage(m_conn.get())));
    }
    PQsetNoticeReceiver(m_conn.get(), &NoticeSink::receive, m_notice.get());
}

Connection::Connection(PGconn* conn, bool owned)
    : m_notice(std::make_unique<NoticeSink>()),
      m_conn(conn, owned ? &finish_conn : &keep_conn),
      m_owned(owned) {}

Connection Connection::wrap(PGconn* conn) {
    if (conn == nullptr) throw usage_error("pgque: cannot wrap a null PGconn");
    return Connection(conn, false);
}

Connection::Connection(Connection&& other) noexcept
    : m_notice(std::move(other.m_notice)),
      m_conn(std::move(other.m_conn)),
      m_owned(other.m_owned),
      m_statements_loaded(other.m_statements_loaded),
      m_prepared(std::move(other.m_prepared)) {
    other.m_conn = std::unique_ptr<PGconn, void (*)(PGconn*)>(nullptr, &keep_conn);
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        Connection old(std::move(*this));  // closed (if owned) when it leaves scope
        m_notice = std::move(other.m_notice);
        m_conn = std::move(other.m_conn);
        m_owned = other.m_owned;
        m_statements_loaded = other.m_statements_loaded;
        m_prepared = std::move(other.m_prepared);
        other.m_conn = std::unique_ptr<PGconn, void (*)(PGconn*)>(nullptr, &keep_conn);
    }
    return *this;
}

Connection::~Connection() noexcept = default;

PGconn* Connection::handle() const {
    if (!m_conn) throw usage_error("pgque: connection object was moved from");
    return m_conn.get();
}

bool Connection::is_open() const noexcept {
    return m_conn && PQstatus(m_conn.get()) == CONNECTION_OK;
}

int Connection::backend_pid() const noexcept { return m_conn ? PQbackendPID(m_conn.get()) : 0; }

int Connection::socket() const noexcept { return m_conn ? PQsocket(m_conn.get()) : -1; }

bool Connection::in_transaction() const noexcept {
    if (!m_conn) return false;
    auto st = PQtransactionStatus(m_conn.get());
    return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

bool Connection::transaction_failed() const noexcept {
    return m_conn && PQtransactionStatus(m_conn.get()) == PQTRANS_INERROR;
}

std::string Connection::error_message() const {
    return m_conn ? trimmed(PQerrorMessage(m_conn.get())) : std::string("no connection");
}

void Connection::throw_error(PGresult* res) const {
    Result owner(res);  // cleared however we leave
    PGconn* conn = m_conn.get();
    bool broken = conn == nullptr || PQstatus(conn) == CONNECTION_BAD;
    if (res == nullptr) {
        std::string msg = trimmed(conn != nullptr ? PQerrorMessage(conn) : "no connection");
        if (broken) throw connection_error(msg);
        throw error(msg);
    }
    sql_error_info info;
    info.sqlstate = field(res, PG_DIAG_SQLSTATE);
    info.message = field(res, PG_DIAG_MESSAGE_PRIMARY);
    info.detail = field(res, PG_DIAG_MESSAGE_DETAIL);
    info.hint = field(res, PG_DIAG_MESSAGE_HINT);
    info.schema = field(res, PG_DIAG_SCHEMA_NAME);
    info.table = field(res, PG_DIAG_TABLE_NAME);
    if (info.message.empty()) info.message = trimmed(PQresultErrorMessage(res));
    if (info.message.empty() && conn != nullptr) info.message = trimmed(PQerrorMessage(conn));
    if (broken) throw connection_error(info.message, info.sqlstate);
    if (info.sqlstate.empty()) throw error(info.message);  // generated by libpq itself
    throw_sql_error(std::move(info));
}

Result Connection::check(PGresult* res) const {
    if (res != nullptr) {
        switch (PQresultStatus(res)) {
            case PGRES_COMMAND_OK:
            case PGRES_TUPLES_OK:
            case PGRES_EMPTY_QUERY:
                return Result(res);
            case PGRES_FATAL_ERROR:
            case PGRES_NONFATAL_ERROR:
            case PGRES_BAD_RESPONSE:
                break;
            default: {
                // COPY and friends: not something this client starts
                Result owner(res);
                throw error("pgque: unexpected result status " +
                            std::string(PQresStatus(PQresultStatus(res))));
            }
        }
    }
    throw_error(res);
}

namespace {

struct param_arrays {
    std::vector<const char*> values;
    explicit param_arrays(const params& p) {
        values.reserve(p.size());
        for (const auto& v : p) values.push_back(v ? v->c_str() : nullptr);
    }
    [[nodiscard]] int count() const { return static_cast<int>(values.size()); }
    [[nodiscard]] const char* const* data() const { return values.empty() ? nullptr : values.data(); }
};

}  // namespace

Result Connection::exec(std::string_view sql, const params& values) {
    PGconn* conn = handle();
    std::string text(sql);
    param_arrays p(values);
    return check(PQexecParams(conn, text.c_str(), p.count(), nullptr, p.data(), nullptr, nullptr, 0));
}

void Connection::load_existing_statements() {
    // A wrapped session may already hold our statements (from an earlier
    // Client on the same PGconn); preparing them again would fail and abort
    // the caller's transaction, so look first.
    Result r = exec("select name from pg_catalog.pg_prepared_statements where starts_with(name, $1)",
                    {std::string(k_statement_prefix)});
    for (int i = 0; i < r.rows(); ++i) m_prepared.emplace(r.get(i, 0));
    m_statements_loaded = true;
}

void Connection::prepare(const std::string& name, std::string_view sql) {
    std::string text(sql);
    check(PQprepare(handle(), name.c_str(), text.c_str(), 0, nullptr));
    m_prepared.insert(name);
}

Result Connection::run_prepared(const std::string& name, const params& values) {
    param_arrays p(values);
    return check(PQexecPrepared(handle(), name.c_str(), p.count(), p.data(), nullptr, nullptr, 0));
}

Result Connection::exec_prepared(const std::string& name, std::string_view sql, const params& values) {
    if (name.rfind(k_statement_prefix, 0) != 0) {
        throw usage_error("pgque: prepared statement names must start with \"pgque_\"");
    }
    if (!m_owned && !m_statements_loaded) load_existing_statements();
    if (m_prepared.count(name) == 0) prepare(name, sql);
    try {
        return run_prepared(name, values);
    } catch (const sql_error& e) {
        // 26000: the session lost the statement (DEALLOCATE ALL, DISCARD ALL).
        // Outside a transaction nothing was affected: prepare it again and retry.
        if (e.sqlstate() != "26000") throw;
        m_prepared.erase(name);
        if (in_transaction()) throw;
        prepare(name, sql);
        return run_prepared(name, values);
    }
}

std::string Connection::quote_identifier(std::string_view name) const {
    PGconn* conn = handle();
    char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
    if (quoted == nullptr) throw error("pgque: " + trimmed(PQerrorMessage(conn)));
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

void Connection::listen(std::string_view channel) {
    // LISTEN takes no parameters: the channel is quoted as an identifier.
    static_cast<void>(exec("listen " + quote_identifier(channel)));
}

bool Connection::consume_input() noexcept {
    if (!m_conn) return false;
    if (PQconsumeInput(m_conn.get()) == 0) return false;
    return PQstatus(m_conn.get()) == CONNECTION_OK;
}

std::vector<std::string> Connection::take_notifications() {
    std::vector<std::string> out;
    PGconn* conn = handle();
    while (PGnotify* n = PQnotifies(conn)) {
        out.emplace_back(n->relname);
        PQfreemem(n);
    }
    return out;
}

void Connection::set_notice_handler(std::function<void(const Notice&)> handler) {
    if (!m_notice) return;
    m_notice->handler = std::move(handler);
}

// ----------------------------------------------------------- Transaction

Transaction::Transaction(Connection& conn) : m_conn(conn) {
    static_cast<void>(m_conn.exec("begin"));
}

Transaction::~Transaction() noexcept {
    if (!m_open) return;
    try {
        rollback();
    } catch (...) {
        // the connection is gone: so is the transaction
    }
}

void Transaction::commit() {
    if (!m_open) throw usage_error("pgque: transaction already ended");
    m_open = false;
    if (m_conn.transaction_failed()) {
        // COMMIT of a failed transaction "succeeds" as a rollback: say so
        static_cast<void>(m_conn.exec("rollback"));
        throw error("pgque: transaction failed earlier and was rolled back");
    }
    static_cast<void>(m_conn.exec("commit"));
}

void Transaction::rollback() {
    if (!m_open) throw usage_error("pgque: transaction already ended");
    m_open = false;
    static_cast<void>(m_conn.exec("rollback"));
}

}  // namespace pgque
