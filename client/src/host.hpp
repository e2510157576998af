// Internal: "<host>-<pid>", the default name of a cooperative member
// (consumer) and of a worker_pool's members.
#ifndef PGQUE_SRC_HOST_HPP
#define PGQUE_SRC_HOST_HPP

#include <string>

#include <unistd.h>

namespace pgque::detail {

inline std::string host_pid_name() {
    char host[256] = "host";
    static_cast<void>(::gethostname(host, sizeof host - 1));
    host[sizeof host - 1] = '\0';
    return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace pgque::detail

#endif
