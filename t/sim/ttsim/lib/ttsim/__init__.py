"""ttsim: a simulator of Oracle TimesTen Classic for tests of the operator
and its agent.  The utilities in ../../bin use this package; the shared
server (ttsim.server) plays every simulated pod's TimesTen daemon."""
