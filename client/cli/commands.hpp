// The pgque CLI's commands.
#ifndef PGQUE_CLI_COMMANDS_HPP
#define PGQUE_CLI_COMMANDS_HPP

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace pgque::cli {

// Runs the command line argv (without the program name); returns the exit
// code (see args.hpp). Output to out, diagnostics to err, payloads from in.
int run(const std::vector<std::string>& argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace pgque::cli

#endif
