"""Real-program check for zpoline-go (tests/programs_test.go, DESIGN.md §5).

CPython under the loader: 8 threads making system calls, subprocess (CPython's
_posixsubprocess uses vfork: DESIGN.md §3 "vfork, CLONE_VM with stack 0"), subprocesses
started from several threads at once, a pipe between two children, os.fork, and file I/O.
Prints only deterministic lines; the test compares them with a native run.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import threading


def work(i, out):
    h = hashlib.sha256()
    for j in range(3000):
        h.update(f"{i}:{j}".encode())
        if j % 50 == 0:
            os.stat("/")
            os.getpid()
    out[i] = h.hexdigest()[:16]


out = [None] * 8
threads = [threading.Thread(target=work, args=(i, out)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for i, d in enumerate(out):
    print(f"thread {i} {d}")

r = subprocess.run(["/bin/echo", "hello from echo"], capture_output=True, text=True, check=True)
print(r.stdout.strip())
r = subprocess.run([sys.executable, "-c", "print(sum(range(100000)))"],
                   capture_output=True, text=True, check=True)
print("child python", r.stdout.strip())

squares = [None] * 6


def spawn(i):
    squares[i] = subprocess.run(["/bin/sh", "-c", f"echo $(({i} * {i}))"],
                                capture_output=True, text=True, check=True).stdout.strip()


spawners = [threading.Thread(target=spawn, args=(i,)) for i in range(6)]
for t in spawners:
    t.start()
for t in spawners:
    t.join()
print("squares", " ".join(squares))

p1 = subprocess.Popen(["seq", "1", "1000"], stdout=subprocess.PIPE)
p2 = subprocess.Popen(["wc", "-l"], stdin=p1.stdout, stdout=subprocess.PIPE, text=True)
p1.stdout.close()
print("lines", p2.communicate()[0].strip(), "seq exit", p1.wait())

pid = os.fork()
if pid == 0:
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("fork child exit", os.waitstatus_to_exitcode(status))

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "f.bin")
    data = bytes(range(256)) * 1024
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    with open(path, "rb") as f:
        print("file roundtrip", f.read() == data, os.path.getsize(path))
