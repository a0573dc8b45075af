"""TimesTen error numbers and texts used by the simulator, and the error
type that carries them from the server to the utilities."""

# Texts follow TimesTen's messages; %s placeholders are filled per use.
MESSAGES = {
    615: "Checkpoint failure: Error code %d: %s",
    778: "Log write failed because file system is full",
    799: "Unable to connect to daemon; check daemon status",
    830: "Cannot create data store file. OS-detected error: %s",
    833: "Data store %s does not exist",
    907: "Unique constraint (%s) violated at Rowid <%s>",
    994: "Data store connection terminated. Please reconnect.",
    1001: "Syntax error in SQL statement before or at: \"%s\", character position: %d",
    2206: "Table %s not found",
    2207: "Table %s already exists",
    2211: "Referenced column %s not found",
    2213: "Duplicate column %s in table definition",
    2222: "Sequence %s already exists",
    2223: "Sequence %s not found",
    2225: "Sequence %s.CURRVAL is not yet defined in this session",
    2226: "Sequence %s exceeded its MAXVALUE or MINVALUE",
    2402: "Column %s cannot be set to NULL",
    2609: "Incompatible types found in expression",
    2610: "Number of values does not match number of columns",
    2778: "Value too large for column %s",
    2963: "Inconsistent datatypes: %s",
    6003: "Lock request denied because of time-out",
    7001: "User authentication failed",
    8025: "Database has been marked as failed by the peer",
    8093: "The local replication agent must be running",
    8099: "TWOSAFE operation not permitted with AutoCommit = 1.",
    8126: "An active standby scheme already exists",
    8141: "Local database not eligible to be set to the ACTIVE state",
    8143: "Duplicate operation not permitted: the source database is %s",
    8144: "Duplicate operation not permitted: %s",
    8170: "Receipt or commit acknowledgment not returned in the specified "
          "timeout interval for XID:%s",
    8191: "This store (%s on %s) is not involved in a replication scheme",
    8197: "Operation not permitted once commit processing has begun",
    5245: "Operation not permitted while the replication agent is running",
    10012: "Replication agent not started due to replication policy",
    12026: "The agent is already running for the database",
    12027: "The agent is already stopped for the database",
    12030: "Database is in use",
    12330: "Invalid disconnection arguments specified",
    12332: "Database already open",
    12333: "Database already closed",
    12701: "DatabaseCharacterSet attribute required for data store creation. "
           "Refer to the TimesTen documentation for information on selecting "
           "a character set.",
    15100: "User %s lacks privilege %s",
    15111: "Invalid privilege: %s. Roles are not supported.",
    15140: "GRANT failed: User %s already has system privilege %s",
    15173: "User %s already exists",
    15174: "User %s does not exist",
    16265: "This database is currently the %s.  Change to %s not permitted.",
    17037: "Receiver state STOP is not allowed in an active standby pair",
    48106: "The peer database has declared this database FAILED",
    # Chosen by the simulator where TimesTen's number is not documented (12332 and
    # 12333 above are unverified too: Oracle says only that both "return an error").
    8006: "The data store %s is closed to new connections (ttAdmin -close)",
    8007: "The database is in use (%s)",
    8008: "The data store is being loaded or unloaded; retry later",
    8009: "The data store %s is not loaded",
    8040: "RAM load is only allowed with RAM policy manual",
    8041: "Data store is already loaded",
    8045: "%s is not supported by the simulator",
}


class TTError(Exception):
    """An error as TimesTen reports it: a number and a text."""

    def __init__(self, code, *args, text=None):
        self.code = code
        if text is None:
            template = MESSAGES.get(code, "%s")
            try:
                text = template % args if args else template
            except TypeError:
                text = template + " " + " ".join(str(a) for a in args)
        self.text = text
        super().__init__("%d: %s" % (code, text))

    def to_wire(self):
        return [self.code, self.text]

    @staticmethod
    def from_wire(pair):
        return TTError(int(pair[0]), text=str(pair[1]))


def isql_format(code, text):
    """ttIsql prints the number right-aligned in five columns."""
    return "%5d: %s" % (code, text)
