// The Consumer of test/scripts/pgbouncer.sh: transactional, records every
// message into table got in the batch's transaction, logs to stderr, and
// exits 0 after COUNT messages (5 after TIMEOUT seconds, 4 on an error).
//
//   pgque_test_pgbouncer_consumer DSN QUEUE CONSUMER COUNT TIMEOUT
#include <cstdlib>
#include <iostream>
#include <string>

#include <pgque/pgque.hpp>

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: " << argv[0] << " DSN QUEUE CONSUMER COUNT TIMEOUT\n";
        return 1;
    }
    pgque::consumer_options options;
    options.transactional = true;
    options.subscribe = false;
    options.max_messages = std::strtoull(argv[4], nullptr, 10);
    options.polling_interval = std::chrono::milliseconds(200);
    options.logger = [](pgque::log_level level, const std::string& message) {
        if (level != pgque::log_level::debug) std::cerr << "[" << pgque::to_string(level) << "] " << message << std::endl;
    };
    pgque::consumer consumer(argv[1], argv[2], argv[3], options);
    consumer.on("*", [](const pgque::message& m, pgque::message_context& ctx) {
        static_cast<void>(ctx.connection().exec("insert into got values ($1::int8, $2::text)",
                                                {std::to_string(m.msg_id), m.payload}));
    });
    try {
        auto r = consumer.run_for(std::chrono::seconds(std::strtol(argv[5], nullptr, 10)));
        std::cerr << "run: " << pgque::to_string(r) << ", handled " << consumer.stats().handled << std::endl;
        return r == pgque::run_result::max_messages ? 0 : 5;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 4;
    }
}
