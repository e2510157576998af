// connection: RAII over libpq's PGconn, and the translation of libpq
// failures into the pgque exception hierarchy.
#include <pgque/connection.hpp>
#include <pgque/error.hpp>
#include <pgque/result.hpp>

#include <libpq-fe.h>

#include <cstdlib>

namespace pgque {

namespace {

void finish_conn(PGconn* conn) { PQfinish(conn); }
void keep_conn(PGconn*) {}

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

// PGQUE_PREPARED: the statement mode a connection starts with.
statement_mode mode_from_environment() {
    const char* env = std::getenv("PGQUE_PREPARED");
    if (env == nullptr || *env == '\0') return statement_mode::automatic;
    auto mode = parse_statement_mode(env);
    if (!mode) {
        throw usage_error(std::string("pgque: PGQUE_PREPARED must be auto, on or off, not \"") + env + "\"");
    }
    return *mode;
}

}  // namespace

const char* to_string(statement_mode mode) noexcept {
    switch (mode) {
        case statement_mode::automatic: return "auto";
        case statement_mode::named: return "on";
        case statement_mode::unnamed: return "off";
    }
    return "?";
}

std::optional<statement_mode> parse_statement_mode(std::string_view text) noexcept {
    if (text == "auto") return statement_mode::automatic;
    if (text == "on") return statement_mode::named;
    if (text == "off") return statement_mode::unnamed;
    return std::nullopt;
}

struct connection::notice_sink {
    std::function<void(const notice&)> handler;

