"""Threads and subprocesses under a Go hook library (tests/gohook_test.go).

The hook (examples/go-hooklib) answers getppid with 515151 in its own Go runtime. Every
line printed names what a group of threads or processes saw; the test compares the whole
output with the expected text, so a wrong value, a lost line or a hang fails it.
"""
import os
import subprocess
import sys
import threading

HOOKED = 515151


def seen_by(n_threads, calls):
    """n_threads threads at once, each making `calls` getppid calls: the set of values."""
    seen = [None] * n_threads
    barrier = threading.Barrier(n_threads)

    def work(i):
        barrier.wait()
        values = set()
        for _ in range(calls):
            values.add(os.getppid())
        seen[i] = values

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


print("main", os.getppid())

# Threads running together.
seen = seen_by(16, 2000)
print("concurrent threads", len(seen), "all hooked", all(s == {HOOKED} for s in seen))

# Many short-lived threads, one after another and in small groups: each one enters the
# hook's runtime and ends; the runtime must give its per-thread state back every time.
short = []
for _ in range(50):
    for s in seen_by(4, 5):
        short.append(s)
print("short-lived threads", len(short), "all hooked", all(s == {HOOKED} for s in short))

# Subprocesses started from several threads at once (vfork children, then exec: each child
# is hooked on its own); the child reports what it saw.
results = [None] * 6


def spawn(i):
    r = subprocess.run([sys.executable, "-c", "import os; print(os.getppid())"],
                       capture_output=True, text=True, check=True)
    results[i] = (os.getppid(), r.stdout.strip())


spawners = [threading.Thread(target=spawn, args=(i,)) for i in range(6)]
for t in spawners:
    t.start()
for t in spawners:
    t.join()
print("spawning threads", sorted(set(r[0] for r in results)),
      "children", sorted(set(r[1] for r in results)))

# A fork child of a thread: the hook's runtime cannot run there, the real call is made.
def fork_from_thread(out):
    pid = os.fork()
    if pid == 0:
        os._exit(0 if os.getppid() not in (HOOKED, 1) else 3)
    out.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    out.append(os.getppid())


out = []
t = threading.Thread(target=fork_from_thread, args=(out,))
t.start()
t.join()
print("fork child exit", out[0], "forking thread", out[1])
print("main after", os.getppid())
