"""ttIsql: TimesTen's interactive SQL utility (simulated).  Parses the
command line, runs ttIsql commands itself (connect, use, tables, desc,
whenever sqlerror, ...) and sends SQL to the daemon of the connection, then
prints results in ttIsql's format: rows as '< v1, v2 >', summaries such as
'1 row found.', errors as the number in five columns and 'The command failed.'"""

import os
import re
import sys
import time

from . import client
from . import env
from . import odbcini
from . import proto
from .errors import TTError, isql_format
from .sqleval import format_value
from .sqllex import split_statements

USAGE = """\
Usage:
  ttIsql [-f inputFile] [-v verbosity] [-e commands | sql_statement]
         [-interactive] [-N ncharEncoding] [-wait] [-helpfull]
         [DSN | -connStr connection_string]
  ttIsql {-h | -help | -? | -V | -version}
"""
BANNER = ["", "Copyright (c) 1996, 2024, Oracle and/or its affiliates. All rights reserved.",
          "Type ? or \"help\" for help, type \"exit\" to quit ttIsql.", ""]
ISQL_COMMANDS = {"exit", "quit", "bye", "connect", "disconnect", "use", "autocommit",
                 "tables", "alltables", "repschemes", "sequences", "allsequences",
                 "desc", "describe", "dssize", "version", "whenever", "timing", "run",
                 "help", "?", "set", "echo", "spool", "showplan", "host", "monitor",
                 "close", "closeall", "isolation", "optprofile", "prefetchcount",
                 "verbosity", "xla", "retryconnect", "remark", "rem"}


class Exit(Exception):
    def __init__(self, code):
        self.code = code


class Connection:
    def __init__(self, name, link, attrs, uid, echo_attrs):
        self.name = name
        self.link = link
        self.attrs = attrs
        self.uid = uid
        self.echo_attrs = echo_attrs


