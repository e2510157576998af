-- Batch history trimming (pgque._trim_batch_history, extension/70_maint.sql):
-- a closed batch row goes once it closed more than 10 minutes ago and a
-- newer row of its subscriber exists. The worker passes a floor and looks
-- only at the rows from there up to the first batch opened after the
-- cutoff; every HISTORY_FULL_EVERY runs it looks at all rows, as maint()
-- always does. The rows of the newest batch of every subscriber stay.
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

-- nothing is history yet: every row closed just now
select pgque._trim_batch_history(null, true) as returns_no_floor, rows_of('a') as a, rows_of('b') as b;

-- a's first four batches and b's first two opened and closed 20 minutes ago
update pgque.batch b set batch_opened = now() - interval '20 minutes',
                         batch_closed = now() - interval '20 minutes'
  from hist h where h.batch_id = b.batch_id and h.k in (1, 2, 3, 4, 5, 6);
-- the floor: the first batch opened after the cutoff (k = 7, a's fifth)
create temp table floor as
select pgque._trim_batch_history((select batch_id from hist where k = 3), false) as f;
select f = (select batch_id from hist where k = 7) as floor_is_first_recent from floor;
-- only rows from the floor passed in (k = 3) up to the new floor went: k 3..6
select rows_of('a') as a, rows_of('b') as b;
-- rows below the floor wait for a look at all rows (k = 1, 2)
select pgque._trim_batch_history((select f from floor), false) = (select f from floor) as same_floor,
       rows_of('a') as a_unchanged;
select pgque._trim_batch_history((select f from floor), true) = (select f from floor) as all_rows_keeps_floor,
       rows_of('a') as a, rows_of('b') as b;

-- the newest row of a subscriber stays however old it is; the others go
-- through maint()
update pgque.batch b set batch_opened = now() - interval '1 hour',
                         batch_closed = now() - interval '1 hour'
  from hist h where h.batch_id = b.batch_id;
select pgque.maint() >= 0 as maint, rows_of('a') as a_newest, rows_of('b') as b_newest;
-- an open batch is never history, however old: b's open batch stays, the
-- row it made old (k = 9) goes
select pgque.send('q_hist', 'open');
select pgque.ticker('q_hist') is not null as ticked;
insert into hist (sub, batch_id) select 'b', pgque.next_batch('q_hist', 'b');
update pgque.batch set batch_opened = now() - interval '1 hour'
 where batch_id = (select max(batch_id) from hist where sub = 'b');
select pgque._trim_batch_history(0, true) is not null as trimmed, rows_of('b') as b_open_kept;

select batch_state from pgque.batch where batch_id = (select max(batch_id) from hist where sub = 'b');
-- with nothing opened since the cutoff the floor stays where it was
select pgque._trim_batch_history(42, false) as floor_unchanged;

select pgque.drop_queue('q_hist', true);
