"""Lectern's fork server: students' Jupyter servers started by forking, not by importing.

One of these runs per Jupyter environment and launch mode (server/spawner/fork/fork-server.ts
starts it, with the interpreter of that environment). It imports the server's modules once, freezes
what it imported (gc.freeze, so the children's garbage collector leaves those pages shared), and then
forks each student's server from itself: the import, which is most of a server's start, is paid once
per class, and the imported modules' memory is shared by every server.

Each fork is made into the student's server before any of her code or files are read, in this order:
  1. its log file is opened (outside any sandbox: the sandbox cannot see the log folder);
  2. sandboxed, it joins the namespaces of a sandbox bubblewrap made for this student, exactly as for
     a normal launch (the hub gives the PID of the sandbox's placeholder process): user, mount, IPC,
     UTS and cgroup; it forks once more into a new PID namespace, whose PID 1 is the server, so its
     end ends all its kernels; it mounts that namespace's /proc, covering the same parts of it read-only
     that bubblewrap covers; and it gives up every capability and the right to gain any
     (no_new_privs), as bubblewrap does for the programs it runs;
  3. a session of its own (the hub signals its process group), its CPU priority, its folder as
     working directory, its environment in place of the fork server's, stdin from /dev/null, stdout
     and stderr to its log, every other file descriptor closed, and the fork server's signal
     handling undone;
  4. Python's own per-process state renewed: `random` reseeds itself at fork, and the cached
     temporary folder is forgotten;
and then it runs the server's program as the interpreter would (`python -m MODULE` or `python
SCRIPT`), with the student's command line, and exits as that program does. With `forkKernels`, the
fork server has imported ipykernel too, and each server forks its ipykernel kernels as well
(kernel-forks.py says how).

Protocol: one JSON object per line; the hub writes on stdin, the fork server answers on stdout.
  in, first:  {"preload": ["jupyterhub.singleuser", ...], "forkKernels": true | false}
  out, first: {"ready": {"modules": [...], "seconds": S}}  or  {"unusable": "why"}
  in:  {"fork": ID, "run": {"module": NAME} | {"script": PATH}, "argv": [...], "env": {...},
        "cwd": PATH, "log": PATH, "sandbox": PLACEHOLDER_PID | null, "nice": N | null}
  out: {"forked": ID, "pid": PID}  or  {"forked": ID, "error": "why"}
  out: {"exited": PID, "code": N | null, "signal": N | null}   (for every server forked)
The end of stdin (the hub gone) ends the fork server. The servers it forked run on: a hub started
again adopts them, as it adopts servers it launched the normal way.
"""

import ctypes
import gc
import importlib.util
import json
import os
import runpy
import select
import signal
import sys
import tempfile
import threading
import time

# <linux/sched.h>, <linux/mount.h>, <linux/prctl.h>, <linux/capability.h>
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522

# The namespaces a sandboxed server joins, the user namespace first: it grants the rights to join
# the others. Its PID namespace is its own (see fork_server_process).
JOINED_NAMESPACES = [("user", CLONE_NEWUSER), ("mnt", CLONE_NEWNS), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS), ("cgroup", CLONE_NEWCGROUP)]
# What bubblewrap's --proc covers read-only in a sandbox's /proc: settings of the whole machine.
PROC_COVERED = ["sys", "sysrq-trigger", "irq", "bus"]
# How long a fork may take to report its server's PID (it does a few system calls).
REPORT_TIMEOUT_S = 20

libc = ctypes.CDLL(None, use_errno=True)


class StartServer(Exception):
    """Raised in a forked server, once it is the student's: unwinds the fork server's loop."""

    def __init__(self, request):
        super().__init__()
        self.request = request


def checked(result, what):
    if result == -1:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


# The hub's pipe for answers: stdout as the hub gave it, moved aside at the start so that whatever
# an imported module prints goes to stderr (the hub's log) and cannot break a line of the protocol.
answers = None


def send(message):
    """One line to the hub. The fork server is single-threaded: writes never interleave."""
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(answers, data):]


def preload(modules):
    started = time.monotonic()
    for module in modules:
        __import__(module)
    # A thread would not survive the fork (its locks might be held, forever, in every server), and
    # an event loop made now would be shared by every server: either makes forking unsafe.
    if threading.active_count() != 1:
        raise RuntimeError(f"importing {', '.join(modules)} started threads")
    gc.collect()
    gc.freeze()
    return time.monotonic() - started


class LineReader:
    """Lines from a file descriptor, read without Python's buffering (which a fork would inherit)."""

    def __init__(self, fd):
        self.fd = fd
        self.pending = b""
        self.ended = False

    def read(self):
        """Reads what is there (once readable): the complete lines, [] at the end."""
        self.read_more()
        *lines, self.pending = self.pending.split(b"\n")
        return lines

    def next_line(self):
        """Blocks for one line; None at the end."""
        while b"\n" not in self.pending and not self.ended:
            self.read_more()
        line, _, self.pending = self.pending.partition(b"\n")
        return line or None

    def read_more(self):
        chunk = os.read(self.fd, 65536)
        self.ended = not chunk
        self.pending += chunk


