-- Runs /ttconfig/schema.sql or epilog.sql as the instance administrator,
-- stopping at the first error (ttagent runSchema, runEpilog).
whenever sqlerror exit failure;
{{script}}
