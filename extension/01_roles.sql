-- Roles: pgque_reader (consume + observe) and pgque_writer (produce + replay)
-- are siblings; pgque_admin is a member of both and owns the admin functions.
-- Roles are cluster-wide, so they survive DROP EXTENSION and are shared by
-- every database that installs pgque.
do $roles$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'pgque_reader') then
        create role pgque_reader nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'pgque_writer') then
        create role pgque_writer nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'pgque_admin') then
        create role pgque_admin nologin;
    end if;
    if not pg_catalog.pg_has_role('pgque_admin', 'pgque_reader', 'member') then
        grant pgque_reader to pgque_admin;
    end if;
    if not pg_catalog.pg_has_role('pgque_admin', 'pgque_writer', 'member') then
        grant pgque_writer to pgque_admin;
    end if;
end
$roles$;
