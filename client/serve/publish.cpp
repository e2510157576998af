// POST /v1/queues/{q}/messages: one message, or {"messages": [...]}, in one
// transaction. A message: {"body": any JSON (a string is sent as it is,
// anything else as its JSON text), "type", "priority", "dedup_key",
// "delay" (seconds, or an interval such as "5 minutes") or "deliver_at"
// (a timestamp), "label" (a string a consumer's filter may select),
// "attributes" (an object)}. Runs of messages with the same type and
// priority and no other field go in one send_batch() call.
#include "api.hpp"

namespace pgque::serve {

namespace {

struct outgoing {
    std::string type = "default";
    std::string payload;
    int priority = 0;
    std::optional<std::string> dedup_key;
    std::optional<std::string> delay;       // interval text
    std::optional<std::string> deliver_at;  // timestamptz text
    std::optional<std::string> label;
    std::optional<std::string> attributes;  // a JSON object's text
};

outgoing parse_message(const json& m, std::size_t index) {
    const std::string where = "message " + std::to_string(index);
    if (!m.is_object()) throw api_error(422, where + ": must be an object", "22023");
    if (!m.contains("body")) throw api_error(422, where + ": needs a \"body\"", "22023");
    for (const auto& [key, value] : m.items()) {
        static const std::vector<std::string> known = {"body",     "type",       "priority", "dedup_key",
                                                       "delay",    "deliver_at", "label",    "attributes"};
        if (std::find(known.begin(), known.end(), key) == known.end())
            throw api_error(422, where + ": unknown field \"" + key + "\"", "22023",
                            "fields: body, type, priority, dedup_key, delay, deliver_at, label, attributes");
        (void) value;
    }
    outgoing o;
    o.payload = m["body"].is_string() ? m["body"].get<std::string>() : m["body"].dump();
    if (m.contains("type")) {
        if (!m["type"].is_string()) throw api_error(422, where + ": \"type\" must be a string", "22023");
        o.type = m["type"];
    }
    if (m.contains("priority")) {
        if (!m["priority"].is_number_integer()) throw api_error(422, where + ": \"priority\" must be a whole number", "22023");
        o.priority = m["priority"];
    }
    if (m.contains("dedup_key") && !m["dedup_key"].is_null()) {
        if (!m["dedup_key"].is_string()) throw api_error(422, where + ": \"dedup_key\" must be a string", "22023");
        o.dedup_key = m["dedup_key"].get<std::string>();
    }
    if (m.contains("delay") && !m["delay"].is_null()) {
        const json& d = m["delay"];
        if (d.is_number()) o.delay = d.dump() + " seconds";
        else if (d.is_string()) o.delay = d.get<std::string>();
        else throw api_error(422, where + ": \"delay\" must be seconds or an interval such as \"5 minutes\"", "22023");
    }
    if (m.contains("deliver_at") && !m["deliver_at"].is_null()) {
        if (!m["deliver_at"].is_string()) throw api_error(422, where + ": \"deliver_at\" must be a timestamp", "22023");
        o.deliver_at = m["deliver_at"].get<std::string>();
    }
    if (m.contains("label") && !m["label"].is_null()) {
        if (!m["label"].is_string()) throw api_error(422, where + ": \"label\" must be a string", "22023");
        o.label = m["label"].get<std::string>();
    }
    if (m.contains("attributes") && !m["attributes"].is_null()) {
        if (!m["attributes"].is_object())
            throw api_error(422, where + ": \"attributes\" must be an object", "22023");
        o.attributes = m["attributes"].dump();
    }
    if (o.delay && o.deliver_at) throw api_error(422, where + ": give \"delay\" or \"deliver_at\", not both", "22023");
    if ((o.delay || o.deliver_at) && (o.priority != 0 || o.dedup_key))
        throw api_error(501, where + ": a delayed message with a priority or a dedup_key is not supported yet", "0A000");
    return o;
}

bool plain(const outgoing& o) { return !o.dedup_key && !o.delay && !o.deliver_at && !o.label && !o.attributes; }

std::vector<std::int64_t> publish(pgque::connection& conn, const std::string& queue, const std::vector<outgoing>& msgs) {
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < msgs.size();) {
        const outgoing& o = msgs[i];
        if (plain(o)) {
            // the run of plain messages with this type and priority
            std::vector<std::string> payloads;
            std::size_t j = i;
            for (; j < msgs.size() && plain(msgs[j]) && msgs[j].type == o.type && msgs[j].priority == o.priority; j++)
                payloads.push_back(msgs[j].payload);
            auto r = conn.exec("select unnest(pgque.send_batch($1, $2, $3::text[], $4::int))",
                               {queue, o.type, array_literal(payloads), std::to_string(o.priority)});
            for (int row = 0; row < r.rows(); row++) ids.push_back(r.get_int64(row, 0));
            i = j;
            continue;
        }
        pgque::result r;
        if (o.delay)
            r = conn.exec("select pgque.send_at($1, $2, $3::text, now() + $4::interval, $5, $6::jsonb)",
                          {queue, o.type, o.payload, *o.delay, o.label, o.attributes});
        else if (o.deliver_at)
            r = conn.exec("select pgque.send_at($1, $2, $3::text, $4::timestamptz, $5, $6::jsonb)",
                          {queue, o.type, o.payload, *o.deliver_at, o.label, o.attributes});
        else
            r = conn.exec("select pgque.send($1, $2, $3::text, $4::int, $5, $6, $7::jsonb)",
                          {queue, o.type, o.payload, std::to_string(o.priority), o.dedup_key, o.label, o.attributes});
        ids.push_back(r.get_int64(0, 0));
        i++;
    }
    return ids;
}

}  // namespace

void add_publish_routes(httplib::Server& server, api& a) {
    server.Post(R"(/v1/queues/([^/]+)/messages)", [&a](const httplib::Request& req, httplib::Response& res) {
        a.run(req, res, [&req](pgque::connection& conn, int) {
            json in = body_json(req);
            std::vector<outgoing> msgs;
            if (in.is_object() && in.contains("messages")) {
                if (!in["messages"].is_array() || in["messages"].empty())
                    throw api_error(422, "\"messages\" must be a non-empty array", "22023");
                for (std::size_t i = 0; i < in["messages"].size(); i++) msgs.push_back(parse_message(in["messages"][i], i));
            } else {
                msgs.push_back(parse_message(in, 0));
            }
            return reply{201, {{"ids", publish(conn, req.matches[1], msgs)}}};
        });
    });
}

}  // namespace pgque::serve
