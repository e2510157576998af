\echo Use "CREATE EXTENSION pgque" to load this file. \quit
-- pgque install script, built by concatenating extension/[0-9]*.sql in order.
-- Do not edit the generated pgque--<version>.sql; edit the parts.
