-- Waits until the peer acknowledged every transaction committed before the
-- call (ttagent quiesce): < 00 >, or < 01 > after {{seconds}} seconds.
whenever sqlerror exit failure;
call ttRepSubscriberWait(NULL, NULL, NULL, NULL, {{seconds}});
