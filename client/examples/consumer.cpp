// Consumes a queue with per-type handlers; exits after N messages.
//
//   pgque-example-consumer --dsn DSN --queue QUEUE --consumer NAME
//                          [--count N] [--timeout SECONDS]
//
// Exit status: 0 after N messages, 5 when the timeout passed first,
// 130 on Ctrl-C, 2/3/4 on errors.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include <pgque/pgque.hpp>

namespace {

pgque::consumer* g_consumer = nullptr;

extern "C" void on_signal(int) {
    if (g_consumer != nullptr) g_consumer->stop();  // async-signal-safe
}

}  // namespace

int main(int argc, char** argv) {
    std::string dsn, queue, name;
    long count = 10;
    long timeout_s = 30;
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
        else if (arg == "--consumer") name = value();
        else if (arg == "--count") count = std::strtol(value().c_str(), nullptr, 10);
        else if (arg == "--timeout") timeout_s = std::strtol(value().c_str(), nullptr, 10);
        else {
            queue.clear();
            break;
        }
    }
    if (queue.empty() || name.empty() || count < 1 || timeout_s < 1) {
        std::cerr << "usage: " << argv[0]
                  << " --dsn DSN --queue QUEUE --consumer NAME [--count N] [--timeout SECONDS]\n";
        return 1;
    }

    pgque::consumer_options options;
    options.max_messages = static_cast<std::uint64_t>(count);
    options.retry_after = std::chrono::seconds(5);  // instead of the queue's retry policy
    options.logger = [](pgque::log_level level, const std::string& message) {
        if (level != pgque::log_level::debug) std::cerr << "[" << pgque::to_string(level) << "] " << message << '\n';
    };

    pgque::consumer consumer(dsn, queue, name, options);
    consumer.on("order.created", [](const pgque::message& m) {
        std::cout << "handled " << m.msg_id << " order.created " << m.payload_or_empty() << std::endl;
    });
    consumer.on("*", [](const pgque::message& m) {
        std::cout << "handled " << m.msg_id << ' ' << m.type << ' ' << m.payload_or_empty() << std::endl;
    });

    g_consumer = &consumer;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        switch (consumer.run_for(std::chrono::seconds(timeout_s))) {
            case pgque::run_result::max_messages:
                return 0;
            case pgque::run_result::timed_out:
                std::cerr << "timeout: handled " << consumer.stats().handled << " of " << count << '\n';
                return 5;
            case pgque::run_result::stopped:
                return 130;
        }
    } catch (const pgque::connection_error& e) {
        std::cerr << "cannot connect: " << e.what() << '\n';
        return 3;
    } catch (const pgque::not_found& e) {
        std::cerr << e.what() << '\n';
        return 2;
    } catch (const pgque::error& e) {  // anything else the library throws
        std::cerr << "error: " << e.what() << '\n';
        return 4;
    }
    return 4;
}
