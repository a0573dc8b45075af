-- The agent probe of a loaded database (ttagent GET /v1/state): the
-- replication state, the schemes, and how the peer is doing.
call ttRepStateGet;
repschemes;
call ttReplicationStatus;
