-- Retries: nack / event_retry / batch_retry schedule a copy of an event for
-- the nacking subscriber only; maint_retry_events() moves every due copy back
-- into the queue, owned by that subscriber, with ev_retry + 1.

-- Schedule one event of an open batch for redelivery at retry_time.
-- 1 when scheduled, 0 when it already was.
create or replace function pgque.event_retry(batch_id bigint, event_id bigint, retry_time timestamptz)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b   record;
    ev  record;
begin
    if retry_time is null then
        raise exception 'retry_time must not be null' using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    select * into ev from pgque._batch_event(batch_id, event_id);
    if not found then
        raise exception 'event % is not in batch %', event_id, batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'event';
    end if;
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    values (retry_time, b.queue_id, ev.ev_id, ev.ev_time, null, b.sub_id,
            coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,
            ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
    on conflict do nothing;
    if found then
        perform pgque._note_retries();
        return 1;
    end if;
    return 0;
end
$$;

create or replace function pgque.event_retry(batch_id bigint, event_id bigint, retry_seconds integer)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if retry_seconds is null or retry_seconds < 0 then
        raise exception 'retry_seconds must be a non-negative number, got %',
                        coalesce(retry_seconds::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    return pgque.event_retry(batch_id, event_id, now() + make_interval(secs => retry_seconds));
end
$$;

-- Schedule every remaining event of an open batch for redelivery.
-- Returns how many were newly scheduled.
create or replace function pgque.batch_retry(batch_id bigint, retry_seconds integer) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b       record;
    v_cnt   integer;
begin
    if retry_seconds is null or retry_seconds < 0 then
        raise exception 'retry_seconds must be a non-negative number, got %',
                        coalesce(retry_seconds::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                   ev_retry, ev_type, ev_data,
                                   ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    select now() + make_interval(secs => retry_seconds), b.queue_id, e.ev_id, e.ev_time, null,
           b.sub_id, coalesce(e.ev_retry, 0) + 1, e.ev_type, e.ev_data,
           e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
      from pgque.get_batch_events(batch_id) e
    on conflict do nothing;
    get diagnostics v_cnt = row_count;
    perform pgque._note_retries();
    return v_cnt;
end
$$;

-- Negative acknowledgement of one message of an open batch: retry it after
-- retry_after, or, once it has been retried max_retries times, move it to
-- the dead-letter table with the reason. Only msg.msg_id is trusted; the
-- event is re-read from the batch. Does not finish the batch.
create or replace function pgque.nack(batch_id bigint, msg pgque.message,
                           retry_after interval default '60 seconds', reason text default null)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    b   record;
    ev  record;
begin
    if msg is null or msg.msg_id is null then
        raise exception 'msg must be a message with a msg_id' using errcode = 'invalid_parameter_value';
    end if;
    if retry_after is null or retry_after < interval '0' then
        raise exception 'retry_after must be a non-negative interval, got %',
                        coalesce(retry_after::text, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    b := pgque._open_batch(batch_id);
    select * into ev from pgque._batch_event(batch_id, msg.msg_id);
    if not found then
        raise exception 'message % is not in batch %', msg.msg_id, batch_id
            using errcode = 'undefined_object', schema = 'pgque', table = 'event';
    end if;

    if coalesce(ev.ev_retry, 0) >= b.max_retries then
        insert into pgque.dead_letter (dl_queue_id, dl_consumer_id, dl_reason,
                                       ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                                       ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        values (b.queue_id, b.consumer_id, coalesce(reason, 'max retries exceeded'),
                ev.ev_id, ev.ev_time, ev.ev_txid, ev.ev_retry, ev.ev_type, ev.ev_data,
                ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
        on conflict do nothing;
    else
        insert into pgque.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                       ev_retry, ev_type, ev_data,
                                       ev_extra1, ev_extra2, ev_extra3, ev_extra4)
        values (now() + retry_after, b.queue_id, ev.ev_id, ev.ev_time, null, b.sub_id,
                coalesce(ev.ev_retry, 0) + 1, ev.ev_type, ev.ev_data,
                ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4)
        on conflict do nothing;
        perform pgque._note_retries();
    end if;
    return 1;
end
$$;

-- Move every due retry back into its queue. Returns how many moved.
-- Concurrent callers do not duplicate: each row is deleted exactly once.
create or replace function pgque.maint_retry_events() returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_cnt integer;
begin
    -- skip locked: rows a caller's open transaction holds (unsubscribe)
    -- wait for the next call
    with due as (
        delete from pgque.retry_queue r
         where (r.ev_owner, r.ev_id) in (
                select d.ev_owner, d.ev_id from pgque.retry_queue d
                 where d.ev_retry_after <= clock_timestamp()
                   for update skip locked)
        returning r.*
    )
    select count(pgque._insert_event_raw(ev_queue, ev_id, ev_time, ev_owner, ev_retry,
                                         ev_type, ev_data,
                                         ev_extra1, ev_extra2, ev_extra3, ev_extra4))
      into v_cnt
      from due;
    return v_cnt;
end
$$;
