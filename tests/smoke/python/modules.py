# Modules CPython bundles (expat, libmpdec) or builds in: one line each.
import array
import datetime
import decimal
import hashlib
import math
import re
import unicodedata
import xml.dom.minidom
import xml.parsers.expat

parser = xml.parsers.expat.ParserCreate()
parser.Parse("<a><b>t</b></a>", True)
print("expat:", xml.dom.minidom.parseString("<a><b>t</b></a>").documentElement.toxml())
decimal.getcontext().prec = 28
print("decimal:", decimal.Decimal(1) / decimal.Decimal(7))
print("math:", math.sqrt(9), math.factorial(5))
moment = datetime.datetime(2026, 12, 1, 10, 30, tzinfo=datetime.timezone.utc)
print("datetime:", moment.isoformat())
print("array:", sum(array.array("i", [1, 2, 3])))
print("hashlib:", hashlib.sha256(b"hello").hexdigest())
print("re:", re.findall(r"[a-z]\d+", "a1 b22 c"))
print("unicodedata:", unicodedata.name("\u00e9"))
