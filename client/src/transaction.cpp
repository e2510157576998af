// transaction: BEGIN ... COMMIT/ROLLBACK on a connection, refusing to nest,
// and telling a commit whose outcome is unknown (in_doubt_error) from one
// that certainly failed.
#include <pgque/error.hpp>
#include <pgque/transaction.hpp>

namespace pgque {

transaction::transaction(pgque::connection& conn) : m_conn(conn) {
    // Checked before BEGIN: inside a block the server only warns about a
    // second BEGIN, and our ROLLBACK would then end the outer transaction.
    if (m_conn.m_transaction != nullptr) {
        throw usage_error(
            "pgque: a transaction is already open on this connection (transactions do not nest; use a "
            "savepoint)");
    }
    if (m_conn.in_transaction()) {
        throw usage_error(
            "pgque: the connection is already inside a transaction block opened with BEGIN through "
            "exec() (transactions do not nest; use a savepoint)");
    }
    static_cast<void>(m_conn.exec("begin"));
    m_conn.m_transaction = this;
    m_open = true;
}

transaction::~transaction() noexcept {
    if (!m_open) return;
    try {
        rollback();
    } catch (...) {
        // the connection is gone (so is the transaction), or the block was
        // already ended through exec()
    }
}

void transaction::end() noexcept {
    m_open = false;
    if (m_conn.m_transaction == this) m_conn.m_transaction = nullptr;
}

void transaction::commit() {
    if (!m_open) throw usage_error("pgque: transaction already ended");
    end();
    if (!m_conn.is_open()) {
        // COMMIT was never sent: a server never commits a transaction
        // whose session ended without one
        throw connection_error("pgque: connection lost before COMMIT; the transaction was rolled back: " +
                               m_conn.error_message());
    }
    if (!m_conn.in_transaction()) {
        throw usage_error("pgque: the transaction block was ended through exec() before commit()");
    }
    if (m_conn.transaction_failed()) {
        // COMMIT of a failed transaction "succeeds" as a rollback: say so
        static_cast<void>(m_conn.exec("rollback"));
        throw failure("pgque: transaction failed earlier and was rolled back");
    }
    try {
        static_cast<void>(m_conn.exec("commit"));
    } catch (const connection_error& e) {
        throw in_doubt_error(
            std::string("pgque: connection lost during COMMIT; whether the transaction committed is unknown: ") +
            e.what());
    }
}

void transaction::rollback() {
    if (!m_open) throw usage_error("pgque: transaction already ended");
    end();
    if (m_conn.is_open() && !m_conn.in_transaction()) {
        throw usage_error("pgque: the transaction block was ended through exec() before rollback()");
    }
    static_cast<void>(m_conn.exec("rollback"));
}

}  // namespace pgque