    static void receive(void* arg, const PGresult* res) noexcept {
        auto* sink = static_cast<notice_sink*>(arg);
        if (sink == nullptr || !sink->handler) return;
        try {
            notice n;
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

connection::connection(const std::string& conninfo)
    : m_notice(std::make_unique<notice_sink>()),
      m_conn(nullptr, &finish_conn),
      m_owned(true),
      m_mode(mode_from_environment()) {
    m_conn.reset(PQconnectdb(conninfo.c_str()));
    if (!m_conn) throw connection_error("pgque: out of memory while connecting");
    if (PQstatus(m_conn.get()) != CONNECTION_OK) {
        throw connection_error(trimmed(PQerrorMessage(m_conn.get())));
    }
    PQsetNoticeReceiver(m_conn.get(), &notice_sink::receive, m_notice.get());
}

connection::connection(PGconn* conn, bool owned)
    : m_notice(std::make_unique<notice_sink>()),
      m_conn(conn, owned ? &finish_conn : &keep_conn),
      m_owned(owned),
      m_mode(mode_from_environment()) {}

connection connection::wrap(PGconn* conn) {
    if (conn == nullptr) throw usage_error("pgque: cannot wrap a null PGconn");
    return connection(conn, false);
}

// m_transaction is not moved: a transaction object refers to `other` (and
// must not be open while its connection is moved, see connection.hpp).
connection::connection(connection&& other) noexcept
    : m_notice(std::move(other.m_notice)),
      m_conn(std::move(other.m_conn)),
      m_owned(other.m_owned),
      m_statements_loaded(other.m_statements_loaded),
      m_prepared(std::move(other.m_prepared)),
      m_mode(other.m_mode),
      m_fallback(other.m_fallback),
      m_probed(other.m_probed),
      m_pooler(other.m_pooler),
      m_log(std::move(other.m_log)) {
    other.m_conn = std::unique_ptr<PGconn, void (*)(PGconn*)>(nullptr, &keep_conn);
}

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        connection old(std::move(*this));  // closed (if owned) when it leaves scope
        m_notice = std::move(other.m_notice);
        m_conn = std::move(other.m_conn);
        m_owned = other.m_owned;
        m_statements_loaded = other.m_statements_loaded;
        m_prepared = std::move(other.m_prepared);
        m_mode = other.m_mode;
        m_fallback = other.m_fallback;
        m_probed = other.m_probed;
        m_pooler = other.m_pooler;
        m_log = std::move(other.m_log);
        m_transaction = nullptr;
        other.m_conn = std::unique_ptr<PGconn, void (*)(PGconn*)>(nullptr, &keep_conn);
    }
    return *this;
}

connection::~connection() noexcept = default;

PGconn* connection::handle() const {
    if (!m_conn) throw usage_error("pgque: connection object was moved from");
    return m_conn.get();
}

bool connection::is_open() const noexcept {
    return m_conn && PQstatus(m_conn.get()) == CONNECTION_OK;
}

int connection::backend_pid() const noexcept { return m_conn ? PQbackendPID(m_conn.get()) : 0; }

int connection::socket() const noexcept { return m_conn ? PQsocket(m_conn.get()) : -1; }

bool connection::in_transaction() const noexcept {
    if (!m_conn) return false;
    auto st = PQtransactionStatus(m_conn.get());
    return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

bool connection::transaction_failed() const noexcept {
    return m_conn && PQtransactionStatus(m_conn.get()) == PQTRANS_INERROR;
}

std::string connection::error_message() const {
    return m_conn ? trimmed(PQerrorMessage(m_conn.get())) : std::string("no connection");
}

void connection::throw_error(PGresult* res) const {
    result owner(res);  // cleared however we leave
    PGconn* conn = m_conn.get();
    bool broken = conn == nullptr || PQstatus(conn) == CONNECTION_BAD;
    // An error libpq made itself (no SQLSTATE) can be a failed write to a
    // server that has gone, reported before a read saw the end of the
    // connection (a consumer stopped while its server was shut down, then
    // resumed): reading what is there marks such a connection bad.
    if (!broken && (res == nullptr || PQresultErrorField(res, PG_DIAG_SQLSTATE) == nullptr)) {
        static_cast<void>(PQconsumeInput(conn));
        broken = PQstatus(conn) == CONNECTION_BAD;
    }
    if (res == nullptr) {
        std::string msg = trimmed(conn != nullptr ? PQerrorMessage(conn) : "no connection");
        if (broken) throw connection_error(msg);
        throw failure(msg);
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
    if (info.sqlstate.empty()) throw failure(info.message);  // generated by libpq itself
    throw_sql_error(std::move(info));
}

result connection::check(PGresult* res) const {
    if (res != nullptr) {
        switch (PQresultStatus(res)) {
            case PGRES_COMMAND_OK:
            case PGRES_TUPLES_OK:
            case PGRES_EMPTY_QUERY:
                return result(res);
            case PGRES_FATAL_ERROR:
            case PGRES_NONFATAL_ERROR:
            case PGRES_BAD_RESPONSE:
                break;
            default: {
                // COPY and friends: not something this client starts
                result owner(res);
                throw failure("pgque: unexpected result status " +
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

result connection::exec(std::string_view sql, const params& values) {
    PGconn* conn = handle();
    std::string text(sql);
    param_arrays p(values);
    return check(PQexecParams(conn, text.c_str(), p.count(), nullptr, p.data(), nullptr, nullptr, 0));
}

void connection::load_existing_statements() {
    // A wrapped session may already hold our statements (from an earlier
    // client on the same PGconn); preparing them again would fail and abort
    // the caller's transaction, so look first.
    result r = exec("select name from pg_catalog.pg_prepared_statements where starts_with(name, $1)",
                    {std::string(k_statement_prefix)});
    for (int i = 0; i < r.rows(); ++i) m_prepared.emplace(r.get(i, 0));
    m_statements_loaded = true;
}

void connection::prepare(const std::string& name, std::string_view sql) {
    std::string text(sql);
    check(PQprepare(handle(), name.c_str(), text.c_str(), 0, nullptr));
    m_prepared.insert(name);
}

result connection::run_prepared(const std::string& name, const params& values) {
    param_arrays p(values);
    return check(PQexecPrepared(handle(), name.c_str(), p.count(), p.data(), nullptr, nullptr, 0));
}

void connection::set_statement_mode(pgque::statement_mode mode) {
    m_mode = mode;
    m_fallback = false;
    // whatever the session holds now is unknown: look again before preparing
    m_prepared.clear();
    m_statements_loaded = false;
}

void connection::set_log_handler(std::function<void(const std::string&)> handler) { m_log = std::move(handler); }

bool connection::through_pooler() {
    if (!m_probed) {
        // A pooler gives its clients a process id (and cancel key) of its own;
        // the server reports its real one. Harmless inside a transaction.
        result r = exec("select pg_catalog.pg_backend_pid()");
        m_pooler = r.rows() == 1 && r.get_int64(0, 0) != PQbackendPID(handle());
        m_probed = true;
    }
    return m_pooler || m_fallback;
}

bool connection::uses_named_statements() {
    switch (m_mode) {
        case pgque::statement_mode::named: return true;
        case pgque::statement_mode::unnamed: return false;
        case pgque::statement_mode::automatic: break;
    }
    if (!m_fallback && !m_probed && through_pooler()) {
        switch_to_unnamed("the connection goes through a pooler (the server's process id is not the one"
                          " it reported at connect)");
    }
    return !m_fallback;
}

void connection::switch_to_unnamed(const std::string& why) {
    m_fallback = true;
    m_prepared.clear();
    if (!m_log) return;
    try {
        m_log("pgque: " + why + "; using unnamed statements on this connection"
              " (set PGQUE_PREPARED or the connection's statement_mode to choose)");
    } catch (...) {
        // logging must not fail the call
    }
}

result connection::exec_prepared(const std::string& name, std::string_view sql, const params& values) {
    if (name.rfind(k_statement_prefix, 0) != 0) {
        throw usage_error("pgque: prepared statement names must start with \"pgque_\"");
    }
    if (!uses_named_statements()) return exec(sql, values);
    const bool automatic = m_mode == pgque::statement_mode::automatic;
    // In automatic mode, 42P05 from the PREPARE and 26000 from the EXECUTE
    // mean that statements do not stay with this session (a pooler the
    // probe did not see). Neither ran the statement: a failed Parse never
    // executes, and a Bind that names a missing statement fails before the
    // Execute, which the server then skips up to the Sync. Outside a
    // transaction block nothing else was affected either, so the call is
    // retried once, unnamed; inside one, the caller's transaction is
    // aborted and only the caller can retry it.
    auto fall_back = [&](const sql_error& e) -> result {
        switch_to_unnamed("named prepared statement \"" + name + "\" failed (" + e.sqlstate() + ": " +
                          e.what() + ")");
        if (in_transaction()) throw;
        return exec(sql, values);
    };
    if (!m_owned && !m_statements_loaded) load_existing_statements();
    if (m_prepared.count(name) == 0) {
        try {
            prepare(name, sql);
        } catch (const sql_error& e) {
            if (!automatic || e.sqlstate() != "42P05") throw;
            return fall_back(e);
        }
    }
    try {
        return run_prepared(name, values);
    } catch (const sql_error& e) {
        // 26000: the session lost the statement (DEALLOCATE ALL, DISCARD ALL).
        // Outside a transaction nothing was affected: prepare it again and retry.
        if (e.sqlstate() != "26000") throw;
        m_prepared.erase(name);
        if (automatic) return fall_back(e);
        if (in_transaction()) throw;
        prepare(name, sql);
        return run_prepared(name, values);
    }
}

std::string connection::quote_identifier(std::string_view name) const {
    PGconn* conn = handle();
    char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
    if (quoted == nullptr) throw failure("pgque: " + trimmed(PQerrorMessage(conn)));
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

void connection::listen(std::string_view channel) {
    // LISTEN takes no parameters: the channel is quoted as an identifier.
    static_cast<void>(exec("listen " + quote_identifier(channel)));
}

bool connection::consume_input() noexcept {
    if (!m_conn) return false;
    if (PQconsumeInput(m_conn.get()) == 0) return false;
    return PQstatus(m_conn.get()) == CONNECTION_OK;
}

std::vector<std::string> connection::take_notifications() {
    std::vector<std::string> out;
    PGconn* conn = handle();
    while (PGnotify* n = PQnotifies(conn)) {
        out.emplace_back(n->relname);
        PQfreemem(n);
    }
    return out;
}

void connection::set_notice_handler(std::function<void(const notice&)> handler) {
    if (!m_notice) return;
    m_notice->handler = std::move(handler);
}

}  // namespace pgque
