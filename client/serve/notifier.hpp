// The ticks a long-polling consumer waits for: one connection that LISTENs
// to pgque_<queue> for every queue some request waits on, and wakes the
// waiting requests when a tick is announced. Waiting holds no pooled
// connection. After a lost connection it connects again and wakes every
// waiter (a tick may have been missed meanwhile), so a waiter receives
// again rather than sleeping through a tick.
#ifndef PGQUE_SERVE_NOTIFIER_HPP
#define PGQUE_SERVE_NOTIFIER_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace pgque::serve {

class notifier {
public:
    explicit notifier(std::string conninfo);
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;
    ~notifier();

    // Makes sure the channel is listened to (waits up to a second for the
    // LISTEN) and returns its count of notifications so far: receive
    // after this call, then wait() with the count, and no tick falls
    // between the two.
    std::uint64_t watch(const std::string& channel);
    // Until the channel's count passes `seen`, `until` comes or stop();
    // true if it passed.
    bool wait(const std::string& channel, std::uint64_t seen, std::chrono::steady_clock::time_point until);
    // Wakes every waiter for good (server shutdown).
    void stop();

private:
    void run();

    std::string m_conninfo;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::string, std::uint64_t> m_counts;
    std::set<std::string> m_wanted;      // channels requests wait on
    std::set<std::string> m_listening;   // LISTENed on the current connection
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace pgque::serve

#endif
