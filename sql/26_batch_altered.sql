-- receive/ack write pgque.batch directly (src/meta_rows.c) only while the
-- table is as the extension made it; a trigger, an extra column or a check
-- constraint someone added sends them back to SQL statements, where all of
-- it applies. Each change is undone, and the direct path is used again.
\set SHOW_CONTEXT never
select pgque.create_queue('q_alt');
select pgque.set_queue_config('q_alt', 'ticker_max_lag', '0');
select pgque.subscribe('q_alt', 'a');

select pgque.send('q_alt', 'plain') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);

-- a trigger on pgque.batch fires for the rows receive and ack write
create table alt_log (op text, state "char");
create function alt_log_row() returns trigger language plpgsql as $$
begin
    insert into public.alt_log values (tg_op, new.batch_state);
    return new;
end $$;
create trigger batch_log after insert or update on pgque.batch
    for each row execute function alt_log_row();
select pgque.send('q_alt', 'with trigger') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);
select op, state, count(*) from alt_log group by 1, 2 order by 1, 2;
drop trigger batch_log on pgque.batch;
truncate alt_log;
select pgque.send('q_alt', 'trigger dropped') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);
select count(*) as logged_after_drop from alt_log;

-- an extra column; once dropped, the table keeps a dropped column, which
-- the direct path leaves null
alter table pgque.batch add column batch_note text default 'noted';
select pgque.send('q_alt', 'extra column') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);
alter table pgque.batch drop column batch_note;
select pgque.send('q_alt', 'column dropped') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);

-- a check constraint someone added holds for the rows receive and ack write
alter table pgque.batch add constraint batch_no_redelivery
    check (batch_state <> 'r') not valid;
select pgque.send('q_alt', 'checked');
select pgque.ticker('q_alt') is not null as ticked;
select count(*) as first_look from pgque.receive('q_alt', 'a', 10);
-- received again without an ack: the old batch would close as 'r'
select try('select count(*) from pgque.receive(''q_alt'', ''a'', 10)');
alter table pgque.batch drop constraint batch_no_redelivery;
select count(*) as after_drop from pgque.receive('q_alt', 'a', 10);
select pgque.ack(b.batch_id)
  from pgque.batch b join pgque.subscriber s on s.sub_id = b.batch_sub
  join pgque.queue q on q.queue_id = s.sub_queue
 where q.queue_name = 'q_alt' and b.batch_state = 'o';
select pgque.send('q_alt', 'check dropped') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);

-- an index on an expression: SQL as well
create index batch_expr_idx on pgque.batch ((batch_id + 0));
select pgque.send('q_alt', 'expression index') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);
drop index pgque.batch_expr_idx;
select pgque.send('q_alt', 'index dropped') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);

-- the index for a subscriber's newest row in descending batch_id order:
-- a backward scan of it would find the oldest row; SQL sorts it right
drop index pgque.batch_sub_idx;
create index batch_sub_idx on pgque.batch (batch_sub, batch_member, batch_id desc);
-- (a new backend: no batch id remembered from before)
\c -
\set SHOW_CONTEXT never
select pgque.send('q_alt', 'descending index') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);
select count(*) as nothing_again from pgque.receive('q_alt', 'a', 10);
drop index pgque.batch_sub_idx;
create index batch_sub_idx on pgque.batch (batch_sub, batch_member, batch_id);
select pgque.send('q_alt', 'ascending again') > 0 as sent;
select pgque.ticker('q_alt') is not null as ticked;
select string_agg(payload, ',' order by msg_id) as got, pgque.ack(min(batch_id)) as acked
  from pgque.receive('q_alt', 'a', 10);

drop function alt_log_row() cascade;
drop table alt_log;
select pgque.drop_queue('q_alt', true);
