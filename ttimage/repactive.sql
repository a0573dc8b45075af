-- Makes this database the ACTIVE of the pair (ttagent setRepState ACTIVE).
whenever sqlerror exit failure;
call ttRepStateSet('ACTIVE');
