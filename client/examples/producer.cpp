// Sends N events to a queue and prints each event id.
//
//   pgque-example-producer --dsn DSN --queue QUEUE [--count N] [--type TYPE]
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <pgque/pgque.hpp>

int main(int argc, char** argv) {
    std::string dsn, queue, type = "order.created";
    long count = 10;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << arg << " needs a value\n";
                std::exit(1);
            }
            return argv[++i];
        };
        if (arg == "--dsn") dsn = value();
        else if (arg == "--queue") queue = value();
        else if (arg == "--count") count = std::strtol(value().c_str(), nullptr, 10);
        else if (arg == "--type") type = value();
        else {
            std::cerr << "usage: " << argv[0] << " --dsn DSN --queue QUEUE [--count N] [--type TYPE]\n";
            return 1;
        }
    }
    if (queue.empty() || count < 1) {
        std::cerr << "usage: " << argv[0] << " --dsn DSN --queue QUEUE [--count N] [--type TYPE]\n";
        return 1;
    }

    try {
        pgque::client client(dsn);  // "" = libpq environment (PGHOST, PGDATABASE, ...)
        for (long n = 1; n <= count; ++n) {
            std::string payload = "{\"order\": " + std::to_string(n) + "}";
            std::int64_t id = client.send(queue, type, payload);  // autocommit: visible after the next tick
            std::cout << "sent " << id << ' ' << type << ' ' << payload << std::endl;
        }
    } catch (const pgque::connection_error& e) {
        std::cerr << "cannot connect: " << e.what() << '\n';
        return 3;
    } catch (const pgque::queue_not_found& e) {
        std::cerr << e.what() << " (create it with: pgque create " << queue << ")\n";
        return 2;
    } catch (const pgque::error& e) {  // anything else the library throws
        std::cerr << "error: " << e.what() << '\n';
        return 4;
    }
    return 0;
}
