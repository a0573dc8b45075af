#!/usr/bin/python3
"""The SQL subset through ttIsql on one simulated pod: types and defaults,
queries (WHERE, LIKE, IN, GROUP BY, ORDER BY, aggregates), transactions,
sequences, privileges of a second user, listings, built-in procedures,
script files and stdin input."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttsimtest import run_test  # noqa: E402

SCRIPT = """\
-- a script as schema.sql would be
create user bob identified by "Secret1";
grant create session to bob;
create table t2 (a tt_integer not null primary key,
                 b varchar2(10) default 'dflt', c binary_double);
insert into t2 (a) values (1);
insert into t2 values (2, 'two', 2.5);
insert into t2 values (3, NULL, -1);
"""


def body(t, w):
    pod = w.pod("sql-0")
    pod.setup_instance()
    pod.run("ttDaemonAdmin", "-start")
    os.makedirs(pod.root + "/ttconfig")
    with open(pod.root + "/ttconfig/schema.sql", "w") as f:
        f.write(SCRIPT)
    rc, out, err = pod.run("ttIsql", "-v1", "-f", "/ttconfig/schema.sql", "sample")
    t.is_((rc, out), (0, ""), "-f runs a script file given as an in-pod path")

    def q(sql):
        return pod.sql(sql)[1]

    t.is_(q("select * from t2 where b like 't%' or b is null order by a"),
          "< 2, two, 2.5 >\n< 3, <NULL>, -1 >\n", "LIKE, IS NULL, ORDER BY; NULL as <NULL>")
    t.is_(q("select a, a * 2 + 1, upper(b), nvl(b, 'none') from t2 where a in (1, 3)"),
          "< 1, 3, DFLT, dflt >\n< 3, 7, <NULL>, none >\n", "expressions, DEFAULT, functions")
    t.is_(q("select b, count(*), sum(a) from t2 group by b order by b"),
          "< dflt, 1, 1 >\n< two, 1, 2 >\n< <NULL>, 1, 3 >\n", "GROUP BY with aggregates")
    rc, out, err = pod.sql("update t2 set c = c + 1 where a between 2 and 3; "
                           "select max(c), min(a), avg(a) from t2", verbosity="2")
    t.like(out, r"^2 rows updated\.$", "UPDATE reports 2 rows updated.")
    t.like(out, r"^< 3\.5, 1, 2 >$", "MAX, MIN, AVG")
    rc, out, err = pod.sql("autocommit 0; delete from t2 where a = 1; "
                           "select count(*) from t2; rollback; select count(*) from t2")
    t.is_(out, "< 2 >\n< 3 >\n", "ROLLBACK undoes a DELETE")
    rc, out, err = pod.sql("insert into t2 select a + 10, b, c from t2; "
                           "select count(*) from t2", verbosity="2")
    t.like(out, r"^3 rows inserted\.\n.*\n< 6 >$", "INSERT ... SELECT")
    t.is_(q("create sequence sq start with 100 increment by 10; "
            "select sq.nextval from dual; select sq.nextval from dual; "
            "select sq.currval from dual"), "< 100 >\n< 110 >\n< 110 >\n",
          "sequences: START WITH, INCREMENT BY, NEXTVAL, CURRVAL")
    rc, out, err = pod.sql("sequences; tables", verbosity="2")
    t.like(out, r"^ ROOT\.SQ\n1 sequence found\.$", "sequences; lists the sequence")
    rc, out, err = pod.sql("desc t2", verbosity="2")
    t.like(out, r"^Table \w+\.T2:\n  Columns:\n   \*A\s+TT_INTEGER NOT NULL\n"
           r"    B\s+VARCHAR2 \(10\)\n", "desc marks the primary key with *")

    rc, out, err = pod.sql("select tblowner from sys.tables where tblname = 'T2'")
    owner = out.strip()[2:-2]
    rc, out, err = pod.run("ttIsql", "-v1", "-connStr", "DSN=sample;UID=bob;PWD=Secret1",
                           "-e", "select count(*) from %s.t2; exit" % owner)
    t.like(out, r"^15100: User BOB lacks privilege SELECT on %s\.T2$" % owner,
           "another user needs a privilege (15100)")
    pod.sql("grant select on t2 to bob")
    rc, out, err = pod.run("ttIsql", "-v1", "-connStr", "DSN=sample;UID=bob;PWD=Secret1",
                           "-e", "select count(*) from %s.t2; insert into %s.t2 values "
                           "(99, 'x', 0); exit" % (owner, owner))
    t.like(out, r"^< 6 >\n15100: User BOB lacks privilege INSERT on %s\.T2$" % owner,
           "GRANT SELECT allows reading, not inserting")
    rc, out, err = pod.run("ttIsql", "-v1", "-connStr", "DSN=sample;UID=nobody;PWD=x",
                           "-e", "exit")
    t.like(out, r"^ 7001: User authentication failed$", "unknown user: 7001")

    t.is_(q("call ttConfiguration('PermSize')"), "< PermSize, 200 >\n", "ttConfiguration")
    t.is_(q("call ttRamPolicyGet"), "< inUse, 0 >\n", "ttRamPolicyGet")
    t.like(q("call ttRepStateSet('ACTIVE')"), r"^ 8191: ", "ttRepStateSet without a scheme: 8191")
    t.like(q("call ttNoSuchThing"), r"^ 8045: ", "unknown procedure: an error, not a crash")
    t.like(q("create view v as select * from t2"), r"^ 8045: .*not supported",
           "unsupported statements say so")

    rc, out, err = pod.run("ttIsql", "sample", stdin="select count(*)\n from t2;\ntables\n")
    t.like(out, r"^Command> select count\(\*\)\n from t2;\n< 6 >\n1 row found\.\n"
           r"Command> tables;\n T2|Command> tables;\n \w+\.T2\n", "commands read from stdin")
    t.is_(rc, 0, "and ttIsql exits 0 at end of input")
    pod.sql("drop table t2; drop user bob")
    t.like(q("select count(*) from t2"), r"^ 2206: Table \w+\.T2 not found$", "DROP TABLE")


run_test(body)
