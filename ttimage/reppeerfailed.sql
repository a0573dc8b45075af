-- Records the peer as FAILED on the active (ttagent setPeerFailed); the
-- values come quoted.
whenever sqlerror exit failure;
call ttRepStateSave('FAILED', {{peer}}, {{host}});
