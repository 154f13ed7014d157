"""Kernels forked, not launched: most of a kernel's start is importing ipykernel and IPython, which
the fork server has done already (fork-server.py loads this file and imports the kernel's modules).

In each forked server, before its program runs, `serve_kernels` forks a *kernel zygote*: a child of
the server, so already in the student's sandbox, session, folder and priority, that holds nothing but
the imported modules. The server's jupyter_client then asks the zygote for each ipykernel kernel of
the server's own interpreter, and the zygote forks it. Any other kernel (another interpreter,
another language, one whose environment changes how Python imports) is launched as jupyter_client
always launches kernels, and so is every kernel once the zygote has failed.

A fork is made into the kernel `python -m ipykernel_launcher` would be, before it runs any code of
the student's:
  1. a session of its own, as jupyter_client gives a kernel (it interrupts and stops the group);
  2. the working directory and environment jupyter_client gives; stdin from /dev/null; stdout and
     stderr the server's log, as a launched kernel's; every other file descriptor closed; signal
     handling as at an interpreter's start;
  3. Python's module path as that interpreter would set it: the kernel's folder first, and the
     user's site folder under the kernel's HOME (the fork server imported without one);
and it ends when the zygote does, which ends with its server.

The zygote belongs to the student: it runs as and where her server runs, and only her server asks
it for anything. What it can be asked is no more than what her server can run anyway.

Protocol, on two pipes between the server and its zygote, one JSON object per line:
  server -> zygote:  {"argv": [...], "env": {...}, "cwd": PATH}
  zygote -> server:  {"pid": PID} or {"error": "why"}   (one per request, in order)
                     {"exited": PID, "returncode": N}   (for every kernel forked, as subprocess says it)
"""

import ctypes
import json
import os
import select
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time

# What a kernel of this kind runs: `python -m ipykernel_launcher -f CONNECTION_FILE`.
KERNEL_PROGRAM = "ipykernel_launcher"
# How long a fork may take to say it is ready; after that, kernels are launched the normal way.
ANSWER_TIMEOUT_S = 10
PR_SET_PDEATHSIG = 1

# How Python was set to import (PYTHON* variables) when the fork server imported: a kernel whose
# environment says otherwise would have imported differently, and is launched instead.
IMPORT_SETTINGS = {name: value for name, value in os.environ.items() if name.startswith("PYTHON")}

libc = ctypes.CDLL(None, use_errno=True)


class ZygoteError(Exception):
    """The zygote could not fork a kernel: it is launched the normal way (and if the zygote itself
    failed, so are the next ones)."""


class StartKernel(Exception):
    """Raised in a forked kernel, once it is ready: unwinds the zygote's loop."""

    def __init__(self, request):
        super().__init__()
        self.request = request


def serve_kernels():
    """In a forked server, before its program runs: forks the kernel zygote, and has jupyter_client
    ask it for kernels. Returns None in the server; in a forked kernel, what it must run, as
    fork-server.py's requests say it: {"run": {"module": ...}, "argv": [...]}."""
    try:
        from jupyter_client.provisioning import local_provisioner
    except ImportError:
        return None  # a jupyter_client before 7 launches its kernels itself
    requests_read, requests_write = os.pipe()
    answers_read, answers_write = os.pipe()
    server = os.getpid()
    try:
        zygote = os.fork()
    except OSError:
        for fd in (requests_read, requests_write, answers_read, answers_write):
            os.close(fd)
        return None  # no process to spare: the server launches its kernels itself
    if zygote == 0:
        os.close(requests_write)
        os.close(answers_read)
        try:
            Zygote(server, requests_read, answers_write).serve()
        except StartKernel as start:
            return {"run": {"module": KERNEL_PROGRAM}, "argv": start.request["argv"][2:]}
    os.close(requests_read)
    os.close(answers_write)
    link = ZygoteLink(zygote, requests_write, answers_read)
    local_provisioner.launch_kernel = forking_launch_kernel(link, local_provisioner.launch_kernel)
    return None


