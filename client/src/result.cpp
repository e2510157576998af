// result: an owned PGresult, read as text with typed accessors.
#include <pgque/error.hpp>
#include <pgque/result.hpp>

#include <libpq-fe.h>

#include "text.hpp"

namespace pgque {

namespace {

void clear_result(PGresult* res) { PQclear(res); }

}  // namespace

result::result() noexcept : m_res(nullptr, &clear_result) {}

result::result(PGresult* res) noexcept : m_res(res, &clear_result) {}

int result::rows() const noexcept { return m_res ? PQntuples(m_res.get()) : 0; }

int result::columns() const noexcept { return m_res ? PQnfields(m_res.get()) : 0; }

int result::column(std::string_view name) const {
    for (int i = 0; i < columns(); ++i) {
        if (name == PQfname(m_res.get(), i)) return i;
    }
    throw usage_error("pgque: result has no column \"" + std::string(name) + "\"");
}

std::string result::column_name(int col) const {
    if (col < 0 || col >= columns()) throw usage_error("pgque: column index out of range");
    return PQfname(m_res.get(), col);
}

void result::check_cell(int row, int col) const {
    if (row < 0 || row >= rows() || col < 0 || col >= columns()) {
        throw usage_error("pgque: result cell (" + std::to_string(row) + ", " + std::to_string(col) +
                          ") out of range");
    }
}

bool result::is_null(int row, int col) const {
    check_cell(row, col);
    return PQgetisnull(m_res.get(), row, col) != 0;
}

std::string_view result::get(int row, int col) const {
    check_cell(row, col);
    return std::string_view(PQgetvalue(m_res.get(), row, col),
                            static_cast<std::size_t>(PQgetlength(m_res.get(), row, col)));
}

std::optional<std::string> result::get_optional(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::string(get(row, col));
}

std::int64_t result::get_int64(int row, int col) const {
    if (is_null(row, col)) {
        throw failure("pgque: unexpected NULL in column \"" + column_name(col) + "\"");
    }
    return detail::parse_int64(get(row, col));
}

std::optional<std::int64_t> result::get_optional_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return detail::parse_int64(get(row, col));
}

bool result::get_bool(int row, int col) const {
    if (is_null(row, col)) {
        throw failure("pgque: unexpected NULL in column \"" + column_name(col) + "\"");
    }
    return detail::parse_bool(get(row, col));
}

std::int64_t result::affected_rows() const {
    if (!m_res) return 0;
    const char* n = PQcmdTuples(m_res.get());
    return (n == nullptr || *n == '\0') ? 0 : detail::parse_int64(n);
}

}  // namespace pgque
