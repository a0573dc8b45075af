-- Takes this database out of the ACTIVE role (ttagent setRepState IDLE).
whenever sqlerror exit failure;
call ttRepDeactivate;
