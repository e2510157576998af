// pgque/transaction.hpp -- a transaction block on a connection.
#ifndef PGQUE_TRANSACTION_HPP
#define PGQUE_TRANSACTION_HPP

#include <pgque/connection.hpp>
#include <pgque/export.hpp>

namespace pgque {

// A transaction block on a connection: BEGIN on construction, ROLLBACK on
// destruction unless commit() or rollback() was called.
//
// Transactions do not nest. Constructing one on a connection that is
// already inside a transaction block -- another transaction object, or a
// BEGIN sent through exec() -- throws usage_error and sends nothing (the
// server would only warn, and this object's ROLLBACK would then end the
// outer transaction). Use SAVEPOINT through exec() for nested work.
//
// The connection must outlive the transaction and must not be moved while
// it is open.
class PGQUE_EXPORT transaction {
public:
    explicit transaction(pgque::connection& conn);
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction() noexcept;

    // COMMIT. Throws:
    //   usage_error       the transaction already ended, or its block was ended
    //                     behind its back (COMMIT/ROLLBACK through exec())
    //   failure           an earlier statement failed: the transaction was
    //                     rolled back, nothing was committed
    //   sql_error         the server refused the COMMIT (e.g. a deferred
    //                     constraint): nothing was committed
    //   connection_error  the connection was already lost before COMMIT was
    //                     sent: nothing was committed
    //   in_doubt_error    the connection was lost after COMMIT was sent: it
    //                     is unknown whether the transaction committed
    void commit();
    // ROLLBACK. usage_error if the transaction already ended.
    void rollback();
    // Still open: neither committed nor rolled back.
    [[nodiscard]] bool is_open() const noexcept { return m_open; }
    [[nodiscard]] pgque::connection& connection() noexcept { return m_conn; }

private:
    void end() noexcept;

    pgque::connection& m_conn;
    bool m_open = false;
};

}  // namespace pgque

#endif
