"""resource.Quantity as k8s.io/apimachinery parses and prints it: "500m", "1Gi", "1e3". A value is kept as an
exact Fraction with the format its suffix chose (DecimalSI, BinarySI, DecimalExponent); String() is the
canonical form the API server answers (1024Mi -> 1Gi, 0.5 -> 500m, 1000m -> 1)."""

import math
from fractions import Fraction

FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
SUFFIX_ERROR = "unable to parse quantity's suffix"

DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DEC_SUFFIX = {v: k for k, v in DECIMAL.items()}
_BIN_SUFFIX = {v: k for k, v in BINARY.items()}
_DIGITS = "0123456789"


class QuantityError(ValueError):
    pass


class Quantity:
    __slots__ = ("value", "format")

    def __init__(self, value, fmt):
        self.value = value
        self.format = fmt

    def __str__(self):
        return canonical(self)

    def cmp(self, other):
        return (self.value > other.value) - (self.value < other.value)


def _split(s):
    """parseQuantityString: (positive, num, denom, suffix), raising on a malformed string."""
    pos, end, positive = 0, len(s), True
    if s[:1] == "-":
        positive, pos = False, 1
    elif s[:1] == "+":
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    num, pos = s[pos:i] or "0", i
    denom = ""
    if pos < end and s[pos] == ".":
        i = pos + 1
        while i < end and s[i] in _DIGITS:
            i += 1
        denom, pos = s[pos + 1:i], i
    start = pos
    while pos < end and s[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(FORMAT_ERROR)
    return positive, num, denom, s[start:]


def parse(s):
    """ParseQuantity; a number (as JSON may carry it) is read as its decimal text."""
    if isinstance(s, bool) or not isinstance(s, (str, int, float)):
        raise QuantityError(FORMAT_ERROR)
    if not isinstance(s, str):
        s = repr(s) if isinstance(s, float) else str(s)
    s = s.strip()
    if not s:
        raise QuantityError(FORMAT_ERROR)
    positive, num, denom, suffix = _split(s)
    if suffix in DECIMAL:
        base, fmt = Fraction(10) ** DECIMAL[suffix], "DecimalSI"
    elif suffix in BINARY:
        base, fmt = Fraction(2) ** BINARY[suffix], "BinarySI"
    elif len(suffix) > 1 and suffix[0] in "eE":
        try:
            exp = int(suffix[1:])
        except ValueError:
            raise QuantityError(SUFFIX_ERROR)
        base, fmt = Fraction(10) ** exp, "DecimalExponent"
    else:
        raise QuantityError(SUFFIX_ERROR)
    value = (Fraction(int(num)) + (Fraction(int(denom), 10 ** len(denom)) if denom else 0)) * base
    if not positive:
        value = -value
    # the smallest unit is 1n: finer values are rounded up (away from zero for negatives, as Go's Ceil)
    nanos = value * 10 ** 9
    if nanos.denominator != 1:
        value = Fraction(math.ceil(nanos), 10 ** 9)
    return Quantity(value, fmt)


def _decimal(value):
    """AsCanonicalBytes: an integer mantissa and an exponent that is a multiple of 3."""
    exp = -9
    mant = int(value * 10 ** 9)
    while mant != 0 and mant % 10 == 0:
        mant //= 10
        exp += 1
    r = exp % 3
    if r:
        mant *= 10 ** r
        exp -= r
    return mant, exp


def canonical(q):
    v = q.value
    if v == 0:
        return "0"
    fmt = q.format
    if fmt == "BinarySI" and (-1024 < v < 1024 or v.denominator != 1):
        fmt = "DecimalSI"
    if fmt == "BinarySI":
        mant, exp = int(v), 0
        while mant % 1024 == 0 and exp < 60:
            mant //= 1024
            exp += 10
        return "%d%s" % (mant, _BIN_SUFFIX[exp])
    mant, exp = _decimal(v)
    if fmt == "DecimalExponent":
        return "%d%s" % (mant, "e%d" % exp if exp else "")
    if exp > 18:  # past E the int64 path would fail; such quantities are not met in pod specs
        mant, exp = mant * 10 ** (exp - 18), 18
    return "%d%s" % (mant, _DEC_SUFFIX[exp])


def check_string(s):
    """The decode error a malformed quantity gets, or None."""
    try:
        parse(s)
    except QuantityError as e:
        return str(e)
    return None
