-- Where is my message? message_state(queue, msg_id) says, per consumer,
-- what became of one event. Nothing records that per event (that would be
-- a write per message and per consumer); it is derived from what the
-- queue keeps anyway:
--
--   - the event's rows in the event tables (src/message_state.c finds
--     them: the original, and each consumer's retried or replayed copy),
--     with the transaction that wrote each;
--   - the consumer's cursor and open batches (pgque.batch): a row is read
--     past when the cursor's tick sees its transaction, held when an open
--     batch's window (prev, next] holds it and receive handed it out
--     (batch_start_pos / batch_end_pos, positions in reading order);
--   - pgque.retry_queue and pgque.dead_letter for that consumer, which
--     win over the rows: the consumer nacked the event;
--   - the delay buckets for an event not yet in the queue;
--   - the oldest tick kept: an event whose id was drawn before it and
--     that has no row any more may have been rotated away.
--
-- Read-only; what it costs is in docs/sql-reference.md (a sequential read
-- of the queue's event tables, and of the delay buckets when the event is
-- not in the queue).

-- Every row of event ev_id in the queue's event tables, committed or still
-- being written (src/message_state.c), with its position (src/batch.h).
create or replace function pgque._event_rows(queue_id int4, ev_id bigint,
    out ev_txid xid8, out ev_owner int4, out ev_retry int4, out ev_time timestamptz,
    out ev_pos bigint)
returns setof record
    language c volatile strict as 'MODULE_PATHNAME', 'pgque_event_rows';

-- A position (src/batch.h: table << 48 | block << 16 | line pointer) as a
-- number that sorts in reading order: the tables by rank from the current
-- one (src/batch.c, table_rank), then block and line pointer.
create or replace function pgque._pos_key(pos bigint, cur_table int4) returns bigint
    language sql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select (((((pos >> 48)::int4 - cur_table) % 3 + 5) % 3)::bigint << 48)
           | (pos & ((1::bigint << 48) - 1))
$$;

-- Where a row (its transaction, reading key and id) stands relative to a
-- batch row b of its consumer: 'read' (behind the cursor, or acked under
-- an earlier batch id), 'held' (handed out in b, which is open; by
-- next_batch when no end position is recorded), 'unsent' (in b's window
-- but not handed out: after what receive returned, or in the rest of a
-- split batch), 'ahead' (after b).
create or replace function pgque._window_place(b pgque.batch, queue_id int4, cur_table int4,
                                               txid xid8, ev_key bigint, ev_id bigint)
returns text
    language sql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
    select case
             when b.batch_state <> 'o' then case when v.next_sees then 'read' else 'ahead' end
             when v.prev_sees then 'read'
             when not v.next_sees then 'ahead'
             when b.batch_start_pos is not null
                  and ev_key <= pgque._pos_key(b.batch_start_pos, cur_table) then 'read'
             when b.batch_start_ev is not null and ev_id <= b.batch_start_ev then 'read'
             -- the rest of a split batch: the next receive hands it out
             when b.batch_end_pos is null and b.batch_end_ev is null
                  and (b.batch_start_pos is not null or b.batch_start_ev is not null) then 'unsent'
             when b.batch_end_pos is not null and b.batch_end_pos <> 9223372036854775807
                  and ev_key > pgque._pos_key(b.batch_end_pos, cur_table) then 'unsent'
             when b.batch_end_pos is null and b.batch_end_ev is not null
                  and b.batch_end_ev <> 9223372036854775807 and ev_id > b.batch_end_ev then 'unsent'
             else 'held' end
      from (select coalesce((select pg_visible_in_snapshot(txid, t.tick_snapshot) from pgque.tick t
                              where t.tick_queue = queue_id and t.tick_id = b.batch_prev_tick), true)
                       as prev_sees,
                   coalesce((select pg_visible_in_snapshot(txid, t.tick_snapshot) from pgque.tick t
                              where t.tick_queue = queue_id and t.tick_id = b.batch_next_tick), false)
                       as next_sees) v
