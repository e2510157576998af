\echo Use "ALTER EXTENSION pgque UPDATE" to load this file. \quit
-- pgque 0.1.0 -> 0.2.0. This part changes what 0.1.0 created (tables,
-- types, the schema); the build appends every code part of extension/
-- (functions, views, grants), which replace their 0.1.0 versions.
-- test/scripts/upgrade.sh checks that the result equals a fresh install.

-- 0.1.0 was installed into the schema pgque, which PostgreSQL created for
-- it, outside the extension. A fresh 0.2.0 install creates the schema as a
-- member of the extension, whose nominal schema is pg_catalog (see
-- pgque.control). Give an upgraded database the same shape, so that
-- DROP EXTENSION, pg_dump and later upgrades treat both alike. PostgreSQL
-- cannot add the schema that holds an extension to it, hence the catalog
-- update; it runs as the superuser that runs ALTER EXTENSION.
do $schema$
declare
    v_ext oid := (select e.oid from pg_catalog.pg_extension e where e.extname = 'pgque');
begin
    delete from pg_catalog.pg_depend d
     where d.classid = 'pg_catalog.pg_extension'::pg_catalog.regclass and d.objid = v_ext
       and d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
       and d.refobjid = 'pgque'::pg_catalog.regnamespace;
    update pg_catalog.pg_extension set extnamespace = 'pg_catalog'::pg_catalog.regnamespace
     where oid = v_ext;
    insert into pg_catalog.pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
    values ('pg_catalog.pg_namespace'::pg_catalog.regclass, 'pgque'::pg_catalog.regnamespace, 0,
            'pg_catalog.pg_extension'::pg_catalog.regclass, v_ext, 0, 'e');
end
$schema$;
