-- Schedules: specs and their slots (with fixed times), create / replace /
-- pause / resume / unschedule, and _schedule_run sending exactly the due
-- events, with one catch-up event after downtime. The "now" of a run is
-- passed in; next_run is set by hand where the clock would decide it.
\set SHOW_CONTEXT never
set timezone = 'UTC';

-- slots of cron expressions and intervals
select spec, after, pgque._schedule_next(spec, after) as next
  from (values
    ('* * * * *',               '2024-01-31 23:59:30+00'::timestamptz),
    ('*/15 * * * *',            '2024-01-31 23:50:00+00'),
    ('*/15 * * * *',            '2024-01-31 23:45:00+00'),
    ('5,20-22,40-50/5 * * * *', '2024-05-01 10:20:00+00'),
    ('5,20-22,40-50/5 * * * *', '2024-05-01 10:22:00+00'),
    ('5,20-22,40-50/5 * * * *', '2024-05-01 10:45:00+00'),
    ('0 0 31 * *',              '2024-04-01 00:00:00+00'),
    ('0 0 29 2 *',              '2024-03-01 00:00:00+00'),
    ('0 0 29 2 *',              '2096-03-01 00:00:00+00'),
    ('30 4 1 jan,JUL *',        '2024-01-01 04:30:00+00'),
    ('0 9 * * mon-fri',         '2024-01-05 09:00:00+00'),
    ('0 9 * * 7',               '2024-01-01 00:00:00+00'),
    ('0 9 * * 0',               '2024-01-01 00:00:00+00'),
    ('0 9 * * sun',             '2024-01-01 00:00:00+00'),
    ('0 9 * * 5-7',             '2024-01-06 09:00:00+00'),
    -- both day fields restricted: either matches (the 13th, or a Friday)
    ('0 12 13 * fri',           '2024-01-01 00:00:00+00'),
    ('0 12 13 * fri',           '2024-01-12 12:00:00+00'),
    -- one starts with '*': both must match (a Friday, every other day)
    ('0 12 */2 * fri',          '2024-01-01 00:00:00+00'),
    ('0 0 * * *',               '2023-12-31 23:59:59.999+00'),
    ('@hourly',                 '2024-01-01 00:00:00+00'),
    ('@daily',                  '2024-02-28 00:00:00+00'),
    ('@weekly',                 '2024-01-01 00:00:00+00'),
    ('@monthly',                '2024-01-31 00:00:00+00'),
    ('@yearly',                 '2024-01-01 00:00:00+00'),
    ('every 1 seconds',         '2024-01-01 00:00:00+00'),
    ('every 90 seconds',        '2024-01-01 00:00:00+00'),
    ('EVERY 1 minute',          '2024-01-01 00:00:00.5+00'),
    ('every 2 hours',           '2024-12-31 23:00:00+00'),
    ('every 365 days',          '2024-01-01 00:00:00+00'),
    ('  0  0  1  1  *  ',       '2024-06-01 00:00:00+00')
  ) t(spec, after);

-- local times of a zone; DST: a time in the spring gap fires when the gap
-- ends, once; a time that occurs twice fires at its first occurrence
select spec, after, pgque._schedule_next(spec, after) as next,
       pgque._schedule_next(spec, after) at time zone 'Europe/Berlin' as berlin
  from (values
    ('TZ=Europe/Berlin 0 9 * * *',       '2024-01-15 00:00:00+00'::timestamptz),
    ('TZ=Europe/Berlin 0 9 * * *',       '2024-07-15 00:00:00+00'),
    ('TZ=Europe/Berlin 30 2 * * *',      '2024-03-30 12:00:00+00'),
    ('TZ=Europe/Berlin 30 2 * * *',      '2024-03-31 01:00:00+00'),
    ('TZ=Europe/Berlin */30 * * * *',    '2024-03-31 00:30:00+00'),
    ('TZ=Europe/Berlin */30 * * * *',    '2024-03-31 01:00:00+00'),
    ('TZ=Europe/Berlin 30 2 * * *',      '2024-10-26 12:00:00+00'),
    ('TZ=Europe/Berlin 30 2 * * *',      '2024-10-27 00:30:00+00'),
    ('TZ=Europe/Berlin */30 * * * *',    '2024-10-27 00:30:00+00'),
    ('TZ=Europe/Berlin */30 * * * *',    '2024-10-27 01:15:00+00'),
    ('CRON_TZ=Europe/Berlin 0 0 1 * *',  '2024-02-15 00:00:00+00')
  ) t(spec, after);
