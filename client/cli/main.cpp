// pgque -- command-line tool for pgque queues. See docs/cli.md.
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return pgque::cli::run(args, std::cin, std::cout, std::cerr, pgque::cli::detect_terminal());
}
