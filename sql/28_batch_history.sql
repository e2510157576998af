-- Batch history trimming (pgque._trim_batch_history, extension/70_maint.sql):
-- a closed batch row goes once it closed more than 10 minutes ago and a
-- newer row of its subscriber exists. A sweep in batch_id order, a chunk at
-- a time, stopping at the first batch opened after the cutoff; the worker
-- goes on from where it stopped, and now and then (maint() every time)
-- sweeps from the start. The newest row of every subscriber stays.
\set SHOW_CONTEXT never
select pgque.create_queue('q_hist');
select pgque.set_queue_config('q_hist', 'ticker_max_lag', '0');
select pgque.subscribe('q_hist', 'a');
select pgque.subscribe('q_hist', 'b');

-- six batches for a, three for b, each received and acked
create temp table hist (k serial, sub text, batch_id bigint);
do $$
begin
    for i in 1..6 loop
        perform pgque.send('q_hist', 'e' || i);
        perform pgque.ticker('q_hist');
        insert into hist (sub, batch_id) select 'a', pgque.next_batch('q_hist', 'a');
        perform pgque.finish_batch((select batch_id from hist order by k desc limit 1));
        if i % 2 = 0 then
            insert into hist (sub, batch_id) select 'b', pgque.next_batch('q_hist', 'b');
            perform pgque.finish_batch((select batch_id from hist order by k desc limit 1));
        end if;
    end loop;
end $$;
select sub, count(*) as batches from hist group by sub order by sub;
create function rows_of(s text) returns bigint[] language sql as $$
    select coalesce(array_agg(k order by k), '{}') from hist h
      join pgque.batch b using (batch_id) where h.sub = s
$$;

-- k = the order the batches were made in; id(k) its batch id
create function id(k int) returns bigint language sql as $$ select batch_id from hist h where h.k = $1 $$;

-- nothing is history yet: the sweep stops at the first row, all recent
select next_id = (select min(batch_id) from pgque.batch) as stops_at_first, done,
       rows_of('a') as a, rows_of('b') as b
  from pgque._trim_batch_history(0, 100);

-- every batch row up to k = 6 (a's first four, b's first two, and the rows
-- subscribe wrote -- and any of earlier tests) was opened and closed 20
-- minutes ago: batch ids grow with time
update pgque.batch set batch_opened = now() - interval '20 minutes',
                       batch_closed = case when batch_closed is not null then now() - interval '20 minutes' end
 where batch_id <= id(6);
-- a chunk of two rows from k = 3: both go; the next chunk starts after k = 4
select next_id > id(4) and next_id <= id(5) as next_after_4, done, rows_of('a') as a, rows_of('b') as b
  from pgque._trim_batch_history(id(3), 2);
-- the next chunk stops at k = 7, the first recent row, and trims 5 and 6
select next_id = id(7) as stops_at_7, done, rows_of('a') as a, rows_of('b') as b
  from pgque._trim_batch_history(id(5), 100);
-- rows before where the sweep began (k = 1, 2) wait for a sweep from the start
select next_id = id(7) as stops_at_7, done, rows_of('a') as a, rows_of('b') as b
  from pgque._trim_batch_history(0, 1000000);
-- past the last row: nothing to look at, the same place next time
select next_id = id(9) + 1000 as stays, done from pgque._trim_batch_history(id(9) + 1000, 100);

-- the newest row of a subscriber stays however old it is; maint() sweeps
-- all the rest
update pgque.batch set batch_opened = now() - interval '1 hour',
                       batch_closed = case when batch_closed is not null then now() - interval '1 hour' end;
select pgque.maint() >= 0 as maint, rows_of('a') as a_newest, rows_of('b') as b_newest;
-- an open batch is never history, however old: b's open batch stays, the
-- row it made old (k = 9) goes
select pgque.send('q_hist', 'open');
select pgque.ticker('q_hist') is not null as ticked;
insert into hist (sub, batch_id) select 'b', pgque.next_batch('q_hist', 'b');
update pgque.batch set batch_opened = now() - interval '1 hour'
 where batch_id = (select max(batch_id) from hist where sub = 'b');
select done, rows_of('b') as b_open_kept from pgque._trim_batch_history(0, 1000000);
select batch_state from pgque.batch where batch_id = (select max(batch_id) from hist where sub = 'b');
select try($$select pgque._trim_batch_history(null, 100)$$);
select try($$select pgque._trim_batch_history(0, 0)$$);

select pgque.drop_queue('q_hist', true);
