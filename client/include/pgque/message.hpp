// pgque/message.hpp -- what receive() returns.
#ifndef PGQUE_MESSAGE_HPP
#define PGQUE_MESSAGE_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pgque/export.hpp>

namespace pgque {

// One row of pgque.message (msg_id, batch_id, type, payload, retry_count,
// created_at, extra1..4). SQL NULLs are std::nullopt; a NULL type (only
// possible through insert_event) is the empty string.
struct PGQUE_EXPORT message {
    std::int64_t msg_id = 0;
    std::int64_t batch_id = 0;
    std::string type;
    std::optional<std::string> payload;
    std::optional<std::int32_t> retry_count;  // nullopt on the first delivery
    std::chrono::system_clock::time_point created_at;
    std::optional<std::string> extra1;
    std::optional<std::string> extra2;
    std::optional<std::string> extra3;
    std::optional<std::string> extra4;

    // The payload, or "" when it is NULL.
    [[nodiscard]] const std::string& payload_or_empty() const noexcept;
};

// The messages of one receive() call, all under one batch id. An empty
// batch (no messages) has id 0 and needs no ack.
struct PGQUE_EXPORT batch {
    std::int64_t id = 0;
    std::vector<message> messages;

    [[nodiscard]] bool empty() const noexcept { return messages.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return messages.size(); }
};

}  // namespace pgque

#endif