select spec, after, pgque._schedule_next(spec, after) as next
  from (values
    ('TZ=America/New_York 0 9 * * mon-fri', '2024-03-08 15:00:00+00'::timestamptz),
    ('TZ=America/New_York 0 2 * * *',       '2024-03-10 00:00:00+00'),
    ('TZ=America/New_York 30 1 * * *',      '2024-11-03 00:00:00+00'),
    ('TZ=Australia/Sydney 0 2 * * *',       '2024-10-05 00:00:00+00'),
    ('TZ=Asia/Kolkata 0 0 * * *',           '2024-01-01 00:00:00+00'),
    ('TZ=UTC 0 0 * * *',                    '2024-01-01 00:00:00+00')
  ) t(spec, after);

-- catch-up: one event for the latest slot that has come, the slots missed
-- before it, the first slot after now
select spec, due, now_, c.*
  from (values
    ('every 10 seconds', '2024-01-01 00:00:00+00'::timestamptz, '2024-01-01 00:00:00+00'::timestamptz),
    ('every 10 seconds', '2024-01-01 00:00:00+00', '2024-01-01 00:00:09.9+00'),
    ('every 10 seconds', '2024-01-01 00:00:00+00', '2024-01-01 00:01:05+00'),
    ('*/15 * * * *',     '2024-01-01 00:00:00+00', '2024-01-01 00:14:59+00'),
    ('*/15 * * * *',     '2024-01-01 00:00:00+00', '2024-01-01 01:00:00+00'),
    ('0 0 29 2 *',       '2024-02-29 00:00:00+00', '2029-01-01 00:00:00+00'),
    ('* * * * *',        '2024-01-01 00:00:00+00', '2025-01-01 00:00:00+00')
  ) t(spec, due, now_), pgque._schedule_catch_up(spec, due, now_) c;

-- bad specs: 22023, what is wrong (detail) and the accepted forms (hint)
\set VERBOSITY default
select pgque._schedule_next('5/10 * * * *', now());
create function spec_error(spec text) returns text language plpgsql as $$
declare
    st text; msg text; det text;
begin
    perform pgque._schedule_next(spec, '2024-01-01 00:00:00+00');
    return 'ok';
exception when others then
    get stacked diagnostics st = returned_sqlstate, msg = message_text, det = pg_exception_detail;
    return st || ' ' || msg || coalesce(': ' || nullif(det, ''), '');
end $$;
select spec_error(spec)
  from unnest(array['', '   ', '* * * *', '* * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *',
                    '* * 32 * *', '* * * 13 *', '* * * * 8', '5-1 * * * *', '*/0 * * * *', '1-5/ * * * *',
                    '5/10 * * * *', 'x * * * *', '* * * foo *', '* * * * funday', '1,,2 * * * *',
                    '-1 * * * *', '@reboot', '@often', 'every', 'every seconds', 'every 0 seconds',
                    'every 5 weeks', 'every 366 days', 'every 99999999999 seconds', 'every -1 seconds',
                    'TZ=Europe/Berlin', 'TZ= 0 0 * * *', 'TZ=Nowhere/City 0 0 * * *',
                    'TZ=Europe/Berlin every 5 seconds', '0 0 30 2 *', '0 0 31 4,6,9,11 *']) spec;
select try($$select pgque._schedule_next('* * * * *', 'infinity')$$);
select pgque._schedule_next(null, now()) is null as strict;

