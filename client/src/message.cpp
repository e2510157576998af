// Message helpers and the library version.
#include <pgque/message.hpp>
#include <pgque/version.hpp>

namespace pgque {

const std::string& Message::payload_or_empty() const noexcept {
    static const std::string empty;
    return payload ? *payload : empty;
}

const char* client_version() noexcept { return PGQUE_CLIENT_VERSION; }

}  // namespace pgque
