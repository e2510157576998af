// A fixed number of database connections shared by the HTTP server's
// threads. A request borrows one for its whole duration and gives it back;
// a connection that broke (or is left inside a transaction) is closed and
// opened again by the next borrower, so the pool heals after a restart of
// the database without a restart of the server.
#ifndef PGQUE_SERVE_POOL_HPP
#define PGQUE_SERVE_POOL_HPP

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pgque/connection.hpp>

namespace pgque::serve {

class pool {
public:
    pool(std::string conninfo, int size);
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    class borrowed {
    public:
        borrowed(pool& owner, int slot) noexcept : m_pool(&owner), m_slot(slot) {}
        borrowed(borrowed&& other) noexcept;
        borrowed& operator=(borrowed&&) = delete;
        borrowed(const borrowed&) = delete;
        borrowed& operator=(const borrowed&) = delete;
        ~borrowed();
        pgque::connection& operator*() const;
        pgque::connection* operator->() const { return &**this; }
        // which of the pool's connections: names things per connection (a
        // cooperative member per slot)
        [[nodiscard]] int slot() const noexcept { return m_slot; }

    private:
        pool* m_pool;
        int m_slot;
    };

    // A connection, connected; waits up to `wait` for one to be free.
    // Throws pgque::connection_error if none is free in time (SQLSTATE
    // 53300, too_many_connections) or the database cannot be reached.
    borrowed borrow(std::chrono::milliseconds wait);
    [[nodiscard]] int size() const noexcept { return static_cast<int>(m_conns.size()); }

private:
    void give_back(int slot);

    std::string m_conninfo;
    std::mutex m_mutex;
    std::condition_variable m_freed;
    std::vector<std::unique_ptr<pgque::connection>> m_conns;
    std::vector<bool> m_busy;
};

}  // namespace pgque::serve

#endif
