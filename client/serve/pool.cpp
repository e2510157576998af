#include "pool.hpp"

#include <pgque/error.hpp>

namespace pgque::serve {

pool::pool(std::string conninfo, int size)
    : m_conninfo(std::move(conninfo)), m_conns(static_cast<std::size_t>(size)),
      m_busy(static_cast<std::size_t>(size), false) {}

pool::borrowed::borrowed(borrowed&& other) noexcept : m_pool(other.m_pool), m_slot(other.m_slot) {
    other.m_pool = nullptr;
}

pool::borrowed::~borrowed() {
    if (m_pool != nullptr) m_pool->give_back(m_slot);
}

pgque::connection& pool::borrowed::operator*() const {
    return *m_pool->m_conns[static_cast<std::size_t>(m_slot)];
}

pool::borrowed pool::borrow(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(m_mutex);
    int slot = -1;
    auto free_slot = [&] {
        for (std::size_t i = 0; i < m_busy.size(); i++) {
            if (!m_busy[i]) {
                slot = static_cast<int>(i);
                return true;
            }
        }
        return false;
    };
    if (!m_freed.wait_for(lock, wait, free_slot))
        throw pgque::connection_error("all " + std::to_string(m_conns.size()) +
                                          " database connections of the server are busy",
                                      "53300");
    m_busy[static_cast<std::size_t>(slot)] = true;
    lock.unlock();
    borrowed b(*this, slot);   // gives the slot back if connecting throws
    auto& conn = m_conns[static_cast<std::size_t>(slot)];
    if (!conn || !conn->is_open()) {
        conn.reset();
        conn = std::make_unique<pgque::connection>(m_conninfo);
    }
    return b;
}

void pool::give_back(int slot) {
    auto& conn = m_conns[static_cast<std::size_t>(slot)];
    // a request that failed half-way may leave a transaction open: start over
    if (conn && (!conn->is_open() || conn->in_transaction())) conn.reset();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_busy[static_cast<std::size_t>(slot)] = false;
    }
    m_freed.notify_one();
}

}  // namespace pgque::serve
