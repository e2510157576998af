-- Access to queues. The roles decide what kind of work a role does
-- (pgque_writer produces, pgque_reader consumes, pgque_admin administers).
-- A queue is open to every such role until pgque.grant_queue() restricts it;
-- then only the roles granted 'produce' / 'consume' on it (and pgque_admin)
-- may use it, and a subscription may be used only by the role that created
-- it (sub_owner) and its members. docs/security.md has the whole model.
--
-- The role checked is the caller's current role as set by SET ROLE (or the
-- session user): pgque's functions run as the extension owner, so the
-- caller's identity comes from C (pgque._caller()).

create or replace function pgque._caller() returns regrole
    language c stable as 'MODULE_PATHNAME', 'pgque_caller';

-- Raise 42501 unless the caller may do privilege ('consume' or 'produce')
-- on the queue and, with sub_id (0 = none), use that subscription; true
-- otherwise. Nothing to check on an open queue. C calls it for restricted
-- queues only (src/access.c).
create or replace function pgque._check_access(queue_id int4, privilege text, sub_id int4 default null)
returns boolean
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_caller    oid := pgque._caller();
    v_queue     text;
    v_owner     regrole;
    v_consumer  text;
    v_id        int4;
begin
    -- a lane (22_lanes.sql) is checked as its queue
    select coalesce(q.queue_lane_of, q.queue_id) into v_id from pgque.queue q
     where q.queue_id = _check_access.queue_id;
    select q.queue_name into v_queue from pgque.queue q
     where q.queue_id = v_id and q.queue_restricted;
    if not found or pg_has_role(v_caller, 'pgque_admin', 'USAGE') then
        return true;
    end if;
    if not exists (select from pgque.queue_grant g
                    where g.qg_queue = v_id
                      and g.qg_privilege = _check_access.privilege
                      and pg_has_role(v_caller, g.qg_role, 'USAGE')) then
        raise exception 'permission denied to % queue "%"', privilege, v_queue
            using errcode = 'insufficient_privilege', schema = 'pgque', table = 'queue',
                  hint = format('An administrator can run pgque.grant_queue(%L, %L, %L).',
                                v_queue, v_caller::regrole, privilege);
    end if;
    if sub_id is not null and sub_id <> 0 then
        select s.sub_owner, c.co_name into v_owner, v_consumer
          from pgque.subscriber s join pgque.consumer c on c.co_id = s.sub_consumer
         where s.sub_id = _check_access.sub_id;
        if v_owner is not null and not pg_has_role(v_caller, v_owner, 'USAGE') then
            raise exception 'permission denied for consumer "%" of queue "%"', v_consumer, v_queue
                using errcode = 'insufficient_privilege', schema = 'pgque', table = 'consumer',
                      detail = format('The subscription belongs to role %s.', v_owner);
        end if;
    end if;
    return true;
end
$$;

-- Grant role the privilege ('consume', 'produce' or 'all') on queue, and
-- restrict the queue if it was open. 1 when something new was granted.
create or replace function pgque.grant_queue(queue text, role text, privilege text) returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4 := pgque._queue_id(queue);
    v_role  regrole := pgque._role(role);
    v_cnt   integer;
begin
    insert into pgque.queue_grant (qg_queue, qg_role, qg_privilege)
    select v_id, v_role, p from unnest(pgque._privileges(privilege)) p
    on conflict do nothing;
    get diagnostics v_cnt = row_count;
    update pgque.queue set queue_restricted = true
     where (queue_id = v_id or queue_lane_of = v_id) and not queue_restricted;
    return least(v_cnt, 1);
end
$$;

-- Revoke privilege ('consume', 'produce', 'all' or NULL = all) of role on
-- queue. The queue stays restricted (set_queue_config(queue, 'restricted',
-- 'false') opens it again). Returns how many grants were removed.
create or replace function pgque.revoke_queue(queue text, role text, privilege text default null)
returns integer
    language plpgsql security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
declare
    v_id    int4 := pgque._queue_id(queue);
    v_role  regrole := pgque._role(role);
    v_cnt   integer;
begin
    delete from pgque.queue_grant g
     where g.qg_queue = v_id and g.qg_role = v_role
       and g.qg_privilege = any (pgque._privileges(coalesce(privilege, 'all')));
    get diagnostics v_cnt = row_count;
    return v_cnt;
end
$$;

create or replace function pgque.get_queue_grants(queue text default null,
    out queue_name text, out restricted boolean, out role regrole, out privilege text)
returns setof record
    language plpgsql stable security definer
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if queue is not null then
        perform pgque._queue_id(queue);
    end if;
    return query
    select q.queue_name, q.queue_restricted, g.qg_role, g.qg_privilege
      from pgque.queue q
      left join pgque.queue_grant g on g.qg_queue = q.queue_id
     where (get_queue_grants.queue is null or q.queue_name = get_queue_grants.queue)
       and q.queue_lane_of is null
       and (q.queue_restricted or g.qg_queue is not null)
     order by q.queue_name, g.qg_role::text, g.qg_privilege;
end
$$;

create or replace function pgque._role(role text) returns regrole
    language plpgsql stable
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    if role is null then
        raise exception 'role must not be null' using errcode = 'invalid_parameter_value';
    end if;
    if not exists (select from pg_catalog.pg_roles r where r.rolname = role) then
        raise exception 'role "%" does not exist', role
            using errcode = 'undefined_object', hint = 'Create it with CREATE ROLE.';
    end if;
    return quote_ident(role)::regrole;
end
$$;

create or replace function pgque._privileges(privilege text) returns text[]
    language plpgsql immutable
    set search_path = pg_catalog, pgque, pg_temp
as $$
begin
    case lower(privilege)
        when 'consume' then return array['consume'];
        when 'produce' then return array['produce'];
        when 'all' then return array['consume', 'produce'];
        else
            raise exception 'invalid queue privilege "%"', privilege
                using errcode = 'invalid_parameter_value',
                      hint = 'Expected consume, produce or all.';
    end case;
end
$$;