def serve(lines):
    """Answers the hub until stdin ends; in a forked server, raises StartServer instead."""
    checked(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")
    children, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    servers = set()
    while True:
        ready, _, _ = select.select([0, children], [], [])
        if children in ready:
            os.read(children, 4096)
            reap(servers)
        if 0 in ready:
            for line in lines.read():
                request = json.loads(line)
                pid, error = fork_server_process(request, [children, wake, answers])
                if pid is not None:
                    servers.add(pid)
                send({"forked": request["fork"], **({"pid": pid} if error is None else {"error": error})})
            if lines.ended:
                return
        reap(servers)


def reap(servers):
    """Collects every child that ended: the forks' first halves, orphaned kernels, and servers."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in servers:
            servers.discard(pid)
            exited = os.WIFEXITED(status)
            send({"exited": pid, "code": os.WEXITSTATUS(status) if exited else None, "signal": None if exited else os.WTERMSIG(status)})


def fork_server_process(request, own_fds):
    """Forks the server `request` asks for: (its PID, None) or (None, why it could not start)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        # Before its descriptor is closed (and its number reused, by the log say): no signal writes to it.
        signal.set_wakeup_fd(-1)
        os.close(read_end)
        for fd in own_fds:
            os.close(fd)
        become_server(request, write_end)
        raise StartServer(request)
    os.close(write_end)
    # The first half writes the server's PID and exits; the server closes its end once it is set up,
    # or writes why it could not be. The answer is complete when every end is closed.
    report = b""
    deadline = time.monotonic() + REPORT_TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            os.close(read_end)
            return None, "the fork did not report in time"
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        report += chunk
    os.close(read_end)
    messages = [json.loads(line) for line in report.decode().splitlines() if line]
    server = next((message["pid"] for message in messages if "pid" in message), None)
    error = next((message["error"] for message in messages if "error" in message), None)
    if error is None and server is None:
        error = "the fork ended without starting the server"
    return (server if error is None else None), error


def become_server(request, report_fd):
    """In the fork: becomes the student's server (see the module's docstring), or exits."""

    def fail(error):
        os.write(report_fd, (json.dumps({"error": str(error)}) + "\n").encode())
        os._exit(127)

    try:
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if request["sandbox"] is not None:
            join_sandbox(request["sandbox"])
        os.chdir(request["cwd"])
    except Exception as error:  # noqa: BLE001 - any failure is the start's, reported as it is
        fail(error)
    server = os.fork()
    if server != 0:
        os.write(report_fd, (json.dumps({"pid": server}) + "\n").encode())
        os._exit(0)
    try:
        os.setsid()
        if request["nice"] is not None:
            os.setpriority(os.PRIO_PROCESS, 0, request["nice"])
        if request["sandbox"] is not None:
            mount_own_proc()
            drop_privileges()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        keep = report_fd
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        for number in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None
    except Exception as error:  # noqa: BLE001
        fail(error)
    os.close(report_fd)


def join_sandbox(placeholder):
    """Joins the namespaces of the sandbox whose placeholder process is `placeholder`, then a new PID namespace."""
    opened = []
    try:
        for name, kind in JOINED_NAMESPACES:
            theirs = f"/proc/{placeholder}/ns/{name}"
            if not os.path.exists(theirs) or os.stat(theirs).st_ino == os.stat(f"/proc/self/ns/{name}").st_ino:
                if name in ("user", "mnt"):
                    raise RuntimeError(f"the sandbox has no {name} namespace of its own")
                continue
            opened.append((name, kind, os.open(theirs, os.O_RDONLY | os.O_CLOEXEC)))
        for name, kind, fd in opened:
            checked(libc.setns(fd, kind), f"setns({name})")
    finally:
        for _, _, fd in opened:
            os.close(fd)
    # Only the fork made next is in the new PID namespace, as its PID 1.
    checked(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")


def mount_own_proc():
    """/proc for the server's PID namespace: it shows the server and its kernels, nothing else."""
    checked(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    for part in PROC_COVERED:
        path = f"/proc/{part}".encode()
        if not os.path.exists(path):
            continue
        checked(libc.mount(path, path, None, MS_BIND | MS_REC, None), f"bind {part}")
        checked(libc.mount(path, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None), f"cover {part}")


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges():
    """No capability left, none to be gained by running a program: as bubblewrap leaves its programs."""
    with open("/proc/sys/kernel/cap_last_cap") as last:
        last_cap = int(last.read())
    for capability in range(last_cap + 1):
        checked(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "prctl(PR_CAPBSET_DROP)")
    checked(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT)")
    checked(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    checked(libc.capset(ctypes.byref(header), data), "capset")


def run(request, kernel_forks):
    """Runs the server's program as `python -m MODULE ARGS` or `python SCRIPT ARGS` would; in a
    kernel the server's zygote forked (with `kernel_forks`), the kernel's program instead."""
    if kernel_forks:
        request = kernel_forks.serve_kernels() or request
    program = request["run"]
    sys.argv = list(request["argv"])
    if "module" in program:
        sys.path.insert(0, os.getcwd())
        runpy.run_module(program["module"], run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(program["script"]))
        runpy.run_path(program["script"], run_name="__main__")


def main():
    global answers
    answers = os.dup(1)
    os.dup2(2, 1)
    # This file's folder does not belong on a server's module path.
    del sys.path[0]
    lines = LineReader(0)
    kernel_forks = None
    try:
        settings = json.loads(lines.next_line() or b"{}")
        modules = settings["preload"]
        if settings["forkKernels"]:
            kernel_forks = load_beside("kernel-forks.py", "_lectern_kernel_forks")
        seconds = preload(modules)
    except Exception as error:  # noqa: BLE001 - whatever stops preloading is told to the hub
        send({"unusable": f"{type(error).__name__}: {error}"})
        return
    send({"ready": {"modules": modules, "seconds": round(seconds, 3)}})
    try:
        serve(lines)
    except StartServer as start:
        run(start.request, kernel_forks)


def load_beside(file, name):
    """A module of Lectern's from this file's folder, which is on no server's module path."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
