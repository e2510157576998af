// The pgque CLI's commands.
#ifndef PGQUE_CLI_COMMANDS_HPP
#define PGQUE_CLI_COMMANDS_HPP

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace pgque::cli {

// What the CLI knows about where its output goes; decides colours (with
// --color) and whether --watch clears the screen.
struct terminal {
    bool stdout_tty = false;
    bool stderr_tty = false;
    bool no_color = false;  // NO_COLOR set to a non-empty value, or TERM=dumb
};

// The terminal of this process: isatty(1), isatty(2), NO_COLOR and TERM.
[[nodiscard]] terminal detect_terminal();

// Runs the command line argv (without the program name); returns the exit
// code (see args.hpp). Output to out, diagnostics to err (every error once),
// payloads from in.
int run(const std::vector<std::string>& argv, std::istream& in, std::ostream& out, std::ostream& err,
        const terminal& term = {});

}  // namespace pgque::cli

#endif
