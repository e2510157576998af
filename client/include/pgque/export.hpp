// pgque/export.hpp -- PGQUE_EXPORT marks the public API of libpgque.
//
// libpgque is compiled with -fvisibility=hidden and
// -fvisibility-inlines-hidden: only declarations marked PGQUE_EXPORT (the
// classes, structs and free functions of the public headers) are exported
// from libpgque.so. Everything in src/ (pgque::detail, anonymous
// namespaces) stays inside the library. tests/visibility.sh checks this.
#ifndef PGQUE_EXPORT_HPP
#define PGQUE_EXPORT_HPP

#if defined(__GNUC__) || defined(__clang__)
#define PGQUE_EXPORT __attribute__((visibility("default")))
#else
#define PGQUE_EXPORT
#endif

#endif