def forking_launch_kernel(link, launch_kernel):
    """jupyter_client's launch_kernel, which forks the kernels the zygote can fork."""
    told = set()

    def launch(cmd, stdin=None, stdout=None, stderr=None, env=None, independent=False, cwd=None, **kw):
        env = dict(os.environ if env is None else env)
        why = why_launched(link, cmd, env, (stdin, stdout, stderr, kw))
        if why is None:
            if not independent:
                env["JPY_PARENT_PID"] = str(os.getpid())
            try:
                kernel = link.fork(cmd, env, cwd or os.getcwd())
                log().info("Kernel forked (pid %s)", kernel.pid)
                return kernel
            except ZygoteError as error:
                log().warning("A kernel is launched, not forked: the kernel zygote could not fork it: %s", error)
        elif why not in told:
            told.add(why)
            log().info("Kernels are launched, not forked, when %s", why)
        return launch_kernel(cmd, stdin, stdout, stderr, env, independent, cwd, **kw)

    return launch


def why_launched(link, cmd, env, popen_arguments):
    """Why a kernel must be launched the normal way, or None when it can be forked."""
    if not link.usable:
        return "the kernel zygote has failed"
    python = cmd[0] if cmd else ""
    if cmd[1:3] != ["-m", KERNEL_PROGRAM] or os.path.realpath(python) != os.path.realpath(sys.executable):
        return f"they are not ipykernel kernels of {sys.executable}"
    if any(popen_arguments):
        return "jupyter_client asks for their output or other process settings"
    settings = {name: value for name, value in env.items() if name.startswith("PYTHON")}
    if settings != IMPORT_SETTINGS:
        return "their environment sets Python's PYTHON* variables otherwise"
    return None


def log():
    from traitlets.log import get_logger

    return get_logger()


class ForkedKernel:
    """What jupyter_client holds for a forked kernel, in place of its subprocess.Popen."""

    stdin = stdout = stderr = None

    def __init__(self, link, pid, args):
        self.link = link
        self.pid = pid
        self.args = args
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            self.link.collect()
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class ZygoteLink:
    """The server's side of its zygote: asks it for kernels, and hears of their ends."""

    def __init__(self, zygote, requests, answers):
        self.zygote = zygote
        self.requests = requests
        self.answers = answers
        self.pending = b""
        self.kernels = {}
        self.usable = True
        # jupyter_client may poll from more than one thread.
        self.lock = threading.Lock()
        os.set_blocking(answers, False)

    def fork(self, argv, env, cwd):
        """A kernel forked for `argv`; ZygoteError if it could not be (then it is launched)."""
        with self.lock:
            try:
                answer = self.ask({"argv": argv, "env": env, "cwd": cwd})
            except (OSError, ValueError) as error:
                self.fail()
                raise ZygoteError(str(error)) from error
            if "error" in answer:
                # This kernel's own start failed (its folder is gone, say): the zygote serves on.
                raise ZygoteError(answer["error"])
            kernel = self.kernels[answer["pid"]] = ForkedKernel(self, answer["pid"], argv)
            return kernel

    def ask(self, request):
        """Sends `request` and waits for its answer; OSError once the zygote has ended or hangs."""
        data = (json.dumps(request) + "\n").encode()
        while data:
            data = data[os.write(self.requests, data):]
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while self.usable:
            answers = self.read(deadline - time.monotonic())
            if answers:
                return answers[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"it did not answer within {ANSWER_TIMEOUT_S} s")
        raise BrokenPipeError("it has ended")

    def collect(self):
        """Takes in the ends of kernels the zygote has told of."""
        with self.lock:
            if self.usable:
                self.read(0)

    def read(self, timeout):
        """The zygote's answers that are there (within `timeout`), after taking in every kernel's
        end told with them; none once it has ended (and its kernels with it)."""
        if not select.select([self.answers], [], [], max(timeout, 0))[0]:
            return []
        chunk = os.read(self.answers, 65536)
        if not chunk:
            self.fail()
            return []
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        answers = []
        for message in map(json.loads, lines):
            if "exited" in message:
                kernel = self.kernels.pop(message["exited"], None)
                if kernel is not None:
                    kernel.returncode = message["returncode"]
            else:
                answers.append(message)
        return answers

    def fail(self):
        """The zygote has ended, or cannot be used: it is ended for good, and every kernel it forked
        ends with it (each dies with the zygote), so each is told ended."""
        if not self.usable:
            return
        self.usable = False
        try:
            # Not reaped by anyone, so its PID cannot have been reused.
            os.kill(self.zygote, signal.SIGKILL)
        except OSError:
            pass
        os.close(self.requests)
        os.close(self.answers)
        for kernel in self.kernels.values():
            kernel.returncode = -signal.SIGKILL
        self.kernels.clear()