$$;

create or replace function pgque.message_state(queue text, msg_id bigint,
    out consumer text, out state text, out member text, out batch_id bigint,
    out since timestamptz, out due_at timestamptz, out attempt int4,
    out reason text, out dead_letter_id bigint, out detail text)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_parent    int4 := pgque._queue_id(queue);
    v_queue     int4 := v_parent;
    q           record;
    s           record;
    r           record;
    rq          record;
    dl          record;
    dly         record;
    cur         pgque.batch;
    hb          pgque.batch;
    v_last      bigint;
    v_oldest    bigint;
    v_caller    oid := pgque._caller();
    v_txids     xid8[];
    v_owners    int4[];
    v_retries   int4[];
    v_times     timestamptz[];
    v_keys      bigint[];
    v_status    text[];
    v_delay_at  timestamptz;
    v_delay_ev  timestamptz;
    v_place     text;
begin
    if msg_id is null or msg_id <= 0 then
        raise exception 'invalid message id: %', coalesce(msg_id::text, 'null')
            using errcode = 'invalid_parameter_value', schema = 'pgque', table = 'event',
                  hint = 'Message ids are the positive numbers that send() returns.';
    end if;
    -- An event sent with a priority above 0 lives in the queue's lane for
    -- it (22_lanes.sql), whose subscribers, batches and ticks are then the
    -- ones to read; its id, dead letters and delayed rows are the queue's.
    select l.queue_id into v_queue from pgque.queue l
     where l.queue_lane_of = v_parent
       and (exists (select from pgque.retry_queue rr where rr.ev_queue = l.queue_id and rr.ev_id = msg_id)
            or exists (select from pgque._event_rows(l.queue_id, msg_id)))
     order by l.queue_priority desc limit 1;
    v_queue := coalesce(v_queue, v_parent);
    select qq.queue_cur_table, qq.queue_restricted, qq.queue_paused,
           qq.queue_message_ttl, qq.queue_expired_action
      into q from pgque.queue qq where qq.queue_id = v_queue;
    v_last := coalesce(pgque._event_seq_value(v_parent), 0);
    select t.tick_event_seq into v_oldest from pgque.tick t
     where t.tick_queue = v_queue order by t.tick_id limit 1;

    if msg_id <= v_last then
        -- status null: too old for the commit log to say, so committed
        select array_agg(e.ev_txid order by k.key), array_agg(e.ev_owner order by k.key),
               array_agg(e.ev_retry order by k.key), array_agg(e.ev_time order by k.key),
               array_agg(k.key order by k.key),
               array_agg(coalesce(pg_xact_status(e.ev_txid), 'committed') order by k.key)
          into v_txids, v_owners, v_retries, v_times, v_keys, v_status
          from pgque._event_rows(v_queue, msg_id) e
         cross join lateral (select pgque._pos_key(e.ev_pos, q.queue_cur_table) as key) k
         where pg_xact_status(e.ev_txid) is distinct from 'aborted';
        if not coalesce('committed' = any (select u.st from unnest(v_owners, v_status) u(own, st)
                                            where u.own is null), false) then
            -- not in the queue yet: a delayed event waits in its bucket
            -- until a move takes it (and while the move commits)
            for dly in select b.db_table, b.db_moved_until, b.db_moved_snap from pgque.delay_bucket b
                        where b.db_from is not null order by b.db_from, b.db_table loop
                execute format('select d.ev_deliver_at, d.ev_time from %I.%I d'
                               ' where d.ev_queue = $1 and d.ev_id = $2'
                               '   and (d.ev_deliver_at > coalesce($3, ''-infinity'')'
                               '        or not pg_visible_in_snapshot(d.ev_txid, $4))',
                               'pgque', 'delay_' || dly.db_table)
                   using v_parent, msg_id, dly.db_moved_until, dly.db_moved_snap
                   into v_delay_at, v_delay_ev;
                exit when v_delay_at is not null;
            end loop;
        end if;
    end if;

    for s in select sb.sub_id, sb.sub_role, sb.sub_created, sb.sub_paused, sb.sub_owner,
                    c.co_id, c.co_name
               from pgque.subscriber sb join pgque.consumer c on c.co_id = sb.sub_consumer
              where sb.sub_queue = v_queue
              union all
             -- a queue without consumers still gets an answer
             select null, null, null, false, null, null, null
              where not exists (select from pgque.subscriber sb where sb.sub_queue = v_queue)
              order by 7
    loop
        consumer := s.co_name;
        state := null; member := null; batch_id := null; since := null; due_at := null;
        attempt := null; reason := null; dead_letter_id := null; detail := null;

        if msg_id > v_last then
            state := 'unknown';
            detail := format('Never sent: queue "%s" has handed out ids up to %s.', queue, v_last);
            return next;
            continue;
        end if;

        -- the consumer nacked it: a retry waits, or it gave up
        select rr.ev_retry_after, rr.ev_retry into rq from pgque.retry_queue rr
         where rr.ev_owner = s.sub_id and rr.ev_id = msg_id;
        if found then
            state := 'retry';
            due_at := rq.ev_retry_after;
            attempt := coalesce(rq.ev_retry, 0) + 1;
            detail := format('Nacked; retry %s comes at %s.', rq.ev_retry, rq.ev_retry_after);
            return next;
            continue;
        end if;
        select d.dl_id, d.dl_time, d.dl_reason, d.ev_retry into dl from pgque.dead_letter d
         where d.dl_queue_id = v_parent and d.dl_consumer_id = s.co_id and d.ev_id = msg_id;
        if found then
            state := 'dead';
            since := dl.dl_time;
            attempt := coalesce(dl.ev_retry, 0) + 1;
            dead_letter_id := dl.dl_id;
            -- dlq_inspect's rule: on a restricted queue only for those who
            -- may use the subscription
            if not q.queue_restricted or s.sub_owner is null
               or pg_has_role(v_caller, 'pgque_admin', 'USAGE')
               or pg_has_role(v_caller, s.sub_owner, 'USAGE') then
                reason := dl.dl_reason;
            end if;
            detail := format('Dead-lettered after delivery %s; pgque.dlq_replay(%s) hands it back.',
                             attempt, dl.dl_id);
            return next;
            continue;
        end if;

        if v_delay_at is not null then
            state := 'delayed';
            since := v_delay_ev;
            due_at := v_delay_at;
            attempt := 1;
            detail := format('Sent with a delay; it enters the queue at %s.', v_delay_at);
            return next;
            continue;
        end if;

        -- the row this consumer reads: its newest own copy (a retry or a
        -- replay), else the original
        select u.txid, u.retry, u.time, u.key, u.st into r
          from unnest(v_txids, v_owners, v_retries, v_times, v_keys, v_status)
               as u(txid, own, retry, time, key, st)
         where u.own = s.sub_id or u.own is null
         order by u.own is not null desc, u.key desc
         limit 1;
        if not found then
            if msg_id <= v_oldest then
                state := 'gone';
                detail := 'Not in the event tables, and older than the oldest tick kept: rotated away '
                          'after every consumer read past it, or its send rolled back.';
            else
                state := 'unknown';
                detail := 'No committed event has this id: its send rolled back, or has not committed '
                          'yet (a delayed send is not seen before it commits).';
            end if;
            return next;
            continue;
        end if;
        attempt := coalesce(r.retry, 0) + 1;

        if r.st = 'in progress' then
            state := 'pending';
            detail := case when r.txid = pg_current_xact_id_if_assigned()
                           then 'Sent by this transaction, which has not committed yet.'
                           else format('Sent by transaction %s, which has not committed yet.', r.txid) end;
            return next;
            continue;
        end if;

        hb := null;
        cur := null;
        if s.sub_id is null then
            -- no consumer: what one that subscribes now would read (it
            -- starts at the newest tick)
            cur.batch_state := 'd';
            cur.batch_next_tick := (select t.tick_id from pgque.tick t where t.tick_queue = v_queue
                                     order by t.tick_id desc limit 1);
        else
            -- the open batch of a member of a cooperative consumer that
            -- holds it; else the consumer's own cursor
            for hb in select b.* from pgque.subconsumer sc
                       cross join lateral (select bb.* from pgque.batch bb
                                            where bb.batch_sub = sc.sc_sub and bb.batch_member = sc.sc_name
                                            order by bb.batch_id desc limit 1) b
                      where sc.sc_sub = s.sub_id and b.batch_state = 'o'
                      order by sc.sc_name loop
                v_place := pgque._window_place(hb, v_queue, q.queue_cur_table, r.txid, r.key, msg_id);
                if v_place in ('held', 'unsent') then
                    member := hb.batch_member;
                    exit;
                end if;
            end loop;
            if member is null then
                select b.* into cur from pgque.batch b
                 where b.batch_sub = s.sub_id and b.batch_member = ''
                 order by b.batch_id desc limit 1;
                hb := cur;
            end if;
        end if;
        if member is null then
            v_place := pgque._window_place(cur, v_queue, q.queue_cur_table, r.txid, r.key, msg_id);
        end if;

        if v_place = 'held' then
            state := 'in_batch';
            batch_id := hb.batch_id;
            since := hb.batch_opened;
            detail := case when member is not null
                           then format('Subconsumer "%s" holds it in batch %s, not acknowledged yet.',
                                       member, hb.batch_id)
                           else format('Handed out in batch %s, not acknowledged yet.', hb.batch_id) end;
        elsif v_place = 'unsent' then
            state := 'pending';
            batch_id := hb.batch_id;
            detail := case when hb.batch_end_pos is null and hb.batch_end_ev is null
                           then format('In batch %s%s, the rest of a partial receive: the next receive hands it out.',
                                       hb.batch_id, case when member is not null
                                                         then format(' of subconsumer "%s"', member) else '' end)
                           else format('In the window of batch %s%s, after what receive returned: '
                                       'it comes in a new batch once batch %s is acknowledged.',
                                       hb.batch_id, case when member is not null
                                                         then format(' of subconsumer "%s"', member) else '' end,
                                       hb.batch_id) end;
        elsif v_place = 'ahead' then
            state := 'pending';
            -- since the first tick after the cursor that holds it
            select t.tick_time into since from pgque.tick t
             where t.tick_queue = v_queue
               and t.tick_id > coalesce(case when cur.batch_state = 'o' then cur.batch_prev_tick
                                             else cur.batch_next_tick end, 0)
               and pg_visible_in_snapshot(r.txid, t.tick_snapshot)
             order by t.tick_id limit 1;
            detail := case when s.sub_id is null
                           then 'The queue has no consumers: one that subscribes now will receive it.'
                           when since is null then 'Committed; waiting for the next tick.'
                           when s.sub_role = 'coop_main' then 'Ticked; waiting for a subconsumer to take it.'
                           else 'Ticked; waiting to be received.' end
                      || case when s.sub_paused or q.queue_paused then ' The consumer is paused.' else '' end;
        else
            state := 'done';
            detail := case when s.sub_id is null
                           then 'The queue has no consumers: it was ticked, no one will receive it.'
                           when r.retry is not null then format('Read past after retry %s.', r.retry)
                           else 'The consumer read past it.' end
                      || case when r.time < s.sub_created
                              then ' It was sent before the consumer subscribed: it may never have reached it.'
                              else '' end
                      || case when q.queue_message_ttl is not null and q.queue_expired_action = 'drop'
                               and r.time + q.queue_message_ttl < now()
                              then ' It is older than the queue''s message_ttl: it may have been dropped unread.'
                              else '' end;
        end if;
        return next;
    end loop;
end
$$;
