// The pgque CLI's command line: parsing and help texts (no database here).
#ifndef PGQUE_CLI_ARGS_HPP
#define PGQUE_CLI_ARGS_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgque::cli {

// Exit codes scripts can rely on (docs/cli.md).
enum exit_code : int {
    exit_ok = 0,
    exit_usage = 1,        // bad command line
    exit_not_found = 2,    // queue, consumer, batch or dead letter does not exist
    exit_connection = 3,   // could not connect / connection lost
    exit_server = 4,       // any other error (server or client)
    exit_timeout = 5,      // tail --timeout passed before --count messages arrived
};

// A command-line mistake; the message says what, exit code 1.
class usage : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// --color: auto colours a stream that is a terminal unless NO_COLOR is set.
enum class color_when { auto_detect, always, never };

struct arguments {
    // global
    std::optional<std::string> dsn;  // --dsn; else the libpq environment
    bool json = false;               // --json
    color_when color = color_when::auto_detect;  // --color
    bool help = false;               // --help / -h / help
    bool version = false;            // --version
    // what to run: command "dlq" has a subcommand (list, replay, purge)
    std::string command;
    std::string subcommand;
    std::vector<std::string> positional;
    // command flags
    bool force = false;                   // drop --force
    std::optional<std::string> type;      // send --type, schedule --type
    bool lines = false;                   // send --lines
    // send --json, schedule --json (given after the command): the payload
    // is JSON, checked before sending and stored as jsonb; the output is
    // JSON as well
    bool json_payload = false;
    // send --at TIME / --delay DURATION: deliver later. Passed to the server
    // as they are (timestamptz / interval input), so it parses them.
    std::optional<std::string> at;
    std::optional<std::string> delay;
    int priority = 0;                     // send --priority (0..9)
    std::optional<std::string> key;       // send --key: the dedup_key
    bool schedule = false;                // pause/resume --schedule NAME
    std::optional<std::string> listen;    // metrics, serve --listen HOST:PORT
    std::optional<std::string> tokens;    // serve --tokens FILE
    int pool = 8;                         // serve --pool N
    bool subscribe = false;               // tail --subscribe
    std::optional<std::string> subconsumer;  // tail --subconsumer: cooperative member
    std::optional<std::chrono::milliseconds> dead_interval;  // tail --dead-interval
    bool retry_open_batch = false;        // unsubscribe --subconsumer --retry-open-batch
    std::uint64_t count = 0;              // tail --count (0 = unlimited)
    std::optional<std::chrono::milliseconds> timeout;  // tail --timeout
    int batch_size = 100;                 // tail --batch-size
    int limit = 100;                      // dlq list --limit
    bool all = false;                     // dlq replay --all
    std::chrono::microseconds older_than = std::chrono::hours(24 * 30);  // dlq purge --older-than
    // status, queues, consumers --watch: redraw at this interval until interrupted
    std::optional<std::chrono::milliseconds> watch;
    std::uint64_t watch_count = 0;        // hidden --watch-count: stop after N redraws (0 = never)
};

// Parses argv[1..]. Throws usage. With help set, the rest is not validated
// beyond finding the command the help is for.
[[nodiscard]] arguments parse_args(const std::vector<std::string>& argv);

// "30d", "12h", "5m", "10s", "250ms", "1.5" (seconds), "0". Throws usage.
[[nodiscard]] std::chrono::microseconds parse_duration(const std::string& text);

// Help for a command ("" = overview; "dlq list" style for subcommands).
[[nodiscard]] std::string help_text(const std::string& command, const std::string& subcommand = {});

}  // namespace pgque::cli

#endif
