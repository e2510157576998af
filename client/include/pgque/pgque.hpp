// pgque/pgque.hpp -- the whole pgque C++ client.
#ifndef PGQUE_PGQUE_HPP
#define PGQUE_PGQUE_HPP

#include <pgque/client.hpp>
#include <pgque/connection.hpp>
#include <pgque/consumer.hpp>
#include <pgque/error.hpp>
#include <pgque/export.hpp>
#include <pgque/info.hpp>
#include <pgque/message.hpp>
#include <pgque/result.hpp>
#include <pgque/transaction.hpp>
#include <pgque/version.hpp>
#include <pgque/worker_pool.hpp>

#endif
