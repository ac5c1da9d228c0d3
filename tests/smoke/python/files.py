# Writes, reads and removes a file of its own in the preopened folder /app.
import os

path = "/app/tmp-python-smoke.txt"
with open(path, "w", encoding="utf-8") as handle:
    print("written", handle.write("hello, wasi"))
with open(path, encoding="utf-8") as handle:
    print("read", handle.read())
os.remove(path)
print("removed" if not os.path.exists(path) else "still there")
