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
