// The library's version, as configured into <pgque/version.hpp>.
#include <pgque/version.hpp>

namespace pgque {

const char* client_version() noexcept { return PGQUE_CLIENT_VERSION; }

}  // namespace pgque