class Isql:
    def __init__(self, verbosity, wait):
        self.v = verbosity
        self.wait = wait
        self.conns = {}
        self.current = None
        self.failed = False
        self.on_error = None        # None = continue; else (code, action)
        self.timing = False
        self.inst = None
        self.echo = True

    # -- output -------------------------------------------------------------
    def out(self, text, level=2):
        if self.v >= level:
            sys.stdout.write(text + "\n")

    def error(self, e):
        self.failed = True
        errs = getattr(e, "errors", None) or [e]
        for err in errs:
            self.out(isql_format(err.code, err.text), 0)
        self.out("The command failed.", 0)
        if self.on_error is not None:
            code, action = self.on_error
            if self.conns and self.current and action == "COMMIT":
                self.quiet_sql("commit")
            elif self.conns and self.current and action == "ROLLBACK":
                self.quiet_sql("rollback")
            self.out("WHENEVER SQLERROR exiting.", 0)
            raise Exit(code)

    def warn(self, pairs):
        for code, text in pairs:
            self.out("Warning %5d: %s" % (code, text), 1)

    def succeeded(self):
        self.out("The command succeeded.", 4)

    def prompt(self):
        return ("%s: Command> " % self.current) if self.current and \
            self.current != "con1" else "Command> "

    # -- connections --------------------------------------------------------
    def instance(self):
        if self.inst is None:
            self.inst = env.current_instance()
        return self.inst

    def open_link(self, attrs):
        server = attrs.get("TTC_SERVER")
        if server:
            host, _, port = server.partition("/")
            ip = env.resolve(host)
            if ip is None:
                raise TTError(12, text="Unable to connect to data source: cannot resolve %s"
                              % host)
            try:
                return proto.Client.tcp(ip, int(port or env.DEFAULT_SERVER_PORT))
            except (proto.ConnectFailed, ValueError):
                raise TTError(12, text="Cannot connect to TimesTen Server at %s. Verify "
                              "that the TimesTen Server is running" % server)
        inst = self.instance()
        while True:
            link = client.daemon(inst)
            if link is not None:
                return link
            if not self.wait:
                raise TTError(799)
            time.sleep(1)

    def connect(self, connstr, name=None, adding=False, echo=False):
        inst = self.instance()
        attrs = odbcini.resolve_connection(inst, connstr)
        if echo:
            shown = mask_password(connstr if "=" in connstr else "DSN=" + connstr)
            self.out('connect "%s";' % shown)
        link = self.open_link(attrs)
        uid = attrs.get("UID") or env.os_user()
        try:
            link.call({"op": "connect", "attrs": attrs.items(), "pid": os.getpid()})
        except TTError:
            link.close()
            raise
        if adding:
            name = name or "con%d" % (len(self.conns) + 1)
        else:
            old = self.current
            if old is not None:
                self.disconnect(old)
            name = old or "con1"
        conn = Connection(name, link, attrs, uid, odbcini.echo_attrs(attrs, uid))
        self.conns[name] = conn
        self.current = name
        self.out("Connection successful: %s" % conn.echo_attrs)
        self.out("(Default setting AutoCommit=1)")
        return conn

    def disconnect(self, name):
        conn = self.conns.pop(name, None)
        if conn is None:
            return
        try:
            conn.link.call({"op": "disconnect"})
        except (TTError, proto.ConnectFailed, OSError):
            pass
        conn.link.close()
        if self.current == name:
            self.current = next(iter(self.conns), None)

    def conn(self):
        c = self.conns.get(self.current)
        if c is None:
            raise TTError(8045, text="Not connected to a data source. Use the connect "
                          "command first")
        return c

    def call(self, msg):
        c = self.conn()
        try:
            return c.link.call(msg)
        except (proto.ConnectFailed, OSError):
            self.conns.pop(c.name, None)
            self.current = next(iter(self.conns), None)
            raise TTError(994)

    def quiet_sql(self, sql):
        try:
            self.call({"op": "exec", "sql": sql})
        except TTError:
            pass

    # -- SQL ----------------------------------------------------------------
    def run_sql(self, sql):
        start = time.monotonic()
        reply = self.call({"op": "exec", "sql": sql})
        result = reply.get("result", {})
        if "rows" in result:
            for row in result["rows"]:
                self.out("< %s >" % ", ".join(format_value(v) for v in row), 1)
            n = len(result["rows"])
            if result.get("cols") is not None and not (
                    n == 0 and sql.lstrip()[:4].lower() == "call"):
                self.out("%d row%s found." % (n, "" if n == 1 else "s"))
        elif "count" in result:
            n = result["count"]
            self.out("%d row%s %s." % (n, "" if n == 1 else "s", result["verb"]))
        self.warn(reply.get("warnings", []))
        if self.timing:
            self.out("Execution time (SQLExecute) = %.6f seconds." % (time.monotonic() - start))
        self.succeeded()

    # -- ttIsql commands ------------------------------------------------------
    def command(self, text):
        """Run one command (without its ';').  Raises Exit to stop."""
        text = text.strip()
        if not text:
            return
        word = text.split(None, 1)[0].lower()
        rest = text[len(word):].strip()
        if word.startswith("@"):
            word, rest = "run", text[1:].strip()
        if self.echo:
            self.out(self.prompt() + text + ("" if word in ("exit", "quit", "bye") else ";"))
        try:
            if word in ISQL_COMMANDS:
                self.isql_command(word, rest)
            else:
                self.run_sql(text)
        except TTError as e:
            self.error(e)

    def isql_command(self, word, rest):
        if word in ("exit", "quit", "bye"):
            raise Exit(None)
        if word == "connect":
            self.cmd_connect(rest)
        elif word == "disconnect":
            target = rest.strip('"').strip() or self.current
            if target.lower() == "all":
                for n in list(self.conns):
                    self.disconnect(n)
            else:
                self.disconnect(target)
            self.out("Disconnecting...")
        elif word == "use":
            if rest not in self.conns:
                raise TTError(8045, text="Connection %s not found" % rest)
            self.current = rest
        elif word == "autocommit":
            on = rest.lower() in ("1", "on")
            if rest.lower() not in ("0", "1", "on", "off"):
                raise TTError(1001, rest, 1)
            self.call({"op": "autocommit", "on": on})
        elif word in ("tables", "alltables"):
            lines = self.call({"op": "meta", "what": "tables"})["lines"]
            for name in lines:
                self.out(" " + name, 1)
            self.out("%d table%s found." % (len(lines), "" if len(lines) == 1 else "s"))
        elif word in ("sequences", "allsequences"):
            lines = self.call({"op": "meta", "what": "sequences"})["lines"]
            for name in lines:
                self.out(" " + name, 1)
            self.out("%d sequence%s found." % (len(lines), "" if len(lines) == 1 else "s"))
        elif word == "repschemes":
            reply = self.call({"op": "meta", "what": "repschemes"})
            for line in reply["lines"]:
                self.out(line, 1)
            n = reply["count"]
            self.out("%d replication scheme%s found." % (n, "" if n == 1 else "s"))
        elif word in ("desc", "describe"):
            name = rest.strip().strip('"')
            owner, _, tname = name.rpartition(".")
            reply = self.call({"op": "meta", "what": "desc", "owner": owner.upper() or None,
                               "name": tname.upper()})
            for line in reply["lines"]:
                self.out(line, 1)
            self.out("")
            self.out("1 table found.")
            self.out("(primary key columns are indicated with *)")
        elif word == "dssize":
            unit = {"k": 1, "m": 1024, "g": 1024 * 1024}.get(rest.lower()[:1], 1)
            for label, kb in self.call({"op": "meta", "what": "dssize"})["sizes"]:
                self.out("  %-26s%s" % (label + ":", kb // unit if unit > 1 else kb), 1)
        elif word == "version":
            self.out("TimesTen Release %s" % env.release_from_image(), 1)
        elif word == "whenever":
            self.cmd_whenever(rest)
        elif word == "timing":
            self.timing = rest.strip() in ("1", "on", "ON")
        elif word == "run":
            self.run_file(rest.strip().strip('"'))
        elif word in ("help", "?"):
            self.out("ttIsql (simulated) commands: connect, disconnect, use, autocommit, "
                     "tables, sequences, repschemes, desc, dssize, version, whenever "
                     "sqlerror, timing, run, exit; and SQL statements.", 1)
        elif word in ("set", "echo", "spool", "showplan", "isolation", "optprofile",
                      "prefetchcount", "remark", "rem", "retryconnect"):
            pass
        elif word == "verbosity":
            self.v = int(rest or 2)
        else:
            raise TTError(8045, "The ttIsql command %s" % word)
        self.succeeded()

    def cmd_connect(self, rest):
        m = re.match(r'(?is)^(adding\s+)?(?:"([^"]*)"|(\S+))(?:\s+as\s+(\w+))?\s*$', rest)
        if not m:
            if not rest:
                raise TTError(1001, "connect", 1)
            raise TTError(1001, rest, 1)
        adding = bool(m.group(1))
        connstr = m.group(2) if m.group(2) is not None else m.group(3)
        name = m.group(4)
        if adding:
            if self.current is None:
                raise TTError(8045, text="connect adding requires an existing connection")
            base = self.conns[self.current].attrs
            extra = odbcini.parse_conn_str(connstr) if "=" in connstr else [("DSN", connstr)]
            merged = odbcini.ConnAttrs(extra)
            if merged.get("DSN") is None:
                merged.set("DSN", base.get("DSN", ""))
                for k, v in base.items():
                    if k.lower() not in ("uid", "pwd"):
                        merged.setdefault(k, v)
            connstr = ";".join("%s=%s" % kv for kv in merged.items())
            if name in self.conns:
                raise TTError(8045, text="Connection name %s is already in use" % name)
        self.connect(connstr, name=name, adding=adding)

    def cmd_whenever(self, rest):
        words = rest.upper().split()
        if not words or words[0] != "SQLERROR" or len(words) < 2:
            raise TTError(1001, rest, 1)
        if words[1] == "CONTINUE":
            self.on_error = None
            return
        if words[1] != "EXIT":
            raise TTError(1001, words[1], 1)
        code, action = 1, None
        for w in words[2:]:
            if w == "SUCCESS":
                code = 0
            elif w == "FAILURE":
                code = 1
            elif w == "WARNING":
                code = 2
            elif w in ("COMMIT", "ROLLBACK"):
                action = w
            elif w.isdigit():
                code = int(w)
            else:
                raise TTError(1001, w, 1)
        self.on_error = (code, action)

    def run_file(self, path):
        try:
            with open(env.host_path(path)) as f:
                text = f.read()
        except OSError as e:
            raise TTError(8045, text="Cannot open file %s: %s" % (path, e.strerror))
        self.run_script(text)

    def run_script(self, text):
        for cmd in script_commands(text):
            self.command(cmd)

    def interactive(self):
        self.echo = False
        while True:
            try:
                buf = input(self.prompt())
            except EOFError:
                raise Exit(None)
            word = buf.strip().split(None, 1)[0].lower() if buf.strip() else ""
            while word not in ISQL_COMMANDS and ";" not in buf and buf.strip():
                try:
                    buf += "\n" + input("> ")
                except EOFError:
                    break
            for cmd in split_statements(buf):
                self.command(cmd)

    def finish(self):
        if self.conns:
            self.out("Disconnecting...")
            for n in list(self.conns):
                self.disconnect(n)
        self.out("Done.")


def script_commands(text):
    """Commands of a script: SQL ends at ';'; a line starting with a ttIsql
    command word without ';' (exit, quit) stands alone."""
    cmds = []
    buf = []
    for line in text.splitlines():
        stripped = line.strip()
        if not buf and stripped:
            word = stripped.split(None, 1)[0].lower().rstrip(";")
            if word in ("exit", "quit", "bye") or (word in ISQL_COMMANDS and ";" not in stripped
                                                    and word not in ("set",)):
                cmds.append(stripped.rstrip(";"))
                continue
        buf.append(line)
        if ";" in line:
            joined = "\n".join(buf)
            parts = split_statements(joined)
            if joined.rstrip().endswith(";") or not _unterminated(joined):
                cmds += parts
                buf = []
    rest = "\n".join(buf).strip()
    if rest:
        cmds += split_statements(rest)
    return cmds


def _unterminated(text):
    return text.count("'") % 2 == 1


def mask_password(connstr):
    return re.sub(r"(?i)(pwd|password|pwdcrypt)=[^;]*", lambda m: m.group(1) + "=********",
                  connstr)


def parse_args(argv):
    opts = {"v": 2, "wait": False, "e": None, "f": None, "target": None,
            "interactive": False, "sql": None}
    i = 0
    positional = []
    while i < len(argv):
        a = argv[i]
        if len(a) == 3 and a.startswith("-v") and a[2].isdigit():
            argv = argv[:i] + ["-v", a[2]] + argv[i + 1:]
            a = "-v"
        if a in ("-f", "-v", "-e", "-connStr", "-N"):
            if i + 1 >= len(argv):
                raise client.UsageError("%s requires a value\n%s" % (a, USAGE))
            val = argv[i + 1]
            if a == "-v":
                if val not in ("0", "1", "2", "3", "4"):
                    raise client.UsageError("-v takes 0 to 4\n" + USAGE)
                opts["v"] = int(val)
            elif a == "-connStr":
                opts["target"] = val
            elif a != "-N":
                opts[a[1]] = val
            i += 2
        elif a == "-wait":
            opts["wait"] = True
            i += 1
        elif a == "-interactive":
            opts["interactive"] = True
            i += 1
        elif a == "-helpfull":
            sys.stdout.write(USAGE)
            raise Exit(0)
        elif a.startswith("-") and len(a) > 1:
            raise client.UsageError("unknown option %s\n%s" % (a, USAGE))
        else:
            positional.append(a)
            i += 1
    if positional:
        if opts["target"] is None:
            opts["target"] = positional[-1]
            positional = positional[:-1]
        if positional:
            opts["sql"] = " ".join(positional)
    return opts


def main(argv):
    client.common_flags(argv, "ttIsql", USAGE)
    try:
        opts = parse_args(argv)
    except Exit as e:
        return e.code
    isql = Isql(opts["v"], opts["wait"])
    isql.instance()
    for line in BANNER:
        isql.out(line)
    code = 0
    try:
        if opts["target"]:
            try:
                isql.connect(opts["target"], echo=True)
            except TTError as e:
                _print_error(isql, e)
                isql.out("Done.")
                return 1
        if opts["e"] is not None:
            for cmd in split_statements(opts["e"]):
                isql.command(cmd)
        if opts["sql"] is not None:
            isql.command(opts["sql"])
        if opts["f"] is not None:
            isql.run_file(opts["f"])
        if opts["e"] is None and opts["sql"] is None and opts["f"] is None or \
                opts["interactive"]:
            if sys.stdin.isatty():
                isql.interactive()
            else:
                isql.run_script(sys.stdin.read())
        raise Exit(None)
    except Exit as e:
        code = e.code if e.code is not None else (1 if isql.failed else 0)
    isql.finish()
    return code


def _print_error(isql, e):
    for err in getattr(e, "errors", None) or [e]:
        isql.out(isql_format(err.code, err.text), 0)
    isql.out("The command failed.", 0)
