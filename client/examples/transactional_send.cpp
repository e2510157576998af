// Sends an event inside the application's own transaction: the event exists
// if and only if the application's write commits. The application owns the
// PGconn; pgque::client only wraps it.
//
//   pgque-example-transactional-send --dsn DSN --queue QUEUE
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>

#include <libpq-fe.h>

#include <pgque/pgque.hpp>

namespace {

void exec_or_throw(PGconn* conn, const char* sql) {
    PGresult* res = PQexec(conn, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) throw std::runtime_error(std::string(sql) + ": " + PQerrorMessage(conn));
}

}  // namespace

int main(int argc, char** argv) {
    std::string dsn, queue;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string arg = argv[i];
        if (arg == "--dsn") dsn = argv[i + 1];
        else if (arg == "--queue") queue = argv[i + 1];
    }
    if (queue.empty()) {
        std::cerr << "usage: " << argv[0] << " --dsn DSN --queue QUEUE\n";
        return 1;
    }

    PGconn* conn = PQconnectdb(dsn.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::cerr << "cannot connect: " << PQerrorMessage(conn);
        PQfinish(conn);
        return 3;
    }
    int rc = 0;
    try {
        exec_or_throw(conn, "create temp table orders (id serial primary key, item text)");
        pgque::client queue_client(conn);  // does not take ownership

        // 1. committed: the order row and its event become visible together
        exec_or_throw(conn, "begin");
        exec_or_throw(conn, "insert into orders (item) values ('book')");
        std::int64_t kept = queue_client.send(queue, "order.created", "{\"item\": \"book\"}");
        exec_or_throw(conn, "commit");
        std::cout << "committed: event " << kept << " sent with the order\n";

        // 2. rolled back: neither the row nor the event ever existed
        exec_or_throw(conn, "begin");
        exec_or_throw(conn, "insert into orders (item) values ('lamp')");
        std::int64_t dropped = queue_client.send(queue, "order.created", "{\"item\": \"lamp\"}");
        exec_or_throw(conn, "rollback");
        std::cout << "rolled back: event " << dropped << " will never be delivered\n";
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        rc = 4;
    }
    PQfinish(conn);  // the application closes its own connection
    return rc;
}
