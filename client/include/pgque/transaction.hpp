// pgque/transaction.hpp -- a transaction block on a Connection.
#ifndef PGQUE_TRANSACTION_HPP
#define PGQUE_TRANSACTION_HPP

#include <pgque/connection.hpp>

namespace pgque {

// A transaction block on a connection: BEGIN on construction, ROLLBACK on
// destruction unless commit() was called.
class Transaction {
public:
    explicit Transaction(Connection& conn);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() noexcept;

    void commit();
    void rollback();
    [[nodiscard]] Connection& connection() noexcept { return m_conn; }

private:
    Connection& m_conn;
    bool m_open = true;
};

}  // namespace pgque

#endif
