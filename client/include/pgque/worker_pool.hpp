// pgque/worker_pool.hpp -- N concurrent handlers per queue in one process.
//
// A worker_pool runs `workers` cooperative consumers (each a member of the
// same consumer, with its own connection and thread) for every queue it has
// handlers for, so that N handlers work on one queue at once without ever
// getting the same message (job-queue style: gue's WorkerPool, a "workers =
// 4" option). One pool can serve several queues, with handlers per queue and
// message type ("*" for any type).
//
// run() blocks until stop() or until a worker fails; stop() lets every
// in-flight handler finish and leaves the rest of each batch unacknowledged
// (it comes again, to a member of the same consumer): nothing is acked twice.
#ifndef PGQUE_WORKER_POOL_HPP
#define PGQUE_WORKER_POOL_HPP

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pgque/consumer.hpp>
#include <pgque/export.hpp>

namespace pgque {

struct PGQUE_EXPORT worker_pool_options {
    // Members per queue (each with its own connection and thread).
    int workers = 4;
    // Options of every member. cooperative is always on: its subconsumer
    // names the pool ("" = "<host>-<pid>"), each member gets "-<n>" added;
    // its dead_interval and heartbeat apply to every member.
    consumer_options consumer;
};

class PGQUE_EXPORT worker_pool {
public:
    explicit worker_pool(std::string conninfo, worker_pool_options options = {});
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;
    ~worker_pool() noexcept;

    // The handler of `type` ("*": any type without its own) for messages of
    // `queue`, read as consumer `consumer_name`. Not while run() runs.
    worker_pool& on(const std::string& queue, const std::string& consumer_name,
                    const std::string& type, handler fn);
    worker_pool& on(const std::string& queue, const std::string& consumer_name,
                    const std::string& type, context_handler fn);

    // Starts the members and waits for them. Returns after stop(); if a
    // member fails (e.g. its queue was dropped), stops the others and
    // rethrows that member's exception. usage_error without handlers.
    void run();
    // Asks every member to stop after its current handler. Thread-safe; a
    // stop before run() makes run() return at once.
    void stop() noexcept;

    // Summed over the members of the last (or current) run().
    [[nodiscard]] consumer_stats stats() const noexcept;

private:
    using group_key = std::pair<std::string, std::string>;  // queue, consumer
    std::string m_conninfo;
    worker_pool_options m_options;
    std::map<group_key, std::map<std::string, context_handler>> m_handlers;
    std::vector<std::unique_ptr<pgque::consumer>> m_members;
    std::atomic<bool> m_ready{false};
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_running{false};
};

}  // namespace pgque

#endif
