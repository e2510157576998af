#include "notifier.hpp"

#include <poll.h>

#include <memory>
#include <vector>

#include <pgque/connection.hpp>

namespace pgque::serve {

notifier::notifier(std::string conninfo) : m_conninfo(std::move(conninfo)), m_thread([this] { run(); }) {}

notifier::~notifier() {
    stop();
    m_thread.join();
}

void notifier::stop() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_changed.notify_all();
}

std::uint64_t notifier::watch(const std::string& channel) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_wanted.insert(channel);
    m_changed.wait_for(lock, std::chrono::seconds(1),
                       [&] { return m_stopping || m_listening.count(channel) > 0; });
    return m_counts[channel];
}

bool notifier::wait(const std::string& channel, std::uint64_t seen, std::chrono::steady_clock::time_point until) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_changed.wait_until(lock, until, [&] { return m_stopping || m_counts[channel] > seen; }) &&
           !m_stopping;
}

void notifier::run() {
    std::unique_ptr<pgque::connection> conn;
    for (;;) {
        std::vector<std::string> to_listen;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_stopping) return;
            for (const auto& c : m_wanted)
                if (m_listening.count(c) == 0) to_listen.push_back(c);
        }
        try {
            if (!conn || !conn->is_open()) {
                conn.reset();
                {
                    // a new connection listens to nothing yet; and a tick
                    // may have gone by unheard: wake everyone
                    std::lock_guard<std::mutex> lock(m_mutex);
                    m_listening.clear();
                    for (auto& [channel, count] : m_counts) count++;
                    to_listen.assign(m_wanted.begin(), m_wanted.end());
                }
                m_changed.notify_all();
                conn = std::make_unique<pgque::connection>(m_conninfo);
            }
            for (const auto& c : to_listen) {
                conn->listen(c);
                std::lock_guard<std::mutex> lock(m_mutex);
                m_listening.insert(c);
            }
            if (!to_listen.empty()) m_changed.notify_all();

            pollfd pfd{conn->socket(), POLLIN, 0};
            (void) ::poll(&pfd, 1, 100);   // also: look for new channels every 100 ms
            if (!conn->consume_input()) continue;   // lost: connect again
            auto heard = conn->take_notifications();
            if (!heard.empty()) {
                {
                    std::lock_guard<std::mutex> lock(m_mutex);
                    for (const auto& c : heard) m_counts[c]++;
                }
                m_changed.notify_all();
            }
        } catch (const std::exception&) {
            conn.reset();
            std::unique_lock<std::mutex> lock(m_mutex);
            m_changed.wait_for(lock, std::chrono::seconds(1), [&] { return m_stopping; });
        }
    }
}

}  // namespace pgque::serve
