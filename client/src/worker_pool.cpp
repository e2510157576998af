// worker_pool: `workers` cooperative consumers per queue, one thread each.
//
// The members are built before any thread starts and not changed while
// they run, so stop() can walk them without a lock (m_ready says they are
// there). The first member that fails records its exception and stops the
// others; run() rethrows it after every thread has returned.
#include <pgque/error.hpp>
#include <pgque/worker_pool.hpp>

#include <exception>
#include <mutex>
#include <thread>

#include "host.hpp"

namespace pgque {

worker_pool::worker_pool(std::string conninfo, worker_pool_options options)
    : m_conninfo(std::move(conninfo)), m_options(std::move(options)) {}

worker_pool::~worker_pool() noexcept { stop(); }

worker_pool& worker_pool::on(const std::string& queue, const std::string& consumer_name,
                             const std::string& type, handler fn) {
    if (!fn) throw usage_error("pgque: empty handler for type \"" + type + "\"");
    return on(queue, consumer_name, type,
              context_handler([fn = std::move(fn)](const message& m, message_context&) { fn(m); }));
}

worker_pool& worker_pool::on(const std::string& queue, const std::string& consumer_name,
                             const std::string& type, context_handler fn) {
    if (!fn) throw usage_error("pgque: empty handler for type \"" + type + "\"");
    if (m_running.load()) throw usage_error("pgque: cannot add handlers while the pool runs");
    m_handlers[{queue, consumer_name}][type] = std::move(fn);
    return *this;
}

void worker_pool::stop() noexcept {
    m_stop.store(true);
    if (!m_ready.load()) return;
    for (auto& m : m_members) m->stop();
}

consumer_stats worker_pool::stats() const noexcept {
    consumer_stats sum;
    for (const auto& m : m_members) {
        consumer_stats s = m->stats();
        sum.handled += s.handled;
        sum.failed += s.failed;
        sum.unknown += s.unknown;
        sum.dead_lettered += s.dead_lettered;
        sum.batches += s.batches;
        sum.reconnects += s.reconnects;
    }
    return sum;
}

void worker_pool::run() {
    if (m_running.exchange(true)) throw usage_error("pgque: run() is already running");
    struct guard {
        worker_pool& self;
        ~guard() {
            self.m_ready.store(false);
            self.m_running.store(false);
        }
    } on_exit{*this};
    if (m_options.workers < 1) throw usage_error("pgque: workers must be at least 1");
    if (m_handlers.empty()) throw usage_error("pgque: the pool has no handlers");

    std::string base;
    if (m_options.consumer.cooperative) base = m_options.consumer.cooperative->subconsumer;
    if (base.empty()) base = detail::host_pid_name();

    m_members.clear();
    for (const auto& [key, handlers] : m_handlers) {
        for (int i = 1; i <= m_options.workers; ++i) {
            consumer_options o = m_options.consumer;
            cooperative_options co = o.cooperative.value_or(cooperative_options{});
            co.subconsumer = base + "-" + std::to_string(i);
            o.cooperative = co;
            auto c = std::make_unique<pgque::consumer>(m_conninfo, key.first, key.second, o);
            for (const auto& [type, fn] : handlers) c->on(type, fn);
            m_members.push_back(std::move(c));
        }
    }
    m_ready.store(true);
    if (m_stop.exchange(false)) {
        return;
    }

    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::vector<std::thread> threads;
    threads.reserve(m_members.size());
    for (auto& member : m_members) {
        pgque::consumer* c = member.get();
        threads.emplace_back([this, c, &failure_mutex, &failure] {
            try {
                static_cast<void>(c->run());
            } catch (...) {
                {
                    std::lock_guard<std::mutex> lock(failure_mutex);
                    if (!failure) failure = std::current_exception();
                }
                stop();
            }
        });
    }
    for (auto& t : threads) t.join();
    m_stop.store(false);
    if (failure) std::rethrow_exception(failure);
}

}  // namespace pgque
