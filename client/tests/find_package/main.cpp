// Built against an installed pgque (find_package or pkg-config). Without a
// DSN it checks that the library links and runs; with PGQUE_TEST_DSN it also
// makes one round trip through a queue.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <pgque/pgque.hpp>

#include <unistd.h>

int main() {
    if (std::string(pgque::client_version()) != PGQUE_CLIENT_VERSION) {
        std::cerr << "header/library version mismatch\n";
        return 1;
    }
    try {
        pgque::client nowhere("host=/nonexistent/pgque port=1");
        std::cerr << "connected to nowhere?\n";
        return 1;
    } catch (const pgque::connection_error&) {
        // expected: the exception types work across the library boundary
    }

    const char* dsn = std::getenv("PGQUE_TEST_DSN");
    if (dsn == nullptr || *dsn == '\0') {
        std::cout << "ok (linked pgque " << pgque::client_version() << ", no database)\n";
        return 0;
    }
    pgque::client client(dsn);
    try {
        static_cast<void>(client.connection().exec("create extension if not exists pgque"));
    } catch (const pgque::sql_error&) {
        // created concurrently by another test process
    }
    const std::string queue = "find_package_" + std::to_string(::getpid()) + "_" +
                              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
    static_cast<void>(client.create_queue(queue));
    client.set_queue_config(queue, "ticker_max_lag", "0");
    static_cast<void>(client.subscribe(queue, "fp"));
    std::int64_t id = client.send(queue, "hello from an installed pgque");
    static_cast<void>(client.ticker(queue));
    pgque::batch batch = client.receive(queue, "fp");
    bool ok = batch.size() == 1 && batch.messages[0].msg_id == id && client.ack(batch.id);
    client.drop_queue(queue, true);
    if (!ok) {
        std::cerr << "round trip failed\n";
        return 1;
    }
    std::cout << "ok (linked pgque " << pgque::client_version() << ", round trip through " << queue << ")\n";
    return 0;
}
