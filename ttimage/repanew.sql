-- Makes this database the ACTIVE of a replication scheme made anew, for a database
-- ttRepStateSet('ACTIVE') refused (TT8141): deactivated, or a recovered ex-standby
-- (ttagent setRepState ACTIVE with a statement). The replication agent is stopped.
whenever sqlerror exit failure;
DROP ACTIVE STANDBY PAIR;
{{statement}};
call ttRepStateSet('ACTIVE');
