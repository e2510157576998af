-- pgque.metrics(): Prometheus text exposition. Every family has one HELP
-- and one TYPE line before its samples, every sample line follows the
-- format, label values are escaped, and the values count what the queue
-- holds: pending events per consumer, open batches, retries, dead letters.
\set SHOW_CONTEXT never
select pgque.create_queue('q_met');
select pgque.create_queue('q_met "odd\name');
select pgque.set_queue_config('q_met', 'ticker_max_lag', '0');
select pgque.set_queue_config('q_met', 'max_retries', '0');
select pgque.subscribe('q_met', 'a');
select pgque.subscribe('q_met', 'b');
select count(pgque.send('q_met', 'e' || i)) from generate_series(1, 4) i;
select pgque.send('q_met', 'urgent', priority => 3) > 0 as sent_to_lane;
select pgque.ticker('q_met') is not null;
-- a takes the lane's batch and nacks it into the dead letters (max_retries 0),
-- then takes the queue's batch and nacks one into a retry... which with
-- max_retries 0 is a dead letter too: so set it back first
select pgque.nack(batch_id, m, '1 hour', 'bad') from pgque.receive('q_met', 'a') m;
select pgque.ack(batch_id) from pgque.receive('q_met', 'a') limit 1;
select pgque.set_queue_config('q_met', 'max_retries', null);
select count(*) as a_holds from pgque.receive('q_met', 'a');
select pgque.nack(batch_id, m, '1 hour', 'later') from pgque.receive('q_met', 'a') m where payload = 'e2';

create temp table m as
    select line from regexp_split_to_table(pgque.metrics(), E'\n') line where line <> '';

-- the format: comments and samples only; each family described once, before its samples
select count(*) as malformed from m
 where line !~ '^# (HELP|TYPE) pgque_[a-z_]+ .+$'
   and line !~ '^pgque_[a-z_]+(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$';
select count(*) as families, count(distinct f) as distinct_families
  from (select split_part(line, ' ', 3) f from m where line like '# TYPE %') t;
select split_part(line, ' ', 3) as family, split_part(line, ' ', 4) as type
  from m where line like '# TYPE %' order by 1;
select count(*) as samples_without_type from m s
 where s.line not like '#%'
   and not exists (select from m t where t.line like '# TYPE %'
                     and split_part(s.line, '{', 1) like split_part(t.line, ' ', 3) || '%');

-- the values for q_met (ages are left out: they are times)
select line from m
 where line like '%queue="q_met"%'
   and line !~ '^pgque_(last_tick_age|oldest_pending_age|consumer_lag)_seconds'
 order by line;
-- the odd name is escaped
select line from m where line like 'pgque_ticks_total%odd%';

select pgque.drop_queue('q_met', true);
select pgque.drop_queue('q_met "odd\name', true);

-- Every value agrees with the info functions, read in the same transaction
-- (same now()): for a consumer at the newest tick (c_top), one behind it
-- with events pending (c_behind), one behind it with nothing pending
-- (c_idle: only empty ticks since), a queue without consumers, a queue
-- whose rotation is due and held back, and a schedule.
select pgque.create_queue('q_x1'), pgque.create_queue('q_x2'), pgque.create_queue('q_x3');
select pgque.set_queue_config(q, 'ticker_max_lag', '0') from unnest(array['q_x1', 'q_x2', 'q_x3']) q;
select pgque.subscribe('q_x1', 'c_top'), pgque.subscribe('q_x1', 'c_behind'), pgque.subscribe('q_x2', 'c_idle');
-- c_far reads nothing: two ticks with events lie after its cursor
select pgque.subscribe('q_x1', 'c_far');
select count(pgque.send('q_x1', 'x')) from generate_series(1, 3);
select pgque.ticker('q_x1') > 0, pgque.force_tick('q_x2') > 0, pgque.ticker('q_x2') > 0;
select pgque.ack(batch_id) from pgque.receive('q_x1', 'c_top', 100) limit 1;
-- c_behind takes the same batch and sends every event of it to retry
select count(pgque.nack(batch_id, m, '1 hour', 'later')) from pgque.receive('q_x1', 'c_behind', 100) m;
select pgque.ack(current_batch) from pgque.get_consumer_info('q_x1', 'c_behind');
select count(pgque.send('q_x1', 'y')) from generate_series(1, 2);
select pgque.ticker('q_x1') > 0;
select pgque.ack(batch_id) from pgque.receive('q_x1', 'c_top', 100) limit 1;
select count(pgque.send('q_x1', 'z'));   -- sent, not ticked: new_events 1
-- c_idle holds a batch of q_x2's priority lane open: it counts with q_x2
select pgque.send('q_x2', 'urgent', priority => 5) > 0;
select pgque.ticker('q_x2') > 0;
select count(*) as lane_batch from pgque.receive('q_x2', 'c_idle', 100);
-- q_x2's rotation is due, and its last switch is later than c_idle's
-- cursor (as if the switch had come after that tick): c_idle holds it back
update pgque.queue set queue_switch_time = now() - interval '1 day',
                       queue_switch_step2 = pg_current_xact_id()
 where queue_name = 'q_x2';
