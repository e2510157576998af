// message helpers.
#include <pgque/message.hpp>

namespace pgque {

const std::string& message::payload_or_empty() const noexcept {
    static const std::string empty;
    return payload ? *payload : empty;
}

}  // namespace pgque
