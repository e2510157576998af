-- The shape of the installed pgque extension, one line per fact, sorted:
-- what two databases must agree on when one was installed fresh and the
-- other upgraded from an older version. Queues' own tables and sequences
-- (event_<id>_*) are described by their structure, without their ids. An
-- ACL is compared by what it grants (NULL means the owner's default).
-- Used by test/scripts/upgrade.sh: psql -At -f test/lib/schema_shape.sql
with ext as (
    select e.* from pg_catalog.pg_extension e where e.extname = 'pgque'
), nsp as (
    select n.oid from pg_catalog.pg_namespace n where n.nspname = 'pgque'
), member as (
    select d.classid, d.objid from pg_catalog.pg_depend d, ext
     where d.refclassid = 'pg_catalog.pg_extension'::regclass and d.refobjid = ext.oid
       and d.deptype = 'e'
), rel as (
    select c.oid, c.relkind,
           regexp_replace(c.relname, '^event_[0-9]+_', 'event_N_') as name,
           exists (select from member m where m.classid = 'pg_catalog.pg_class'::regclass
                                         and m.objid = c.oid) as is_member
      from pg_catalog.pg_class c, nsp
     where c.relnamespace = nsp.oid
), facts as (
    select format('extension version=%s schema=%s relocatable=%s config=%s',
                  e.extversion, e.extnamespace::regnamespace, e.extrelocatable,
                  (select string_agg(c::regclass::text, ',' order by c::regclass::text)
                     from unnest(e.extconfig) c))
      from ext e
    union all
    select format('schema pgque member=%s acl=%s',
                  exists (select from member m where m.classid = 'pg_catalog.pg_namespace'::regclass
                                                and m.objid = n.oid),
                  coalesce(n.nspacl, pg_catalog.acldefault('n'::"char", n.nspowner)))
      from pg_catalog.pg_namespace n where n.nspname = 'pgque'
    union all
    select distinct format('relation %s kind=%s member=%s options=%s acl=%s',
                  r.name, r.relkind, r.is_member, c.reloptions,
                  coalesce(c.relacl, pg_catalog.acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner)))
      from rel r join pg_catalog.pg_class c on c.oid = r.oid
     where r.relkind <> 'i'
    union all
    select distinct format('column %s.%s #%s %s notnull=%s default=%s',
                  r.name, a.attname,
                  (select count(*) from pg_catalog.pg_attribute b
                    where b.attrelid = a.attrelid and b.attnum > 0 and b.attnum <= a.attnum
                      and not b.attisdropped),
                  pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  regexp_replace(pg_catalog.pg_get_expr(d.adbin, d.adrelid), 'event_[0-9]+_', 'event_N_', 'g'))
      from rel r
      join pg_catalog.pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
      left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where r.relkind in ('r', 'v', 'c', 'p')
    union all
    select distinct format('index %s', regexp_replace(pg_catalog.pg_get_indexdef(r.oid), 'event_[0-9]+_', 'event_N_', 'g'))
      from rel r where r.relkind = 'i'
    union all
    select distinct format('constraint %s %s %s', r.name,
                  regexp_replace(co.conname, '^event_[0-9]+_', 'event_N_'),
                  pg_catalog.pg_get_constraintdef(co.oid))
      from rel r join pg_catalog.pg_constraint co on co.conrelid = r.oid
    union all
    select format('trigger %s', pg_catalog.pg_get_triggerdef(t.oid))
      from rel r join pg_catalog.pg_trigger t on t.tgrelid = r.oid where not t.tgisinternal
    union all
    select format('view %s %s', r.name, pg_catalog.pg_get_viewdef(r.oid))
      from rel r where r.relkind = 'v'
    union all
    select distinct format('sequence %s type=%s start=%s inc=%s cycle=%s',
                  r.name, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqcycle)
      from rel r join pg_catalog.pg_sequence s on s.seqrelid = r.oid
    union all
    select format('type %s kind=%s member=%s', t.typname, t.typtype,
                  exists (select from member m where m.classid = 'pg_catalog.pg_type'::regclass
                                                and m.objid = t.oid))
      from pg_catalog.pg_type t, nsp
     where t.typnamespace = nsp.oid and t.typtype not in ('b') and t.typrelid = 0
    union all
    select format('function %s(%s) returns %s secdef=%s volatile=%s strict=%s config=%s rows=%s src=%s bin=%s acl=%s member=%s',
                  p.proname, pg_catalog.pg_get_function_arguments(p.oid),
                  pg_catalog.pg_get_function_result(p.oid), p.prosecdef, p.provolatile,
                  p.proisstrict, p.proconfig, p.prorows, md5(p.prosrc), p.probin,
                  coalesce(p.proacl, pg_catalog.acldefault('f'::"char", p.proowner)),
                  exists (select from member m where m.classid = 'pg_catalog.pg_proc'::regclass
                                                and m.objid = p.oid))
      from pg_catalog.pg_proc p, nsp
     where p.pronamespace = nsp.oid
)
select * from facts order by 1;
