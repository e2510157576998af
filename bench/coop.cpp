// bench/coop: messages/s of one cooperative consumer with N members (a
// worker_pool of N) when each handler waits handler_ms per message, as an
// I/O-bound job would. Usage:
//   coop DSN QUEUE MEMBERS MESSAGES HANDLER_MS BATCH
// The queue must exist and be empty. The backlog is sent first, BATCH
// messages per tick (one window per batch, so that members can share it),
// then the pool drains it; prints "members N messages M seconds S rate R".
#include <pgque/pgque.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 7) {
        std::cerr << "usage: coop DSN QUEUE MEMBERS MESSAGES HANDLER_MS BATCH\n";
        return 2;
    }
    const std::string dsn = argv[1];
    const std::string queue = argv[2];
    const int members = std::atoi(argv[3]);
    const int messages = std::atoi(argv[4]);
    const auto handler_time = std::chrono::milliseconds(std::atoi(argv[5]));
    const int batch = std::atoi(argv[6]);

    pgque::client admin(dsn);
    const std::string consumer = "bench_coop";
    for (int i = 1; i <= members; ++i) {
        static_cast<void>(admin.subscribe_subconsumer(queue, consumer, "bench-" + std::to_string(i)));
    }
    for (int sent = 0; sent < messages; sent += batch) {
        std::vector<std::string> payloads;
        for (int j = 0; j < batch && sent + j < messages; ++j) payloads.push_back(std::to_string(sent + j));
        static_cast<void>(admin.send_batch(queue, payloads));
        static_cast<void>(admin.connection().exec("select pgque.force_tick($1::text), pgque.ticker($1::text)",
                                                  {queue}));
    }

    std::atomic<int> done{0};
    pgque::worker_pool_options o;
    o.workers = members;
    o.consumer.batch_size = batch;
    o.consumer.poll_interval = std::chrono::milliseconds(100);
    o.consumer.cooperative = pgque::cooperative_options{"bench", {}, {}};
    pgque::worker_pool pool(dsn, o);
    pool.on(queue, consumer, "*", [&](const pgque::message&) {
        std::this_thread::sleep_for(handler_time);
        ++done;
    });
    auto start = std::chrono::steady_clock::now();
    auto running = std::async(std::launch::async, [&] { pool.run(); });
    while (done.load() < messages) {
        if (running.wait_for(std::chrono::milliseconds(1)) == std::future_status::ready) {
            running.get();
            std::cerr << "coop: the pool ended early\n";
            return 1;
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    pool.stop();
    running.get();
    std::cout << "members " << members << " messages " << messages << " seconds " << seconds << " rate "
              << static_cast<long>(messages / seconds) << " handled " << pool.stats().handled << "\n";
    return 0;
}