class Zygote:
    """The student's kernel zygote: forks a kernel for each request of her server, and tells it of their ends."""

    def __init__(self, server, requests, answers):
        self.requests = requests
        self.answers = answers
        self.kernels = set()
        # It ends with its server (which, sandboxed, is PID 1: its end ends everything of hers).
        die_with_parent(server)

    def serve(self):
        # The hub stops a server by signalling its process group, the zygote's too: the server then
        # shuts its kernels down as Jupyter does, and the zygote ends after it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children, wake = os.pipe()
        os.set_blocking(wake, False)
        signal.set_wakeup_fd(wake)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        pending = b""
        while True:
            ready = select.select([self.requests, children], [], [])[0]
            if children in ready:
                os.read(children, 4096)
            if self.requests in ready:
                chunk = os.read(self.requests, 65536)
                if not chunk:
                    self.end()
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self.answer(self.fork_kernel(json.loads(line)))
            self.reap()

    def fork_kernel(self, request):
        """Forks the kernel `request` asks for: {"pid": PID} or {"error": why}."""
        ready_read, ready_write = os.pipe()
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:
            # Before its descriptor is closed (and its number reused): no signal writes to it.
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            become_kernel(request, zygote, ready_write)
            raise StartKernel(request)
        os.close(ready_write)
        self.kernels.add(pid)
        # The kernel closes its end once it is its own session, or writes why it could not be.
        report = b""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([ready_read], [], [], left)[0]:
                report = b"the fork did not get ready in time"
                break
            chunk = os.read(ready_read, 65536)
            if not chunk:
                break
            report += chunk
        os.close(ready_read)
        if report:
            kill_group(pid)
            return {"error": report.decode(errors="replace")}
        return {"pid": pid}

    def reap(self):
        for pid in list(self.kernels):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.kernels.discard(pid)
                self.answer({"exited": pid, "returncode": returncode(status)})

    def answer(self, message):
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.answers, data):]

    def end(self):
        """Its server has ended: so do the kernels left, and everything they started."""
        for pid in self.kernels:
            kill_group(pid)
        os._exit(0)


def become_kernel(request, zygote, ready_fd):
    """In the fork: becomes the student's kernel (see the module's docstring), or exits saying why."""
    try:
        os.setsid()
        die_with_parent(zygote)
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.closerange(3, ready_fd)
        os.closerange(ready_fd + 1, os.sysconf("SC_OPEN_MAX"))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None
        add_user_site()
    except Exception as error:  # noqa: BLE001 - any failure is the kernel's start's, told as it is
        os.write(ready_fd, str(error).encode())
        os._exit(127)
    os.close(ready_fd)


def add_user_site():
    """The user's site folder on the module path, for the kernel's HOME, where Python would put it:
    before the system's site-packages (the fork server imported without one, as `python -s`)."""
    if os.environ.get("PYTHONNOUSERSITE"):
        return
    site.ENABLE_USER_SITE = True
    site.USER_BASE = site.USER_SITE = None
    folder = site.getusersitepackages()
    if not os.path.isdir(folder):
        return
    before = list(sys.path)
    site.addsitedir(folder)
    added = [entry for entry in sys.path if entry not in before]
    system = set(site.getsitepackages())
    at = next((index for index, entry in enumerate(before) if entry in system), len(before))
    sys.path[:] = before[:at] + added + before[at:]


def die_with_parent(parent):
    """Killed when `parent` ends; exits at once if it has ended already."""
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
        os._exit(1)


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass  # ended already, with everything of its session


def returncode(status):
    """As subprocess gives it: the exit code, or minus the signal that ended the process."""
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
