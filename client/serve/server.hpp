// `pgque serve`: the REST API (/v1), /metrics and /healthz over one pool of
// database connections (docs/http.md).
#ifndef PGQUE_SERVE_SERVER_HPP
#define PGQUE_SERVE_SERVER_HPP

#include <atomic>
#include <optional>
#include <ostream>
#include <string>

namespace pgque::serve {

struct options {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string dsn;                   // libpq conninfo ("" = environment)
    int pool_size = 8;                 // database connections
    int threads = 64;                  // requests served at once beyond the pool (long polls)
    std::optional<std::string> tokens_file;
};

// Serves until *stop becomes true (the CLI sets it on SIGTERM/SIGINT), then
// stops accepting, lets requests in flight finish and returns 0. Returns 4
// if it cannot listen. Throws pgque::usage_error for a bad tokens file.
int run(const options& opts, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace pgque::serve

#endif
