-- Result rows are written from the bytes of the event rows (src/event_row.c):
-- values of every storage shape -- short and 4-byte varlena headers,
-- compressed inline, TOASTed, NULL in any column -- come back as they were
-- sent, through get_batch_events, receive and nack, on first delivery
-- (ev_owner NULL) and as retried copies (ev_owner set).
\set SHOW_CONTEXT never
select pgque.create_queue('q_rows');
select pgque.set_queue_config('q_rows', 'ticker_max_lag', '0');
select pgque.subscribe('q_rows', 'b');
select pgque.subscribe('q_rows', 'r');

create temp table sent (k int, ev_type text, ev_data text, e1 text, e2 text, e3 text, e4 text);
insert into sent values
    (1, 'short', 'x', null, null, null, null),
    (2, 't', '', 'a', null, 'c', null),
    (3, repeat('y', 126), repeat('p', 126), repeat('1', 127), null, null, repeat('4', 300)),
    (4, 'long', repeat('z', 127), null, repeat('2', 1000), null, null),
    (5, 'compressed', repeat('abc', 5000), 'e', 'f', 'g', 'h'),
    (6, 'toasted', (select string_agg(md5(i::text), '') from generate_series(1, 5000) i),
     null, null, null, 'last'),
    (7, 'nulls', null, null, null, null, null),
    -- in pgque.message, created_at comes 4 bytes past an 8-byte boundary
    (8, 'a', 'b', null, null, null, null);
create temp table ids (k int, id bigint, txid xid8, t timestamptz);
insert into ids
select k, pgque.insert_event('q_rows', ev_type, ev_data, e1, e2, e3, e4), pg_current_xact_id(), now()
from sent order by k;
select pgque.ticker('q_rows') is not null as ticked;

-- get_batch_events: the table's columns without ev_owner
create temp table b1 as select * from pgque.get_batch_events(pgque.next_batch('q_rows', 'b'));
select s.k, e.ev_id = i.id as id, e.ev_txid = i.txid::text::bigint as txid, e.ev_time = i.t as time,
       e.ev_retry, (e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4)
           is not distinct from (s.ev_type, s.ev_data, s.e1, s.e2, s.e3, s.e4) as same
from b1 e join ids i on i.id = e.ev_id join sent s using (k) order by e.ev_id;
select pg_column_size(ev_data) < octet_length(ev_data) as stored_compressed from b1 where ev_type = 'compressed';

-- receive: reordered, with the batch id
create temp table r1 as select * from pgque.receive('q_rows', 'r', 100);
select s.k, m.msg_id = i.id as id, m.created_at = i.t as time, m.retry_count,
       (select count(distinct batch_id) from r1) = 1 and m.batch_id is not null as batch_id,
       (m.type, m.payload, m.extra1, m.extra2, m.extra3, m.extra4)
           is not distinct from (s.ev_type, s.ev_data, s.e1, s.e2, s.e3, s.e4) as same
from r1 m join ids i on i.id = m.msg_id join sent s using (k) order by m.msg_id;

-- retried copies (ev_owner set): nack re-reads each row from the batch
select sum(pgque.nack(batch_id, row(m.*)::pgque.message, '0 seconds')) as nacked from r1 m where m.msg_id % 2 = 1;
select pgque.ack((select distinct batch_id from r1));
select pgque.event_retry(b.id, e.ev_id, 0) from (select pgque.next_batch('q_rows', 'b') as id) b, b1 e
where e.ev_id % 2 = 0;
select pgque.finish_batch(pgque.next_batch('q_rows', 'b'));
-- a new event before the retried copies, which keep their (lower) ev_ids:
-- the window's rows are not in ev_id order, get_batch_events sorts them
select pgque.send('q_rows', 'newer') as newer \gset
select pgque.maint_retry_events() as moved;
select pgque.ticker('q_rows') is not null as ticked;
select array_agg(e.ev_id order by n) = array_agg(e.ev_id order by e.ev_id) as in_ev_id_order,
       count(*) as events, max(e.ev_id) = :newer as newer_last
from pgque.get_batch_events(pgque.next_batch('q_rows', 'b')) with ordinality as e(ev_id, ev_time, ev_txid,
    ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4, n);

select s.k, e.ev_id = i.id as id, e.ev_time = i.t as time, e.ev_retry,
       (e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4)
           is not distinct from (s.ev_type, s.ev_data, s.e1, s.e2, s.e3, s.e4) as same
from pgque.get_batch_events(pgque.next_batch('q_rows', 'b')) e join ids i on i.id = e.ev_id
join sent s using (k) order by e.ev_id;
select s.k, m.msg_id = i.id as id, m.created_at = i.t as time, m.retry_count,
       (m.type, m.payload, m.extra1, m.extra2, m.extra3, m.extra4)
           is not distinct from (s.ev_type, s.ev_data, s.e1, s.e2, s.e3, s.e4) as same
from pgque.receive('q_rows', 'r', 100) m join ids i on i.id = m.msg_id join sent s using (k)
order by m.msg_id;