select pgque.schedule('s_met', 'q_x3', 'every 1 hour');

begin;
create temp table mv as
    select substring(line from '^([a-z_]+)') as family,
           substring(line from 'queue="([^"]*)"') as queue,
           substring(line from 'consumer="([^"]*)"') as consumer,
           -- the label unescaped (it names a consumer in quotes)
           replace(replace(substring(line from 'by="((?:[^"\\]|\\.)*)"'), '\"', '"'), '\\\\', '\\') as by,
           substring(line from 'schedule="([^"]*)"') as schedule,
           split_part(line, ' ', 2) as v
      from regexp_split_to_table(pgque.metrics(), E'\n') line
     where line like 'pgque\_%';
-- per consumer: pending, lag, oldest pending age, paused
select c.consumer_name, c.pending_events,
       (select v from mv where family = 'pgque_pending_events' and consumer = c.consumer_name)::float8
           = c.pending_events as pending_same,
       (select v from mv where family = 'pgque_consumer_lag_seconds' and consumer = c.consumer_name)::float8
           = extract(epoch from c.lag)::float8 as lag_same,
       (select v from mv where family = 'pgque_oldest_pending_age_seconds' and consumer = c.consumer_name)::float8
           = coalesce(extract(epoch from c.pending_age)::float8, 0) as age_same,
       c.pending_age is not null as has_age
  from pgque.get_consumer_info() c where c.queue_name like 'q\_x%' order by 1;
-- per queue: sent, ticks, tick age, new events, rotation
select g.queue_name,
       (select v from mv where family = 'pgque_ticks_total' and queue = g.queue_name)::float8
           = g.last_tick_id as ticks_same,
       (select v from mv where family = 'pgque_last_tick_age_seconds' and queue = g.queue_name)::float8
           = extract(epoch from g.ticker_lag)::float8 as tick_age_same,
       (select v from mv where family = 'pgque_new_events' and queue = g.queue_name) as new_events,
       g.ev_new,
       (select v from mv where family = 'pgque_events_sent_total' and queue = g.queue_name) as sent,
       (select v from mv where family = 'pgque_rotation_blocked' and queue = g.queue_name) as blocked,
       (select by from mv where family = 'pgque_rotation_blocked_by' and queue = g.queue_name) as by,
       g.rotation_blocked_by is not null as blocked_by_named
  from pgque.get_queue_info() g where g.queue_name like 'q\_x%' order by 1;
select family, queue, consumer is null as no_consumer, v from mv
 where (queue = 'q_x3' or schedule is not null) and family not like '%age_seconds' order by 1, 2;
-- what the queues hold, by count (a lane's with its queue)
select m.family, m.queue, m.v,
       case m.family
            when 'pgque_retries_waiting' then (select count(*) from pgque.retry_queue r
                                                join pgque.queue q on q.queue_id = r.ev_queue
                                                left join pgque.queue p on p.queue_id = q.queue_lane_of
                                               where coalesce(p.queue_name, q.queue_name) = m.queue)
            when 'pgque_dead_letters' then (select count(*) from pgque.dead_letter d
                                             join pgque.queue q on q.queue_id = d.dl_queue_id
                                             left join pgque.queue p on p.queue_id = q.queue_lane_of
                                            where coalesce(p.queue_name, q.queue_name) = m.queue)
            else (select count(*) from pgque.batch b
                    join pgque.subscriber s on s.sub_id = b.batch_sub
                    join pgque.queue q on q.queue_id = s.sub_queue
                    left join pgque.queue p on p.queue_id = q.queue_lane_of
                   where coalesce(p.queue_name, q.queue_name) = m.queue and b.batch_state = 'o') end
           as in_tables
  from mv m
 where m.queue in ('q_x1', 'q_x2')
   and m.family in ('pgque_retries_waiting', 'pgque_dead_letters', 'pgque_batches_open')
 order by 1, 2;
commit;
-- The same samples from pgque's SQL statements, which metrics() runs while
-- pgque.batch is not as the extension made it (src/meta_rows.c reads only
-- that one directly): one snapshot, every queue and consumer sample alike.
begin isolation level repeatable read;
-- and with c_behind's tick gone (a tick older than it is there): no lag
delete from pgque.tick t using pgque.get_consumer_info('q_x1', 'c_behind') c, pgque.queue q
 where q.queue_name = 'q_x1' and t.tick_queue = q.queue_id and t.tick_id = c.last_tick;
create temp table direct as
    select line from regexp_split_to_table(pgque.metrics(), E'\n') line where line like '%queue="%';
alter table pgque.batch add column someones int;
create temp table by_sql as
    select line from regexp_split_to_table(pgque.metrics(), E'\n') line where line like '%queue="%';
select count(*) filter (where line like '%queue="q\_x%') as samples_of_q_x,
       (select count(*) from (table direct except all table by_sql) d) as only_direct,
       (select count(*) from (table by_sql except all table direct) d) as only_by_sql
  from direct;
select line from direct where line like 'pgque\_consumer\_lag\_seconds%c\_behind%';
rollback;
select pgque.unschedule('s_met');
select pgque.drop_queue(q, true) from unnest(array['q_x1', 'q_x2', 'q_x3']) q;
