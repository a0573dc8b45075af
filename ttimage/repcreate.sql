-- The replication scheme the operator sends (ttagent createRepScheme).
whenever sqlerror exit failure;
{{statement}};