-- create, replace, overloads and defaults
select pgque.create_queue('q_sched');
select pgque.create_queue('q_sched2');
select pgque.set_queue_config('q_sched', 'ticker_max_lag', '0');
select pgque.subscribe('q_sched', 'c');
-- (next runs are compared with the time before the schedules were made:
-- now() of a later statement may already be past a minute's slot)
select clock_timestamp() as t_created \gset
select pgque.schedule('every_minute', 'q_sched', '* * * * *') as created;
select pgque.schedule('tick', 'q_sched', 'every 10 seconds', 'tick', 'payload') as created;
select pgque.schedule('json', 'q_sched', '0 9 * * mon-fri', 'report', '{"kind": "daily"}'::jsonb) as created;
select pgque.schedule('named', 'q_sched', '@hourly', payload => 'only a payload') as created;
select pgque.schedule(name => 'tz', queue => 'q_sched2', spec => 'TZ=Europe/Berlin 0 3 * * *') as created;
select pgque.schedule('tick', 'q_sched', 'every 10 seconds', 'tick', 'payload') as replaced;
select schedule_name, queue_name, spec, type, payload, next_run > :'t_created' as next_run_ahead,
       last_run, last_msg_id, runs, missed, paused, last_error
  from pgque.get_schedule_info();
select schedule_name, spec from pgque.get_schedule_info('tz');
-- cron slots are whole minutes, "every" slots whole seconds from creation
select schedule_name,
       next_run = date_trunc(case when schedule_name = 'tick' then 'second' else 'minute' end, next_run)
           as on_the_grid
  from pgque.get_schedule_info() where schedule_name in ('every_minute', 'tick');

-- replacing with the same spec keeps the next run; another spec moves it
update pgque.schedule set sched_next_run = '2030-01-01 00:00:00+00' where sched_name = 'tick';
select pgque.schedule('tick', 'q_sched', 'every 10 seconds', 'tick', 'new payload') as replaced;
select next_run, payload from pgque.get_schedule_info('tick');
select pgque.schedule('tick', 'q_sched', 'every 20 seconds', 'tick', 'payload') as replaced;
select next_run < '2030-01-01' as moved, spec from pgque.get_schedule_info('tick');
select pgque.unschedule('every_minute') as removed, pgque.unschedule('every_minute') as again;

-- errors name the object and change nothing
select state_digest() as before \gset
select try($$select pgque.schedule('x', 'nope', '* * * * *')$$);
select try($$select pgque.schedule('x', 'q_sched', '* * * *')$$);
select try($$select pgque.schedule('x', 'q_sched', null)$$);
select try($$select pgque.schedule('x', 'q_sched', 'TZ=europe/berlin 0 0 * * *')$$);
select try($$select pgque.schedule('x', 'q_sched', 'TZ=EST5EDT4 0 0 * * *')$$);
select try($$select pgque.schedule('x', 'q_sched', '* * * * *', null, 'p')$$);
select try($$select pgque.schedule(null, 'q_sched', '* * * * *')$$);
select try($$select pgque.schedule('', 'q_sched', '* * * * *')$$);
select try($$select pgque.schedule(repeat('s', 58), 'q_sched', '* * * * *')$$);
select try($$select pgque.pause_schedule('nope')$$);
select try($$select pgque.resume_schedule('nope')$$);
select try($$select * from pgque.get_schedule_info('nope')$$);
select try($$select pgque.unschedule(null)$$);
select try($$select pgque.drop_queue('q_sched2')$$);
select state_digest() = :'before' as unchanged;
select count(*) as schedules from pgque.schedule;

-- _schedule_run sends what is due at its "now", once
update pgque.schedule set sched_next_run = '2030-01-01 00:00:00+00' where sched_name = 'tick';
update pgque.schedule set sched_next_run = '2030-01-01 09:00:00+00' where sched_name = 'json';
update pgque.schedule set sched_next_run = '2030-01-01 01:00:00+00' where sched_name = 'named';
update pgque.schedule set sched_next_run = '2030-01-01 02:00:00+00' where sched_name = 'tz';
select pgque._schedule_run('2029-12-31 23:59:59+00') as sent_early;
select pgque._schedule_run('2030-01-01 00:00:00+00') as sent;
select pgque._schedule_run('2030-01-01 00:00:00+00') as sent_again;
select pgque._schedule_run('2030-01-01 00:00:19.999+00') as sent_before_next;
select pgque._schedule_run('2030-01-01 00:00:20+00') as sent_next;
select schedule_name, next_run, last_run, runs, missed from pgque.get_schedule_info('tick');
-- down for a while: one event for the latest slot, with the missed count
select pgque._schedule_run('2030-01-01 10:00:05+00') as sent_after_downtime;
select schedule_name, next_run, last_run, runs, missed, last_msg_id is not null as has_msg
  from pgque.get_schedule_info();
select pgque.ticker('q_sched') is not null as ticked;
select type, payload, extra1, extra2, extra3, extra4, retry_count,
       msg_id = (select s.sched_last_msg_id from pgque.schedule s where s.sched_name = extra1) as is_last_msg
  from pgque.receive('q_sched', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_sched', 'c') limit 1;
select event_count('q_sched2') as tz_events;

-- a paused schedule sends nothing; it resumes at the first slot after now
-- (slots that came while it was paused are not caught up)
update pgque.schedule set sched_paused = true where sched_name <> 'tick';
select pgque.pause_schedule('tick') as paused, pgque.pause_schedule('tick') as already;
select paused, next_run from pgque.get_schedule_info('tick');
select pgque._schedule_run('2030-01-02 00:00:00+00') as sent_while_paused;
select pgque._schedule_next_due() as next_due_when_all_paused;
update pgque.schedule set sched_next_run = '2020-01-01 00:00:00+00' where sched_name = 'tick';
select clock_timestamp() as t_resume \gset
select pgque.resume_schedule('tick') as resumed, pgque.resume_schedule('tick') as already;
select next_run > :'t_resume' and next_run <= :'t_resume'::timestamptz + interval '20 seconds' as next_run_after_now, runs, missed
  from pgque.get_schedule_info('tick');

-- a queue that takes no events: the send fails, the error is kept, the
-- schedule is due again 10 seconds later and then counts the slots missed
update pgque.schedule set sched_next_run = '2030-02-01 00:00:00+00' where sched_name = 'tick';
update pgque.queue set queue_disable_insert = true where queue_name = 'q_sched';
select pgque._schedule_run('2030-02-01 00:00:00+00') as sent_to_disabled;
select next_run, runs, last_error is not null as has_error from pgque.get_schedule_info('tick');
select pgque._schedule_next_due() as retry_at;
select pgque._schedule_run('2030-02-01 00:00:09+00') as sent_before_retry;
update pgque.queue set queue_disable_insert = false where queue_name = 'q_sched';
select pgque._schedule_run('2030-02-01 00:00:45+00') as sent_on_retry;
select next_run, last_run, runs, missed, last_error from pgque.get_schedule_info('tick');
select pgque.ticker('q_sched') is not null as ticked;
select type, extra1, extra2, extra3, extra4 from pgque.receive('q_sched', 'c') order by msg_id;
select pgque.ack(batch_id) from pgque.receive('q_sched', 'c') limit 1;

-- roles: readers see schedules (a restricted queue's payloads only if
-- they may consume from it), only admins change them, writers do neither
create role sched_reader in role pgque_reader;
create role sched_writer in role pgque_writer;
set role sched_reader;
select schedule_name, payload from pgque.get_schedule_info() order by 1;
select try($$select pgque.schedule('r', 'q_sched', '* * * * *')$$);
select try($$select pgque.pause_schedule('tick')$$);
select try($$select pgque.unschedule('tick')$$);
select try($$select pgque._schedule_run()$$);
set role sched_writer;
select try($$select pgque.schedule('w', 'q_sched', '* * * * *')$$);
select try($$select * from pgque.get_schedule_info()$$);
reset role;
select pgque.grant_queue('q_sched', 'sched_writer', 'produce');
set role sched_reader;
select schedule_name, payload from pgque.get_schedule_info() order by 1;
reset role;
select pgque.grant_queue('q_sched', 'sched_reader', 'consume');
set role sched_reader;
select schedule_name, payload from pgque.get_schedule_info() order by 1;
reset role;

-- drop_queue: refused while schedules send into it, force drops them
select try($$select pgque.drop_queue('q_sched2')$$);
select pgque.drop_queue('q_sched2', force => true);
select schedule_name from pgque.get_schedule_info() order by 1;
select pgque.drop_queue('q_sched', force => true);
select count(*) as schedules_left from pgque.schedule;
drop role sched_reader;
drop role sched_writer;
