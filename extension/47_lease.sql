-- Leases: acknowledging messages one by one, with a deadline.
--
-- A batch is acknowledged as a whole. Clients that settle messages one at a
-- time (an HTTP consumer, a job runner) lease them instead: receive_leased()
-- receives a batch, writes for every message it hands out a redelivery row
-- in pgque.retry_queue due at the lease's deadline (ev_lease = the batch id,
-- which names this delivery), and acknowledges the batch -- all in the
-- caller's transaction. From then on each message is on its own:
--
--   ack_message   deletes its row: it is never delivered again;
--   nack_message  moves the row's time to the retry delay (or dead-letters
--                 it, as nack() would);
--   extend_lease  moves the deadline;
--   nothing       at the deadline maint_retry_events() puts it back into
--                 the queue (50_retry.sql), to any member of the consumer,
--                 with retry_count + 1 -- or into the dead letters, when it
--                 was handed out on its last allowed try.
--
-- Nothing is lost: until the row is deleted by an ack, the message comes
-- back. Nothing acked comes back: the ack and the redelivery both delete the
-- one row, so exactly one of them happens, and an ack that names an older
-- delivery of the message (its lease expired and it was handed out again)
-- matches no row and changes nothing (false).

-- Receive like receive() (or, with a subconsumer, receive_coop()) and lease
-- what comes for i_lease (NULL: the queue's ack_deadline). The batch is
-- acknowledged before this returns; batch_id of each message is its lease.
create or replace function pgque.receive_leased(i_queue text, i_consumer text,
    i_subconsumer text default null, i_max_return int default 100, i_lease interval default null)
returns setof pgque.message
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
    rows 100
as $$
declare
    v_lease interval;
    v_msgs  pgque.message[];
begin
    if i_lease is not null and (i_lease < interval '1 millisecond' or i_lease > interval '12 hours') then
        raise exception 'a lease must be from 1 millisecond to 12 hours, got %', i_lease
            using errcode = 'invalid_parameter_value',
                  hint = 'Pass NULL to lease for the queue''s ack_deadline.';
    end if;
    select coalesce(i_lease, q.queue_ack_deadline) into v_lease
      from pgque.queue q where q.queue_id = pgque._queue_id(i_queue);

    if i_subconsumer is null then
        v_msgs := array(select r from pgque.receive(i_queue, i_consumer, i_max_return) r);
    else
        v_msgs := array(select r from pgque.receive_coop(i_queue, i_consumer, i_subconsumer, i_max_return) r);
    end if;
    if cardinality(v_msgs) = 0 then
        return;
    end if;

    -- (a message of a priority lane returns into its lane: the batch's queue)
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4, ev_lease)
    select now() + v_lease, b.queue_id, m.msg_id, m.created_at, null, b.sub_id,
           coalesce(m.retry_count, 0) + 1, m.type, m.payload,
           m.extra1, m.extra2, m.extra3, m.extra4, m.batch_id
      from unnest(v_msgs) m
      join (select d.batch_id, o.queue_id, o.sub_id
              from (select distinct u.batch_id from unnest(v_msgs) u) d
             cross join lateral pgque._open_batch(d.batch_id) o) b on b.batch_id = m.batch_id
    on conflict (ev_owner, ev_id) do update
       set ev_retry_after = excluded.ev_retry_after, ev_retry = excluded.ev_retry,
           ev_lease = excluded.ev_lease;
    perform pgque._note_retries();
    perform pgque.ack(d.batch_id) from (select distinct m.batch_id from unnest(v_msgs) m) d;
    return query select * from unnest(v_msgs);
end
$$;

-- The subscriptions of i_consumer on i_queue and its lanes (the first is the
-- queue's own), after the access check; 42704 if it is not subscribed.
create or replace function pgque._lease_subs(i_queue text, i_consumer text) returns int4[]
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_queue int4 := pgque._queue_id(i_queue);
    v_subs  int4[];
begin
    select array_agg(s.sub_id order by (q.queue_lane_of is not null), q.queue_id) into v_subs
      from pgque.subscriber s
      join pgque.consumer c on c.co_id = s.sub_consumer
      join pgque.queue q on q.queue_id = s.sub_queue
     where c.co_name = i_consumer and (q.queue_id = v_queue or q.queue_lane_of = v_queue);
    if v_subs is null then
        raise exception 'consumer "%" is not subscribed to queue "%"', i_consumer, i_queue
            using errcode = 'undefined_object', schema = 'pgque', table = 'consumer',
                  hint = format('Subscribe it with pgque.subscribe(%L, %L).', i_queue, i_consumer);
    end if;
    perform pgque._check_access(v_queue, 'consume', v_subs[1]);
    return v_subs;
end
$$;

-- Settle one leased message for good. True if the lease was still there;
-- false if it is not (acked or nacked already, or its deadline passed and it
-- was delivered again -- then under a new lease).
create or replace function pgque.ack_message(i_queue text, i_consumer text, i_msg_id bigint, i_lease bigint)
returns boolean
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    -- first, so that a wrong name or no access is an error even with
    -- nothing to delete
    v_subs  int4[] := pgque._lease_subs(i_queue, i_consumer);
begin
    delete from pgque.retry_queue r
     where r.ev_owner = any (v_subs) and r.ev_id = i_msg_id and r.ev_lease = i_lease;
    return found;
end
$$;

-- Give a leased message back: retried after i_retry_after (NULL: the
-- queue's retry policy), or dead-lettered once it has had max_retries
-- retries or would outlive its message_ttl -- as nack() decides. Returns
-- 'retry', 'dead' or 'dropped' (expired_action drop), or NULL if the lease
-- is gone (see ack_message).
create or replace function pgque.nack_message(i_queue text, i_consumer text, i_msg_id bigint, i_lease bigint,
    i_retry_after interval default null, i_reason text default null)
returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_subs      int4[] := pgque._lease_subs(i_queue, i_consumer);
    rq          record;
    v           record;
begin
    if i_retry_after < interval '0' then
        raise exception 'retry_after must be a non-negative interval, got %', i_retry_after
            using errcode = 'invalid_parameter_value',
                  hint = 'Pass NULL to use the queue''s retry policy.';
    end if;
    select r.* into rq from pgque.retry_queue r
     where r.ev_owner = any (v_subs) and r.ev_id = i_msg_id and r.ev_lease = i_lease
       for update;
    if not found then
        return null;
    end if;
    v := pgque._retry_verdict(rq.ev_queue, rq.ev_retry - 1, rq.ev_time, i_retry_after, i_reason);
    if v.outcome = 'retry' then
        update pgque.retry_queue r set ev_retry_after = v.retry_at, ev_lease = null
         where r.ev_owner = rq.ev_owner and r.ev_id = rq.ev_id;
        perform pgque._note_retries();
        return 'retry';
    end if;
    delete from pgque.retry_queue r where r.ev_owner = rq.ev_owner and r.ev_id = rq.ev_id;
    if v.outcome = 'dead' then
        perform pgque._to_dead_letter(rq.ev_queue, s.sub_consumer, v.dead_reason,
                                      rq.ev_id, rq.ev_time, rq.ev_txid, rq.ev_retry - 1, rq.ev_type, rq.ev_data,
                                      rq.ev_extra1, rq.ev_extra2, rq.ev_extra3, rq.ev_extra4)
           from pgque.subscriber s where s.sub_id = rq.ev_owner;
    end if;
    return v.outcome;
end
$$;

-- Move a lease's deadline to now() + i_lease. Returns the new deadline, or
-- NULL if the lease is gone (see ack_message).
create or replace function pgque.extend_lease(i_queue text, i_consumer text, i_msg_id bigint, i_lease bigint,
    i_extend interval)
returns timestamptz
    language plpgsql volatile security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_subs  int4[] := pgque._lease_subs(i_queue, i_consumer);
    v_until timestamptz;
begin
    if i_extend is null or i_extend < interval '1 millisecond' or i_extend > interval '12 hours' then
        raise exception 'a lease must be from 1 millisecond to 12 hours, got %', coalesce(i_extend::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    update pgque.retry_queue r set ev_retry_after = now() + i_extend
     where r.ev_owner = any (v_subs) and r.ev_id = i_msg_id and r.ev_lease = i_lease
    returning r.ev_retry_after into v_until;
    if found then
        perform pgque._note_retries();
    end if;
    return v_until;
end
$$;
