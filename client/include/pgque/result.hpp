// pgque/result.hpp -- an owned query result (RAII over libpq's PGresult).
#ifndef PGQUE_RESULT_HPP
#define PGQUE_RESULT_HPP

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <pgque/export.hpp>

// libpq's handle types; the same typedefs as in libpq-fe.h, so that this
// header needs no libpq headers (libpq is a private dependency).
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace pgque {

// Rows and columns of a successful command, all values in text format.
// Immutable once created; safe to read from several threads. Move-only.
class PGQUE_EXPORT result {
public:
    result() noexcept;
    explicit result(PGresult* res) noexcept;  // takes ownership
    result(result&&) noexcept = default;
    result& operator=(result&&) noexcept = default;
    result(const result&) = delete;
    result& operator=(const result&) = delete;
    ~result() noexcept = default;

    [[nodiscard]] int rows() const noexcept;
    [[nodiscard]] int columns() const noexcept;
    [[nodiscard]] bool empty() const noexcept { return rows() == 0; }
    // Column index by name; throws usage_error if there is no such column.
    [[nodiscard]] int column(std::string_view name) const;
    [[nodiscard]] std::string column_name(int col) const;

    // Row or column out of range: usage_error.
    [[nodiscard]] bool is_null(int row, int col) const;
    // The text value; empty for NULL. Valid while this result lives.
    [[nodiscard]] std::string_view get(int row, int col) const;
    [[nodiscard]] std::optional<std::string> get_optional(int row, int col) const;
    // Typed accessors; throw failure on NULL or a malformed value.
    [[nodiscard]] std::int64_t get_int64(int row, int col) const;
    [[nodiscard]] std::optional<std::int64_t> get_optional_int64(int row, int col) const;
    [[nodiscard]] bool get_bool(int row, int col) const;

    // Rows affected by INSERT/UPDATE/DELETE..., 0 otherwise.
    [[nodiscard]] std::int64_t affected_rows() const;

    [[nodiscard]] const PGresult* native_handle() const noexcept { return m_res.get(); }

private:
    void check_cell(int row, int col) const;
    std::unique_ptr<PGresult, void (*)(PGresult*)> m_res;
};

}  // namespace pgque

#endif
